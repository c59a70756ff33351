"""Scenario B, a player leaving: the game pauses, the leaver confirms, the others vote.

Rule 1: this is a part of :class:`~cardgame.fsm.game.Game` (its base class), kept
apart because it is a flow of its own (``DESIGN.md``, "The flows", step 5): steps 1-3
in :meth:`Leaving.request_leave`, 4-6 in :meth:`Leaving.leave`, 7 in
:meth:`Leaving.vote`. It changes the game only through the game's own moves (the
table's rows) and messages.

Rule 2: a leave never loses the game's place: where it paused is kept in
``Game.resume`` and the question it discarded is asked anew when the game resumes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .machine import (
    AWAITING_CARDS,
    AWAITING_OPTION,
    PAUSED,
    RESUMED,
    TURN,
    VOTING,
    ProtocolError,
    take,
    too_late,
)
from .messages import (
    CREATE_A_COMPUTER,
    GAME_CONTINUE,
    LEAVE_REP,
    Q_TURN,
    Q_VOTE,
    W_LEAVE,
    Message,
    Question,
    Resume,
    envelope,
)

if TYPE_CHECKING:
    from .game import Game

# Why a player leaves (Game.request_leave): the words the others are told differ.
LEAVE_ASKED: Final = "asked"
LEAVE_DROPPED: Final = "dropped"
LEAVE_IDLE: Final = "idle"


class Leaving:
    """The leave and the vote, as the game's events (``Game`` inherits them)."""

    def request_leave(self: Game, seat: int, why: str = LEAVE_ASKED) -> list[Message]:
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
        take(self, "leave_requested")
        out: list[Message] = []
        words = {
            LEAVE_ASKED: "is leaving",
            LEAVE_DROPPED: "lost the connection and did not come back",
            LEAVE_IDLE: f"let the clock run out {self.idle[seat]} turns in a row and is "
            "treated as having left",
        }[why]
        self._broadcast(out, "paused", f"{self.seats[seat].name} {words}; the game is paused.")
        return out

    def leave(self: Game, seat: int) -> list[Message]:
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
        out: list[Message] = [envelope(self, seat, LEAVE_REP, said, self.view(seat, "left"))]
        if self.leavers:
            self.waits += 1  # a new wait: the next leaver's LEAVE
            take(self, "player_left")
            return out
        voters = self.humans()
        if not voters:
            return self._finish(out, "No human player remains.", "no_human_left", "no_humans")
        take(self, "vote_called")
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

    def vote(self: Game, seat: int, choice: Any) -> list[Message]:
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
            take(self, "vote_cast")
            return out
        return self._computers_take_over(out)

    def _computers_take_over(self: Game, out: list[Message]) -> list[Message]:
        for empty in self.empty_seats:
            self.seats[empty].computer = True
        self.empty_seats.clear()
        self.votes.clear()
        return self._resume(out)

    def _pause_point(self: Game) -> Resume:
        play = self.resume or Resume(TURN)
        asked = next(iter(self.questions.values()), None)
        return Resume(self.state, play.announced, play.steps, asked)

    def _resume(self: Game, out: list[Message]) -> list[Message]:
        """Back to where the leave paused the game; the discarded question is asked anew."""
        resume = self.resume or Resume(TURN)
        self.resume = resume if resume.state in (AWAITING_OPTION, AWAITING_CARDS) else None
        take(self, RESUMED[resume.state])
        asked = resume.question or Question(Q_TURN, self.table.current)
        self._ask(asked.kind, asked.seat, asked.options, asked.count)
        prompt = "A computer player takes the empty seat; the game resumes."
        if self._expiring:
            prompt = "Time ran out for the vote; a vote not cast counts as yes. " + prompt
        self._broadcast(out, "resumed", prompt, flag=GAME_CONTINUE)
        return out
