"""A game as plain JSON-able data, and back.

The server saves a snapshot after every applied event and restores unfinished
games at start-up, so this is the game's durable form. It is pure: the caller
decides where the text goes. Cards are stored in their wire text; the random
generator's full state is stored so a restored game deals the same future
cards as the one that never stopped.
"""

from __future__ import annotations

import random
from typing import Any, Final

from .cards import Card, parse_card
from .game import Game
from .machine import FINISHED, GAME_MACHINE
from .messages import Question, Resume
from .rules import Seat, Table

#: Bumped whenever the snapshot's shape changes; older snapshots are refused.
SNAPSHOT_VERSION: Final = 1


class SnapshotError(ValueError):
    """A snapshot this version cannot read."""


def _texts(cards: list[Card]) -> list[str]:
    return [c.text for c in cards]


def _question(q: Question | None) -> dict[str, Any] | None:
    if q is None:
        return None
    return {
        "kind": q.kind,
        "seat": q.seat,
        "msg_id": q.msg_id,
        "options": q.options,
        "count": q.count,
    }


def _unquestion(d: dict[str, Any] | None) -> Question | None:
    return None if d is None else Question(**d)


def to_snapshot(game: Game) -> dict[str, Any]:
    """Everything needed to carry on exactly where the game is."""
    table = game.table
    version, internal, gauss = table.rng.getstate()
    resume = game.resume
    snapshot = {
        "version": SNAPSHOT_VERSION,
        "state": game.state,
        "room": game.room,
        "size": game.size,
        "seats": [
            {"name": s.name, "hand": _texts(s.hand), "computer": s.computer} for s in table.seats
        ],
        "market": _texts(table.market),
        "play_pile": _texts(table.play_pile),
        "current": table.current,
        "penalty": table.penalty,
        "penalty_symbol": table.penalty_symbol,
        "request": table.request,
        "rng": [version, list(internal), gauss],
        "questions": [_question(q) for q in game.questions.values()],
        "resume": None
        if resume is None
        else {
            "state": resume.state,
            "announced": resume.announced,
            "steps": resume.steps,
            "question": _question(resume.question),
        },
        "sent": list(game.sent),
        "leavers": list(game.leavers),
        "empty_seats": list(game.empty_seats),
        "votes": {str(k): v for k, v in game.votes.items()},
        "result": game.result,
        "moves": game.moves,
        "idle": list(game.idle),
        "expired": {str(k): v for k, v in game.expired.items()},
    }
    if game.public_sent:  # only a room with a public stream (spectators) numbers one
        snapshot["public_sent"] = game.public_sent
    return snapshot


def from_snapshot(data: dict[str, Any]) -> Game:
    """The game a snapshot describes, registered with the game machine in its state."""
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        raise SnapshotError(f"not a version {SNAPSHOT_VERSION} game snapshot")
    try:
        game = Game.__new__(Game)
        version, internal, gauss = data["rng"]
        rng = random.Random()
        rng.setstate((version, tuple(internal), gauss))
        game.table = Table(
            seats=[
                Seat(s["name"], [parse_card(c) for c in s["hand"]], s["computer"])
                for s in data["seats"]
            ],
            market=[parse_card(c) for c in data["market"]],
            play_pile=[parse_card(c) for c in data["play_pile"]],
            current=data["current"],
            penalty=data["penalty"],
            penalty_symbol=data["penalty_symbol"],
            request=data["request"],
            rng=rng,
        )
        game.room = data["room"]
        game.size = data["size"]
        game.questions = {q["seat"]: Question(**q) for q in data["questions"]}
        r = data["resume"]
        game.resume = (
            None
            if r is None
            else Resume(r["state"], r["announced"], r["steps"], _unquestion(r["question"]))
        )
        game.sent = list(data["sent"])
        game.public_sent = data.get("public_sent", 0)  # before spectators: none sent
        game.leavers = list(data["leavers"])
        game.empty_seats = list(data["empty_seats"])
        game.votes = {int(k): v for k, v in data["votes"].items()}
        game.result = data["result"]
        game.moves = data["moves"]
        # Snapshots written before the turn clock have neither: nobody ran out of time.
        game.idle = list(data.get("idle", [0] * data["size"]))
        game.expired = {int(k): v for k, v in data.get("expired", {}).items()}
        game.waits = 0
    except (KeyError, TypeError, ValueError) as err:
        raise SnapshotError(f"damaged game snapshot: {err}") from None
    if data["state"] == FINISHED:
        game.state = FINISHED
    else:
        GAME_MACHINE.add_model(game, initial=data["state"])
    return game
