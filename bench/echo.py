"""Reference WebSocket echo servers for ``bench/server_load.py``.

``trio`` is a bare trio-websocket echo: the ceiling of the transport cardgame uses.
``websockets`` is the same echo on the ``websockets`` library (asyncio), what many
would pick instead. Each echoes every text frame back unchanged on any path.

    python bench/echo.py trio --port 9001
"""

from __future__ import annotations

import argparse
import sys


def serve_trio(host: str, port: int) -> None:
    import trio
    from trio_websocket import ConnectionClosed, serve_websocket

    async def echo(request) -> None:
        ws = await request.accept()
        try:
            while True:
                await ws.send_message(await ws.get_message())
        except ConnectionClosed:
            pass

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(serve_websocket, echo, host, port, None)
            print("ready", flush=True)

    trio.run(main)


def serve_websockets(host: str, port: int) -> None:
    import asyncio

    from websockets.asyncio.server import serve

    async def echo(ws) -> None:
        async for message in ws:
            await ws.send(message)

    async def main() -> None:
        async with serve(echo, host, port, max_size=2**16, compression=None):
            print("ready", flush=True)
            await asyncio.Future()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("impl", choices=["trio", "websockets"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        (serve_trio if args.impl == "trio" else serve_websockets)(args.host, args.port)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
