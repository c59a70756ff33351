"""What the game tells each seat: the protocol's words, the views, the numbered messages.

Rule 1: a seat is told only what it may know — its own hand and the public table
(:func:`public_view`, :func:`seat_view`); which cards a player picked goes to that
player alone (:func:`tell_picked`). Nothing here decides anything: ``game.py`` says
what happened and who is asked what; this module turns it into ``(seat, envelope)``
pairs, numbered per seat (``msg_id`` "1", "2", … for each seat) in ``Game.sent``.

Rule 2: the words are the protocol's (``specs/protocol.md``): a change here is a
change of what every client reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .cards import Card
    from .game import Game

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
#: The "seat" of the public stream's messages: every spectator's, no player's.
PUBLIC: Final = -1

# The pick messages' next_cmd: by the penalty's symbol, or by how many cards were picked.
PENALTY_CMD: Final = {"1": PICK_ONE, "2": PICK_TWO}
PICK_CMD: Final = {0: PICK_ONE, 1: PICK_ONE, 2: PICK_TWO}

#: The sentence that ends every question's prompt (clients that show their own prompts strip it).
QUESTION_PROMPTS: Final = {
    Q_FIRST_PLAYER: "Who plays first? Answer with a seat number.",
    Q_TURN: "Your turn: play one card or a combination of two, or [] to draw.",
    Q_REQUEST: "Name a colour or a shape for the next player.",
    Q_DROP: "Pick the normal card(s) to drop.",
    Q_VOTE: "Answer yes or no.",
}


@dataclass
class Question:
    """What the game waits for from one seat (the ``USER_INPUT_CONTINUE`` flag)."""

    kind: str
    seat: int
    msg_id: str = ""
    options: list[Any] = field(default_factory=list)
    count: int = 0  # cards to drop


@dataclass
class Resume:
    """Where the game loop goes on after the pending question (``GAME_CONTINUE``)."""

    state: str
    announced: bool = False  # the play's last-card announcement, checked at its end
    steps: int = 1  # how far the turn moves on once the play is complete
    question: Question | None = None  # the question a leave discarded, asked anew on resume


def public_view(game: Game) -> dict[str, Any]:
    """The table as everyone may see it: card counts, never cards held."""
    table = game.table
    return {
        "top_card": table.top_card.text if table.top_card else None,
        "turn": table.current,
        "players": [
            {"name": s.name, "cards": len(s.hand), "computer": s.computer} for s in table.seats
        ],
        "penalty": table.penalty,
        "request": table.request,
        "market": len(table.market),
        "state": game.state,
    }


def spectator_view(game: Game, event: str) -> dict[str, Any]:
    """The public table told because of ``event``, as a spectator sees it: no hand, no seat."""
    view = public_view(game)
    view["event"] = event
    if game.result is not None:
        view["result"] = game.result
    return view


def tell_public(game: Game, cmd: str, prompt: str, data: dict[str, Any]) -> Message:
    """The public stream's next message, numbered apart from every seat's
    (``Game.public_sent``): the same for every spectator."""
    game.public_sent += 1
    payload = {"prompt": prompt, "data": data, "return_type": None, "flag": None,
               "next_cmd": None, "extra_data": None}  # fmt: skip
    return PUBLIC, {"cmd": cmd, "msg_id": str(game.public_sent), "payload": payload}


def seat_view(game: Game, seat: int, public: dict[str, Any]) -> dict[str, Any]:
    """``public`` and what only ``seat`` may know: its own hand."""
    view = dict(public)
    view["you"] = seat
    view["hand"] = [c.text for c in game.seats[seat].hand]
    return view


def envelope(
    game: Game,
    seat: int,
    cmd: str,
    prompt: str,
    data: dict[str, Any],
    return_type: str | None = None,
    flag: str | None = None,
    next_cmd: str | None = None,
    extra_data: Any = None,
) -> Message:
    """The seat's next numbered message."""
    game.sent[seat] += 1
    payload = {
        "prompt": prompt,
        "data": data,
        "return_type": return_type,
        "flag": flag,
        "next_cmd": next_cmd,
        "extra_data": extra_data,
    }
    return seat, {"cmd": cmd, "msg_id": str(game.sent[seat]), "payload": payload}


def broadcast(
    game: Game,
    out: list[Message],
    event: str,
    prompt: str,
    flag: str | None = None,
    cmd: str = GAME_MESSAGE_REP,
) -> None:
    """Every seated player gets the event and their own view; askees get their question."""
    public: dict[str, Any] | None = None  # built once, for the first person to tell
    questions = game.questions
    for seat, place in enumerate(game.seats):
        question = questions.get(seat)
        if place.computer or seat in game.empty_seats:
            # Computers read the table, not messages: they only need the question's id.
            if question is not None:
                game.sent[seat] += 1
                question.msg_id = str(game.sent[seat])
            continue
        if public is None:
            public = public_view(game)
            public["event"] = event
            if game.result is not None:
                public["result"] = game.result
        data = seat_view(game, seat, public)
        if question is None:
            out.append(envelope(game, seat, cmd, prompt, data, flag=flag))
            continue
        next_cmd, return_type = QUESTION_FORMS[question.kind]
        data["question"] = question.kind
        if question.count:
            data["count"] = question.count
        extra = question.options if question.kind != Q_TURN else data["hand"]
        message = envelope(
            game,
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


def tell_picked(
    game: Game, out: list[Message], seat: int, picked: list[Card], why: str, next_cmd: str
) -> None:
    """Only the picker learns which cards they picked (computers need not be told)."""
    if game.seats[seat].computer:
        return
    top = game.table.top_card
    data = {"top_card": top.text if top else None, "event": "picked", "why": why,
            "hand": [c.text for c in game.seats[seat].hand]}  # fmt: skip
    texts = [c.text for c in picked]
    out.append(envelope(game, seat, GAME_MESSAGE_REP, f"You pick {len(picked)} ({why}).", data,
                        next_cmd=next_cmd, extra_data=texts))  # fmt: skip
