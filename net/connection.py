"""One WebSocket connection: a reader that validates, a writer that never blocks the game.

The rest of the server hands a connection finished envelopes with :meth:`deliver`,
which never waits: with nothing queued, the frame is written to the socket at once
in the caller's task (no task switch per frame, the largest cost of a send); what the
kernel does not take waits in the outbox for the writer task. A client too slow to
keep up with its outbox (counted in bytes) is disconnected (its messages are in the
store; it can resume). The writer task
runs in the connection's own nursery, next to the reader, so both end together; once
the connection is closing it has ``close_timeout`` seconds, then the TCP connection is
reset, so a client that never reads cannot hold a blocked writer and its buffers.

Each connection has two clocks, which one task reads for every connection
(:func:`watch_clocks`; no task or deadline per read): a ``/lobby`` connection that
sends nothing for the idle timeout is closed (1001), and a fragmented message must be
finished within the fragment timeout (1008). Pings spend the same rate-limit tokens as
messages.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import suppress
from typing import Any

import trio
from trio_websocket import ConnectionClosed

from cardgame.fsm.game import ProtocolError
from cardgame.fsm.session import Session

from .config import ServerConfig
from .protocol import FrameError, encode, envelope, error_data, parse
from .transport import GuardedWebSocket

log = logging.getLogger("cardgame.net")

#: WebSocket close codes the server uses.
NORMAL_CLOSURE = 1000  # the player left the game (Scenario B step 6)
GOING_AWAY = 1001
POLICY_VIOLATION = 1008  # a flood, or a fragmented message never finished
TRY_AGAIN_LATER = 1013
INTERNAL_ERROR = 1011  # a bug met this connection (or its room); the server carries on
REPLACED = 4000  # the seat connected again elsewhere


class RateLimiter:
    """A token bucket on trio's clock (so MockClock tests see it too).

    The server refuses what does not fit (:meth:`allow`); a client keeping under a
    server's limit waits for it (:meth:`wait`).
    """

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = trio.current_time()

    def _refill(self) -> None:
        now = trio.current_time()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def allow(self) -> bool:
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    async def wait(self) -> None:
        self._refill()
        if self.tokens < 1:
            await trio.sleep((1 - self.tokens) / self.rate)
            self._refill()
        self.tokens -= 1


class Connection:
    """A client connection on ``/lobby`` or ``/game`` with its session machine."""

    def __init__(
        self, ws: GuardedWebSocket, endpoint: str, config: ServerConfig, address: str = ""
    ) -> None:
        self.ws = ws
        self.endpoint = endpoint
        self.config = config
        self.address = address  # the client's IP address, for the per-address limits
        self.session = Session()
        self.limiter = RateLimiter(config.rate, config.burst)
        # (not open_memory_channel[...]: a generic alias built at run time, per connection)
        self._send: trio.MemorySendChannel[tuple[str | bytes, int]]
        self._outbox: trio.MemoryReceiveChannel[tuple[str | bytes, int]]
        self._send, self._outbox = trio.open_memory_channel(math.inf)
        self.queued_bytes = 0  # in the outbox, and the frame being written
        self.closed = trio.Event()  # asked to close, or the peer went
        self._writing = trio.CancelScope()  # the writer's deadline, set by close()
        self.finished = trio.Event()  # the close handshake is over
        self.close_code = GOING_AWAY
        self.close_reason: str | None = None
        self.unnumbered = 0  # errors sent before the connection belongs to a seat
        self.refused_in_a_row = 0  # messages and pings refused for flooding
        self._last_heard = trio.current_time()
        self._partial_since: float | None = None  # a fragmented message has begun
        ws.on_partial = self._partial
        ws.on_ping = self._ping

    # -- sending --------------------------------------------------------------------

    def deliver(self, message: dict[str, Any]) -> None:
        """Queue a message for this client; a client that cannot keep up is dropped."""
        self.deliver_text(encode(message))

    def deliver_text(self, text: str, size: int | None = None) -> None:
        """Queue a frame already serialised (one push, shared by every watcher);
        ``size``, its length in UTF-8 if the caller knows it."""
        if self.closed.is_set():
            return
        if size is None:
            size = len(text) if text.isascii() else len(text.encode())
        if self.queued_bytes + size > self.config.outbox_bytes:
            log.info("dropping a connection that does not read its messages")
            self.close(TRY_AGAIN_LATER, "too much queued; read your messages")
            return
        if self.queued_bytes == 0:  # nothing ahead of it: written now, in this task
            rest = self.ws.send_now(text)
            if rest == b"":
                return
            if rest is not None:  # the kernel took a part: the writer sends the rest
                self._queue(rest, len(rest))
                return
        self._queue(text, size)

    def _queue(self, frame: str | bytes, size: int) -> None:
        """For the writer task: a message (``str``), or the rest of a frame (``bytes``)."""
        self.queued_bytes += size
        with suppress(trio.ClosedResourceError):
            self._send.send_nowait((frame, size))

    def refuse(self, err: ProtocolError, cmd: str | None, msg_id: str = "0") -> None:
        """An ERROR outside any player's numbered stream."""
        data = error_data(err.code, cmd, getattr(err, "url", None))
        self.deliver(envelope("ERROR", msg_id, err.sentence, data))

    def turn_away(
        self, err: ProtocolError, cmd: str, missed: Iterable[dict[str, Any]] = ()
    ) -> None:
        """What the client missed, then why there is nothing more for it here; then close."""
        for message in missed:
            self.deliver(message)
        self.refuse(err, cmd)
        self.close(NORMAL_CLOSURE)

    def close(self, code: int = GOING_AWAY, reason: str | None = None) -> None:
        """Ask the connection to end: the writer has ``close_timeout`` seconds to send
        what is queued and the close frame, then the TCP connection is reset."""
        if not self.closed.is_set():
            self.close_code, self.close_reason = code, reason
            self.closed.set()
            self._send.close()
        if self._writing.deadline == math.inf:
            self._writing.deadline = trio.current_time() + self.config.close_timeout
            self.ws.reset_at = self._writing.deadline

    async def _write(self) -> None:
        """Send the outbox in order. A peer that does not read blocks a send once its
        socket buffer is full; only a deadline ends that, and then the socket is reset
        (a frame half sent leaves nothing else to do)."""
        sent_whole = True
        try:
            with self._writing:
                async for frame, size in self._outbox:
                    sent_whole = False
                    if isinstance(frame, bytes):
                        await self.ws.send_rest(frame)
                    else:
                        await self.ws.send_message(frame)
                    sent_whole = True
                    self.queued_bytes -= size
        except ConnectionClosed:
            pass
        finally:
            self.close(self.close_code, self.close_reason)
            with trio.CancelScope(deadline=self._writing.deadline, shield=True) as closing:
                if sent_whole:  # past the deadline the close resets (transport.py)
                    await self.ws.aclose(self.close_code, self.close_reason)
                else:
                    await self.ws.abort()
            if not sent_whole or closing.cancelled_caught:
                log.info("reset a connection that did not read what it was sent")
            self.finished.set()

    # -- receiving ------------------------------------------------------------------

    def _flooding(self) -> bool:
        """Spend a token; past ``flood_close_after`` refusals in a row, close (1008)."""
        if self.limiter.allow():
            self.refused_in_a_row = 0
            return False
        self.refused_in_a_row += 1
        if self.refused_in_a_row >= self.config.flood_close_after:
            self.close(POLICY_VIOLATION, "flooding")
        return True

    def _ping(self) -> bool:
        return not self._flooding()

    def _partial(self, started: bool) -> None:
        self._partial_since = trio.current_time() if started else None

    def check_clocks(self, now: float) -> None:
        """Close an unfinished fragmented message's connection past its deadline (1008),
        and a ``/lobby`` connection silent for the idle timeout (1001)."""
        config = self.config
        if self._partial_since is not None and now - self._partial_since > config.fragment_timeout:
            self.close(POLICY_VIOLATION, "a fragmented message was never finished")
        elif self.endpoint == "/lobby" and now - self._last_heard > config.lobby_idle_timeout:
            self.close(GOING_AWAY, "idle")

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        """Valid, rate-limited, state-legal client messages; everything else is refused here."""
        while not self.closed.is_set():
            try:
                frame = await self.ws.get_message()
            except ConnectionClosed:
                return
            self._last_heard = trio.current_time()
            if self._flooding():
                if not self.closed.is_set():
                    self.refuse(ProtocolError("rate_limited", "too many messages; slow down"), None)
                continue
            try:
                message = parse(frame, self.endpoint, self.config.max_frame)
                self.session.check(message["cmd"])
            except FrameError as err:
                self.refuse(err, err.cmd)
                continue
            except ProtocolError as err:
                self.refuse(err, message["cmd"])
                continue
            finally:
                del frame
            yield message
            del message  # not held while the connection waits for its next frame

    async def run(self, handle: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        """Read until the client goes; ``handle`` each message, refusing what it refuses.

        A handler that carries out a command moves the session itself (at once, or
        later from the room task), so a refused command changes nothing.
        """
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._write)
                async for message in self.messages():
                    try:
                        await handle(message)
                    except ProtocolError as err:
                        self.refuse(err, message["cmd"])
                    del message
                self.close(self.close_code, self.close_reason)
        finally:
            self.session.close()


async def watch_clocks(connections: set[Connection], config: ServerConfig) -> None:
    """The server's one task for every connection's clocks: each is read four times per
    timeout, so a connection is closed at most a quarter late."""
    period = min(config.lobby_idle_timeout, config.fragment_timeout) / 4
    while True:
        await trio.sleep(period)
        now = trio.current_time()
        for conn in list(connections):
            conn.check_clocks(now)
