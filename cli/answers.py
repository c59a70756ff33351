"""What a typed line means: the answer a prompt sends, a command, or why it is refused.

Rule: nothing the player types reaches the server unless it is a valid answer to the
question pending; anything else is explained here and asked again. Pure functions of
the line and the view the question carried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from cardgame.fsm.cards import parse_card
from cardgame.fsm.game import Q_DROP, Q_FIRST_PLAYER, Q_REQUEST, Q_TURN, Q_VOTE

from . import render
from .lines import Ask


@dataclass(frozen=True)
class Reply:
    """A typed line, understood: an answer's ``data``, a command, or why it is refused."""

    data: Any = None
    last_card: bool = False
    command: str | None = None  # "rules", "leave" or "say" (data: the chat line)
    error: str | None = None


def _refuse(why: str) -> Reply:
    return Reply(error=why)


#: What a chat line starts with, at any game prompt.
SAY: Final = "/say"


def _common(text: str) -> Reply | None:
    """What every game prompt accepts: ``r``, ``q`` and ``/say …`` (a chat line to the
    room); and an empty line is refused."""
    said = text.strip()
    if said.lower() == SAY or said.lower().startswith(SAY + " "):
        line = said[len(SAY) :].strip()
        if not line:
            return _refuse("Type something after /say, like `/say good luck`.")
        return Reply(data=line, command="say")
    word = said.lower()
    if word == "r":
        return Reply(command="rules")
    if word == "q":
        return Reply(command="leave")
    if not word:
        return _refuse("Nothing typed.")
    return None


def _numbers(text: str, size: int, what: str) -> list[int] | Reply:
    """Card or list numbers from 1 to ``size``, distinct; or the refusal that explains."""
    tokens = text.replace(",", " ").split()
    if not all(t.isdigit() for t in tokens):
        return _refuse(f"{text.strip()!r} is not {what}.")
    numbers = [int(t) for t in tokens]
    wrong = [n for n in numbers if not 1 <= n <= size]
    if wrong:
        return _refuse(f"There is no number {wrong[0]}: choose from 1 to {size}.")
    if len(set(numbers)) != len(numbers):
        return _refuse("Each number once: for two cards type two different numbers, like `3 5`.")
    return numbers


def parse_turn(text: str, view: dict[str, Any]) -> Reply:
    """``3``, ``3 5``, ``d``, with ``!`` after a play to announce the last card."""
    common = _common(text)
    if common is not None:
        return common
    words = text.strip().lower()
    announce = words.endswith("!")
    words = words.rstrip("!").strip()
    hand = view["hand"]
    if words == "d":
        if announce:
            return _refuse("`!` goes with a play, like `3!`: drawing never leaves you one card.")
        return Reply(data=[])
    if not words:
        return _refuse("`!` goes after the card numbers you play, like `3!` or `3 5!`.")
    what = "a card number: type `3` or `3 5` for a combination, or `d` to draw"
    numbers = _numbers(words, len(hand), what)
    if isinstance(numbers, Reply):
        return numbers
    if len(numbers) > 2:
        return _refuse("Play one card, or a combination of two (`3 5`), not more.")
    return Reply(data=[hand[n - 1] for n in numbers], last_card=announce)


def parse_drop(text: str, view: dict[str, Any], count: int) -> Reply:
    """Exactly ``count`` normal cards of the hand, by number."""
    common = _common(text)
    if common is not None:
        return common
    hand = view["hand"]
    what = "a card number, like `2`" if count == 1 else f"{count} card numbers, like `2 4`"
    numbers = _numbers(text, len(hand), what)
    if isinstance(numbers, Reply):
        return numbers
    if len(numbers) != count:
        return _refuse(f"Drop exactly {count} card{'s' if count != 1 else ''}.")
    special = [n for n in numbers if parse_card(hand[n - 1]).special]
    if special:
        name = render.card_name(hand[special[0] - 1])
        return _refuse(f"Card {special[0]} ({name}) is special: only normal cards can be dropped.")
    return Reply(data=[hand[n - 1] for n in numbers])


def parse_option(text: str, options: list[str]) -> Reply:
    """One of ``options`` (a colour or a shape), by number or by name."""
    common = _common(text)
    if common is not None:
        return common
    word = text.strip().lower()
    if word.isdigit() and 1 <= int(word) <= len(options):
        return Reply(data=options[int(word) - 1])
    if word in options:
        return Reply(data=word)
    return _refuse(f"Type a number from 1 to {len(options)}, or one of: {', '.join(options)}.")


def parse_first_player(text: str, view: dict[str, Any], options: list[int]) -> Reply:
    """A player's number as listed (from 1); the server wants the seat (from 0)."""
    common = _common(text)
    if common is not None:
        return common
    word = text.strip()
    if word.isdigit() and int(word) - 1 in options:
        return Reply(data=int(word) - 1)
    return _refuse(f"Type a player's number, from 1 to {len(view['players'])}.")


def parse_vote(text: str) -> Reply:
    common = _common(text)
    if common is not None:
        return common
    word = text.strip().lower()
    if word in ("y", "yes"):
        return Reply(data="yes")
    if word in ("n", "no"):
        return Reply(data="no")
    return _refuse("Type `y` (a computer takes the seat) or `n` (the game ends).")


def parse_answer(ask: Ask, text: str) -> Reply:
    common = _common(text)
    if common is not None and common.command == "say":  # a chat line, whatever is asked
        return common
    view = ask.view or {}
    if ask.kind == Q_TURN:
        return parse_turn(text, view)
    if ask.kind == Q_DROP:
        return parse_drop(text, view, ask.count)
    if ask.kind == Q_REQUEST:
        return parse_option(text, ask.options)
    if ask.kind == Q_FIRST_PLAYER:
        return parse_first_player(text, view, ask.options)
    if ask.kind == Q_VOTE:
        return parse_vote(text)
    common = _common(text)
    return common or _refuse(
        "Nothing is asked of you now: wait, `/say …` to chat, `r` for the rules, `q` to leave."
    )
