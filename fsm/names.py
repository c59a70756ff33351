"""What a name (and any text a player shows others) may be: pure rules, no I/O.

Rule 1: a name is compared and shown in its NFKC form, so "ａｄａ" (fullwidth) *is*
"ada". Rule 2: two names that look alike are the same name: their skeletons (casefolded,
NFKC, Cyrillic and Greek look-alikes of Latin letters mapped to them, digits that pass
for letters too) are equal. Rule 3: a name must show something: control, format (bidi,
zero-width), private-use and unassigned characters are refused anywhere, and a name of
nothing but spaces, combining marks and the "filler" characters that render blank
(U+3164, U+2800, ...) is refused. Rule 4: combining marks stack at most
:data:`MAX_MARKS` deep. Rule 5: the names the server gives (``computer-N``) and the
labels terminals add (``(you)``, ``(computer)``) belong to nobody.

:func:`check_text` is rules 3 and 4 alone, for text that is not a name (chat).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

MAX_NAME: Final = 32
#: Combining marks allowed on one character (enough for Vietnamese, not for "zalgo").
MAX_MARKS: Final = 2

#: Categories refused anywhere: control, format (bidi controls, zero-width), surrogate,
#: private use, unassigned, line and paragraph separators.
REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: Letters and symbols that render as nothing (Unicode's default-ignorable fillers,
#: the braille blank, the Hangul fillers, ...).
BLANK_CHARACTERS: Final = frozenset(
    "\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0\u034f\u2060\u3000\u00a0"
)

#: Look-alikes of Latin letters (Cyrillic, Greek, and symbols): a small part of
#: Unicode's confusables table (UTS #39), for the lower-case forms casefold gives.
CONFUSABLES: Final = {
    # Cyrillic
    "а": "a", "б": "6", "в": "b", "г": "r", "д": "a", "е": "e", "ё": "e", "з": "3",
    "и": "u", "к": "k", "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ь": "b", "ѕ": "s", "і": "i", "ї": "i", "ј": "j",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ү": "y", "ѵ": "v", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "σ": "o", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c",
    "ϳ": "j", "ζ": "z",
    # Latin
    "ı": "i", "ɩ": "i", "ȷ": "j", "ƅ": "b",
}  # fmt: skip
#: Digits and signs that pass for letters (in a skeleton only, never in a reserved name).
DIGIT_CONFUSABLES: Final = {"0": "o", "1": "l", "|": "l", "5": "s"}
_LETTERS: Final = str.maketrans(CONFUSABLES)
_DIGITS: Final = str.maketrans(DIGIT_CONFUSABLES)

#: Names the server gives its computer players, and labels terminals add to names.
_RESERVED_NAME: Final = re.compile(r"computer-?\d*")
RESERVED_LABELS: Final = ("(you)", "(computer)")


class NameError_(ValueError):  # noqa: N801 - "NameError" is a builtin
    """Why a name (or a text) is refused, as a sentence for the player."""


def _category(char: str) -> str:
    return unicodedata.category(char)


def _is_mark(char: str) -> bool:
    return _category(char) in ("Mn", "Me")


def check_text(text: str) -> str:
    """Text in NFKC form, or :class:`NameError_`: nothing hidden, nothing stacked."""
    text = unicodedata.normalize("NFKC", text)
    stacked = 0
    for char in unicodedata.normalize("NFD", text):  # accents counted apart from letters
        if _category(char) in REFUSED_CATEGORIES:
            name = unicodedata.name(char, f"U+{ord(char):04X}")
            raise NameError_(f"{name.lower()} is not allowed")
        stacked = stacked + 1 if _is_mark(char) else 0
        if stacked > MAX_MARKS:
            raise NameError_(f"at most {MAX_MARKS} accents on one letter")
    return text


def renders_blank(text: str) -> bool:
    """Nothing but spaces, combining marks and characters that draw nothing."""
    return all(
        char.isspace() or _is_mark(char) or char in BLANK_CHARACTERS or _category(char) == "Zs"
        for char in text
    )


def _letters(name: str) -> str:
    """Casefolded, accents off, look-alike letters mapped to Latin, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    stripped = "".join(c for c in unicodedata.normalize("NFD", folded) if not _is_mark(c))
    return " ".join(stripped.translate(_LETTERS).split())


def skeleton(name: str) -> str:
    """The form two look-alike names share (compare skeletons, never show them)."""
    return _letters(name).translate(_DIGITS)


def check_name(name: str, reserved: bool = True) -> str:
    """The name as it will be shown (NFKC, trimmed), or :class:`NameError_`; with
    ``reserved`` False (a room's name) rule 5 does not apply."""
    shown = check_text(name).strip()
    if not shown or renders_blank(shown):
        raise NameError_(f"names are 1 to {MAX_NAME} characters, and must show something")
    if len(shown) > MAX_NAME:
        raise NameError_(f"names are at most {MAX_NAME} characters")
    if any(c in BLANK_CHARACTERS for c in shown):
        raise NameError_("a name may not hold characters that draw nothing")
    if not reserved:
        return shown
    flat = _letters(shown).replace(" ", "")
    if _RESERVED_NAME.fullmatch(flat):
        raise NameError_(f"{shown!r} is reserved: the server names its computer players so")
    if any(label in flat for label in RESERVED_LABELS):
        raise NameError_("(you) and (computer) are reserved: clients mark players with them")
    return shown


def looks_alike(one: str, other: str) -> bool:
    """Whether the two names would be mistaken for each other in a player list."""
    return skeleton(one) == skeleton(other)
