"""What a play does: Discard's card arithmetic as plain functions over a :class:`Table`.

Rule 1: this module knows the cards, the piles and the hands; it does not know
about states, questions, messages or players' connections (``game.py`` does).
Rule 2: a function that can refuse a play checks everything before it changes
anything, so a refused play leaves the table as it was.

Decisions the rule sheet left open are written where they are enforced, marked
**(decided)**; ``specs/rules-decisions.md`` lists them all.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from .cards import ASK, COLOURS, DROP, PICK_ONE, PICK_TWO, SHAPES, SKIP, Card

#: What a player may name after an ``?``: every colour and every shape.
REQUEST_OPTIONS: Final = COLOURS + SHAPES

#: Dealt cards per player, by the number of players.
HAND_SIZE: Final = {2: 8, 3: 6, 4: 5, 5: 5, 6: 5, 7: 5, 8: 4}
MIN_PLAYERS: Final = 2
MAX_PLAYERS: Final = 8

# Combinations, first → second, and what each does.
EVERYONE_PICKS_ONE: Final = "everyone-picks-one"
EVERYONE_PICKS_TWO: Final = "everyone-picks-two"
EVERYONE_SKIPPED: Final = "everyone-skipped"
DROP_ONE: Final = "drop-one"
DROP_TWO: Final = "drop-two"
TAKE_FROM_HOLDER: Final = "take-from-holder"
TAKE_FROM_NEXT: Final = "take-from-next"

COMBINATIONS: Final[dict[tuple[str, str], str]] = {
    (ASK, PICK_ONE): EVERYONE_PICKS_ONE,
    (ASK, PICK_TWO): EVERYONE_PICKS_TWO,
    (ASK, SKIP): EVERYONE_SKIPPED,
    (SKIP, ASK): EVERYONE_SKIPPED,
    (DROP, PICK_ONE): DROP_ONE,
    (DROP, PICK_TWO): DROP_TWO,
    (DROP, DROP): DROP_TWO,  # (decided)
    (DROP, ASK): TAKE_FROM_HOLDER,
    (ASK, DROP): TAKE_FROM_HOLDER,
    (DROP, SKIP): TAKE_FROM_NEXT,
    (SKIP, DROP): TAKE_FROM_NEXT,
}

PENALTY_SIZE: Final = {PICK_ONE: 1, PICK_TWO: 2}


@dataclass
class Seat:
    """A place at the table. ``computer`` seats are played by a bot."""

    name: str
    hand: list[Card] = field(default_factory=list)
    computer: bool = False


@dataclass
class Table:
    """Everything on the table. Tops of the market and play pile are the last items."""

    seats: list[Seat]
    market: list[Card]
    play_pile: list[Card] = field(default_factory=list)
    current: int = 0
    penalty: int = 0
    penalty_symbol: str | None = None
    request: str | None = None
    rng: random.Random = field(default_factory=random.Random)

    @property
    def top_card(self) -> Card | None:
        return self.play_pile[-1] if self.play_pile else None

    def card_count(self) -> int:
        return len(self.market) + len(self.play_pile) + sum(len(s.hand) for s in self.seats)


@dataclass
class Outcome:
    """What an accepted play did, and what the player still owes."""

    kind: str  # "single" or a combination name
    steps: int = 1  # how far the turn moves on: 0 plays again, 2 skips the next player
    ask: bool = False  # the player now names a shape or colour
    drop: int = 0  # normal cards the player now drops from hand
    picks: list[tuple[int, list[Card]]] = field(default_factory=list)
    taken: tuple[int, Card] | None = None  # (seat it was taken from, the special card)


# -- dealing and the market -------------------------------------------------------


def deal(table: Table) -> None:
    """Shuffle, deal, and turn up the first normal card of the market (decided)."""
    table.rng.shuffle(table.market)
    size = HAND_SIZE[len(table.seats)]
    for seat in table.seats:
        seat.hand = [table.market.pop() for _ in range(size)]
    # Specials passed over stay in the market in their order (decided).
    for depth in range(len(table.market) - 1, -1, -1):
        if not table.market[depth].special:
            table.play_pile.append(table.market.pop(depth))
            return


def pick(table: Table, seat: int, count: int) -> list[Card]:
    """Move up to ``count`` cards from the market to a hand, reshuffling when it runs out.

    When market and play pile (but its top) are both exhausted, the player takes
    what there is.
    """
    picked: list[Card] = []
    hand = table.seats[seat].hand
    for _ in range(count):
        if not table.market:
            reshuffle(table)
            if not table.market:
                break
        picked.append(table.market.pop())
    hand.extend(picked)
    return picked


def reshuffle(table: Table) -> None:
    """Every card of the play pile but the top one, shuffled, becomes the market."""
    if len(table.play_pile) <= 1:
        return
    table.market = table.play_pile[:-1]
    table.play_pile = table.play_pile[-1:]
    table.rng.shuffle(table.market)


def next_seat(table: Table, seat: int, steps: int = 1) -> int:
    return (seat + steps) % len(table.seats)


# -- what may be played ------------------------------------------------------------


def satisfies(card: Card, top: Card, request: str | None) -> bool:
    """Does ``card`` match the top card — or, while an ``?`` request holds, satisfy it?"""
    if request is not None:
        return card.colour == request or card.sign == request or card.sign == ASK
    if card.colour == top.colour:
        return True
    # Same shape between normals, same symbol between specials: both are the sign.
    return card.special == top.special and card.sign == top.sign


def combination(first: Card, second: Card) -> str | None:
    """The combination's name, or None when the pair is not in the table."""
    if not (first.special and second.special):
        return None
    return COMBINATIONS.get((first.sign, second.sign))


def is_valid_play(table: Table, played: Sequence[Card]) -> bool:
    """Would this one- or two-card play be accepted on the current table?"""
    top = table.top_card
    assert top is not None
    if table.penalty:
        # Only a single stacking card; 1 and 2 do not stack on each other (decided).
        return len(played) == 1 and played[0].sign == table.penalty_symbol
    if not satisfies(played[0], top, table.request):
        return False
    return len(played) == 1 or combination(played[0], played[1]) is not None


def why_wrong(
    played: Sequence[Card], top: Card, request: str | None, penalty: int, penalty_symbol: str | None
) -> str:
    """The true reason a play that :func:`is_valid_play` refuses is wrong, in card texts.

    Takes only the public table, so a client can tell a player before they pay for it.
    """
    shown = " ".join(c.text for c in played)
    if penalty:
        symbol = penalty_symbol or PICK_ONE
        if len(played) == 2:
            return f"a pick {penalty} is pending: only one {symbol} card passes it on"
        return f"a pick {penalty} is pending: {shown} is not a {symbol} card to pass it on"
    if len(played) == 2 and not (played[0].special and played[1].special):
        return f"{shown} is no combination: only two special cards combine"
    if len(played) == 2 and combination(played[0], played[1]) is None:
        return f"{shown} is no combination"
    first = played[0]
    if request is not None:
        return f"{first.text} is not the {request} that was asked for, nor a ? card"
    return f"{first.text} does not match {top.text}"


def holds(hand: Sequence[Card], played: Sequence[Card]) -> bool:
    """Does the hand contain every played card (as many copies as played)?"""
    return all(hand.count(c) >= played.count(c) for c in played)


def legal_plays(
    hand: Sequence[Card],
    top: Card,
    request: str | None,
    penalty_symbol: str | None,
) -> list[tuple[Card, ...]]:
    """Every distinct accepted play from ``hand`` (bots use this; it sees one hand only)."""
    distinct = list(dict.fromkeys(hand))
    if penalty_symbol is not None:
        return [(c,) for c in distinct if c.sign == penalty_symbol]
    plays: list[tuple[Card, ...]] = []
    for first in distinct:
        if not satisfies(first, top, request):
            continue
        plays.append((first,))
        if not first.special:
            continue
        for second in distinct:
            if second is first and hand.count(first) < 2:
                continue
            if combination(first, second) is not None:
                plays.append((first, second))
    return plays


# -- what a play does --------------------------------------------------------------


def play(table: Table, seat: int, played: Sequence[Card]) -> Outcome:
    """Apply an accepted play (checked with :func:`is_valid_play`) and its immediate effects.

    Questions (the ``?`` request, drops) are left in the outcome for the game to ask.
    """
    hand = table.seats[seat].hand
    for card in played:
        hand.remove(card)
        table.play_pile.append(card)
    if table.request is not None and played[0].sign != ASK:
        table.request = None  # satisfied: the request holds until somebody does (decided)
    if len(played) == 1:
        return _single(table, seat, played[0])
    # Combinations make no request of their own (decided): one led by ``?`` under a
    # pending request leaves that request holding (decided).
    return _combination(table, seat, combination(played[0], played[1]) or "")


def _single(table: Table, seat: int, card: Card) -> Outcome:
    outcome = Outcome("single")
    if card.sign in PENALTY_SIZE:
        table.penalty += PENALTY_SIZE[card.sign]
        table.penalty_symbol = card.sign
    elif card.sign == SKIP:
        outcome.steps = 2
    elif card.sign == ASK:
        table.request = None  # a new request replaces the old one once named
        outcome.ask = True
    elif card.sign == DROP:
        outcome.drop = 1
    return outcome


def _combination(table: Table, seat: int, kind: str) -> Outcome:
    outcome = Outcome(kind)
    if kind in (EVERYONE_PICKS_ONE, EVERYONE_PICKS_TWO, EVERYONE_SKIPPED):
        outcome.steps = 0
        count = {EVERYONE_PICKS_ONE: 1, EVERYONE_PICKS_TWO: 2}.get(kind, 0)
        if count:
            outcome.picks = [
                (other, pick(table, other, count)) for other in _others_in_turn_order(table, seat)
            ]
    elif kind == DROP_ONE:
        outcome.drop = 1
    elif kind == DROP_TWO:
        outcome.drop = 2
    else:
        victims = (
            list(_others_in_turn_order(table, seat))
            if kind == TAKE_FROM_HOLDER
            else [next_seat(table, seat)]
        )
        outcome.taken = take_special(table, victims)
        if outcome.taken is None:
            outcome.drop = 1
    return outcome


def _others_in_turn_order(table: Table, seat: int) -> Iterable[int]:
    return (next_seat(table, seat, step) for step in range(1, len(table.seats)))


def take_special(table: Table, victims: Iterable[int]) -> tuple[int, Card] | None:
    """Take a random special card from the first victim holding one.

    It goes into the play pile beneath the top card (decided).
    """
    for victim in victims:
        hand = table.seats[victim].hand
        specials = [i for i, c in enumerate(hand) if c.special]
        if specials:
            taken = hand.pop(table.rng.choice(specials))
            table.play_pile.insert(len(table.play_pile) - 1, taken)
            return victim, taken
    return None


def normal_cards(hand: Sequence[Card]) -> list[Card]:
    return [c for c in hand if not c.special]


def drops_owed(hand: Sequence[Card], asked: int) -> int:
    """How many normal cards a drop really takes: with fewer in hand, what there is."""
    return min(asked, len(normal_cards(hand)))


def drop(table: Table, seat: int, dropped: Sequence[Card]) -> None:
    """Drop normal cards from hand onto the play pile; no match needed."""
    hand = table.seats[seat].hand
    for card in dropped:
        hand.remove(card)
        table.play_pile.append(card)


def likely_request(hand: Sequence[Card], options: Sequence[str], rng: random.Random) -> str:
    """The computer player's request: the colour held most, else any colour.

    Also what the game names for a player whose clock ran out after an ``?``.
    """
    colours = Counter(c.colour for c in hand if c.colour in options)
    if colours:
        return colours.most_common(1)[0][0]
    return rng.choice([c for c in COLOURS if c in options])


def likely_drop(hand: Sequence[Card], count: int) -> list[Card]:
    """The computer player's drop: from the colours held least, so the rest keep matching.

    Also what the game drops for a player whose clock ran out on a drop.
    """
    held = Counter(c.colour for c in hand)
    return sorted(normal_cards(hand), key=lambda c: (held[c.colour], c.text))[:count]


def take_penalty(table: Table, seat: int) -> tuple[str, list[Card]]:
    """The player who does not stack picks the whole total; returns (symbol, cards)."""
    symbol, total = table.penalty_symbol or PICK_ONE, table.penalty
    table.penalty, table.penalty_symbol = 0, None
    return symbol, pick(table, seat, total)


def ranking(table: Table, first: int = 0) -> list[int]:
    """Seats from first to last: fewest cards first, ties in turn order from ``first``."""
    size = len(table.seats)
    return sorted(range(size), key=lambda s: (len(table.seats[s].hand), (s - first) % size))
