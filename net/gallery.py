"""A room's spectators: who watches, what they may do, and the public stream they share.

Rule 1: a spectator is sent the room's public stream only — the public table after
each event (``fsm/messages.spectator_view``: no hand, no question) and the chat — never
a message meant for a seat. Rule 2: only the room task calls into a gallery (one task
touches a room), so nothing here waits.

The public stream is numbered and stored like a seat's (its "seat" is ``PUBLIC``), so
that every spectator of a room is sent the same numbers and one that comes back with
the last it saw misses nothing, also after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from cardgame.fsm.game import (
    FINISHED,
    GAME_MESSAGE_REP,
    PUBLIC,
    WAITING,
    Game,
    Message,
    ProtocolError,
)
from cardgame.fsm.names import looks_alike

from .config import ServerConfig
from .connection import Connection, RateLimiter

#: Who may watch a room (its creator chose): watch and chat, watch only, nobody.
CHAT: Final = "chat"
WATCH: Final = "watch"
NOBODY: Final = "none"

#: The events a public view may carry (a leaver's own ``left`` is not one of them).
PUBLIC_EVENTS: Final = frozenset(
    {"game_begin", "turn", "played", "paused", "vote", "resumed", "game_over"}
)
#: Chat lines remembered per spectator, so a repeated client msg_id is not said twice.
REMEMBERED_LINES: Final = 16


@dataclass
class Spectator:
    """A connection watching the room: no seat, no token; a name only to chat."""

    connection: Connection
    name: str | None = None
    chat_allowance: RateLimiter | None = None  # made on the first line (trio's clock)
    said: dict[str, Message] = field(default_factory=dict)  # client msg_id → its line

    def remember(self, msg_id: str, line: Message) -> None:
        self.said[msg_id] = line
        if len(self.said) > REMEMBERED_LINES:
            del self.said[next(iter(self.said))]


class Gallery:
    """The spectators of one room and its rule (``chat``, ``watch`` or ``none``)."""

    def __init__(self, rule: str, config: ServerConfig) -> None:
        self.rule = rule
        self.config = config
        self.spectators: list[Spectator] = []

    def __len__(self) -> int:
        return len(self.spectators)

    @property
    def keeps_a_stream(self) -> bool:
        """A room nobody may watch keeps no public stream (it would be read by nobody)."""
        return self.rule != NOBODY

    def check(self, room_name: str, name: str | None, players: list[str]) -> None:
        """May one more spectator (called ``name``, to chat) watch? Refused otherwise."""
        if self.rule == NOBODY:
            raise ProtocolError("not_watchable", f"the room {room_name!r} may not be watched")
        limit = self.config.max_spectators_per_room
        if len(self.spectators) >= limit:
            raise ProtocolError(
                "too_many_spectators", f"{limit} people watch {room_name!r} already"
            )
        if name is None:
            return
        taken = players + [s.name for s in self.spectators if s.name is not None]
        if alike := next((t for t in taken if looks_alike(t, name)), None):
            raise ProtocolError(
                "name_taken", f"somebody in {room_name!r} is already called {alike}"
            )

    def check_chat(self, spectator: Spectator) -> str:
        """The name a spectator chats under, or why it may not chat."""
        if self.rule != CHAT:
            raise ProtocolError("spectator", "this room takes no chat from spectators")
        if spectator.name is None:
            raise ProtocolError("bad_name", "watch with a user_name to chat")
        return spectator.name

    def add(self, conn: Connection, name: str | None) -> Spectator:
        spectator = Spectator(conn, name)
        self.spectators.append(spectator)
        conn.session.command("WATCH")
        return spectator

    def of(self, conn: Connection) -> Spectator | None:
        return next((s for s in self.spectators if s.connection is conn), None)

    def remove(self, conn: Connection) -> None:
        self.spectators = [s for s in self.spectators if s.connection is not conn]

    def close(self, code: int) -> None:
        for spectator in self.spectators:
            spectator.connection.close(code)

    def tell(self, message: dict[str, Any], text: str) -> None:
        """A message of the public stream, to every spectator (encoded once)."""
        for spectator in self.spectators:
            spectator.connection.session.observe(message)
            spectator.connection.deliver_text(text)

    def after_event(self, game: Game, messages: list[Message], told: list[str]) -> list[Message]:
        """The public stream's message for one event: the table after it, in the words
        the whole table was told. Nothing before the deal (chat aside)."""
        if not self.keeps_a_stream or game.state == WAITING:
            return []
        event = "game_over" if game.state == FINISHED else "turn"
        if game.state != FINISHED:
            for seat, message in messages:
                data = message["payload"]["data"]
                if seat != PUBLIC and isinstance(data, dict) and data.get("event") in PUBLIC_EVENTS:
                    event = data["event"]
        return [game.tell_public(GAME_MESSAGE_REP, " ".join(told), game.public_view(event))]
