"""One game of Discard: the events that move it on, and what each seat is told of them.

Rule 1: this module says *which event happened*; ``machine.py`` says whether it may
(the table), ``rules.py`` *what a play does*, ``messages.py`` how each seat is told.
It knows players only as seat numbers and speaks to them only by returning messages:
no sockets, no clock, no files. Randomness comes from the seeded ``random.Random`` on
the table, so the same seed and the same events give the same game.

Rule 2: an event that is not legal in the current state, or that breaks a rule
of the protocol (out of turn, a card not held, an answer to a question nobody
asked), raises :class:`ProtocolError` and changes nothing.

Every event returns the messages it produced, ``(seat, envelope)`` pairs, already
numbered per seat. Each player's messages hold only that player's hand.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import messages, rules
from .cards import Card, CardError, new_deck, parse_card
from .leaving import LEAVE_ASKED, LEAVE_DROPPED, LEAVE_IDLE, Leaving
from .machine import (
    AWAITING_CARDS,
    AWAITING_OPTION,
    CHOOSING_FIRST,
    FINISHED,
    GAME_MACHINE,
    GAME_STATES,
    GAME_TRANSITIONS,
    IN_PLAY,
    LEGAL_CALLS,
    OUTCOMES,
    PAUSED,
    TURN,
    VOTING,
    WAITING,
    ProtocolError,
    require,
    take,
    too_late,
)
from .messages import (
    CREATE_A_COMPUTER,
    GAME_CONTINUE,
    GAME_MESSAGE_REP,
    LEAVE_REP,
    PENALTY_CMD,
    PICK_CARDS,
    PICK_CMD,
    PICK_ONE,
    PICK_OPTION,
    PICK_TWO,
    PUBLIC,
    Q_DROP,
    Q_FIRST_PLAYER,
    Q_REQUEST,
    Q_TURN,
    Q_VOTE,
    QUESTION_FORMS,
    QUESTION_PROMPTS,
    TIME_RAN_OUT,
    TURN_QUESTIONS,
    USER_INPUT_CONTINUE,
    W_LEAVE,
    Message,
    Question,
    Resume,
)
from .rules import REQUEST_OPTIONS, Seat, Table

#: The names the rest of the code knows the game by (the table's and the words' too).
__all__ = [
    "AWAITING_CARDS", "AWAITING_OPTION", "CHOOSING_FIRST", "CREATE_A_COMPUTER", "FINISHED",
    "GAME_MACHINE", "GAME_MESSAGE_REP", "GAME_STATES", "GAME_TRANSITIONS", "IN_PLAY",
    "LEAVE_ASKED", "LEAVE_DROPPED", "LEAVE_IDLE", "LEAVE_REP", "LEGAL_CALLS", "OUTCOMES",
    "PAUSED", "PICK_CARDS", "PICK_OPTION", "PUBLIC", "Q_DROP", "Q_FIRST_PLAYER", "Q_REQUEST",
    "Q_TURN", "Q_VOTE", "QUESTION_FORMS", "QUESTION_PROMPTS", "TIME_RAN_OUT", "TURN",
    "TURN_QUESTIONS", "USER_INPUT_CONTINUE", "VOTING", "W_LEAVE", "WAITING", "Awaited", "Game",
    "Message", "ProtocolError", "Question", "Resume",
]  # fmt: skip


@dataclass(frozen=True)
class Awaited:
    """One wait that depends on people: what for, from whom, and which wait it is.

    ``serial`` changes whenever a new wait begins and only then (one vote is one wait
    however many ballots come in), so a clock started for a wait can tell it is stale.
    """

    kind: str  # a question kind, or W_LEAVE
    seats: tuple[int, ...]
    serial: int


class Game(Leaving):
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
        #: Messages numbered so far in the room's public stream, the one spectators get
        #: (the public table after each event, and chat): one stream, the same for all.
        self.public_sent = 0
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
        public = messages.public_view(self)
        public["event"] = event
        return messages.seat_view(self, seat, public)

    # -- events ---------------------------------------------------------------------

    def join(self, name: str, computer: bool = False) -> tuple[int, list[Message]]:
        """Seat a player; the last seat deals and asks the creator who plays first."""
        self._require("player_joined")
        seat = len(self.seats)
        self.seats.append(Seat(name=name, computer=computer))
        out: list[Message] = []
        if len(self.seats) < self.size:
            take(self, "player_joined")
            return seat, out
        rules.deal(self.table)
        take(self, "room_filled")
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
        take(self, "first_player_chosen")
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
            messages.tell_picked(self, out, other, picked, "everyone picks", PICK_CMD[len(picked)])
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
            take(self, "request_owed")
            self._broadcast(out, "played", prompt + f" {name} names a shape or a colour.")
            return out
        owed = rules.drops_owed(hand, outcome.drop)
        if owed:
            self.resume = resume
            normals = list(dict.fromkeys(c.text for c in rules.normal_cards(hand)))
            self._ask(Q_DROP, seat, options=normals, count=owed)
            take(self, "drop_owed")
            self._broadcast(out, "played", prompt + f" {name} drops {owed} more.")
            return out
        take(self, "cards_played")
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
            messages.tell_picked(self, out, seat, picked, "penalty", PENALTY_CMD[symbol])
            prompt = f"{name} took the penalty: {len(picked)} card(s)."
            if self._expiring:
                prompt = f"{name} ran out of time and took the penalty: {len(picked)} card(s)."
        else:
            picked = rules.pick(self.table, seat, 1)
            messages.tell_picked(self, out, seat, picked, "draw", PICK_ONE)
            prompt = f"{name} drew a card."
            if self._expiring:
                prompt = f"{name} ran out of time; a card was drawn for them."
        self.questions.clear()
        take(self, "card_drawn")
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
        take(self, "request_named")
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
        take(self, "cards_dropped")
        return self._end_play(out, seat, resume, prompt, GAME_CONTINUE)

    # -- how the game moves on ------------------------------------------------------

    def _end_play(
        self, out: list[Message], seat: int, resume: Resume, prompt: str, flag: str | None = None
    ) -> list[Message]:
        """A complete play: the last-card check, then the turn moves on (or plays again)."""
        hand = self.seats[seat].hand
        if len(hand) == 1 and not resume.announced:
            picked = rules.pick(self.table, seat, 1)
            messages.tell_picked(self, out, seat, picked, "last card not announced", PICK_ONE)
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
        messages.tell_picked(self, out, seat, picked, f"wrong card: {why}", PICK_TWO)
        prompt = f"{name} played a wrong card and picks 2."
        if self.table.penalty:
            symbol, taken = rules.take_penalty(self.table, seat)
            messages.tell_picked(self, out, seat, taken, "penalty", PENALTY_CMD[symbol])
            prompt += f" {name} also takes the penalty: {len(taken)} card(s)."
        self.questions.clear()
        take(self, "cards_played")
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
        take(self, event)
        # The shared machine would otherwise keep every game ever played alive.
        GAME_MACHINE.remove_model(self)
        self._broadcast(out, "game_over", prompt + " Game over.")
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
        for question in self.questions.values():
            if not question.msg_id:
                self.waits += 1  # a question asked anew: a new wait
                break
        messages.broadcast(self, out, event, prompt, flag, cmd)

    def tell(self, seat: int, cmd: str, prompt: str, data: dict[str, Any]) -> Message:
        """A numbered message outside the game's events (errors, connection notices)."""
        return messages.envelope(self, seat, cmd, prompt, data)

    def public_view(self, event: str) -> dict[str, Any]:
        """The table as anybody may see it, told because of ``event``: no hand, no seat."""
        return messages.spectator_view(self, event)

    def tell_public(self, cmd: str, prompt: str, data: dict[str, Any]) -> Message:
        """A message of the public stream (spectators'), numbered apart from every seat's."""
        return messages.tell_public(self, cmd, prompt, data)

    # -- checks ---------------------------------------------------------------------

    def _require(self, call: str) -> None:
        require(call, self.state)

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
