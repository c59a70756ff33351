"""Games set up card by card, so that a rule test reads like the rule sheet.

    game = scenario(
        hands={"ada": "red-? red-1 blue-cross", "bob": "green-cup green-cross"},
        top="red-cross",
        market="yellow-cup blue-2",          # top of the market first
    )
    game.play(0, cards("red-? red-1"))

The game is a real :class:`~cardgame.fsm.game.Game`: players are joined and the
first player is chosen through its public events, then the table is laid out as
asked, and the current player's turn question is pending. Every card not named
goes to the bottom of the market in deck order, so the 120 cards are conserved.
"""

from __future__ import annotations

from collections import Counter

from .cards import FULL_DECK, Card, cards, parse_card
from .game import Game
from .machine import CHOOSING_FIRST


def scenario(
    hands: dict[str, str],
    top: str,
    market: str = "",
    pile: str = "",
    current: int = 0,
    penalty: int = 0,
    request: str | None = None,
    computers: tuple[str, ...] = (),
    seed: int = 0,
) -> Game:
    """A game in its ``turn`` state with exactly these hands, piles and current player.

    ``pile`` lists play-pile cards beneath ``top`` (bottom first). ``penalty`` is a
    pending pick total, of the top card's symbol. ``computers`` names seats played
    by bots.
    """
    names = list(hands)
    game = Game(len(names), seed=seed)
    for name in names:
        game.join(name, computer=name in computers)
    assert game.state == CHOOSING_FIRST
    table = game.table
    play_pile = cards(pile) + [parse_card(top)]
    named_market = list(reversed(cards(market)))  # the top of the market is the list's end
    used = Counter(play_pile) + Counter(named_market)
    for name in names:
        used.update(cards(hands[name]))
    if any(used[c] > FULL_DECK[c] for c in used):
        raise ValueError("the scenario names more copies of a card than the deck holds")
    for seat, name in zip(table.seats, names, strict=True):
        seat.hand = cards(hands[name])
    table.play_pile = play_pile
    rest: list[Card] = []
    for card, copies in FULL_DECK.items():
        rest.extend([card] * (copies - used[card]))
    table.market = rest + named_market
    table.penalty = penalty
    table.penalty_symbol = table.play_pile[-1].sign if penalty else None
    table.request = request
    game.choose_first(0, current)
    return game


def market_top(game: Game, count: int) -> list[str]:
    """The next ``count`` cards a pick would take, top first."""
    return [c.text for c in reversed(game.table.market[-count:])] if count else []
