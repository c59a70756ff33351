"""The accept path: counted connections, a timed handshake, and RFC 6455's close codes.

Rule 1: nothing a stranger sends costs more than this module allows before a
connection is counted: a connection over the limits (overall, per address) is
answered ``503`` at once, without reading a byte; the request head must arrive
within the handshake timeout and fit in :data:`MAX_HEAD`.

Rule 2: this module knows HTTP and WebSocket framing, never the game. A WebSocket
upgrade goes to the server's handler as a ``WebSocketRequest``; any other HTTP
request goes to the server's plain-HTTP handler (the web page lives there).

trio-websocket answers wsproto's protocol errors (invalid UTF-8, unmasked client
frames, RSV bits, oversized control frames) with a bare TCP close; RFC 6455 asks
for a close frame naming the fault (1007, 1002), which :class:`GuardedWebSocket`
sends. A peer that stops reading gets its TCP connection reset when it is closed
(:attr:`GuardedWebSocket.reset_at`), so its buffers go with it. It also tells its
:class:`Connection` of unfinished fragmented messages and of pings, so the connection
can give the one a deadline and count the other in its rate limit. It leans on
trio-websocket's internals (pinned in ``pyproject.toml``).
"""

from __future__ import annotations

import errno
import logging
import math
import resource
import socket
import struct
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import trio
import wsproto.events
from trio_websocket import CloseReason, ConnectionClosed, WebSocketConnection, WebSocketRequest
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.utilities import LocalProtocolError

log = logging.getLogger("cardgame.net")

#: The longest request head (request line and headers) the server reads.
MAX_HEAD = 16 * 1024
#: Connections refused at the same time with a courteous 503 (beyond: closed at once).
MAX_REFUSING = 64
#: Descriptors kept free for the database, logs and refusals.
FD_RESERVE = 64 + MAX_REFUSING
#: The accept errors that mean "out of descriptors or memory", not a broken listener.
_CAPACITY_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}

_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 34\r\nConnection: close\r\n\r\ncardgame is full; try again later\n"
)


@dataclass
class HttpRequest:
    """A plain HTTP request (not a WebSocket upgrade) and the bytes read past its head."""

    method: str
    target: str
    headers: dict[str, str]
    rest: bytes = b""
    address: str = ""


HttpHandler = Callable[[trio.SocketStream, HttpRequest], Awaitable[None]]
WebSocketHandler = Callable[[WebSocketRequest, str], Awaitable[None]]


class GuardedWebSocket(WebSocketConnection):
    """trio-websocket's server connection, with RFC 6455 close codes and two hooks."""

    #: Called with True when a fragmented message begins, False when it is whole.
    on_partial: Callable[[bool], None] = staticmethod(lambda started: None)
    #: Called for each ping; a False answer drops it unanswered (a flood).
    on_ping: Callable[[], bool] = staticmethod(lambda: True)

    async def _handle_close_connection_event(self, event: wsproto.events.CloseConnection) -> None:
        # wsproto reports a frame it cannot parse as a CloseConnection while the
        # connection is still OPEN (a peer's real close frame moves it to
        # REMOTE_CLOSING first); say why in a close frame before the TCP close.
        if self._wsproto.state == ConnectionState.OPEN:
            # set first, as for a peer's close: a message sent meanwhile is refused
            self._close_reason = CloseReason(event.code, event.reason or None)
            try:
                await self._send(wsproto.events.CloseConnection(code=event.code))
            except Exception:  # the peer is gone already; the TCP close follows
                log.debug("could not send close %d", event.code)
        await super()._handle_close_connection_event(event)

    async def _handle_message_event(self, event: Any) -> None:
        if not self._message_parts and not event.message_finished:
            self.on_partial(True)
        await super()._handle_message_event(event)
        if event.message_finished or not self._message_parts:
            self.on_partial(False)

    async def _handle_ping_event(self, event: wsproto.events.Ping) -> None:
        if self.on_ping():
            await super()._handle_ping_event(event)

    #: Frames are built here, not by wsproto (set once the handshake is over and no
    #: extension was negotiated).
    _plain: bool = False

    #: From this time on (trio's clock) closing the TCP connection resets it: by then
    #: the peer has stopped reading, and a plain close would leave the kernel holding
    #: what it was sent (and trying to deliver it) long after the connection is gone.
    reset_at: float = math.inf

    async def _close_stream(self) -> None:
        if trio.current_time() >= self.reset_at:
            self._linger_zero()
        await super()._close_stream()

    def send_now(self, text: str) -> bytes | None:
        """Write a text message straight to the socket, in the caller's task: no writer
        task woken, no lock, no checkpoint. Returns what the kernel did not take (``b""``:
        all of it), to be sent next with :meth:`send_rest`; ``None`` when nothing was
        written because a send of trio-websocket's own is under way or the connection
        is closing: the caller sends the message the ordinary way, after what it queued.

        Safe only because trio runs one task at a time: with the stream lock free, no
        other frame is half written, so a frame written here cannot cut into one.
        """
        if self._close_reason is not None or self._stream_lock.locked():
            return None
        if self._wsproto.state != ConnectionState.OPEN:
            return None
        if self._plain:
            data = text_frame(text)
        else:
            try:
                data = self._wsproto.send(wsproto.events.TextMessage(data=text))
            except LocalProtocolError:
                return None
        try:
            sent = self._stream.socket._sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:  # the peer is gone: send_rest meets the error and closes
            sent = 0
        return data[sent:]

    async def send_rest(self, data: bytes) -> None:
        """The part of a frame :meth:`send_now` could not write, before anything else."""
        async with self._stream_lock:
            try:
                await self._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                await self._abort_web_socket()
                assert self._close_reason is not None
                raise ConnectionClosed(self._close_reason) from None

    def forget_handshake(self) -> None:
        """Once the connection is open, drop what only the opening handshake needed
        (h11's parser and the request with its headers): an idle connection keeps
        nothing it will not use again."""
        if self._wsproto.connection is None:
            return
        # no extension negotiated (the server offers none): frames are RFC 6455's own
        self._plain = not self._wsproto.connection._proto.extensions
        handshake = self._wsproto.handshake
        handshake._h11_connection = None  # type: ignore[assignment]
        handshake._initiating_request = None
        self._connection_proposal = None
        self._handshake_headers = ()

    async def abort(self) -> None:
        """Reset the TCP connection now, with no close frame (a frame half sent leaves
        no other way); the reader task wakes up closed."""
        self._linger_zero()
        await trio.aclose_forcefully(self._stream)

    def _linger_zero(self) -> None:
        with suppress(OSError):  # closed already
            self._stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def text_frame(text: str) -> bytes:
    """A whole text message as a server sends it (RFC 6455 5.2: FIN, opcode 1, no mask,
    the length in 7, 16 or 64 bits): wsproto's general path, with its events and
    checks, cost more than the rest of a send but the system call."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


@dataclass
class Gate:
    """Open connections, overall and per client address; a connection is counted from
    its accept to its close, so handshakes in progress count too."""

    max_connections: int
    per_address: int
    open: int = 0
    by_address: Counter[str] = field(default_factory=Counter)
    refusing: int = 0
    accepting: bool = True

    def admit(self, address: str) -> bool:
        if self.open >= self.max_connections or self.by_address[address] >= self.per_address:
            return False
        self.open += 1
        self.by_address[address] += 1
        return True

    def release(self, address: str) -> None:
        self.open -= 1
        self.by_address[address] -= 1
        if not self.by_address[address]:
            del self.by_address[address]


def descriptor_budget(wanted: int) -> int:
    """How many connections fit under the descriptor limit (raising the soft limit
    when the hard one allows), so that ``accept`` never runs out of descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= need:
        return wanted
    budget = max(1, soft - FD_RESERVE)
    log.warning(
        "the descriptor limit (%d) allows %d connections, not %d: raise it with ulimit -n",
        soft, budget, wanted,
    )  # fmt: skip
    return budget


async def _refuse(stream: trio.SocketStream, gate: Gate) -> None:
    """503 without reading the request; the read after it only lets the kernel deliver
    the answer before the close (an unread request would turn the close into a reset)."""
    if gate.refusing >= MAX_REFUSING:
        await trio.aclose_forcefully(stream)
        return
    gate.refusing += 1
    try:
        with trio.move_on_after(1):
            await stream.send_all(_BUSY)
            await stream.send_eof()
            while await stream.receive_some(4096):
                pass
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        pass
    finally:
        gate.refusing -= 1
        await trio.aclose_forcefully(stream)


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]] | None:
    try:
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ")
    except ValueError:
        return None
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return method, target, headers


async def _read_head(stream: trio.SocketStream) -> bytes | None:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > MAX_HEAD:
            return None
        data = await stream.receive_some(4096)
        if not data:
            return None
        buffer += data
    return buffer


@dataclass
class Transport:
    """The listener and the accept loop; ``close`` stops accepting (the drain)."""

    gate: Gate
    handshake_timeout: float
    max_message_size: int
    listeners: list[trio.SocketListener] = field(default_factory=list)
    _warned_at: float = float("-inf")

    @property
    def port(self) -> int:
        return self.listeners[0].socket.getsockname()[1]

    async def serve(
        self,
        host: str,
        port: int,
        websocket: WebSocketHandler,
        http: HttpHandler,
        nursery: trio.Nursery,
        *,
        task_status: trio.TaskStatus[Transport] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        self.listeners = await trio.open_tcp_listeners(port, host=host)
        try:
            async with trio.open_nursery() as accepting:
                for listener in self.listeners:
                    accepting.start_soon(self._accept, listener, websocket, http, nursery)
                task_status.started(self)
        finally:  # the port is free again the moment the server stops
            for listener in self.listeners:
                await trio.aclose_forcefully(listener)

    async def close(self) -> None:
        """No new connection from now on (the connections open carry on)."""
        self.gate.accepting = False
        for listener in self.listeners:
            await listener.aclose()

    async def _accept(self, listener, websocket, http, nursery) -> None:
        while self.gate.accepting:
            try:
                stream = await listener.accept()
            except trio.ClosedResourceError:
                return
            except OSError as err:
                if err.errno not in _CAPACITY_ERRNOS:
                    raise
                if trio.current_time() - self._warned_at > 10:  # one line, not a traceback
                    self._warned_at = trio.current_time()
                    log.warning("accept: %s; refusing connections for now", err.strerror)
                await trio.sleep(0.1)
                continue
            try:
                address = stream.socket.getpeername()[0]
            except OSError:  # gone already
                await trio.aclose_forcefully(stream)
                continue
            if not self.gate.admit(address):
                nursery.start_soon(_refuse, stream, self.gate)
                continue
            nursery.start_soon(self._connection, stream, address, websocket, http)

    async def _connection(self, stream, address: str, websocket, http) -> None:
        try:
            await self._route(stream, address, websocket, http)
        finally:
            self.gate.release(address)
            await trio.aclose_forcefully(stream)

    async def _route(self, stream, address: str, websocket, http) -> None:
        async with trio.open_nursery() as nursery:
            with trio.move_on_after(self.handshake_timeout) as handshake:
                head = await _read_head(stream)
                parsed = head and _parse_head(head[: head.index(b"\r\n\r\n")])
                if not parsed:
                    return
                method, target, headers = parsed
                if "websocket" not in headers.get("upgrade", "").lower():
                    rest = head[head.index(b"\r\n\r\n") + 4 :]
                    request = HttpRequest(method, target, headers, rest, address)
                    handshake.deadline = float("inf")  # the handler keeps its own time
                    await http(stream, request)
                    return
                ws = GuardedWebSocket(
                    stream,
                    WSConnection(ConnectionType.SERVER),
                    max_message_size=self.max_message_size,
                )
                ws._wsproto.receive_data(head)
                nursery.start_soon(ws._reader_task)
                ws_request = await ws._get_request()
            if handshake.cancelled_caught:
                nursery.cancel_scope.cancel()
                return
            del head, parsed, headers  # not kept for the connection's lifetime
            try:
                await websocket(ws_request, address)
            finally:
                with trio.move_on_after(2):
                    await ws.aclose()
                # the reader task may still be waiting to hand over a message nobody
                # will read (the handler is done): the connection is over, so is it
                nursery.cancel_scope.cancel()
