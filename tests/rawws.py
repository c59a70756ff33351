"""A WebSocket client made by hand, for what well-behaved libraries will not send:
fragments never finished, unmasked frames, RSV bits, invalid UTF-8, ping floods; and
a witness game that must finish while the server is attacked."""

from __future__ import annotations

import json
import os
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from cardgame.net.client import GameClient, LobbyClient

from tables import play_on

TEXT, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x0, 0x8, 0x9, 0xA


def frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True, rsv: int = 0):
    """One frame as RFC 6455 section 5.2 lays it out."""
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    length = len(payload)
    bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([bit | length])
    elif length < 1 << 16:
        head += bytes([bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", length)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class RawSocket:
    """A TCP connection that has done the opening handshake and reads frames."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def _fill(self, size: int) -> bool:
        while len(self.buffer) < size:
            data = await self.stream.receive_some(65536)
            if not data:
                return False
            self.buffer += data
        return True

    async def next_frame(self) -> tuple[int, bytes] | None:
        """(opcode, payload) of the next server frame, or None at EOF."""
        if not await self._fill(2):
            return None
        length = self.buffer[1] & 0x7F
        start = 2
        if length == 126:
            await self._fill(4)
            length, start = struct.unpack("!H", self.buffer[2:4])[0], 4
        elif length == 127:
            await self._fill(10)
            length, start = struct.unpack("!Q", self.buffer[2:10])[0], 10
        if not await self._fill(start + length):
            return None
        opcode = self.buffer[0] & 0x0F
        payload = self.buffer[start : start + length]
        self.buffer = self.buffer[start + length :]
        return opcode, payload

    async def close_code(self) -> int | None:
        """Read until the server's close frame: its code (None: a bare TCP close)."""
        while (got := await self.next_frame()) is not None:
            opcode, payload = got
            if opcode == CLOSE:
                return struct.unpack("!H", payload[:2])[0] if payload else 1005
        return None

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)


async def handshake(stream: trio.SocketStream, path: str = "/lobby") -> bytes:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    await stream.send_all(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        data = await stream.receive_some(4096)
        assert data, "the server closed during the handshake"
        head += data
    return head


@asynccontextmanager
async def raw_socket(
    port: int, path: str = "/lobby", source: str | None = None, receive_buffer: int = 0
):
    """A connection past the handshake; ``receive_buffer`` (bytes) keeps the kernel from
    taking much on the client's behalf, for a client that never reads."""
    if receive_buffer:
        sock = trio.socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        await sock.connect(("127.0.0.1", port))
        stream = trio.SocketStream(sock)
    else:
        stream = await trio.open_tcp_stream("127.0.0.1", port, local_address=source)
    async with stream:
        head = await handshake(stream, path)
        assert head.startswith(b"HTTP/1.1 101"), head
        sock = RawSocket(stream)
        sock.buffer = head[head.index(b"\r\n\r\n") + 4 :]
        yield sock


async def http_status(port: int, source: str | None = None, send: bytes | None = None) -> bytes:
    """The first line the server answers on a new TCP connection (b"" if just closed)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port, local_address=source)
    async with stream:
        if send is not None:
            await stream.send_all(send)
        answer = b""
        while b"\r\n" not in answer:
            try:
                data = await stream.receive_some(4096)
            except trio.BrokenResourceError:
                break
            if not data:
                break
            answer += data
        return answer.split(b"\r\n", 1)[0]


@asynccontextmanager
async def witness_game(url: str) -> AsyncIterator[GameClient]:
    """A person and a computer in a room of their own; on the way out the game is
    played to its end, so an attack that disturbed the room fails the test."""
    async with LobbyClient.connect(url) as lobby:
        ticket = await lobby.create_room("witness", 2, "wit", computers=1)
    async with GameClient.connect(url, ticket) as client:
        yield client
        with trio.fail_after(120):
            over = await play_on(client)
        assert over["payload"]["data"]["result"]


async def open_rooms(url: str, count: int, name: str = "table") -> list[str]:
    """Rooms waiting for players (their creators gone): their ids, oldest first."""
    ids = []
    for _ in range(count):
        async with LobbyClient.connect(url) as lobby:
            ids.append((await lobby.create_room(name, 4, "host")).room_id)
    return ids


async def request(sock: RawSocket, cmd: str, data: object = None) -> dict:
    """A lobby command sent by hand: its reply (``<cmd>_REP`` or ``ERROR``); pushes that
    come meanwhile are passed over."""
    message = {"cmd": cmd, "msg_id": "1", "payload": {"data": data}}
    await sock.send(frame(TEXT, json.dumps(message).encode()))
    while (got := await sock.next_frame()) is not None:
        if got[0] == TEXT and (reply := json.loads(got[1]))["cmd"] in (f"{cmd}_REP", "ERROR"):
            return reply
    raise AssertionError(f"the server closed before answering {cmd}")
