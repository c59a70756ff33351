"""A trio client for the cardgame protocol: the terminal client, network bots and tests use it.

Two classes, one per endpoint::

    async with LobbyClient.connect("ws://127.0.0.1:8888") as lobby:
        ticket = await lobby.create_room("kitchen", players=4, user_name="ada", computers=3)
    async with GameClient.connect("ws://127.0.0.1:8888", ticket) as game:
        while (message := await game.receive())["payload"]["data"].get("event") != "game_over":
            if game.question is not None:
                await game.answer(["red-cross"])       # or [] to draw

:class:`GameClient` keeps ``last_msg_id`` and drops any message it has already seen.
Given a :class:`Backoff` it reconnects by itself when the connection drops — capped
exponential backoff with jitter — presents ``last_msg_id``, and receives everything
it missed before anything new; an answer the server had not applied is sent again
(the server says which question is pending in ``JOIN_GAME_REP``). Without one, a
dropped connection raises, and ``GameClient.connect(url, ticket, last_msg_id=...)``
resumes by hand. :func:`play_with_bot` plays a seat with a computer strategy that
sees only what this client receives.
"""

from __future__ import annotations

import json
import random
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import count
from typing import Any, Final

import trio
from trio_websocket import (
    ConnectionClosed,
    HandshakeError,
    WebSocketConnection,
    connect_websocket_url,
    open_websocket_url,
)

from cardgame.fsm.bots import Bot, bot_view, make_bot
from cardgame.fsm.game import USER_INPUT_CONTINUE, Question

Message = dict[str, Any]

#: Seconds to wait for the server's close frame when a client closes.
CLOSE_TIMEOUT = 5.0
#: Seconds a reconnection attempt may take (connect, handshake, hello).
OPEN_TIMEOUT = 10.0
#: Seconds to wait before sending again an answer refused as ``rate_limited``.
RATE_LIMITED_PAUSE = 0.1
#: ``moved`` refusals followed in a row at once; past them each waits a backoff delay
#: (a room between two owners sends its players back and forth for a moment).
MOVED_AT_ONCE = 4


class ServerError(Exception):
    """The server refused a command: ``code`` is stable, ``sentence`` is for people."""

    def __init__(self, message: Message) -> None:
        payload = message["payload"]
        self.code = (payload.get("data") or {}).get("code")
        self.sentence = payload.get("prompt", "")
        self.message = message
        super().__init__(f"{self.code}: {self.sentence}")


@dataclass(frozen=True)
class Ticket:
    """What a seat needs to connect to /game: keep it secret (the token is the key)."""

    room_id: str
    user_id: str
    token: str


@dataclass(frozen=True)
class Backoff:
    """How a dropped game connection is retried: capped exponential, with jitter.

    The n-th retry waits ``min(cap, first * 2**n)`` scaled by a random factor in
    [0.5, 1], so many clients dropped at once (a server restart) do not come back
    in lockstep. After ``attempts`` failures in a row the client gives up.
    """

    first: float = 0.1
    cap: float = 5.0
    attempts: int = 30

    def delay(self, attempt: int, rng: random.Random) -> float:
        return min(self.cap, self.first * 2**attempt) * rng.uniform(0.5, 1.0)


class _Endpoint:
    def __init__(self, ws: WebSocketConnection | None) -> None:
        self.ws = ws  # type: ignore[assignment]
        self._ids = count(1)
        # The server remembers replies by msg_id per seat: a second client for the same
        # seat must not reuse the first one's ids, or its moves pass for repeats.
        self._prefix = secrets.token_hex(3)

    def frame(self, cmd: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        msg_id = f"{self._prefix}-{next(self._ids)}"
        return {"cmd": cmd, "msg_id": msg_id, "payload": payload or {}}

    async def send(self, cmd: str, payload: dict[str, Any] | None = None) -> str:
        frame = self.frame(cmd, payload)
        await self.ws.send_message(json.dumps(frame))
        return frame["msg_id"]

    async def _next(self) -> Message:
        return json.loads(await self.ws.get_message())


def unpack_pushes(message: Message) -> list[Message]:
    """A ``LOBBY_CHANGED`` frame as the pushes it carries, each as if sent alone; when
    changes were left out (``missed``: a burst too big, or a client that was behind),
    then the frame itself with no changes in it, so that whoever follows the lobby
    knows to ask GET_ROOMS again (it may carry nothing else)."""
    if message["cmd"] != "LOBBY_CHANGED":
        return [message]
    pushes = [{"cmd": item["cmd"], "msg_id": message["msg_id"],
               "payload": {**message["payload"], "prompt": item["prompt"], "data": item["data"],
                           "extra_data": None}}  # fmt: skip
              for item in message["payload"]["data"]]  # fmt: skip
    if (message["payload"].get("extra_data") or {}).get("missed"):
        pushes.append({**message, "payload": {**message["payload"], "data": []}})
    return pushes


class LobbyClient(_Endpoint):
    """``/lobby``: rooms, Scenario A, seats. Pushes that arrive meanwhile wait in ``pushes``."""

    PUSHES = ("ROOM_BEING_CREATED", "ROOM_CREATED", "ROOM_ABANDONED", "ROOM_UPDATED",
              "LOBBY_CHANGED")  # fmt: skip

    def __init__(self, ws: WebSocketConnection) -> None:
        super().__init__(ws)
        self.pushes: deque[Message] = deque()

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str) -> AsyncIterator[LobbyClient]:
        async with open_websocket_url(url.rstrip("/") + "/lobby") as ws:
            yield cls(ws)

    async def request(self, cmd: str, data: Any = None) -> Message:
        """Send a command; its ``<cmd>_REP``, or :class:`ServerError`."""
        await self.send(cmd, {"data": data})
        while True:
            message = await self._next()
            if message["cmd"] == f"{cmd}_REP":
                return message
            if message["cmd"] == "ERROR":
                raise ServerError(message)
            self.pushes.extend(unpack_pushes(message))

    async def next_push(self) -> Message:
        """The next ROOM_* push (Scenario A): wait here for a room being created."""
        while not self.pushes:
            self.pushes.extend(unpack_pushes(await self._next()))
        return self.pushes.popleft()

    async def watchable_rooms(self, offset: int = 0) -> list[dict[str, Any]]:
        """The rooms one may watch (filling or in play): a page of 50 at most."""
        data: dict[str, Any] = {"watchable": True}
        if offset:
            data["offset"] = offset
        return (await self.request("GET_ROOMS", data))["payload"]["data"]

    async def get_rooms(self, offset: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(open rooms, rooms being created): a page of 50 at most from ``offset``."""
        reply = await self.request("GET_ROOMS", {"offset": offset} if offset else None)
        return reply["payload"]["data"], reply["payload"]["extra_data"]

    async def creating(self, user_name: str) -> dict[str, Any]:
        """Tell the lobby you are creating a room (others see it)."""
        return (await self.request("CREATING_A_ROOM", {"user_name": user_name}))["payload"]["data"]

    async def cancel_create(self) -> None:
        await self.request("CANCEL_CREATE")

    async def create_room(
        self,
        room_name: str,
        players: int,
        user_name: str,
        computers: int = 0,
        turn_seconds: int | None = None,
        spectators: str | None = None,
    ) -> Ticket:
        """A room, and the creator's seat in it; ``turn_seconds``: its clock (else the
        server's); ``spectators``: "chat", "watch" or "none" (else "chat")."""
        data = {"room_name": room_name, "num_of_players": players, "user_name": user_name,
                "computers": computers}  # fmt: skip
        if turn_seconds is not None:
            data["turn_seconds"] = turn_seconds
        if spectators is not None:
            data["spectators"] = spectators
        return Ticket(**(await self.request("CREATE_A_ROOM", data))["payload"]["data"])

    async def join_room(self, room_id: str, user_name: str, hops: int = MOVED_AT_ONCE) -> Ticket:
        """A seat in the room; a room another server process runs is joined there
        (``moved``: the same JOIN_ROOM on a lobby connection to its ``url``)."""
        data = {"room_id": room_id, "user_name": user_name}
        try:
            return Ticket(**(await self.request("JOIN_ROOM", data))["payload"]["data"])
        except ServerError as refusal:
            if refusal.code != "moved" or hops == 0:
                raise
            async with LobbyClient.connect(refusal.message["payload"]["data"]["url"]) as owner:
                return await owner.join_room(room_id, user_name, hops - 1)

    async def roommates(self) -> dict[str, Any]:
        return (await self.request("GET_ROOMATES"))["payload"]["data"]


class GameClient(_Endpoint):
    """``/game`` for one seat: receives in order, answers the pending question."""

    def __init__(
        self,
        url: str | Sequence[str],
        ticket: Ticket,
        last_msg_id: int = 0,
        backoff: Backoff | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(None)
        # The address first used (or several, as a name that resolves to several
        # processes would give): every reconnection starts there, whatever ``moved``
        # said since, so a room that changed process is found again.
        self.home = [u.rstrip("/") for u in ([url] if isinstance(url, str) else url)]
        self.url = self.home[0] + "/game"
        self.moved = 0  # ``moved`` refusals followed (another process runs the room)
        self._moved_in_a_row = 0
        self.ticket = ticket
        self.last_msg_id = last_msg_id
        self.backoff = backoff
        self.received: list[Message] = []  # every numbered message, in order
        self.view: dict[str, Any] = {}  # the latest game view (own hand, public table)
        self.question: Message | None = None  # the pending question, if any
        self.errors: list[Message] = []
        self.reconnects = 0
        self.duplicates = 0  # numbered frames received twice (a resumption overlap)
        self.over = False  # game over or left: nothing more to come, do not reconnect
        # The last answer, and the last leave step (the request, then LEAVE), each with
        # the connection (by reconnection count) it was sent on.
        self._unapplied: tuple[dict[str, Any], int] | None = None
        self._leaving: tuple[dict[str, Any], int] | None = None
        self._answered: Message | None = None  # the question last answered
        self._hello_id = ""  # the msg_id of this connection's JOIN_GAME
        # Told "lost" when the connection drops and "back" once a new one is open, so a
        # person at a screen is not left staring at silence while the client retries.
        self.on_connection: Callable[[str], None] | None = None
        self._lost = False
        self._rng = random.Random(seed)
        self._nursery: trio.Nursery | None = None

    @classmethod
    @asynccontextmanager
    async def connect(
        cls,
        url: str | Sequence[str],
        ticket: Ticket,
        last_msg_id: int = 0,
        backoff: Backoff | None = None,
        seed: int | None = None,
    ) -> AsyncIterator[GameClient]:
        try:
            # The nursery holds each connection's reader task, across reconnections.
            async with trio.open_nursery() as nursery:
                client = cls(url, ticket, last_msg_id, backoff, seed)
                client._nursery = nursery
                await client._open()
                try:
                    yield client
                finally:
                    with trio.move_on_after(CLOSE_TIMEOUT):
                        await client.ws.aclose()
        except BaseExceptionGroup as group:
            # Callers see the one error that happened, as with open_websocket_url.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise

    async def _open(self) -> None:
        assert self._nursery is not None
        self.ws = await connect_websocket_url(self._nursery, self.url)
        hello = {"room_id": self.ticket.room_id, "user_id": self.ticket.user_id,
                 "token": self.ticket.token, "last_msg_id": self.last_msg_id}  # fmt: skip
        self._hello_id = await self.send("JOIN_GAME", {"data": hello})

    async def _reconnect(self, dropped: ConnectionClosed) -> None:
        if self.backoff is None or self.over:
            raise dropped
        await self.ws.aclose()
        if self.on_connection is not None and not self._lost:
            self.on_connection("lost")
        self._lost = True  # told once, however many tries (a raced receive is cancelled)
        for attempt in range(self.backoff.attempts):
            # Cancelling the wait is harmless: the next receive finds the old
            # connection closed and starts again. The hello is not cancelled halfway.
            await trio.sleep(self.backoff.delay(attempt, self._rng))
            self.url = self.home[attempt % len(self.home)] + "/game"
            with trio.CancelScope(shield=True):
                try:
                    with trio.fail_after(OPEN_TIMEOUT):
                        await self._open()
                except (OSError, HandshakeError, ConnectionClosed, trio.TooSlowError):
                    continue
            self.reconnects += 1
            self._lost = False
            if self.on_connection is not None:
                self.on_connection("back")
            return
        raise dropped

    async def _go_to(self, url: str) -> None:
        """Another server process runs the room: JOIN_GAME again there (``moved``)."""
        self.moved += 1
        self._moved_in_a_row += 1
        await self.ws.aclose()
        if self._moved_in_a_row > MOVED_AT_ONCE:
            await trio.sleep((self.backoff or Backoff()).delay(self._moved_in_a_row, self._rng))
        self.url = url.rstrip("/") + "/game"
        failed: Exception | None = None
        with trio.CancelScope(shield=True):  # the hello is not cancelled halfway
            try:
                with trio.fail_after(OPEN_TIMEOUT):
                    await self._open()
            except (OSError, HandshakeError, ConnectionClosed, trio.TooSlowError) as err:
                failed = err
        if failed is not None:  # that process has gone too: start again from home
            if self.backoff is None:
                raise failed
            await self._reconnect(failed)  # type: ignore[arg-type]

    async def receive(self) -> Message:
        """The next new message; already-seen ids (a resumption overlap) are skipped.

        A message with msg_id "0" is outside the numbered stream: a refusal of a frame
        that never reached the game (malformed, flooding, a bad token; kept in
        ``errors`` too) or a roommates tick. It is returned but does not move
        ``last_msg_id``.
        """
        while True:
            try:
                message = await self._next()
            except ConnectionClosed as dropped:
                await self._reconnect(dropped)
                continue
            number = int(message["msg_id"])
            if number == 0:  # outside the numbered stream: a refusal, or a roommates tick
                if message["cmd"] != "ERROR":
                    return message
                if _code(message) == "moved":
                    await self._go_to(message["payload"]["data"]["url"])
                    continue
                self.errors.append(message)
                if _code(message) in FINAL_REFUSALS:
                    self.over = True  # reconnecting cannot help
                await self._answer_again_if_rate_limited(message)
                return message
            self._moved_in_a_row = 0
            if number <= self.last_msg_id:
                self.duplicates += 1
                continue
            self.last_msg_id = number
            self.received.append(message)
            self._follow(message)
            joined = message["payload"]["data"] if message["cmd"] == "JOIN_GAME_REP" else None
            if joined is not None and joined.get("reply_to") == self._hello_id:
                await self._send_again_if_unapplied(joined)
            return message

    def _follow(self, message: Message) -> None:
        payload = message["payload"]
        data = payload.get("data")
        if message["cmd"] == "ERROR":
            self.errors.append(message)
            if _code(message) in ANSWER_REFUSED and self.question is None:
                self.question = self._answered  # refused, so still pending: answer again
            return
        if message["cmd"] == "LEAVE_REP" or (
            isinstance(data, dict) and data.get("event") == "game_over"
        ):
            self.over = True
        if isinstance(data, dict) and "hand" in data and "players" in data and "top_card" in data:
            self.view = data
            self.question = message if payload.get("flag") == USER_INPUT_CONTINUE else None

    async def _send_again_if_unapplied(self, joined: dict[str, Any]) -> None:
        """After a reconnection: what the server never applied is sent again.

        Decided by this connection's own JOIN_GAME_REP (it quotes our JOIN_GAME), never
        by an earlier connection's replayed one, whose ``pending_question`` is stale.
        Only frames sent on an earlier connection (however many connections back): one
        sent on this connection reaches the server after this JOIN_GAME_REP was
        written, and is applied then. The server says which question waits for this
        seat (``pending_question``) and whether it is leaving (``leaving``), which tells
        what was applied.
        """
        if self._unapplied is not None and self._unapplied[1] != self.reconnects:
            frame, self._unapplied = self._unapplied[0], None
            if frame["payload"]["reply_to"] == joined.get("pending_question"):
                await self._resend(frame)
        if self._leaving is not None and self._leaving[1] != self.reconnects:
            frame = self._leaving[0]
            asked_only = frame["cmd"] == "GAME_MESSAGE"
            # The request was lost if the seat is not leaving; LEAVE was lost if it still is.
            if asked_only != bool(joined.get("leaving")):
                await self._resend(frame)

    async def _resend(self, frame: dict[str, Any]) -> None:
        if frame["cmd"] == "GAME_MESSAGE" and frame["payload"]["action"] == "answer":
            self._unapplied = (frame, self.reconnects)
        else:
            self._leaving = (frame, self.reconnects)
        with trio.CancelScope(shield=True):  # receive() may be raced and cancelled
            await self._send_frame(frame)

    async def _answer_again_if_rate_limited(self, refusal: Message) -> None:
        """A flood refusal never reached the game: the answer waiting on it goes again.

        The server answers a repeated msg_id from memory, so sending an answer that
        was in fact applied costs a duplicate (dropped here), never a second move.
        """
        unapplied = self._unapplied
        if unapplied is not None and self.question is None and _code(refusal) == "rate_limited":
            with trio.CancelScope(shield=True):  # receive() may be raced and cancelled
                await trio.sleep(RATE_LIMITED_PAUSE)
                await self._send_frame(unapplied[0])

    async def _send_frame(self, frame: dict[str, Any]) -> None:
        """Send, or leave it to the next reconnection: its JOIN_GAME_REP decides."""
        try:
            await self.ws.send_message(json.dumps(frame))
        except ConnectionClosed:
            if self.backoff is None or self.over:
                raise

    async def answer(self, data: Any, last_card: bool = False) -> str:
        """Answer the pending question (quoting its msg_id); returns this message's id."""
        if self.question is None:
            raise RuntimeError("no question is pending")
        reply_to = self.question["msg_id"]
        self._answered, self.question = self.question, None
        payload = {"action": "answer", "reply_to": reply_to, "data": data, "last_card": last_card}
        frame = self.frame("GAME_MESSAGE", payload)
        self._unapplied = (frame, self.reconnects)
        await self._send_frame(frame)
        return frame["msg_id"]

    async def request_leave(self) -> str:
        """Scenario B step 1; then wait for the 'paused' message and call :meth:`leave`."""
        return await self._leave_step(self.frame("GAME_MESSAGE", {"action": "leave"}))

    async def leave(self) -> str:
        """Scenario B step 4, once the state sent with 'paused' is saved."""
        return await self._leave_step(self.frame("LEAVE"))

    async def _leave_step(self, frame: dict[str, Any]) -> str:
        self._leaving = (frame, self.reconnects)
        await self._send_frame(frame)
        return frame["msg_id"]

    async def roommates(self) -> str:
        return await self.send("GET_ROOMATES")

    async def chat(self, text: str) -> str:
        """A chat line to the room; everyone (this client too) receives it as ``CHAT_REP``."""
        frame = self.frame("CHAT", {"data": {"text": text}})
        await self._send_frame(frame)
        return frame["msg_id"]


#: Refusals of an answer that leave its question pending (the answer, not the moment,
#: was wrong); after ``no_question``, ``stale_answer`` or ``too_late`` the question is gone.
ANSWER_REFUSED: Final = frozenset({"bad_answer", "bad_card", "bad_play", "not_in_hand"})

#: Refusals of JOIN_GAME after which reconnecting cannot help.
FINAL_REFUSALS: Final = frozenset({"unknown_room", "bad_token", "not_playing", "game_finished"})


def _code(message: Message) -> str | None:
    data = message["payload"].get("data")
    return data.get("code") if isinstance(data, dict) else None


def question_of(message: Message) -> Question:
    payload = message["payload"]
    data = payload["data"]
    return Question(data["question"], data["you"], message["msg_id"],
                    payload["extra_data"] or [], data.get("count", 0))  # fmt: skip


async def play_with_bot(client: GameClient, bot: Bot | str = "greedy", seed: int = 0) -> Message:
    """Play this seat to the end with a computer strategy; returns the game-over message."""
    if isinstance(bot, str):
        bot = make_bot(bot, random.Random(seed))
    while True:
        message = await client.receive()
        data = message["payload"].get("data")
        if isinstance(data, dict) and data.get("event") == "game_over":
            return message
        if client.question is message:
            decision = bot.decide(question_of(message), bot_view(data))
            await client.answer(decision.data, decision.last_card)
