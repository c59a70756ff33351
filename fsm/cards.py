"""The 120 cards of Discard and their text form.

A card is written ``<colour>-<sign>``: ``red-cross``, ``blue-?``, ``green-->``,
``yellow-1``. That text is the card on the wire and on screen; :func:`parse_card`
is the only way in and refuses anything else. There are 40 distinct faces and each
is one interned :class:`Card` object, so cards compare by identity and a hand is a
plain list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Final

COLOURS: Final = ("red", "blue", "green", "yellow")
SHAPES: Final = ("cross", "square", "triangle", "circle", "cup")

PICK_ONE: Final = "1"
PICK_TWO: Final = "2"
SKIP: Final = "->"
ASK: Final = "?"
DROP: Final = "-"
SYMBOLS: Final = (PICK_ONE, PICK_TWO, SKIP, ASK, DROP)

SYMBOL_NAMES: Final = {
    PICK_ONE: "pick-one",
    PICK_TWO: "pick-two",
    SKIP: "skip",
    ASK: "ask",
    DROP: "drop",
}

NORMAL_COPIES: Final = 5
DECK_SIZE: Final = len(COLOURS) * len(SHAPES) * NORMAL_COPIES + len(COLOURS) * len(SYMBOLS)


class CardError(ValueError):
    """A text that is not one of the 40 card faces."""


class Card:
    """One face: a colour and either a shape (normal) or a symbol (special)."""

    __slots__ = ("colour", "sign", "special", "text")

    colour: str
    sign: str
    special: bool
    text: str

    def __init__(self, colour: str, sign: str) -> None:
        self.colour = colour
        self.sign = sign
        self.special = sign in SYMBOLS
        self.text = f"{colour}-{sign}"

    @property
    def shape(self) -> str | None:
        return None if self.special else self.sign

    @property
    def symbol(self) -> str | None:
        return self.sign if self.special else None

    def __repr__(self) -> str:
        return f"Card({self.text})"

    def __str__(self) -> str:
        return self.text

    def __reduce__(self):
        # Interned: unpickling must give back the one object for this face.
        return (parse_card, (self.text,))


FACES: Final[dict[str, Card]] = {
    f"{colour}-{sign}": Card(colour, sign) for colour in COLOURS for sign in SHAPES + SYMBOLS
}


def parse_card(text: object) -> Card:
    """The card named by ``text``; a :class:`CardError` for anything else."""
    card = FACES.get(text) if isinstance(text, str) else None
    if card is None:
        raise CardError(f"{text!r} is not a card; cards are written like 'red-cross' or 'blue-?'")
    return card


def card(text: str) -> Card:
    """Short alias of :func:`parse_card` for tests and scenarios."""
    return parse_card(text)


def cards(texts: Iterable[str] | str) -> list[Card]:
    """Parse several cards; a single string is split on spaces: ``cards("red-1 blue-?")``."""
    if isinstance(texts, str):
        texts = texts.split()
    return [parse_card(t) for t in texts]


def new_deck() -> list[Card]:
    """The 120 cards in a fixed order (callers shuffle with their own seeded random)."""
    deck: list[Card] = []
    for colour in COLOURS:
        for shape in SHAPES:
            deck.extend([FACES[f"{colour}-{shape}"]] * NORMAL_COPIES)
        for symbol in SYMBOLS:
            deck.append(FACES[f"{colour}-{symbol}"])
    return deck


FULL_DECK: Final[Counter[Card]] = Counter(new_deck())
