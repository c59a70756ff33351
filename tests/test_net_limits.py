"""The transport's limits: connections (overall, per address, under the descriptor limit),
the handshake, idle and fragment clocks, pings in the rate limit, and RFC 6455's close
codes. Each test holds a witness game in another room that must finish."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import trio
from rawws import (
    CLOSE,
    CONTINUATION,
    PING,
    PONG,
    TEXT,
    frame,
    http_status,
    open_rooms,
    raw_socket,
    witness_game,
)
from trio_websocket import ConnectionRejected

from cardgame.net.client import LobbyClient


async def until(condition) -> None:
    """Wait for the server to have done something it does on its own (bounded)."""
    with trio.fail_after(30):
        while not condition():
            await trio.sleep(0.01)


def gate(server):
    return server.listener.gate


async def test_connections_over_the_limit_are_answered_503(start_server):
    server = await start_server(max_connections=4, handshake_timeout=60)
    async with witness_game(server.url):
        await until(lambda: gate(server).open == 1)  # the witness's /game connection
        streams = [await trio.open_tcp_stream("127.0.0.1", server.port) for _ in range(3)]
        await until(lambda: gate(server).open == 4)  # handshakes not begun count too
        assert await http_status(server.port) == b"HTTP/1.1 503 Service Unavailable"
        assert gate(server).open == 4
        await streams.pop().aclose()
        await until(lambda: gate(server).open == 3)
        async with LobbyClient.connect(server.url) as lobby:
            rooms, _ = await lobby.get_rooms()
        assert rooms == []
        for stream in streams:
            await stream.aclose()


async def test_connections_per_address(start_server):
    server = await start_server(max_connections_per_address=2, handshake_timeout=60)
    async with witness_game(server.url):
        await until(lambda: gate(server).open == 1)
        async with raw_socket(server.port):
            assert await http_status(server.port) == b"HTTP/1.1 503 Service Unavailable"
            # another address is not held back by this one
            async with raw_socket(server.port, source="127.0.0.2"):
                assert gate(server).by_address["127.0.0.2"] == 1


async def test_a_slow_handshake_is_dropped(start_server):
    server = await start_server(handshake_timeout=0.5)
    async with witness_game(server.url):
        started = trio.current_time()
        # slowloris: a request head that never ends
        answer = await http_status(server.port, send=b"GET /lobby HTTP/1.1\r\nHost: x\r\n")
        assert answer == b""
        assert trio.current_time() - started >= 0.5
        await until(lambda: gate(server).open == 1)


async def test_an_idle_lobby_connection_is_closed(start_server):
    server = await start_server(lobby_idle_timeout=0.5)
    async with witness_game(server.url), raw_socket(server.port) as sock:
        assert await sock.close_code() == 1001
        # the witness's /game connection was as idle, and is not closed: it plays on


async def test_an_unfinished_fragmented_message_has_a_deadline(start_server):
    server = await start_server(fragment_timeout=0.5)
    async with witness_game(server.url), raw_socket(server.port) as sock:
        await sock.send(frame(TEXT, b'{"cmd": "GET_', fin=False))
        assert await sock.close_code() == 1008


async def test_fragments_finished_in_time_make_a_message(start_server):
    server = await start_server(fragment_timeout=30)
    async with witness_game(server.url), raw_socket(server.port) as sock:
        await sock.send(frame(TEXT, b'{"cmd": "GET_', fin=False))
        await sock.send(frame(PING, b"in between"))
        await sock.send(frame(CONTINUATION, b'ROOMS", "msg_id": "1"}'))
        seen = []
        while (got := await sock.next_frame())[0] != TEXT:
            seen.append(got[0])
        assert json.loads(got[1])["cmd"] == "GET_ROOMS_REP"
        assert seen == [PONG]


async def test_pings_are_counted_in_the_rate_limit(start_server):
    server = await start_server(rate=5, burst=20, flood_close_after=30)
    async with witness_game(server.url), raw_socket(server.port) as sock:
        await sock.send(b"".join(frame(PING, b"p") for _ in range(200)))
        pongs = 0
        while (got := await sock.next_frame())[0] == PONG:
            pongs += 1
        assert got[0] == CLOSE and int.from_bytes(got[1][:2]) == 1008
        assert 20 <= pongs < 40  # the burst, and what trickled in meanwhile


async def test_a_client_that_never_reads_is_reset_and_forgotten(start_server):
    """GET_ROOMS again and again, never reading: the socket buffers fill, the writer
    blocks, the outbox overflows; the writer's deadline then resets the connection,
    and the server holds nothing more for it."""
    server = await start_server(outbox_bytes=64 * 1024, rate=1000, burst=1000, close_timeout=1)
    get_rooms = frame(TEXT, b'{"cmd": "GET_ROOMS", "msg_id": "1"}')
    async with witness_game(server.url):
        await open_rooms(server.url, 20, "\U0001f0cf" * 32)  # replies of ~5 KB
        async with raw_socket(server.port, receive_buffer=4096) as sock:
            await until(lambda: len(server.lobby.connections) == 2)
            [conn] = [c for c in server.lobby.connections if c.endpoint == "/lobby"]
            await sock.send(get_rooms * 500)
            await until(conn.closed.is_set)  # the outbox overflowed
            closed_at = trio.current_time()
            assert conn.close_code == 1013
            await until(conn.finished.is_set)
            assert trio.current_time() - closed_at > 0.9  # its close_timeout to read
            await until(lambda: conn not in server.lobby.connections)
            await until(lambda: gate(server).open == 1)  # the witness's /game connection
            with pytest.raises(trio.BrokenResourceError):  # a reset, not a close
                while await sock.stream.receive_some(65536):
                    pass


LIMIT = 8192


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        (frame(TEXT, b'{"cmd": "\xff\xfe"}'), 1007),  # invalid UTF-8
        (frame(TEXT, b"{}", mask=False), 1002),  # a client frame must be masked
        (frame(TEXT, b"{}", rsv=4), 1002),  # RSV1 without an extension
        (frame(PING, b"x" * 126), 1002),  # control frames carry at most 125 bytes
        (frame(PING, b"x", fin=False), 1002),  # control frames are never fragmented
        (frame(0x3, b"x"), 1002),  # a reserved opcode
        (frame(CONTINUATION, b"x"), 1002),  # a continuation of nothing
        (frame(TEXT, b"x" * (LIMIT + 1)), 1009),
        (frame(TEXT, b"x" * 100, fin=False) + frame(CONTINUATION, b"x" * LIMIT), 1009),
    ],
    ids=[
        "utf8",
        "unmasked",
        "rsv1",
        "long-ping",
        "fragmented-ping",
        "opcode",
        "continuation",
        "too-big",
        "too-big-fragmented",
    ],  # fmt: skip
)
async def test_protocol_errors_get_the_close_code_rfc_6455_names(start_server, sent, code):
    server = await start_server(hard_frame_limit=LIMIT, max_frame=1024)
    async with witness_game(server.url):
        for path in ("/lobby", "/game"):
            async with raw_socket(server.port, path) as sock:
                await sock.send(sent)
                assert await sock.close_code() == code


SERVE_LOG = re.compile(r"listening on ws://127.0.0.1:(\d+)")


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_NOFILE as Linux counts it")
async def test_the_descriptor_limit_is_never_reached(tmp_path):
    """A connection flood past what the descriptor limit allows is refused in time: no
    'too many open files' in the accept loop, no traceback in the log."""
    fds = 200

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (fds, fds))

    cardgame = str(Path(sys.executable).parent / "cardgame")
    command = [cardgame, "serve", "--port", "0", "--db",
               ":memory:", "--max-connections", "10000", "--handshake-timeout", "60"]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=low_limit, env=env)  # fmt: skip
    try:
        with trio.fail_after(60):
            while not (match := SERVE_LOG.search(log.read_text())):
                await trio.sleep(0.05)
        port = int(match.group(1))
        streams = []
        for _ in range(2 * fds):
            streams.append(await trio.open_tcp_stream("127.0.0.1", port))
        statuses = [await http_status(port) for _ in range(5)]
        assert set(statuses) <= {b"HTTP/1.1 503 Service Unavailable", b""}
        for stream in streams:
            await stream.aclose()
        url = f"ws://127.0.0.1:{port}"
        with trio.fail_after(60):  # the server has yet to see every close: retry
            while True:
                try:
                    async with witness_game(url):
                        break
                except ConnectionRejected as rejected:
                    assert rejected.status_code == 503
    finally:
        proc.send_signal(signal.SIGTERM)
        with trio.fail_after(30):
            while proc.poll() is None:
                await trio.sleep(0.05)
    text = log.read_text()
    assert "allows" in text and "connections, not 10000" in text
    assert "Traceback" not in text
    assert "open files" not in text
