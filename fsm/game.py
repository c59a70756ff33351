"""One game of Discard as an explicit state machine.

Rule 1: this module decides *what may happen next*; ``rules.py`` decides *what a
play does*. It knows players only as seat numbers and speaks to them only by
returning messages: no sockets, no clock, no files. Randomness comes from the
seeded ``random.Random`` on the table, so the same seed and the same events give
the same game.

Rule 2: an event that is not legal in the current state, or that breaks a rule
of the protocol (out of turn, a card not held, an answer to a question nobody
asked), raises :class:`ProtocolError` and changes nothing.

Every event returns the messages it produced, ``(seat, envelope)`` pairs, already
numbered per seat (``msg_id`` "1", "2", … for each seat). Each player's messages
hold only that player's hand.

The table below is the whole machine. Its events are named by their outcome, so
each leads from a state to one state, without conditions: a call such as ``play``
learns from the rules what happened (the turn moves on, an ``?`` asks for a
request, a hand is empty) and takes that event's row. A call is legal in a state
where the table has a row for one of its outcomes (``OUTCOMES``). A row that leaves
the state as it is (94% of a game's moves: turn after turn) is read from the table
and needs no trigger; every change of state is the machine's.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from transitions import Machine, MachineError

from . import rules
from .cards import Card, CardError, new_deck, parse_card
from .rules import REQUEST_OPTIONS, Seat, Table

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

# -- the protocol's words ----------------------------------------------------------

GAME_MESSAGE_REP: Final = "GAME_MESSAGE_REP"
CREATE_A_COMPUTER: Final = "CREATE_A_COMPUTER"
LEAVE_REP: Final = "LEAVE_REP"
PICK_OPTION: Final = "PICK_OPTION"
PICK_CARDS: Final = "PICK_CARDS"
PICK_ONE: Final = "PICK_ONE"
PICK_TWO: Final = "PICK_TWO"
USER_INPUT_CONTINUE: Final = "USER_INPUT_CONTINUE"
GAME_CONTINUE: Final = "GAME_CONTINUE"
INT: Final = "INT"
STR: Final = "STR"
LIST: Final = "LIST"

# Question kinds: what the game is waiting for from one seat.
Q_FIRST_PLAYER: Final = "first_player"  # PICK_OPTION, INT: a seat number
Q_TURN: Final = "turn"  # PICK_CARDS, LIST: one or two cards to play, [] to draw
Q_REQUEST: Final = "request"  # PICK_OPTION, STR: a colour or a shape
Q_DROP: Final = "drop"  # PICK_CARDS, LIST: normal cards to drop
Q_VOTE: Final = "vote"  # PICK_OPTION, STR: "yes" or "no" to a computer player

QUESTION_FORMS: Final = {
    Q_FIRST_PLAYER: (PICK_OPTION, INT),
    Q_TURN: (PICK_CARDS, LIST),
    Q_REQUEST: (PICK_OPTION, STR),
    Q_DROP: (PICK_CARDS, LIST),
    Q_VOTE: (PICK_OPTION, STR),
}

#: What the game awaits when it is paused: a leaver's LEAVE (Scenario B step 4).
W_LEAVE: Final = "leave"
#: The clock's event, and what an expired wait leaves in ``Game.expired``.
TIME_RAN_OUT: Final = "time_ran_out"
#: The questions a player answers on their own turn: the ones ``Game.idle`` counts.
TURN_QUESTIONS: Final = frozenset({Q_TURN, Q_REQUEST, Q_DROP})

Message = tuple[int, dict[str, Any]]

# The pick messages' next_cmd: by the penalty's symbol, or by how many cards were picked.
_PENALTY_CMD: Final = {"1": PICK_ONE, "2": PICK_TWO}
_PICK_CMD: Final = {0: PICK_ONE, 1: PICK_ONE, 2: PICK_TWO}


# Why a player leaves (Game.request_leave): the words the others are told differ.
LEAVE_ASKED: Final = "asked"
LEAVE_DROPPED: Final = "dropped"
LEAVE_IDLE: Final = "idle"


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


@dataclass
class Question:
    """What the game waits for from one seat (the ``USER_INPUT_CONTINUE`` flag)."""

    kind: str
    seat: int
    msg_id: str = ""
    options: list[Any] = field(default_factory=list)
    count: int = 0  # cards to drop


@dataclass(frozen=True)
class Awaited:
    """One wait that depends on people: what for, from whom, and which wait it is.

    ``serial`` changes whenever a new wait begins and only then (one vote is one wait
    however many ballots come in), so a clock started for a wait can tell it is stale.
    """

    kind: str  # a question kind, or W_LEAVE
    seats: tuple[int, ...]
    serial: int


@dataclass
class Resume:
    """Where the game loop goes on after the pending question (``GAME_CONTINUE``)."""

    state: str
    announced: bool = False  # the play's last-card announcement, checked at its end
    steps: int = 1  # how far the turn moves on once the play is complete
    question: Question | None = None  # the question a leave discarded, asked anew on resume


def _build_machine() -> Machine:
    machine = Machine(model=None, states=GAME_STATES, initial=WAITING, auto_transitions=False)
    for event, source, dest in GAME_TRANSITIONS:
        machine.add_transition(event, source, dest)
    return machine


GAME_MACHINE: Final = _build_machine()
MISSING: Final = object()


class Game:
    """One room's game. Create it, ``join`` players, then feed it their events."""

    state: str
    _expiring = False  # the move being made is the clock's (the words say so)

    def __init__(self, seats: int, seed: int | None = None, room: str = "") -> None:
        if not rules.MIN_PLAYERS <= seats <= rules.MAX_PLAYERS:
            raise ProtocolError(
                "bad_size", f"a room seats {rules.MIN_PLAYERS} to {rules.MAX_PLAYERS} players"
            )
        self.room = room
        self.size = seats
        self.table = Table(seats=[], market=new_deck(), rng=random.Random(seed))
        self.questions: dict[int, Question] = {}
        self.resume: Resume | None = None
        self.sent = [0] * seats  # messages numbered so far, per seat (seats may be told
        # things before they are joined: the room numbers its notices through the game)
        self.leavers: list[int] = []  # asked to leave, LEAVE not yet received
        self.empty_seats: list[int] = []  # left, awaiting the vote on a computer
        self.votes: dict[int, bool] = {}
        self.result: dict[str, Any] | None = None
        self.moves = 0
        self.idle = [0] * seats  # per seat: turns in a row whose clock ran out
        self.expired: dict[int, str] = {}  # per seat: the question whose time ran out last
        self.waits = 0  # numbers the waits (Awaited.serial)
        GAME_MACHINE.add_model(self)

    # -- reading the game -----------------------------------------------------------

    @property
    def seats(self) -> list[Seat]:
        return self.table.seats

    def humans(self) -> list[int]:
        return [i for i, s in enumerate(self.seats) if not s.computer and i not in self.gone]

    @property
    def gone(self) -> list[int]:
        return self.leavers + self.empty_seats

    def waiting_on(self) -> list[int]:
        """The seats whose answer the game needs before anything else can happen."""
        return list(self.questions)

    def awaited(self) -> Awaited | None:
        """What the game waits for now, which a clock may run out on; None: nothing.

        While paused, the first leaver's LEAVE; otherwise the pending questions (all of
        one kind: several only in a vote).
        """
        if self.state == PAUSED:
            return Awaited(W_LEAVE, (self.leavers[0],), self.waits)
        if not self.questions:
            return None
        kind = next(iter(self.questions.values())).kind
        return Awaited(kind, tuple(self.questions), self.waits)

    def view(self, seat: int, event: str) -> dict[str, Any]:
        """What ``seat`` may know, told because of ``event``: its own hand and the public table."""
        public = self._public()
        public["event"] = event
        return self._view(seat, public)

    def _public(self) -> dict[str, Any]:
        table = self.table
        return {
            "top_card": table.top_card.text if table.top_card else None,
            "turn": table.current,
            "players": [
                {"name": s.name, "cards": len(s.hand), "computer": s.computer} for s in table.seats
            ],
            "penalty": table.penalty,
            "request": table.request,
            "market": len(table.market),
            "state": self.state,
        }

    def _view(self, seat: int, public: dict[str, Any]) -> dict[str, Any]:
        view = dict(public)
        view["you"] = seat
        view["hand"] = [c.text for c in self.seats[seat].hand]
        return view

    # -- events ---------------------------------------------------------------------

    def join(self, name: str, computer: bool = False) -> tuple[int, list[Message]]:
        """Seat a player; the last seat deals and asks the creator who plays first."""
        self._require("player_joined")
        seat = len(self.seats)
        self.seats.append(Seat(name=name, computer=computer))
        out: list[Message] = []
        if len(self.seats) < self.size:
            self._move("player_joined")
            return seat, out
        rules.deal(self.table)
        self._move("room_filled")
        self._ask(Q_FIRST_PLAYER, 0, options=list(range(self.size)))
        creator = self.seats[0].name
        self._broadcast(out, "game_begin", f"The game begins. {creator} chooses who plays first.")
        return seat, out

    def answer(self, seat: int, reply_to: str, data: Any, last_card: bool = False) -> list[Message]:
        """A player's answer to the question quoting ``reply_to`` (the protocol's entry)."""
        question = self.questions.get(seat)
        if self.expired.get(seat) == str(reply_to) and (
            question is None or question.msg_id != str(reply_to)
        ):
            raise too_late()
        if question is None:
            raise ProtocolError("no_question", "there is no question waiting for your answer")
        if str(reply_to) != question.msg_id:
            raise ProtocolError(
                "stale_answer",
                f"this answers message {reply_to!r}, but the question waiting is "
                f"{question.msg_id!r}",
            )
        if question.kind == Q_TURN:
            played = self._cards(data)
            out = self.play(seat, played, last_card) if played else self.draw(seat)
        elif question.kind == Q_FIRST_PLAYER:
            out = self.choose_first(seat, data)
        elif question.kind == Q_REQUEST:
            out = self.name_request(seat, data)
        elif question.kind == Q_DROP:
            out = self.drop(seat, self._cards(data))
        else:
            out = self.vote(seat, data)
        self.idle[seat] = 0
        return out

    def expire(self) -> list[Message]:
        """The clock on ``awaited()`` ran out: the game goes on without the answer.

        On a turn a card is drawn for the player (or the penalty taken); a request or a
        drop is the computer player's choice; the first player is drawn at random from
        the table's generator (so a replay is exact); votes not cast count yes; a leaver
        who did not send LEAVE has left all the same. Only the clock in ``net/`` knows
        when: here it is one more event, in the table as ``time_ran_out``.
        """
        self._require(TIME_RAN_OUT)
        self._expiring = True
        try:
            return self._run_out()
        finally:
            self._expiring = False

    def _run_out(self) -> list[Message]:
        if self.state == PAUSED:
            seat = self.leavers[0]
            out = self.leave(seat)
            self.expired[seat] = W_LEAVE
            return out
        if self.state == VOTING:
            for seat, question in self.questions.items():
                self.expired[seat] = question.msg_id
                self.votes[seat] = True
            self.questions.clear()
            return self._computers_take_over([])
        question = next(iter(self.questions.values()))
        seat, hand = question.seat, self.seats[question.seat].hand
        if question.kind == Q_FIRST_PLAYER:
            out = self.choose_first(seat, self.table.rng.randrange(self.size))
        elif question.kind == Q_TURN:
            out = self.draw(seat)
        elif question.kind == Q_REQUEST:
            out = self.name_request(seat, rules.likely_request(hand, question.options,
                                                                self.table.rng))  # fmt: skip
        else:
            out = self.drop(seat, rules.likely_drop(hand, question.count))
        if question.kind in TURN_QUESTIONS:
            self.idle[seat] += 1
        self.expired[seat] = question.msg_id
        return out

    def choose_first(self, seat: int, first: Any) -> list[Message]:
        """The creator names the first player."""
        self._require("first_player_chosen")
        self._check_asked(seat, Q_FIRST_PLAYER)
        if type(first) is not int or not 0 <= first < self.size:
            raise ProtocolError(
                "bad_answer", f"answer with a seat number from 0 to {self.size - 1}"
            )
        self.table.current = first
        self.questions.clear()
        self._move("first_player_chosen")
        prompt = f"{self.seats[first].name} plays first."
        if self._expiring:
            prompt = (f"{self.seats[seat].name} did not choose in time; {self.seats[first].name}"
                      " plays first, chosen at random.")  # fmt: skip
        return self._start_turn(prompt, GAME_CONTINUE)

    def play(self, seat: int, played: Sequence[Card], last_card: bool = False) -> list[Message]:
        """One card, or a combination of two, with or without the last-card announcement."""
        self._require("cards_played")
        self._check_turn(seat)
        if not 1 <= len(played) <= 2:
            raise ProtocolError("bad_play", "play one card or a combination of two")
        hand = self.seats[seat].hand
        if not rules.holds(hand, played):
            raise ProtocolError("not_in_hand", "you do not hold the card(s) you played")
        self.moves += 1
        out: list[Message] = []
        name = self.seats[seat].name
        shown = " ".join(c.text for c in played)
        if not rules.is_valid_play(self.table, played):
            table = self.table
            assert table.top_card is not None
            why = rules.why_wrong(played, table.top_card, table.request, table.penalty,
                                  table.penalty_symbol)  # fmt: skip
            return self._punish_wrong_card(seat, why, out)
        outcome = rules.play(self.table, seat, played)
        self.questions.clear()
        prompt = f"{name} played {shown}."
        for other, picked in outcome.picks:
            self._tell_picked(out, other, picked, "everyone picks", _PICK_CMD[len(picked)])
        if outcome.picks:
            prompt += f" Everyone else picks {len(outcome.picks[0][1])}."
        if outcome.taken is not None:
            victim, taken = outcome.taken
            prompt += f" {name} took {taken.text} from {self.seats[victim].name}."
        resume = Resume(TURN, announced=last_card, steps=outcome.steps)
        if outcome.kind == rules.EVERYONE_SKIPPED:
            prompt += f" Everyone else is skipped: {name} plays again."
        elif outcome.steps == 2:
            skipped = self.seats[rules.next_seat(self.table, seat)].name
            again = f": {name} plays again" if len(self.seats) == 2 else ""
            prompt += f" {skipped} is skipped{again}."
        if not hand or self._someone_emptied():
            return self._finish(out, prompt, "won_by_play")
        if outcome.ask:
            self.resume = resume
            self._ask(Q_REQUEST, seat, options=list(REQUEST_OPTIONS))
            self._move("request_owed")
            self._broadcast(out, "played", prompt + f" {name} names a shape or a colour.")
            return out
        owed = rules.drops_owed(hand, outcome.drop)
        if owed:
            self.resume = resume
            normals = list(dict.fromkeys(c.text for c in rules.normal_cards(hand)))
            self._ask(Q_DROP, seat, options=normals, count=owed)
            self._move("drop_owed")
            self._broadcast(out, "played", prompt + f" {name} drops {owed} more.")
            return out
        self._move("cards_played")
        return self._end_play(out, seat, resume, prompt)

    def draw(self, seat: int) -> list[Message]:
        """Draw one card, or take the whole pending penalty; either ends the turn."""
        self._require("card_drawn")
        self._check_turn(seat)
        self.moves += 1
        out: list[Message] = []
        name = self.seats[seat].name
        if self.table.penalty:
            symbol, picked = rules.take_penalty(self.table, seat)
            self._tell_picked(out, seat, picked, "penalty", _PENALTY_CMD[symbol])
            prompt = f"{name} took the penalty: {len(picked)} card(s)."
            if self._expiring:
                prompt = f"{name} ran out of time and took the penalty: {len(picked)} card(s)."
        else:
            picked = rules.pick(self.table, seat, 1)
            self._tell_picked(out, seat, picked, "draw", PICK_ONE)
            prompt = f"{name} drew a card."
            if self._expiring:
                prompt = f"{name} ran out of time; a card was drawn for them."
        self.questions.clear()
        self._move("card_drawn")
        self.table.current = rules.next_seat(self.table, seat)
        return self._start_turn(prompt, None, out)

    def name_request(self, seat: int, named: Any) -> list[Message]:
        """After an ``?``: the colour or shape the next player must play."""
        self._require("request_named")
        question = self._check_asked(seat, Q_REQUEST)
        if named not in question.options:
            raise ProtocolError("bad_answer", "name one of: " + ", ".join(question.options))
        self.table.request = named
        self.questions.clear()
        resume = self._take_resume()
        self._move("request_named")
        out: list[Message] = []
        prompt = f"{self.seats[seat].name} asks for {named}."
        if self._expiring:
            prompt = f"{self.seats[seat].name} ran out of time; the computer asked for {named}."
        return self._end_play(out, seat, resume, prompt, GAME_CONTINUE)

    def drop(self, seat: int, dropped: Sequence[Card]) -> list[Message]:
        """The normal cards owed by a drop (``-``, ``-1``, ``-2``, ``--``…), no match needed."""
        self._require("cards_dropped")
        question = self._check_asked(seat, Q_DROP)
        hand = self.seats[seat].hand
        if len(dropped) != question.count or any(c.special for c in dropped):
            raise ProtocolError("bad_answer", f"drop exactly {question.count} normal card(s)")
        if not rules.holds(hand, dropped):
            raise ProtocolError("not_in_hand", "you do not hold the card(s) you dropped")
        rules.drop(self.table, seat, dropped)
        self.questions.clear()
        resume = self._take_resume()
        out: list[Message] = []
        shown = " ".join(c.text for c in dropped)
        prompt = f"{self.seats[seat].name} dropped {shown}."
        if self._expiring:
            prompt = f"{self.seats[seat].name} ran out of time; the computer dropped {shown}."
        if not hand:
            return self._finish(out, prompt, "won_by_drop")
        self._move("cards_dropped")
        return self._end_play(out, seat, resume, prompt, GAME_CONTINUE)

    def request_leave(self, seat: int, why: str = LEAVE_ASKED) -> list[Message]:
        """Scenario B steps 1-3: pause, discard pending questions, send each their state.

        ``why``: asked for, or not asked for and the others are told why instead: the
        player's connection was lost and their grace period ran out, or their clock ran
        out too many turns in a row (``idle``).
        """
        self._require("leave_requested")
        self._check_seated(seat)
        if seat in self.gone or self.seats[seat].computer:
            raise ProtocolError("not_playing", "this seat is not a human player in the game")
        if self.state != PAUSED and self.state != VOTING:
            self.resume = self._pause_point()
        if not self.leavers:
            self.waits += 1  # a new wait: this leaver's LEAVE
        self.leavers.append(seat)
        self.questions.clear()
        self.votes.clear()
        self._move("leave_requested")
        out: list[Message] = []
        words = {
            LEAVE_ASKED: "is leaving",
            LEAVE_DROPPED: "lost the connection and did not come back",
            LEAVE_IDLE: f"let the clock run out {self.idle[seat]} turns in a row and is "
            "treated as having left",
        }[why]
        self._broadcast(out, "paused", f"{self.seats[seat].name} {words}; the game is paused.")
        return out

    def leave(self, seat: int) -> list[Message]:
        """Scenario B steps 4-7: LEAVE_REP to the leaver, CREATE_A_COMPUTER to the others."""
        if self.expired.get(seat) == W_LEAVE:
            raise too_late()
        self._require("player_left")
        if seat not in self.leavers:
            raise ProtocolError("not_leaving", "ask to leave with a game message first")
        self.leavers.remove(seat)
        self.empty_seats.append(seat)
        said = "You left the game."
        if self._expiring:
            said = "Your LEAVE did not come in time; you have left the game."
        out: list[Message] = [self._envelope(seat, LEAVE_REP, said, self.view(seat, "left"))]
        if self.leavers:
            self.waits += 1  # a new wait: the next leaver's LEAVE
            self._move("player_left")
            return out
        voters = self.humans()
        if not voters:
            return self._finish(out, "No human player remains.", "no_human_left", "no_humans")
        self._move("vote_called")
        names = ", ".join(self.seats[s].name for s in self.empty_seats)
        for voter in voters:
            self._ask(Q_VOTE, voter, options=["yes", "no"])
        self._broadcast(
            out,
            "vote",
            f"{names} left. Should a computer player take the empty seat?",
            cmd=CREATE_A_COMPUTER,
        )
        return out

    def vote(self, seat: int, choice: Any) -> list[Message]:
        """One remaining human's answer; all yes seats computers, any no ends the game."""
        self._require("vote_cast")
        self._check_asked(seat, Q_VOTE)
        if choice not in ("yes", "no"):
            raise ProtocolError("bad_answer", "answer yes or no")
        del self.questions[seat]
        self.votes[seat] = choice == "yes"
        out: list[Message] = []
        if choice == "no":
            self.questions.clear()
            name = self.seats[seat].name
            return self._finish(
                out, f"{name} voted against a computer player.", "vote_failed", "vote_failed"
            )
        if self.questions:
            self._move("vote_cast")
            return out
        return self._computers_take_over(out)

    def _computers_take_over(self, out: list[Message]) -> list[Message]:
        for empty in self.empty_seats:
            self.seats[empty].computer = True
        self.empty_seats.clear()
        self.votes.clear()
        return self._resume(out)

    # -- how the game moves on ------------------------------------------------------

    def _end_play(
        self, out: list[Message], seat: int, resume: Resume, prompt: str, flag: str | None = None
    ) -> list[Message]:
        """A complete play: the last-card check, then the turn moves on (or plays again)."""
        hand = self.seats[seat].hand
        if len(hand) == 1 and not resume.announced:
            picked = rules.pick(self.table, seat, 1)
            self._tell_picked(out, seat, picked, "last card not announced", PICK_ONE)
            prompt += f" {self.seats[seat].name} did not announce the last card and picks 1."
        elif len(hand) == 1:
            prompt += f" {self.seats[seat].name} announces the last card."
        self.table.current = rules.next_seat(self.table, seat, resume.steps)
        return self._start_turn(prompt, flag, out)

    def _start_turn(
        self, prompt: str, flag: str | None, out: list[Message] | None = None
    ) -> list[Message]:
        out = [] if out is None else out
        current = self.table.current
        self._ask(Q_TURN, current)
        self._broadcast(out, "turn", f"{prompt} {self.seats[current].name} to play.", flag=flag)
        return out

    def _punish_wrong_card(self, seat: int, why: str, out: list[Message]) -> list[Message]:
        """Wrong card: back to hand (it never left), pick two, turn over.

        Only the player is told which cards they tried: they are back in their hand,
        so naming them to the others would show a hand. A wrong play while a penalty
        is pending also takes the penalty (decided).
        """
        name = self.seats[seat].name
        picked = rules.pick(self.table, seat, 2)
        self._tell_picked(out, seat, picked, f"wrong card: {why}", PICK_TWO)
        prompt = f"{name} played a wrong card and picks 2."
        if self.table.penalty:
            symbol, taken = rules.take_penalty(self.table, seat)
            self._tell_picked(out, seat, taken, "penalty", _PENALTY_CMD[symbol])
            prompt += f" {name} also takes the penalty: {len(taken)} card(s)."
        self.questions.clear()
        self._move("cards_played")
        self.table.current = rules.next_seat(self.table, seat)
        return self._start_turn(prompt, None, out)

    def _someone_emptied(self) -> bool:
        return any(not s.hand for s in self.seats)

    def _finish(
        self, out: list[Message], prompt: str, event: str, reason: str = "won"
    ) -> list[Message]:
        """The game ends (by ``event``): the player with no cards wins, the others ranked
        by cards held."""
        order = rules.ranking(self.table, first=self.table.current)
        self.result = {
            "reason": reason,
            "winner": order[0] if reason == "won" else None,
            "ranking": [{"seat": s, "name": self.seats[s].name, "cards": len(self.seats[s].hand)}
                        for s in order],
        }  # fmt: skip
        if reason == "won":
            prompt += f" {self.seats[order[0]].name} wins!"
        self.questions.clear()
        self._move(event)
        # The shared machine would otherwise keep every game ever played alive.
        GAME_MACHINE.remove_model(self)
        self._broadcast(out, "game_over", prompt + " Game over.")
        return out

    def _move(self, event: str) -> None:
        """Take ``event``'s row from the current state: the machine makes the change; a
        row that leaves the state as it is needs no trigger. No row: a bug in the rules."""
        state = self.state
        dest = ROWS.get((event, state), MISSING)
        if dest is MISSING:
            raise MachineError(f"the game table has no {event} from {state}")
        if dest is not None and dest != state:
            self.trigger(event)

    def _pause_point(self) -> Resume:
        play = self.resume or Resume(TURN)
        asked = next(iter(self.questions.values()), None)
        return Resume(self.state, play.announced, play.steps, asked)

    def _resume(self, out: list[Message]) -> list[Message]:
        """Back to where the leave paused the game; the discarded question is asked anew."""
        resume = self.resume or Resume(TURN)
        self.resume = resume if resume.state in (AWAITING_OPTION, AWAITING_CARDS) else None
        self._move(RESUMED[resume.state])
        asked = resume.question or Question(Q_TURN, self.table.current)
        self._ask(asked.kind, asked.seat, asked.options, asked.count)
        prompt = "A computer player takes the empty seat; the game resumes."
        if self._expiring:
            prompt = "Time ran out for the vote; a vote not cast counts as yes. " + prompt
        self._broadcast(out, "resumed", prompt, flag=GAME_CONTINUE)
        return out

    def _take_resume(self) -> Resume:
        resume, self.resume = self.resume or Resume(TURN), None
        return resume

    # -- questions and messages -----------------------------------------------------

    def _ask(self, kind: str, seat: int, options: list[Any] | None = None, count: int = 0) -> None:
        self.questions[seat] = Question(kind, seat, options=options or [], count=count)

    def _broadcast(
        self,
        out: list[Message],
        event: str,
        prompt: str,
        flag: str | None = None,
        cmd: str = GAME_MESSAGE_REP,
    ) -> None:
        """Every seated player gets the event and their own view; askees get their question."""
        public: dict[str, Any] | None = None  # built once, for the first person to tell
        if any(not q.msg_id for q in self.questions.values()):
            self.waits += 1  # a question asked anew: a new wait
        for seat, place in enumerate(self.seats):
            question = self.questions.get(seat)
            if place.computer or seat in self.empty_seats:
                # Computers read the table, not messages: they only need the question's id.
                if question is not None:
                    self.sent[seat] += 1
                    question.msg_id = str(self.sent[seat])
                continue
            if public is None:
                public = self._public()
                public["event"] = event
                if self.result is not None:
                    public["result"] = self.result
            data = self._view(seat, public)
            if question is None:
                out.append(self._envelope(seat, cmd, prompt, data, flag=flag))
                continue
            next_cmd, return_type = QUESTION_FORMS[question.kind]
            data["question"] = question.kind
            if question.count:
                data["count"] = question.count
            extra = question.options if question.kind != Q_TURN else data["hand"]
            message = self._envelope(
                seat,
                cmd,
                prompt + " " + QUESTION_PROMPTS[question.kind],
                data,
                return_type=return_type,
                flag=USER_INPUT_CONTINUE,
                next_cmd=next_cmd,
                extra_data=extra,
            )
            question.msg_id = message[1]["msg_id"]
            out.append(message)

    def _tell_picked(
        self, out: list[Message], seat: int, picked: list[Card], why: str, next_cmd: str
    ) -> None:
        """Only the picker learns which cards they picked (computers need not be told)."""
        if self.seats[seat].computer:
            return
        top = self.table.top_card
        data = {"top_card": top.text if top else None, "event": "picked", "why": why,
                "hand": [c.text for c in self.seats[seat].hand]}  # fmt: skip
        texts = [c.text for c in picked]
        out.append(self._envelope(seat, GAME_MESSAGE_REP, f"You pick {len(picked)} ({why}).",
                                  data, next_cmd=next_cmd, extra_data=texts))  # fmt: skip

    def _envelope(
        self,
        seat: int,
        cmd: str,
        prompt: str,
        data: dict[str, Any],
        return_type: str | None = None,
        flag: str | None = None,
        next_cmd: str | None = None,
        extra_data: Any = None,
    ) -> Message:
        self.sent[seat] += 1
        payload = {
            "prompt": prompt,
            "data": data,
            "return_type": return_type,
            "flag": flag,
            "next_cmd": next_cmd,
            "extra_data": extra_data,
        }
        return seat, {"cmd": cmd, "msg_id": str(self.sent[seat]), "payload": payload}

    def tell(self, seat: int, cmd: str, prompt: str, data: dict[str, Any]) -> Message:
        """A numbered message outside the game's events (errors, connection notices)."""
        return self._envelope(seat, cmd, prompt, data)

    # -- checks ---------------------------------------------------------------------

    def _require(self, call: str) -> None:
        """Refuse a call none of whose outcomes the table allows in the current state."""
        if call not in LEGAL_CALLS[self.state]:
            raise ProtocolError("not_now", f"{call.replace('_', ' ')} is not possible while the "
                                f"game is {self.state.replace('_', ' ')}")  # fmt: skip

    def _check_seated(self, seat: int) -> None:
        if type(seat) is not int or not 0 <= seat < len(self.seats):
            raise ProtocolError("unknown_seat", "no such player in this game")

    def _check_turn(self, seat: int) -> None:
        self._check_seated(seat)
        if seat != self.table.current:
            raise ProtocolError(
                "not_your_turn", f"it is {self.seats[self.table.current].name}'s turn"
            )

    def _check_asked(self, seat: int, kind: str) -> Question:
        self._check_seated(seat)
        question = self.questions.get(seat)
        if question is None or question.kind != kind:
            raise ProtocolError("no_question", "there is no such question waiting for your answer")
        return question

    @staticmethod
    def _cards(data: Any) -> list[Card]:
        if not isinstance(data, list) or len(data) > 8:
            raise ProtocolError("bad_answer", "answer with a list of cards, like ['red-cross']")
        try:
            return [parse_card(t) for t in data]
        except CardError as err:
            raise ProtocolError("bad_card", str(err)) from None


#: The sentence that ends every question's prompt (clients that show their own prompts strip it).
QUESTION_PROMPTS: Final = {
    Q_FIRST_PLAYER: "Who plays first? Answer with a seat number.",
    Q_TURN: "Your turn: play one card or a combination of two, or [] to draw.",
    Q_REQUEST: "Name a colour or a shape for the next player.",
    Q_DROP: "Pick the normal card(s) to drop.",
    Q_VOTE: "Answer yes or no.",
}
