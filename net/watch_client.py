"""A spectator's client: ``/game`` without a seat, the public table after every event.

::

    async with WatchClient.connect("ws://127.0.0.1:8888", room_id) as watch:
        while not watch.over:
            message = await watch.receive()   # WATCH_REP first, then the room's story

The room's public stream is numbered like a player's: :class:`WatchClient` keeps
``last_msg_id`` (the stream's latest when it began watching, from ``WATCH_REP``) and,
given a :class:`~cardgame.net.client.Backoff`, reconnects by itself when the connection
drops, presenting it, so it receives what it missed before anything new.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import trio
from trio_websocket import ConnectionClosed, HandshakeError, connect_websocket_url

from .client import CLOSE_TIMEOUT, OPEN_TIMEOUT, Backoff, Message, _code, _Endpoint

#: Refusals of WATCH after which watching again cannot help.
FINAL_REFUSALS: Final = frozenset(
    {"unknown_room", "not_watchable", "game_finished", "too_many_spectators", "name_taken",
     "bad_name"}
)  # fmt: skip


class WatchClient(_Endpoint):
    """One room, watched: ``table`` is the latest public view, ``received`` the stream."""

    def __init__(
        self,
        url: str,
        room_id: str,
        user_name: str | None = None,
        last_msg_id: int | None = None,
        backoff: Backoff | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(None)
        self.url = url.rstrip("/") + "/game"
        self.room_id = room_id
        self.user_name = user_name
        self.last_msg_id = last_msg_id  # None: from now on (WATCH_REP says where that is)
        self.backoff = backoff
        self.received: list[Message] = []  # every numbered message, in order
        self.table: dict[str, Any] | None = None  # the public table, as last shown
        self.watched: dict[str, Any] | None = None  # the latest WATCH_REP's data
        self.errors: list[Message] = []
        self.reconnects = 0
        self.over = False  # the game is over, or the room may not be watched
        self._rng = random.Random(seed)
        self._nursery: trio.Nursery | None = None

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str, room_id: str, **options: Any) -> AsyncIterator[WatchClient]:
        async with trio.open_nursery() as nursery:
            client = cls(url, room_id, **options)
            client._nursery = nursery
            await client._open()
            try:
                yield client
            finally:
                with trio.move_on_after(CLOSE_TIMEOUT):
                    await client.ws.aclose()

    async def _open(self) -> None:
        assert self._nursery is not None
        self.ws = await connect_websocket_url(self._nursery, self.url)
        hello: dict[str, Any] = {"room_id": self.room_id}
        if self.user_name is not None:
            hello["user_name"] = self.user_name
        if self.last_msg_id is not None:
            hello["last_msg_id"] = self.last_msg_id
        await self.send("WATCH", {"data": hello})

    async def _reconnect(self, dropped: ConnectionClosed) -> None:
        if self.backoff is None or self.over:
            raise dropped
        await self.ws.aclose()
        for attempt in range(self.backoff.attempts):
            await trio.sleep(self.backoff.delay(attempt, self._rng))
            with trio.CancelScope(shield=True):
                try:
                    with trio.fail_after(OPEN_TIMEOUT):
                        await self._open()
                except (OSError, HandshakeError, ConnectionClosed, trio.TooSlowError):
                    continue
            self.reconnects += 1
            return
        raise dropped

    async def receive(self) -> Message:
        """The next message; numbered ones already seen (a resumption's overlap) are skipped."""
        while True:
            try:
                message = await self._next()
            except ConnectionClosed as dropped:
                await self._reconnect(dropped)
                continue
            data = message["payload"].get("data")
            number = int(message["msg_id"])
            if number == 0:
                if message["cmd"] == "WATCH_REP":
                    self.watched = data
                    if self.last_msg_id is None:
                        self.last_msg_id = data["last_msg_id"]
                    if data["table"] is not None:
                        self.table = data["table"]
                elif message["cmd"] == "ERROR":
                    self.errors.append(message)
                    if _code(message) in FINAL_REFUSALS:
                        self.over = True
                return message
            if self.last_msg_id is not None and number <= self.last_msg_id:
                continue
            self.last_msg_id = number
            self.received.append(message)
            if message["cmd"] == "GAME_MESSAGE_REP":
                self.table = data
                if data.get("event") == "game_over":
                    self.over = True
            return message

    async def chat(self, text: str) -> str:
        """A chat line (with a ``user_name``, in a room that lets spectators chat)."""
        return await self.send("CHAT", {"data": {"text": text}})
