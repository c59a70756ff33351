"""A client session as an explicit state machine.

One :class:`Session` per connection on the server; the terminal client runs the
same machine as its mirror, fed with the same messages. Rule 1: the session knows
which *commands* are legal in which state and how the server's messages move it;
it knows nothing of rooms, cards or sockets. Rule 2: a command illegal in the
current state raises :class:`ProtocolError` naming the state and the command, and
changes nothing.

Client commands are the triggers in capitals (the protocol's ``cmd``); what the
server tells the session is in lower case.
"""

from __future__ import annotations

from typing import Any, Final

from transitions import Machine

from .game import (
    CREATE_A_COMPUTER,
    LEAVE_REP,
    PICK_CARDS,
    PICK_OPTION,
    ProtocolError,
)

LOBBY: Final = "lobby"  # connected, no room yet
CREATING: Final = "creating"  # filling in a new room (Scenario A: shown to others)
WAITING: Final = "waiting"  # seated in a room that is not full yet
PLAYING: Final = "playing"  # in a game, no question for this player
AWAITING_OPTION: Final = "awaiting_option"  # a PICK_OPTION question is pending
AWAITING_CARDS: Final = "awaiting_cards"  # a PICK_CARDS question is pending (incl. the turn)
PAUSED: Final = "paused"  # somebody is leaving (Scenario B)
LEAVING: Final = "leaving"  # this player asked to leave; LEAVE is expected
WATCHING: Final = "watching"  # a spectator: no seat, no token, the public table only
CLOSED: Final = "closed"

SESSION_STATES: Final = [
    LOBBY,
    CREATING,
    WAITING,
    PLAYING,
    AWAITING_OPTION,
    AWAITING_CARDS,
    PAUSED,
    LEAVING,
    WATCHING,
    CLOSED,
]
#: Events told to one player that do not move the game: the cards they picked, and a
#: player who lost the connection or came back.
ASIDES: Final = frozenset({"picked", "away", "back"})
IN_GAME: Final = [PLAYING, AWAITING_OPTION, AWAITING_CARDS, PAUSED]
ANSWERING: Final = [AWAITING_OPTION, AWAITING_CARDS]
OPEN: Final = [s for s in SESSION_STATES if s != CLOSED]

# dest None: the command is answered and the state stays as it is.
SESSION_TRANSITIONS: Final[list[tuple[str, str | list[str], str | None]]] = [
    # trigger             source                          dest
    # -- commands from the client (the protocol's cmd) --
    ("GET_ROOMS",         [LOBBY, CREATING, WAITING],     None),
    ("CREATING_A_ROOM",   LOBBY,                          CREATING),
    ("CANCEL_CREATE",     CREATING,                       LOBBY),
    ("CREATE_A_ROOM",     [LOBBY, CREATING],              WAITING),
    ("JOIN_ROOM",         LOBBY,                          WAITING),
    ("JOIN_GAME",         LOBBY,                          WAITING),  # the /game hello
    ("WATCH",             LOBBY,                          WATCHING),  # a spectator's hello
    ("GET_ROOMATES",      [WAITING] + IN_GAME + [LEAVING], None),
    ("GAME_MESSAGE",      [PLAYING] + ANSWERING + [PAUSED], None),  # the game decides
    ("LEAVE",             LEAVING,                        CLOSED),
    ("CHAT",              [WAITING] + IN_GAME + [LEAVING, WATCHING], None),  # to the room
    # -- what the server tells the session --
    ("game_began",        WAITING,                        PLAYING),
    ("told",              [WAITING] + IN_GAME,            PLAYING),
    ("asked_option",      [WAITING] + IN_GAME,            AWAITING_OPTION),
    ("asked_cards",       [WAITING] + IN_GAME,            AWAITING_CARDS),
    ("paused",            IN_GAME,                        PAUSED),
    ("leave_accepted",    IN_GAME,                        LEAVING),
    ("game_over",         [WAITING] + IN_GAME + [LEAVING, WATCHING], CLOSED),
    ("disconnected",      OPEN,                           CLOSED),
]  # fmt: skip

COMMANDS: Final = frozenset(t for t, _, _ in SESSION_TRANSITIONS if t.isupper())

#: Out-of-state commands refused with their own code rather than ``not_now``: where
#: the refusal names the step that was skipped (LEAVE in a game before asking to leave).
OUT_OF_STATE: Final[dict[tuple[str, str], tuple[str, str]]] = {
    ("LEAVE", state): (
        "not_leaving",
        f"LEAVE is not possible while the session is {state.replace('_', ' ')}: "
        "ask to leave with a game message first",
    )
    for state in IN_GAME
} | {
    (cmd, WATCHING): (
        "spectator",
        f"{cmd} is not possible while watching: a spectator has no seat and cannot play",
    )
    for cmd in ("JOIN_GAME", "GAME_MESSAGE", "LEAVE", "GET_ROOMATES", "WATCH")
}

LEGAL_COMMANDS: Final[dict[str, frozenset[str]]] = {
    state: frozenset(
        t
        for t, src, _ in SESSION_TRANSITIONS
        if t in COMMANDS and (state == src or (isinstance(src, list) and state in src))
    )
    for state in SESSION_STATES
}


def _build_machine() -> Machine:
    machine = Machine(model=None, states=SESSION_STATES, initial=LOBBY, auto_transitions=False)
    for trigger, source, dest in SESSION_TRANSITIONS:
        machine.add_transition(trigger, source, dest)
    return machine


SESSION_MACHINE: Final = _build_machine()


class _Cursor:
    """The one model the session machine drives; each trigger lends it a session's state.

    ``add_model`` binds a method per trigger and state onto every model it gets (~12 KB
    a session), and a server holds one session per connection: so sessions are plain
    state, and the machine runs each of their transitions on this model. Triggers are
    synchronous and never nest, so lending the cursor is safe.
    """

    state: str


_CURSOR: Final = _Cursor()
SESSION_MACHINE.add_model(_CURSOR)


class Session:
    """One connection's place in the protocol."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = LOBBY

    def trigger(self, trigger: str) -> None:
        """Run one transition of the session machine from this session's state."""
        _CURSOR.state = self.state
        try:
            _CURSOR.trigger(trigger)  # type: ignore[attr-defined]
        finally:
            self.state = _CURSOR.state

    def command(self, cmd: str) -> None:
        """Take a client command that the server has carried out (checked first)."""
        self.check(cmd)
        self.trigger(cmd)

    def check(self, cmd: str) -> None:
        """Refuse a command that is not legal in this state; nothing changes either way."""
        if cmd not in COMMANDS:
            raise ProtocolError("unknown_cmd", f"{cmd!r} is not a command of this protocol")
        if cmd not in LEGAL_COMMANDS[self.state]:
            if (cmd, self.state) in OUT_OF_STATE:
                raise ProtocolError(*OUT_OF_STATE[cmd, self.state])
            raise ProtocolError(
                "not_now",
                f"{cmd} is not possible while the session is {self.state.replace('_', ' ')}",
            )

    def observe(self, message: dict[str, Any], you_are_leaving: bool = False) -> None:
        """Follow a server message to this player (the client's mirror does the same)."""
        cmd = message.get("cmd")
        payload = message.get("payload") or {}
        data = payload.get("data")
        event = data.get("event") if isinstance(data, dict) else None
        if cmd == LEAVE_REP or self.state == CLOSED:
            return
        if event == "game_over":
            self._move("game_over")
        elif event == "paused":
            self._move("leave_accepted" if you_are_leaving else "paused")
        elif payload.get("next_cmd") == PICK_OPTION or cmd == CREATE_A_COMPUTER:
            self._move("asked_option")
        elif payload.get("next_cmd") == PICK_CARDS:
            self._move("asked_cards")
        elif event is not None and event not in ASIDES:
            self._move("game_began" if self.state == WAITING else "told")

    def rejoin(self, pending: str | None, paused: bool, you_are_leaving: bool) -> None:
        """A resuming connection joins its game where it is, not where it began.

        ``pending`` is the ``next_cmd`` of the question waiting for this player, if any:
        that question was sent on an earlier connection, so this session never saw it.
        """
        if paused:
            self._move("told")
            self._move("leave_accepted" if you_are_leaving else "paused")
        elif pending == PICK_OPTION:
            self._move("asked_option")
        elif pending == PICK_CARDS:
            self._move("asked_cards")
        else:
            self._move("told")

    def close(self) -> None:
        if self.state != CLOSED:
            self.trigger("disconnected")

    def _move(self, trigger: str) -> None:
        # Most messages leave the session where it is: no need to run the machine then.
        if self.state in _SOURCES[trigger] and self.state != _DESTINATIONS[trigger]:
            self.trigger(trigger)


_SOURCES: Final[dict[str, frozenset[str]]] = {
    trigger: frozenset([source] if isinstance(source, str) else source)
    for trigger, source, _ in SESSION_TRANSITIONS
}
#: What the server tells a session: each of these triggers has one destination.
_DESTINATIONS: Final[dict[str, str | None]] = {
    trigger: dest for trigger, _, dest in SESSION_TRANSITIONS if not trigger.isupper()
}
