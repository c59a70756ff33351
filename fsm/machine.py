"""What may happen next in a game of Discard: its states, its one table, its machine.

Rule 1: this module knows states and events, nothing else: no cards, no seats, no
messages. ``game.py`` says which event happened, ``rules.py`` what a play does.

Rule 2: an event is legal in a state only where the table has a row for it, and a
call of the game (``play``, ``draw``, …) only where the table has a row for one of its
outcomes. A refused call raises :class:`ProtocolError` before anything changes.

The table is the whole machine, and the diagrams (``cardgame diagram``) are drawn from
it. Its events are named by their outcome, so each leads from a state to one state,
without conditions: ``play`` learns from the rules what happened (the turn moves on, an
``?`` asks for a request, a hand is empty) and takes that event's row. A row that
leaves the state as it is (94% of a game's moves: turn after turn) is read from the
table and needs no trigger (:func:`take`); every change of state is the ``transitions``
machine's, one ``Machine`` for every game.
"""

from __future__ import annotations

from typing import Final, Protocol

from transitions import Machine, MachineError

# -- states -------------------------------------------------------------------------

WAITING: Final = "waiting"  # for players to fill the room
CHOOSING_FIRST: Final = "choosing_first"  # the creator picks who plays first
TURN: Final = "turn"  # the current player plays or draws
AWAITING_OPTION: Final = "awaiting_option"  # the current player names a shape or colour
AWAITING_CARDS: Final = "awaiting_cards"  # the current player picks normal cards to drop
PAUSED: Final = "paused"  # a leave in progress (Scenario B steps 1-6)
VOTING: Final = "voting"  # the remaining humans vote on computer replacements (step 7)
FINISHED: Final = "finished"

GAME_STATES: Final = [
    WAITING,
    CHOOSING_FIRST,
    TURN,
    AWAITING_OPTION,
    AWAITING_CARDS,
    PAUSED,
    VOTING,
    FINISHED,
]
IN_PLAY: Final = [CHOOSING_FIRST, TURN, AWAITING_OPTION, AWAITING_CARDS]

# -- events (machine triggers; past tense: they name what happened) ---------------

GAME_TRANSITIONS: Final[list[tuple[str, str | list[str], str | None]]] = [
    # event                     source              dest
    ("player_joined",           WAITING,            WAITING),  # seats still empty
    ("room_filled",             WAITING,            CHOOSING_FIRST),  # the last seat: deal
    ("first_player_chosen",     CHOOSING_FIRST,     TURN),
    ("cards_played",            TURN,               TURN),  # the turn moves on (or plays again)
    ("request_owed",            TURN,               AWAITING_OPTION),  # an ? alone
    ("drop_owed",               TURN,               AWAITING_CARDS),
    ("won_by_play",             TURN,               FINISHED),  # a hand is empty
    ("card_drawn",              TURN,               TURN),  # a card, or the penalty
    ("request_named",           AWAITING_OPTION,    TURN),
    ("cards_dropped",           AWAITING_CARDS,     TURN),
    ("won_by_drop",             AWAITING_CARDS,     FINISHED),
    ("leave_requested",         IN_PLAY + [PAUSED, VOTING], PAUSED),
    ("player_left",             PAUSED,             PAUSED),  # another leaver still to confirm
    ("vote_called",             PAUSED,             VOTING),  # the last leaver has left
    ("no_human_left",           PAUSED,             FINISHED),
    ("vote_cast",               VOTING,             VOTING),  # ballots still to come
    ("resumed_choosing_first",  VOTING,             CHOOSING_FIRST),  # all yes: back where
    ("resumed_turn",            VOTING,             TURN),  # the leave paused the game
    ("resumed_awaiting_option", VOTING,             AWAITING_OPTION),
    ("resumed_awaiting_cards",  VOTING,             AWAITING_CARDS),
    ("vote_failed",             VOTING,             FINISHED),  # one no
    # The clock on what the game awaits ran out (the room's clock; see Game.awaited). It
    # changes nothing itself: the game makes the move for the absent player, a row above
    # (a card drawn or the penalty taken, the computer player's request or drop, the first
    # player at random, votes not cast counted yes, a LEAVE not sent taken as sent).
    ("time_ran_out",            IN_PLAY + [PAUSED, VOTING], None),
]  # fmt: skip

#: Each of the game's calls (named for the error sentences as the events they were before
#: issue 14) and the events it may end in, whichever the rules choose.
OUTCOMES: Final[dict[str, frozenset[str]]] = {
    "player_joined": frozenset({"player_joined", "room_filled"}),
    "first_player_chosen": frozenset({"first_player_chosen"}),
    "cards_played": frozenset({"cards_played", "request_owed", "drop_owed", "won_by_play"}),
    "card_drawn": frozenset({"card_drawn"}),
    "request_named": frozenset({"request_named"}),
    "cards_dropped": frozenset({"cards_dropped", "won_by_drop"}),
    "leave_requested": frozenset({"leave_requested"}),
    "player_left": frozenset({"player_left", "vote_called", "no_human_left"}),
    "vote_cast": frozenset({"vote_cast", "resumed_choosing_first", "resumed_turn",
                            "resumed_awaiting_option", "resumed_awaiting_cards", "vote_failed"}),
    "time_ran_out": frozenset({"time_ran_out"}),
}  # fmt: skip

#: Where each event leads from each state it may happen in: (event, state) -> dest (None:
#: the state stays). One row per pair: outcome-named events never branch.
ROWS: Final[dict[tuple[str, str], str | None]] = {}
for _event, _source, _dest in GAME_TRANSITIONS:
    for _state in [_source] if isinstance(_source, str) else _source:
        assert (_event, _state) not in ROWS, f"{_event} branches from {_state}"
        ROWS[_event, _state] = _dest
del _event, _source, _dest, _state

#: The events each state accepts, derived from the table.
LEGAL_EVENTS: Final[dict[str, frozenset[str]]] = {
    state: frozenset(event for event, source in ROWS if source == state) for state in GAME_STATES
}
#: The calls each state accepts: those with an outcome the table has a row for.
LEGAL_CALLS: Final[dict[str, frozenset[str]]] = {
    state: frozenset(call for call, events in OUTCOMES.items() if events & LEGAL_EVENTS[state])
    for state in GAME_STATES
}
#: The event that resumes a game paused in each state (a vote accepted).
RESUMED: Final = {
    CHOOSING_FIRST: "resumed_choosing_first",
    TURN: "resumed_turn",
    AWAITING_OPTION: "resumed_awaiting_option",
    AWAITING_CARDS: "resumed_awaiting_cards",
}


class ProtocolError(Exception):
    """A refused event: a stable machine-readable code and a sentence for people."""

    def __init__(self, code: str, sentence: str) -> None:
        super().__init__(sentence)
        self.code = code
        self.sentence = sentence


def too_late() -> ProtocolError:
    """An answer to a question whose clock ran out: the game went on without it."""
    return ProtocolError(
        "too_late", "time ran out for that question; the game went on without your answer"
    )


def require(call: str, state: str) -> None:
    """Refuse ``call`` in ``state`` unless the table has a row for one of its outcomes."""
    if call not in LEGAL_CALLS[state]:
        raise ProtocolError("not_now", f"{call.replace('_', ' ')} is not possible while the "
                            f"game is {state.replace('_', ' ')}")  # fmt: skip


class Model(Protocol):
    """A game as the machine sees it: its state, and the trigger ``add_model`` gave it."""

    state: str

    def trigger(self, event: str) -> bool: ...


def take(model: Model, event: str) -> None:
    """Take ``event``'s row from the model's state: the machine makes the change; a row
    that leaves the state as it is needs no trigger. No row: a bug in the rules, not a
    player's mistake (the call was checked by :func:`require`)."""
    state = model.state
    dest = ROWS.get((event, state), _NO_ROW)
    if dest is _NO_ROW:
        raise MachineError(f"the game table has no {event} from {state}")
    if dest is not None and dest != state:
        model.trigger(event)


def _build_machine() -> Machine:
    machine = Machine(model=None, states=GAME_STATES, initial=WAITING, auto_transitions=False)
    for event, source, dest in GAME_TRANSITIONS:
        machine.add_transition(event, source, dest)
    return machine


#: The one machine of every game: games are its models (``add_model``).
GAME_MACHINE: Final = _build_machine()
_NO_ROW: Final = object()
