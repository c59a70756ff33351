"""One room: its seats, its game, and the one task that drives the game machine.

Connections never touch the game. They post events to the room's inbox; the room
task applies them one at a time, lets computer seats answer, records the result in
the store (awaited: written before sent), and only then delivers each message to
its player's connection. Timers — the roommates ticker, the game's clock on every
question and the reserved seats' clocks (``clocks.py``), the grace period of a dropped
player — are tasks in the room's nursery that post events too, so the game is only
ever touched by one task.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import secrets
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Final

import trio

from cardgame.fsm.bots import Bot, drive, make_bot
from cardgame.fsm.game import (
    FINISHED,
    GAME_MACHINE,
    GAME_MESSAGE_REP,
    LEAVE_DROPPED,
    LEAVE_IDLE,
    PAUSED,
    PUBLIC,
    Q_VOTE,
    QUESTION_FORMS,
    TURN_QUESTIONS,
    USER_INPUT_CONTINUE,
    W_LEAVE,
    WAITING,
    Awaited,
    Game,
    Message,
    ProtocolError,
)
from cardgame.fsm.names import looks_alike
from cardgame.fsm.snapshot import from_snapshot
from cardgame.fsm.story import told_to_all

from .clocks import GameClock, SeatClocks, same_wait
from .config import ServerConfig
from .connection import GOING_AWAY, NORMAL_CLOSURE, REPLACED, Connection, RateLimiter
from .gallery import CHAT, Gallery, Spectator
from .protocol import check_chat, encode, envelope
from .store import Move, Outgoing, StorageUnavailable, Store, StoredRoom

log = logging.getLogger("cardgame.net")

TICK_CMD: Final = "GET_ROOMATES_REP"
TICK_PROMPT: Final = "Waiting for players."

#: Seconds before the first retry of a failed write (then doubled, up to storage_retry).
STORAGE_FIRST_RETRY: Final = 0.05


def storage_refusal(held: bool = False) -> ProtocolError:
    """What a player is told when the server cannot write (the log says why): in a
    game, the move is held and goes through later; in the lobby, nothing was done."""
    then = ("nothing is lost: the game goes on once it can be saved" if held
            else "nothing was done; try again in a moment")  # fmt: skip
    return ProtocolError(
        "storage_unavailable",
        f"the server cannot save right now (its storage is full or failing); {then}",
    )


#: Replies remembered per seat, so a repeated client msg_id is answered again.
REMEMBERED_REPLIES = 64


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Player:
    """A reserved seat."""

    seat: int
    name: str
    user_id: str = ""
    token_hash: str = ""
    computer: bool = False
    connection: Connection | None = None
    ever_connected: bool = False
    replies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    chat_allowance: RateLimiter | None = None  # made on the first line (trio's clock)


class Room:
    def __init__(
        self,
        room_id: str,
        name: str,
        size: int,
        computers: int,
        store: Store,
        config: ServerConfig,
        seed: int | None = None,
        game: Game | None = None,
        turn_seconds: float | None = None,
        spectators: str = "chat",
    ) -> None:
        self.room_id = room_id
        self.name = name
        self.size = size
        self.store = store
        self.config = config
        if game is None:
            game = Game(size, seed=secrets.randbits(64) if seed is None else seed, room=room_id)
        self.game = game
        self.players: list[Player] = []
        self.computers = computers
        self.bots: dict[int, Bot] = {}
        # Seeded from the room, not drawn from the game's generator: a restored game
        # must deal exactly the cards the one that never stopped would have dealt.
        self._rng = random.Random(room_id)
        self._send, self._inbox = trio.open_memory_channel[tuple[Any, ...]](1024)
        self._nursery: trio.Nursery | None = None
        self._tickers: list[trio.CancelScope] = []
        #: Seconds each question allows (a room setting, chosen at creation).
        self.turn_seconds = config.turn_seconds if turn_seconds is None else turn_seconds
        #: Who watches, and who may (a room setting: "chat", "watch" or "none").
        self.gallery = Gallery(spectators, config)
        self._clock: GameClock | None = None  # set once the room task runs
        self._seat_clocks: SeatClocks | None = None
        self._grace: dict[int, trio.CancelScope] = {}  # seats held for a dropped player
        self._told_away: set[int] = set()  # seats the others were told are away
        self._unattended: trio.CancelScope | None = None  # a filling room with nobody in it
        self.moves_logged = 0
        self.restored = False
        self.closing = False  # no seats, no joins: the room task is about to end
        self.given_up = False  # another process runs the room now (its lease here ran out)
        self.draining = False  # the server is stopping: no game begins
        self.on_change: Callable[[], None] = lambda: None  # its seats_left changed (the lobby)
        self.on_seat_freed: Callable[[str], None] = lambda name: None  # told to the lobby
        self.done = trio.Event()  # the game is over
        self.closed = trio.Event()  # the room task has ended

    @classmethod
    def restore(cls, stored: StoredRoom, store: Store, config: ServerConfig) -> Room:
        """A room as the store last saw it: same game, same seats, same tokens.

        Computer seats get fresh greedy bots; the replies remembered for repeated
        client msg_ids are not kept, so a resuming client learns from JOIN_GAME_REP's
        ``pending_question`` whether to send its last answer again.
        """
        game = from_snapshot(stored.snapshot) if stored.snapshot is not None else None
        room = cls(stored.room_id, stored.name, stored.size, stored.computers, store, config,
                   game=game, turn_seconds=stored.turn_seconds,
                   spectators=stored.spectators)  # fmt: skip
        for p in stored.players:
            room.players.append(Player(p["seat"], p["name"], p["user_id"], p["token_hash"]))
        if room.seats_left() == 0:
            room._seat_computers()
        room._follow_seats()
        room.moves_logged = stored.moves_logged
        room.restored = True
        return room

    # -- seats (called from the lobby) --------------------------------------------------

    @property
    def humans(self) -> int:
        return self.size - self.computers

    def human_players(self) -> list[Player]:
        return [p for p in self.players if not p.computer]

    def seats_left(self) -> int:
        """Seats a person may still take: none once the game has begun."""
        if self.game.state != WAITING or self.closing:
            return 0
        return self.humans - len(self.human_players())

    def summary(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "room_name": self.name,
            "num_of_players": self.size,
            "players": [p.name for p in self.players],
            "computers": self.computers,
            "seats_left": self.seats_left(),
        }

    async def reserve(self, name: str) -> tuple[Player, str]:
        """A human seat for ``name``: (the player, their secret token)."""
        if self.seats_left() <= 0 or self.game.state != WAITING:
            raise ProtocolError("room_full", f"the room {self.name!r} has no seat left")
        if alike := next((p for p in self.players if looks_alike(p.name, name)), None):
            raise ProtocolError(
                "name_taken", f"somebody in {self.name!r} is already called {alike.name}"
            )
        token = secrets.token_urlsafe(24)
        player = Player(len(self.players), name, secrets.token_hex(8), hash_token(token))
        self.players.append(player)
        try:
            await self.store.add_player(
                self.room_id, player.user_id, player.seat, name, player.token_hash
            )
        except StorageUnavailable as err:
            self.players.remove(player)  # not written: the seat is not taken
            log.error("room %s: a seat for %s was not saved: %s", self.room_id, name, err)
            raise storage_refusal() from None
        if self._seat_clocks is not None:
            self._seat_clocks.start(player.user_id)
        if self.seats_left() == 0:
            self._seat_computers()
        return player, token

    def _seat_computers(self) -> None:
        """Once the humans' seats are taken, the computers sit after them."""
        for number in range(self.computers):
            seat = len(self.players)
            self.players.append(Player(seat, f"computer-{number + 1}", computer=True))
            self.bots[seat] = make_bot("greedy", random.Random(self._rng.random()))

    def _follow_seats(self) -> list[Player]:
        """A seat a computer took over by vote is a computer's from now on: those."""
        taken = []
        for player, seat in zip(self.players, self.game.seats, strict=False):
            if seat.computer and not player.computer:
                taken.append(player)
            player.computer = seat.computer
        return taken

    def watch_summary(self) -> dict[str, Any]:
        """The room in the list of rooms one may watch."""
        return {**self.summary(), "playing": self.game.state != WAITING,
                "watching": len(self.gallery), "spectators": self.gallery.rule}  # fmt: skip

    def watchable(self) -> bool:
        return self.gallery.keeps_a_stream and not self.closing and self.game.state != FINISHED

    def check_watch(self, name: str | None) -> None:
        """May one more spectator (called ``name``, to chat) watch? The room's own limits."""
        self.gallery.check(self.name, name, [p.name for p in self.human_players()])

    def player_for(self, user_id: str, token: str) -> Player:
        for player in self.players:
            if player.user_id and player.user_id == user_id:
                if not hmac.compare_digest(player.token_hash, hash_token(token)):
                    break
                return player
        raise ProtocolError("bad_token", "the room id, user id and token do not match a seat")

    # -- the room task --------------------------------------------------------------

    async def post(self, *event: Any) -> None:
        """Queue an event for the room task (connections and timers alike)."""
        try:
            await self._send.send(event)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            raise ProtocolError("unknown_room", "the room has closed") from None

    async def run(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                if self.turn_seconds > 0:  # 0: no clock (a game alone against computers)
                    self._clock = GameClock(nursery, self.post, self.turn_seconds)
                self._seat_clocks = SeatClocks(nursery, self.post, self.config.seat_wait)
                if self.game.state == WAITING:  # every seat reserved so far (also after a restart)
                    for player in self.human_players():
                        self._seat_clocks.start(player.user_id)
                self._watch_unattended()
                if self.restored:
                    await self._carry_on()
                async for event in self._inbox:
                    await self._handle(event)
                    if self.game.state == FINISHED and not self.done.is_set():
                        self._log_result()
                        self.done.set()
                        self._start_timer(self.config.finished_linger, "linger_over")
                nursery.cancel_scope.cancel()
        finally:
            self._send.close()
            if self.game.state != FINISHED:
                GAME_MACHINE.remove_model(self.game)
            self.closed.set()

    async def _handle(self, event: tuple[Any, ...]) -> None:
        """One event; a refusal meant for a connection that has gone is no room's failure."""
        try:
            await getattr(self, f"_on_{event[0]}")(*event[1:])
        except ProtocolError as err:
            log.warning("room %s: %s event refused: %s", self.room_id, event[0], err.sentence)

    def _log_result(self) -> None:
        result = self.game.result or {}
        winner = result.get("winner")
        who = f", {self.players[winner].name} wins" if isinstance(winner, int) else ""
        log.info("room %s: the game is over (%s%s)", self.room_id, result.get("reason"), who)

    async def _on_linger_over(self, _: trio.CancelScope) -> None:
        """A finished room stays a while for late reconnections, then closes and its
        messages are pruned (in the room task, so no join can read a half-pruned game)."""
        self._close()
        try:
            await self.store.prune(self.room_id)
        except StorageUnavailable as err:  # pruned at the next start instead
            log.error("room %s: its messages were not pruned: %s", self.room_id, err)

    def give_up(self) -> None:
        """Another process runs the room now: every connection closes (its client
        reconnects and is sent there) and the task ends; nothing more is sent from here,
        since every write of the room is refused from now on."""
        self.given_up = True
        for player in self.players:
            if player.connection is not None:
                player.connection.close(GOING_AWAY)
        self.gallery.close(GOING_AWAY)
        self._close()

    def _close(self) -> None:
        """No seat or join from now on; the task ends once the inbox is empty."""
        self.closing = True
        self.on_change()
        self._send.close()
        self.gallery.close(NORMAL_CLOSURE)  # they have the whole story: nothing more to see

    async def _carry_on(self) -> None:
        """After a restart: the timers the game was under run again from the start.

        Every connection went down with the old server, so every player is held as
        dropped, and the others are told so ("not back yet after a server restart"):
        each "back" then follows an "away".
        """
        self._follow_clock()  # afresh: the whole time again, from the restart on
        notices: list[Message] = []
        for player in self.human_players():
            if self._hold_seat(player):
                self._told_away.add(player.seat)
                notices += self._away(player, "is not back yet after a server restart")
        if notices:
            await self._send_out(notices)

    # -- events ---------------------------------------------------------------------

    async def _on_join_game(
        self, conn: Connection, player: Player, last_msg_id: int, hello_id: str
    ) -> None:
        """A /game connection for a seat: replay what it missed, then carry on.

        The JOIN_GAME_REP quotes the JOIN_GAME's msg_id (``reply_to``): a client that
        reconnected twice in quick succession also receives, replayed, the reply to an
        earlier connection's JOIN_GAME, whose ``pending_question`` is stale; only its own
        says what the server had applied when this connection joined.
        """
        if conn.closed.is_set():
            return  # gone before its turn came: its disconnection changes nothing
        if self.closing:
            conn.turn_away(ProtocolError("unknown_room", "the room has closed"), "JOIN_GAME")
            return
        if player.computer or player.seat in self.game.empty_seats:
            # A seat given up (left, or the grace period ran out): what it missed, no more.
            missed = await self.store.messages_after(self.room_id, player.seat, last_msg_id)
            why = "you left this game; a computer has your seat"
            conn.turn_away(ProtocolError("not_playing", why), "JOIN_GAME", missed)
            return
        if self.game.state == FINISHED:
            # As after a restart or the room's close: what it missed, then game_finished.
            missed = await self.store.messages_after(self.room_id, player.seat, last_msg_id)
            over = "the game is over; you have everything it sent you"
            conn.turn_away(ProtocolError("game_finished", over), "JOIN_GAME", missed)
            return
        old = player.connection
        if old is not None and old is not conn:
            old.close(REPLACED)
        player.connection = conn
        if self._unattended is not None:
            self._unattended.cancel()
            self._unattended = None
        conn.session.command("JOIN_GAME")
        for message in await self.store.messages_after(self.room_id, player.seat, last_msg_id):
            self._deliver(player, message)
        first_time = not player.ever_connected
        player.ever_connected = True
        if self._seat_clocks is not None:
            self._seat_clocks.cancel(player.user_id)
        game = self.game
        question = game.questions.get(player.seat)
        if game.state not in (WAITING, FINISHED):
            conn.session.rejoin(
                QUESTION_FORMS[question.kind][0] if question else None,
                paused=game.state == PAUSED,
                you_are_leaving=player.seat in game.leavers,
            )
        data = self._roommates(player.seat)
        data["pending_question"] = None if question is None else question.msg_id
        data["leaving"] = player.seat in game.leavers
        data["reply_to"] = hello_id
        self._stamp_wait(player.seat, data)
        reply = self.game.tell(player.seat, "JOIN_GAME_REP", "Connected to the game.", data)
        held = self._grace.pop(player.seat, None)
        if held is not None:
            held.cancel()
        if player.seat in self._told_away:  # "back" only for a player told "away"
            self._told_away.discard(player.seat)
            await self._send_out([reply, *self._notice(player, "back", "is back.")])
        else:
            await self._send_out([reply])
        log.info("room %s: %s connected", self.room_id, player.name)
        if first_time and self.game.state == WAITING:
            # registered now, so that _begin below can cancel it
            interval = self.config.roommates_interval
            self._tickers.append(self._start_timer(interval, "tick", player, repeat=True))
        everyone_here = all(p.ever_connected for p in self.human_players())
        ready = self.game.state == WAITING and self.seats_left() == 0 and everyone_here
        if ready and not self.draining:
            await self._begin()

    async def _on_watch(
        self, conn: Connection, name: str | None, last_msg_id: int | None, hello_id: str
    ) -> None:
        """A spectator: what the public stream said after ``last_msg_id`` (none when it is
        absent: from now on), then WATCH_REP (the table now; unnumbered, like every
        status: the stream is the room's, shared by every spectator)."""
        if conn.closed.is_set():
            return
        try:
            if self.closing:
                raise ProtocolError("unknown_room", "the room has closed")
            self.check_watch(name)  # again: others may have come since the endpoint asked
        except ProtocolError as err:
            conn.turn_away(err, "WATCH")
            return
        missed = []
        if last_msg_id is not None:
            missed = await self.store.messages_after(self.room_id, PUBLIC, last_msg_id)
        if self.game.state == FINISHED:
            over = "the game is over; you have everything it showed"
            conn.turn_away(ProtocolError("game_finished", over), "WATCH", missed)
            return
        self.gallery.add(conn, name)
        for message in missed:
            conn.deliver(message)
        game = self.game
        table = None
        if game.state != WAITING:
            table = game.public_view("turn")
            table["watching"] = len(self.gallery)
            if self._clock is not None:
                self._clock.stamp(table)
        data = {"room_id": self.room_id, "room_name": self.name,
                "players": self._roommates(0)["players"], "computers": self.computers,
                "seats_left": self.seats_left(), "watching": len(self.gallery),
                "chat": name is not None and self.gallery.rule == CHAT, "table": table,
                "last_msg_id": game.public_sent, "reply_to": hello_id}  # fmt: skip
        conn.deliver(envelope("WATCH_REP", "0", f"You are watching {self.name}.", data))
        log.info("room %s: a spectator came (%d watching)", self.room_id, len(self.gallery))

    async def _on_game_message(self, conn: Connection, message: dict[str, Any]) -> None:
        player = self._player_of(conn)
        if player is None:
            return
        remembered = player.replies.get(message["msg_id"])
        if remembered is not None:
            for reply in remembered:  # a repeated id is answered again, not applied twice
                self._deliver(player, reply)
            return
        payload = message["payload"]
        seat = player.seat
        if payload["action"] == "leave":
            log.info("room %s: %s asks to leave", self.room_id, player.name)
            await self._apply(player, message["msg_id"], lambda: self.game.request_leave(seat),
                              {"action": "leave"})  # fmt: skip
            return
        reply_to, data = payload["reply_to"], payload["data"]
        last_card = payload.get("last_card", False)
        asked = self.game.questions.get(seat)
        if asked is not None and asked.kind == Q_VOTE and asked.msg_id == reply_to:
            log.info("room %s: %s votes %s", self.room_id, player.name, data)
        await self._apply(
            player,
            message["msg_id"],
            lambda: self.game.answer(seat, reply_to, data, last_card),
            {"action": "answer", "data": data, "last_card": last_card},
        )

    async def _on_leave(self, conn: Connection, message: dict[str, Any]) -> None:
        player = self._player_of(conn)
        if player is None:
            return
        seat = player.seat
        ok = await self._apply(player, message["msg_id"], lambda: self.game.leave(seat),
                               {"action": "LEAVE"}, cmd="LEAVE")  # fmt: skip
        if ok:
            if not conn.closed.is_set():
                conn.session.command("LEAVE")
            conn.close(NORMAL_CLOSURE)  # after LEAVE_REP, already queued
            player.connection = None
            log.info("room %s: %s left", self.room_id, player.name)

    async def _on_chat(self, conn: Connection, message: dict[str, Any]) -> None:
        """A chat line: told to every person in the room, each in their own numbered
        stream (stored, so a resuming client gets what it missed), and logged as a move
        of its own, so ``cardgame replay`` shows it where it was said. Refusals (the
        text, the rate) never reached the room's story: unnumbered, like ``not_now``."""
        player = self._player_of(conn)
        speaker: Player | Spectator | None = player
        msg_id = message["msg_id"]
        if player is None:
            speaker = self.gallery.of(conn)
            if speaker is None:
                return
            if msg_id in speaker.said:  # a repeated id is answered again, not said twice
                conn.deliver(speaker.said[msg_id])
                return
        elif (remembered := player.replies.get(msg_id)) is not None:
            for reply in remembered:
                self._deliver(player, reply)
            return
        try:
            if isinstance(speaker, Spectator):
                self.gallery.check_chat(speaker)
            text = check_chat(message["payload"]["data"]["text"])
        except ProtocolError as err:
            conn.refuse(err, "CHAT")
            return
        if speaker.chat_allowance is None:
            speaker.chat_allowance = RateLimiter(self.config.chat_rate, self.config.chat_burst)
        if not speaker.chat_allowance.allow():
            conn.refuse(ProtocolError("rate_limited", "chat: too many lines; slow down"), "CHAT")
            return
        assert speaker.name is not None
        seat = None if player is None else player.seat
        said = {"from": speaker.name, "seat": seat, "spectator": player is None, "text": text}
        line = await self._say(said, player, msg_id)
        if isinstance(speaker, Spectator) and line is not None:
            speaker.remember(msg_id, line)

    async def _say(
        self, said: dict[str, Any], player: Player | None, msg_id: str
    ) -> dict[str, Any] | None:
        """A chat line to everyone in the room, as one move of its story; the line as
        the public stream holds it (None in a room nobody may watch)."""
        line = f"{said['from']}: {said['text']}"
        messages = [self.game.tell(p.seat, "CHAT_REP", line, dict(said)) for p in self._listeners()]
        public = None
        if self.gallery.keeps_a_stream:
            public = self.game.tell_public("CHAT_REP", line, dict(said))
            messages.append(public)
        self.moves_logged += 1
        move = (self.moves_logged, said["seat"], {"action": "chat", **said})
        await self._send_out(messages, player, msg_id, move, "CHAT")
        return None if public is None else public[1]

    def _listeners(self) -> list[Player]:
        """The people a chat line goes to: every person seated, but not a seat that was
        given up (its player left: they are told nothing more)."""
        return [p for p in self.human_players() if p.seat not in self.game.empty_seats]

    async def _on_roommates(self, conn: Connection, message: dict[str, Any]) -> None:
        """A status like the ticks: unnumbered (msg_id "0") and never stored, so that
        asking costs no write and a resuming client is not sent every answer again."""
        player = self._player_of(conn)
        if player is not None:
            conn.deliver(envelope(TICK_CMD, "0", "Your roommates.", self._roommates(player.seat)))

    async def _on_tick(self, player: Player, _: trio.CancelScope) -> None:
        """The roommates while the room fills: a status, not part of the game's story.

        Ticks are unnumbered (msg_id "0") and never stored: a resuming client needs the
        room as it is now, which its JOIN_GAME_REP tells, not every tick it missed.
        """
        if self.game.state == WAITING and player.connection is not None:
            roommates = self._roommates(player.seat)
            player.connection.deliver(envelope(TICK_CMD, "0", TICK_PROMPT, roommates))

    async def _on_time_ran_out(self, awaited: Awaited) -> None:
        """The clock on a wait ran out: the game goes on without the answer.

        Stale (answered, or the game moved on, before this event's turn came in the
        inbox): nothing. A player whose clock ran out on ``idle_turns`` turns in a row is
        treated as having left (Scenario B from step 5: the others vote).
        """
        game = self.game
        now = game.awaited()
        if now is None or not same_wait(now, awaited):
            return
        seat = awaited.seats[0]
        limit = self.config.idle_turns
        idle = False

        def run_out() -> list[Message]:
            nonlocal idle
            out = game.expire()
            over = awaited.kind in TURN_QUESTIONS and 0 < limit <= game.idle[seat]
            if over and game.state != FINISHED and seat in game.humans():
                idle = True
                out += game.request_leave(seat, LEAVE_IDLE) + game.leave(seat)
            return out

        names = ", ".join(self.players[s].name for s in awaited.seats)
        log.info("room %s: time ran out for %s (%s)", self.room_id, names, awaited.kind)
        await self._apply(None, None, run_out, {"action": "time_ran_out", "waiting_for":
                          awaited.kind, "seats": list(awaited.seats)})  # fmt: skip
        if idle or awaited.kind == W_LEAVE:
            self._let_go(self.players[seat])

    def _let_go(self, player: Player) -> None:
        """A player the clock made leave: their connection closes after LEAVE_REP."""
        conn, player.connection = player.connection, None
        if conn is not None:
            conn.close(NORMAL_CLOSURE)
        log.info("room %s: %s left (their time ran out)", self.room_id, player.name)

    async def _on_seat_wait_over(self, user_id: str) -> None:
        """A seat reserved and never connected to /game in time is free again."""
        if self.game.state != WAITING or self.closing:
            return
        player = next((p for p in self.human_players() if p.user_id == user_id), None)
        if player is None or player.ever_connected:
            return
        try:
            await self.store.free_seat(self.room_id, user_id)
        except StorageUnavailable as err:  # kept: tried again after another wait
            log.error("room %s: %s's seat was not freed: %s", self.room_id, player.name, err)
            if self._seat_clocks is not None:
                self._seat_clocks.start(user_id)
            return
        # The computers sit after the humans: they stand up until the room is full again.
        self.players = [p for p in self.players if p is not player and not p.computer]
        self.bots.clear()
        for seat, other in enumerate(self.players):
            other.seat = seat
        # Each seat's numbering moves up with it (the store moved its messages), so a
        # client that moved up goes on from the number it last saw.
        sent = self.game.sent
        sent[player.seat :] = [*sent[player.seat + 1 :], 0]
        await self._record([], None, None, None)  # the numbering, at once
        log.info("room %s: %s did not connect within %g s; the seat is open again",
                 self.room_id, player.name, self.config.seat_wait)  # fmt: skip
        self.on_change()
        self.on_seat_freed(player.name)
        self._watch_unattended()

    async def _on_disconnected(self, conn: Connection) -> None:
        player = self._player_of(conn)
        if player is None:
            self.gallery.remove(conn)
            return
        player.connection = None
        log.info("room %s: %s disconnected", self.room_id, player.name)
        self._watch_unattended()
        if self._hold_seat(player):
            self._told_away.add(player.seat)
            await self._send_out(self._away(player))

    async def _on_unattended(self, scope: trio.CancelScope) -> None:
        """Nobody came back to a room that never filled: it closes, its seats with it."""
        if scope is not self._unattended or self.game.state != WAITING:
            return
        log.info("room %s: nobody there for %g s; closed", self.room_id,
                 self.config.abandoned_after)  # fmt: skip
        self._close()
        try:
            await self.store.abandon_room(self.room_id)
        except StorageUnavailable as err:  # it stays unfinished on file: restored, and
            log.error("room %s: %s", self.room_id, err)  # closed again, at the next start

    async def _on_grace_expired(self, player: Player, scope: trio.CancelScope) -> None:
        """The dropped player did not come back in time: a leave, as in Scenario B."""
        if self._grace.get(player.seat) is not scope:
            return  # the player came back (and maybe dropped again) since this timer began
        del self._grace[player.seat]
        game, seat = self.game, player.seat
        if player.connection is not None or not self._in_game(player):
            return
        log.info("room %s: %s did not come back; their seat is given up", self.room_id, player.name)

        def leave() -> list[Message]:
            asked = [] if seat in game.leavers else game.request_leave(seat, LEAVE_DROPPED)
            return asked + game.leave(seat)

        await self._apply(None, None, leave, {"action": "grace_expired", "seat": seat})

    # -- how events are applied -----------------------------------------------------

    async def _apply(
        self,
        player: Player | None,
        msg_id: str | None,
        event: Any,
        logged: dict[str, Any],
        cmd: str = "GAME_MESSAGE",
    ) -> bool:
        """Apply one event and the computer moves it allows; record; then send."""
        game = self.game
        try:
            messages = event()
        except ProtocolError as err:
            if player is None:
                raise
            data = {"code": err.code, "cmd": cmd}
            refusal = game.tell(player.seat, "ERROR", err.sentence, data)
            await self._send_out([refusal], player, msg_id)
            return False
        messages.extend(drive(game, self.bots))
        for taken in self._follow_seats():
            log.info("room %s: a computer takes %s's seat", self.room_id, taken.name)
        self.moves_logged += 1
        seat = None if player is None else player.seat
        self._follow_clock()
        await self._send_out(messages, player, msg_id, (self.moves_logged, seat, logged), cmd)
        return True

    async def _begin(self) -> None:
        """Every seat is taken and every human connected: the tickers stop, the game begins."""
        for ticker in self._tickers:
            ticker.cancel()
        messages: list[Message] = []
        for player in self.players:
            messages.extend(self.game.join(player.name, computer=player.computer)[1])
        messages.extend(drive(self.game, self.bots))
        self.moves_logged += 1
        self._follow_clock()
        await self._send_out(messages, None, None, (self.moves_logged, None, {"action": "begin"}))
        log.info("room %s: the game begins", self.room_id)

    async def _send_out(
        self,
        messages: list[Message],
        player: Player | None = None,
        msg_id: str | None = None,
        move: Move | None = None,
        cmd: str | None = None,
    ) -> None:
        if move is not None:  # the log keeps what the table was told: replay reads it
            n, seat, logged = move
            told = told_to_all((s, m) for s, m in messages if s != PUBLIC)
            move = (n, seat, {**logged, "told": told})
            if logged.get("action") != "chat":  # a chat line is its own public message
                messages = [*messages, *self.gallery.after_event(self.game, messages, told)]
        self._stamp(messages)
        outgoing = [(seat, message, encode(message)) for seat, message in messages]
        await self._record(outgoing, move, player, cmd)
        if player is not None and msg_id is not None:
            mine = [m for s, m in messages if s == player.seat]
            player.replies[msg_id] = mine
            if len(player.replies) > REMEMBERED_REPLIES:
                del player.replies[next(iter(player.replies))]
        for seat, message, text in outgoing:
            if seat == PUBLIC:
                self.gallery.tell(message, text)
            else:
                self._deliver(self.players[seat], message, text)

    async def _record(
        self, messages: list[Outgoing], move: Move | None, player: Player | None, cmd: str | None
    ) -> None:
        """Write before sending; when storage fails, the room holds until it can write.

        The event is applied in memory and stays applied; its messages are held (not
        sent, since they are not written) and the write is tried again, waiting twice
        as long each time up to ``storage_retry`` seconds, until it succeeds — then
        they go out as if nothing happened. Meanwhile the room handles nothing else
        (events queue in its inbox), so nothing is sent, and nothing is reported, that
        the database does not hold. Every connected person in the room is told once,
        with an unnumbered ERROR ``storage_unavailable`` (``cmd``: what the mover sent).
        """
        wait = min(STORAGE_FIRST_RETRY, self.config.storage_retry)
        held = False
        while True:
            try:
                await self.store.record(self.room_id, self.game, messages, move)
            except StorageUnavailable as err:
                if not held:
                    held = True
                    log.error("room %s: %s; held, retrying", self.room_id, err)
                    self._tell_storage_unavailable(player, cmd)
                await trio.sleep(wait)
                wait = min(wait * 2, self.config.storage_retry)
                continue
            if held:
                log.info("room %s: storage is back; the held messages go out", self.room_id)
            return

    def _tell_storage_unavailable(self, mover: Player | None, cmd: str | None) -> None:
        for player in self.human_players():
            if player.connection is not None:
                what = cmd if player is mover else None
                player.connection.refuse(storage_refusal(held=True), what)

    def _deliver(self, player: Player, message: dict[str, Any], text: str | None = None) -> None:
        """Send a message to a player's connection; ``text`` is its JSON when already
        encoded (for the store), so that it is not encoded again."""
        conn = player.connection
        if conn is None or player.computer:
            return
        conn.session.observe(message, you_are_leaving=player.seat in self.game.leavers)
        conn.deliver_text(encode(message) if text is None else text)

    # -- timers ---------------------------------------------------------------------

    def _start_timer(
        self, seconds: float, event: str, *args: Any, repeat: bool = False
    ) -> trio.CancelScope:
        """A task in the room's nursery that posts ``event`` after ``seconds`` (or every
        ``seconds``), its cancel scope last, so that a handler can tell a stale timer."""
        assert self._nursery is not None
        scope = trio.CancelScope()
        self._nursery.start_soon(self._timer, scope, seconds, (event, *args, scope), repeat)
        return scope

    async def _timer(
        self, scope: trio.CancelScope, seconds: float, event: tuple[Any, ...], repeat: bool
    ) -> None:
        with scope:
            while True:
                await trio.sleep(seconds)
                with suppress(ProtocolError):  # the room closed meanwhile: nothing to tell
                    await self.post(*event)
                if not repeat:
                    return

    def _in_game(self, player: Player) -> bool:
        game = self.game
        return (
            game.state not in (WAITING, FINISHED)
            and not player.computer
            and player.seat not in game.empty_seats
        )

    def _hold_seat(self, player: Player) -> bool:
        """Start the grace period of a player in a game who has no connection."""
        if not self._in_game(player) or player.seat in self._grace:
            return False
        self._grace[player.seat] = self._start_timer(
            self.config.grace_period, "grace_expired", player
        )
        return True

    def _watch_unattended(self) -> None:
        """While the room fills with nobody connected, count down to closing it."""
        if self.game.state != WAITING or self._unattended is not None:
            return
        if any(p.connection is not None for p in self.players):
            return
        self._unattended = self._start_timer(self.config.abandoned_after, "unattended")

    def _follow_clock(self) -> None:
        """After every event: the clock follows what the game now awaits."""
        if self._clock is not None:
            self._clock.follow(self.game.awaited())

    def _stamp_wait(self, seat: int, data: dict[str, Any]) -> None:
        """JOIN_GAME_REP: the clock of the table, and of this seat's own wait if it has one
        (its pending question, or its LEAVE), as it is now: a resuming client's countdown."""
        clock = self._clock
        awaited = None if clock is None else clock.awaited
        if clock is None or awaited is None or seat not in awaited.seats:
            data["seconds"] = data["seconds_left"] = None
        else:
            data["seconds"], data["seconds_left"] = clock.seconds, clock.seconds_left()
        data["clock"] = None
        if clock is not None and self.game.state not in (WAITING, FINISHED):
            clock.stamp(data)

    def _stamp(self, messages: list[Message]) -> None:
        """Every view says what the table waits for and how long is left; every
        question, how long it allows and how long is left (written as sent)."""
        clock = self._clock
        watching = len(self.gallery)
        for _, message in messages:
            data = message["payload"].get("data")
            if not isinstance(data, dict) or "players" not in data or "state" not in data:
                continue  # a notice, a pick, a refusal, a chat line: no view of the table
            data["watching"] = watching
            if clock is None:
                continue
            clock.stamp(data)
            if message["payload"].get("flag") == USER_INPUT_CONTINUE:
                data["seconds"] = clock.seconds
                data["seconds_left"] = clock.seconds_left()

    # -- helpers --------------------------------------------------------------------

    def _player_of(self, conn: Connection) -> Player | None:
        return next((p for p in self.players if p.connection is conn), None)

    def _notice(
        self, player: Player, event: str, what: str, seconds: float | None = None
    ) -> list[Message]:
        """Tell every other human in the game that ``player`` went away or came back."""
        data: dict[str, Any] = {"event": event, "player": player.seat, "name": player.name}
        if seconds is not None:
            data["seconds"] = seconds
        return [
            self.game.tell(other.seat, GAME_MESSAGE_REP, f"{player.name} {what}", dict(data))
            for other in self.human_players()
            if other is not player and self._in_game(other)
        ]

    def _away(self, player: Player, what: str = "lost the connection") -> list[Message]:
        seconds = self.config.grace_period
        why = f"{what}; their seat is held {seconds:g} s."
        return self._notice(player, "away", why, seconds)

    def _roommates(self, seat: int) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "room_name": self.name,
            "you": seat,
            "players": [
                {"name": p.name, "computer": p.computer, "connected": p.connection is not None}
                for p in self.players
            ],
            "computers": self.computers,
            "seats_left": self.seats_left(),
            "watching": len(self.gallery),
        }
