"""The server: ``/lobby`` and ``/game`` on one port, rooms in one nursery, a clean stop.

Structure, all visible here: one nursery holds the listener (``transport.py``:
connection limits, the handshake clock), every connection's handler and every
room's task. Stopping (SIGINT/SIGTERM in ``cardgame serve``, or
:meth:`Server.shutdown`) first stops accepting, then closes each connection with
1001 "going away" and then cancels the nursery.

A plain HTTP request (no WebSocket upgrade) on the same port gets the web client's
files (:class:`~cardgame.net.web.WebPage`), under the same connection limits.
"""

from __future__ import annotations

import logging
import time
from functools import partial

import trio
from trio_websocket import WebSocketRequest

from .config import ServerConfig
from .connection import GOING_AWAY, INTERNAL_ERROR, Connection, watch_clocks
from .lobby import GameEndpoint, Lobby, LobbyEndpoint
from .room import Room
from .store import StorageUnavailable, Store, open_store
from .transport import Gate, Transport, descriptor_budget
from .web import WebPage

log = logging.getLogger("cardgame.net")

ENDPOINTS = ("/lobby", "/game")


class Server:
    """A running server; ``port`` is the one it listens on (useful with port 0)."""

    def __init__(
        self,
        lobby: Lobby,
        listener: Transport,
        nursery: trio.Nursery,
        restored: list[Room] | None = None,
    ) -> None:
        self.lobby = lobby
        self.listener = listener
        self._nursery = nursery
        self.restored = restored or []  # the unfinished rooms loaded at start-up

    @property
    def port(self) -> int:
        return self.listener.port

    @property
    def url(self) -> str:
        return f"ws://{self.lobby.config.host}:{self.port}"

    async def drain(self) -> None:
        """The first step of a stop: no new connection, room, seat or game from now on;
        what is running carries on (and is kept in the store)."""
        await self.listener.close()
        self.lobby.drain()

    async def shutdown(self, grace: float = 2.0) -> None:
        """:meth:`drain`, close every connection with 1001, wait for the close frames,
        then stop."""
        await self.drain()
        connections = list(self.lobby.connections)
        for conn in connections:
            conn.close(GOING_AWAY)
        with trio.move_on_after(grace):
            for conn in connections:
                await conn.finished.wait()
        self._nursery.cancel_scope.cancel()


async def _handle(
    lobby: Lobby, config: ServerConfig, request: WebSocketRequest, address: str
) -> None:
    path = request.path.split("?", 1)[0]
    if path not in ENDPOINTS:
        await request.reject(404, body=b"cardgame serves /lobby and /game")
        return
    ws = await request.accept()
    ws.forget_handshake()
    conn = Connection(ws, path, config, address)
    lobby.connections.add(conn)
    try:
        endpoint = LobbyEndpoint(lobby, conn) if path == "/lobby" else GameEndpoint(lobby, conn)
        await endpoint.run()
    except Exception:
        # A bug met by one connection ends that connection, never the server.
        log.exception("a %s connection failed; it is closed (1011)", path)
        with trio.move_on_after(2):
            await ws.aclose(INTERNAL_ERROR)
    finally:
        lobby.connections.discard(conn)


async def serve(
    config: ServerConfig | None = None,
    store: Store | None = None,
    *,
    task_status: trio.TaskStatus[Server] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the server until cancelled; ``task_status.started`` gets the :class:`Server`."""
    config = config or ServerConfig()
    store = store if store is not None else open_store(None)
    async with trio.open_nursery() as nursery:
        lobby = Lobby(store, config, nursery)
        restored = lobby.restore()
        try:  # what a stop during a finished game's linger left unpruned
            await store.prune_finished(time.time() - config.finished_linger)
        except StorageUnavailable as err:
            log.error("finished games were not pruned: %s", err)
        nursery.start_soon(watch_clocks, lobby.connections, config)
        gate = Gate(descriptor_budget(config.max_connections), config.max_connections_per_address)
        transport = Transport(gate, config.handshake_timeout, config.hard_frame_limit)
        listener = await nursery.start(
            transport.serve,
            config.host,
            config.port,
            partial(_handle, lobby, config),
            WebPage(services=lobby.registry.addresses),
            nursery,
        )
        server = Server(lobby, listener, nursery, restored)
        await nursery.start(lobby.registry.run, config.public_url or server.url)
        # cardgame serve prints this line for people; the log keeps it for debugging only.
        log.debug(
            "listening on ws://%s:%d (/lobby, /game, the page at /)", config.host, server.port
        )
        task_status.started(server)
