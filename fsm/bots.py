"""Computer players.

A bot sees what a player at that seat would see — its own hand and the public
table (:class:`BotView`) — and answers the game's questions through the same
:meth:`Game.answer` a network player uses, so it can only make moves the game
accepts. Bots are deterministic for a given ``random.Random``.

``random`` plays a uniformly random legal move (or draws). ``greedy`` sheds cards
as fast as it can: it prefers combinations and penalties that hurt the next
player, keeps an ``?`` for when nothing else matches, and names the colour it
holds most.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Final, NamedTuple

from . import rules
from .cards import ASK, DROP, PICK_ONE, PICK_TWO, SKIP, Card, parse_card
from .game import Game
from .messages import Q_DROP, Q_FIRST_PLAYER, Q_REQUEST, Q_TURN, Q_VOTE, Message, Question


class BotView(NamedTuple):
    """One seat's knowledge: its hand and the public table, nothing more.

    A named tuple, not a frozen dataclass: one is built for every move a bot makes, and
    a frozen dataclass's ``__init__`` costs six ``object.__setattr__`` calls.
    """

    seat: int
    hand: tuple[Card, ...]
    top_card: Card
    request: str | None
    penalty_symbol: str | None
    card_counts: tuple[int, ...]

    @classmethod
    def of(cls, game: Game, seat: int) -> BotView:
        table = game.table
        seats = table.seats
        assert table.top_card is not None
        return cls(
            seat,
            tuple(seats[seat].hand),
            table.top_card,
            table.request,
            table.penalty_symbol,
            tuple([len(s.hand) for s in seats]),
        )


class Answer(NamedTuple):
    data: Any
    last_card: bool = False


def bot_view(data: dict[str, Any]) -> BotView:
    """A bot's view from a game message's ``data``: exactly what that player was told
    (a network bot and the terminal client read the table through it)."""
    top = parse_card(data["top_card"])
    return BotView(
        seat=data["you"],
        hand=tuple(parse_card(c) for c in data["hand"]),
        top_card=top,
        request=data["request"],
        # Only 1s or only 2s stack, so a pending penalty's symbol is the top card's.
        penalty_symbol=top.sign if data["penalty"] else None,
        card_counts=tuple(p["cards"] for p in data["players"]),
    )


class Bot(ABC):
    """The shared answers; strategies differ in how they play a turn and name a request."""

    name = "bot"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def decide(self, question: Question, view: BotView) -> Answer:
        if question.kind == Q_TURN:
            played = self.choose_play(view)
            # Always announce: it costs nothing when the play does not leave one card.
            return Answer([c.text for c in played], last_card=True)
        if question.kind == Q_REQUEST:
            return Answer(self.choose_request(view, question.options))
        if question.kind == Q_DROP:
            return Answer([c.text for c in self.choose_drop(view, question.count)])
        if question.kind == Q_FIRST_PLAYER:
            return Answer(self.rng.choice(question.options))
        if question.kind == Q_VOTE:
            return Answer("yes")
        raise ValueError(f"no answer for {question.kind}")

    @abstractmethod
    def choose_play(self, view: BotView) -> tuple[Card, ...]:
        """The cards to play, or none to draw: what makes one strategy differ from another."""

    def choose_request(self, view: BotView, options: list[str]) -> str:
        return self.rng.choice(options)

    def choose_drop(self, view: BotView, count: int) -> list[Card]:
        normals = rules.normal_cards(view.hand)
        return self.rng.sample(normals, count)


class RandomBot(Bot):
    """A uniformly random choice among every legal play and drawing."""

    name = "random"

    def choose_play(self, view: BotView) -> tuple[Card, ...]:
        plays: list[tuple[Card, ...]] = rules.legal_plays(
            view.hand, view.top_card, view.request, view.penalty_symbol
        )
        plays.append(())
        return self.rng.choice(plays)


# How much a play is worth to the greedy bot beyond the cards it sheds.
_COMBINATION_BONUS: Final = {
    rules.EVERYONE_PICKS_TWO: 30,
    rules.EVERYONE_PICKS_ONE: 20,
    rules.EVERYONE_SKIPPED: 12,
    rules.TAKE_FROM_HOLDER: 14,
    rules.TAKE_FROM_NEXT: 14,
    rules.DROP_TWO: 16,
    rules.DROP_ONE: 8,
}
_SINGLE_BONUS: Final = {PICK_TWO: 12, PICK_ONE: 8, SKIP: 6, DROP: 9, ASK: -40}


class GreedyBot(Bot):
    """Shed fast, hurt the next player, keep ``?`` as the way out of a bad hand."""

    name = "greedy"

    def choose_play(self, view: BotView) -> tuple[Card, ...]:
        plays = rules.legal_plays(view.hand, view.top_card, view.request, view.penalty_symbol)
        if not plays:
            return ()
        return max(plays, key=lambda play: self._worth(view, play))

    def _worth(self, view: BotView, play: tuple[Card, ...]) -> float:
        if len(play) == len(view.hand):
            return 1_000.0  # this play wins
        if len(play) == 2:
            kind = rules.combination(play[0], play[1]) or ""
            worth = 20 + _COMBINATION_BONUS.get(kind, 0)
        else:
            worth = 10 + _SINGLE_BONUS.get(play[0].sign, 0)
            if not play[0].special:
                # Keep the colour we hold most on top, so the next turn matches too.
                worth += sum(1 for c in view.hand if c.colour == play[0].colour) * 0.5
        return worth + self.rng.random() * 0.1

    def choose_request(self, view: BotView, options: list[str]) -> str:
        return rules.likely_request(view.hand, options, self.rng)

    def choose_drop(self, view: BotView, count: int) -> list[Card]:
        return rules.likely_drop(view.hand, count)


STRATEGIES: Final[dict[str, Callable[[random.Random], Bot]]] = {
    RandomBot.name: RandomBot,
    GreedyBot.name: GreedyBot,
}


def make_bot(strategy: str, rng: random.Random) -> Bot:
    try:
        return STRATEGIES[strategy](rng)
    except KeyError:
        raise ValueError(
            f"unknown strategy {strategy!r}; choose from {sorted(STRATEGIES)}"
        ) from None


def drive(game: Game, bots: dict[int, Bot], limit: int = 100_000) -> list[Message]:
    """Let computer seats answer their questions until a human must act or the game ends.

    A computer seat without a bot in ``bots`` (a leaver's seat taken over) gets a
    greedy one, seeded by its seat number. ``limit`` bounds the number of bot
    moves, so a bug can never loop forever.
    """
    out: list[Message] = []
    seats = game.seats
    questions = game.questions
    for _ in range(limit):
        for seat in questions:
            if seats[seat].computer:
                break
        else:
            return out
        bot = bots.get(seat)
        if bot is None:
            bot = bots[seat] = GreedyBot(random.Random(seat))
        question = questions[seat]
        answer = bot.decide(question, BotView.of(game, seat))
        out.extend(game.answer(seat, question.msg_id, answer.data, answer.last_card))
    raise RuntimeError(f"bots made {limit} moves without the game ending or waiting on a human")
