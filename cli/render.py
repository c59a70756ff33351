"""How the terminal client draws the game with ``rich``: cards, hands, the table, events.

Rule 1: this module only turns what the client was told (a message's ``data``, the
lobby's room lists) into renderables; it sends nothing and reads no input. Rule 2:
everything must still read right without colour (a pipe, a dumb terminal), so every
card says its colour and its shape or symbol in words beside its glyph.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from cardgame.fsm import rules
from cardgame.fsm.bots import bot_view
from cardgame.fsm.cards import COLOURS, SHAPES, SYMBOL_NAMES, SYMBOLS, parse_card
from cardgame.fsm.game import FINISHED, WAITING

COLOUR_STYLES: Final = {
    "red": "bold red",
    "blue": "bold bright_blue",
    "green": "bold green",
    "yellow": "bold yellow",
}

UNICODE_GLYPHS: Final = {
    "cross": "✚",
    "square": "■",
    "triangle": "▲",
    "circle": "●",
    "cup": "∪",
    "1": "+1",
    "2": "+2",
    "->": "»",
    "?": "?",
    "-": "−",
}
ASCII_GLYPHS: Final = {
    "cross": "+",
    "square": "#",
    "triangle": "^",
    "circle": "o",
    "cup": "u",
    "1": "+1",
    "2": "+2",
    "->": ">>",
    "?": "?",
    "-": "-",
}

# A card's wire text inside a server sentence ("ada played red-cross."): the longest
# signs first, so "green-->" is a skip and not a drop followed by ">".
_SIGNS = sorted(SHAPES + SYMBOLS, key=len, reverse=True)
CARD_IN_TEXT: Final = re.compile(
    rf"\b({'|'.join(COLOURS)})-({'|'.join(re.escape(s) for s in _SIGNS)})"
)


def glyphs_for(console: Console) -> dict[str, str]:
    """Unicode glyphs where the output can encode them, ASCII elsewhere."""
    encoding = (console.encoding or "").lower().replace("-", "")
    return UNICODE_GLYPHS if encoding.startswith("utf") else ASCII_GLYPHS


def card_name(text: str) -> str:
    """``red-cross`` → ``red cross``; ``blue-2`` → ``blue pick-two``."""
    card = parse_card(text)
    return f"{card.colour} {SYMBOL_NAMES[card.sign] if card.special else card.sign}"


def card(text: str, glyphs: dict[str, str] = UNICODE_GLYPHS) -> Text:
    """One card: its glyph, colour and shape or symbol, in its colour."""
    parsed = parse_card(text)
    return Text(f"{glyphs[parsed.sign]} {card_name(text)}", style=COLOUR_STYLES[parsed.colour])


def cards(texts: Sequence[str], glyphs: dict[str, str] = UNICODE_GLYPHS) -> Text:
    return Text(", ").join(card(t, glyphs) for t in texts) if texts else Text("nothing")


def sentence(text: str, glyphs: dict[str, str] = UNICODE_GLYPHS) -> Text:
    """A server sentence with every card in it drawn as a card."""
    out = Text()
    position = 0
    for match in CARD_IN_TEXT.finditer(text):
        out.append(text[position : match.start()])
        out.append_text(card(match.group(0), glyphs))
        position = match.end()
    out.append(text[position:])
    return out


def playable(view: dict[str, Any]) -> set[str]:
    """The cards of the hand that may be played alone now (a hint; the server decides)."""
    seen = bot_view(view)
    plays = rules.legal_plays(seen.hand, seen.top_card, seen.request, seen.penalty_symbol)
    return {play[0].text for play in plays if len(play) == 1}


def hand(
    view: dict[str, Any],
    glyphs: dict[str, str] = UNICODE_GLYPHS,
    marked: set[str] | None = None,
) -> RenderableType:
    """The hand, numbered from 1; ``marked`` cards get a ``*`` (those that match)."""
    items = []
    for number, text in enumerate(view["hand"], start=1):
        item = Text(f"{number:>2} ", style="bold")
        item.append_text(card(text, glyphs))
        item.append(" *" if marked and text in marked else "  ")
        items.append(item)
    if not items:
        return Text("Your hand is empty.")
    return Columns(items, padding=(0, 2))


def player_name(seat: int, player: dict[str, Any], you: int | None) -> str:
    """A player's name, and whether that is you or a computer."""
    if seat == you:
        return f"{player['name']} (you)"
    if player.get("computer"):
        return f"{player['name']} (computer)"
    return player["name"]


def players_line(view: dict[str, Any]) -> Text:
    """Every player and how many cards they hold; ``>`` marks whose turn it is."""
    line = Text("Players: ")
    for seat, player in enumerate(view["players"]):
        if seat:
            line.append(" | ")
        turn = seat == view.get("turn") and view.get("state") not in (WAITING, FINISHED)
        label = f"{'> ' if turn else ''}{seat + 1} {player_name(seat, player, view.get('you'))}"
        line.append(label, style="bold reverse" if turn else "")
        line.append(f" {player['cards']} card{'s' if player['cards'] != 1 else ''}")
    return line


def table(view: dict[str, Any], glyphs: dict[str, str] = UNICODE_GLYPHS) -> RenderableType:
    """The public table as this player sees it: top card, turn, counts, penalty, request."""
    top = Text("Top card: ")
    top.append_text(card(view["top_card"], glyphs) if view.get("top_card") else Text("none"))
    top.append(f"    Market: {view.get('market', '?')} cards")
    if view.get("watching"):
        top.append(f"    {view['watching']} watching")
    lines: list[RenderableType] = [top, players_line(view)]
    if view.get("penalty"):
        # Only 1s or only 2s stack: a pending penalty's symbol is the top card's (a
        # spectator's view has no hand, so not bot_view).
        symbol = parse_card(view["top_card"]).sign
        lines.append(
            Text(
                f"Penalty pending: pick {view['penalty']} (or stack another "
                f"{glyphs[symbol]} {SYMBOL_NAMES[symbol]})",
                style="bold red",
            )
        )
    if view.get("request"):
        lines.append(Text(f"? request: {view['request']} ({requested(view['request'])})",
                          style="bold"))  # fmt: skip
    return Group(*lines)


def requested(request: str) -> str:
    """What an ``?`` request asks of the next player: ``play a red card or a ? card``."""
    return f"play a {request} card or a ? card"


def picked(message: dict[str, Any], glyphs: dict[str, str] = UNICODE_GLYPHS) -> Text:
    """A pick notice (PICK_ONE / PICK_TWO): the reason and the cards picked."""
    payload = message["payload"]
    why = payload["data"].get("why", "")
    texts = payload.get("extra_data") or []
    if why == "draw":
        line = Text("You drew ", style="bold")
        line.append_text(cards(texts, glyphs))
        return line
    line = Text(f"!! You pick {len(texts)} (", style="bold red")
    line.append_text(sentence(why, glyphs))
    line.append("): ", style="bold red")
    line.append_text(cards(texts, glyphs))
    return line


def result(view: dict[str, Any]) -> RenderableType:
    """The game-over ranking."""
    outcome = view.get("result") or {}
    reason = outcome.get("reason")
    title = {
        "vote_failed": "Result (the vote for a computer player failed)",
        "no_humans": "Result (no human player remained)",
    }.get(reason, "Result")
    ranking = Table(title=title, show_edge=False)
    ranking.add_column("place", justify="right")
    ranking.add_column("player")
    ranking.add_column("cards left", justify="right")
    players = view.get("players") or []
    for place, entry in enumerate(outcome.get("ranking", []), start=1):
        seat = entry["seat"]
        player = players[seat] if seat < len(players) else {"name": entry["name"]}
        name = player_name(seat, {**player, "name": entry["name"]}, view.get("you"))
        style = "bold" if entry["seat"] == view.get("you") else ""
        ranking.add_row(str(place), name, str(entry["cards"]), style=style)
    lines: list[RenderableType] = [ranking]
    if outcome.get("winner") is not None and outcome["winner"] == view.get("you"):
        lines.append(Text("You win!", style="bold green"))  # who won is in the sentence above
    return Group(*lines)


def rooms(open_rooms: list[dict[str, Any]], creations: list[dict[str, Any]]) -> RenderableType:
    """The lobby: open rooms numbered from 1, then the rooms being created."""
    listing = Table(show_edge=False, title="Rooms")
    listing.add_column("#", justify="right")
    listing.add_column("room")
    listing.add_column("players")
    listing.add_column("seats left", justify="right")
    for number, room in enumerate(open_rooms, start=1):
        present = ", ".join([*(room.get("players") or []), *_computers_to_come(room)]) or "-"
        listing.add_row(
            str(number),
            room["room_name"],
            f"{present} ({room['num_of_players']} seats)",
            str(room["seats_left"]),
        )
    for number, creation in enumerate(creations, start=len(open_rooms) + 1):
        listing.add_row(str(number), "(being created)", f"by {creation['user_name']}", "?")
    return listing


def _computers_to_come(room: dict[str, Any]) -> list[str]:
    """The computer seats of a room not yet seated, which sit once the people's are taken."""
    seated = sum(1 for p in room.get("players", []) if isinstance(p, dict) and p.get("computer"))
    waiting = max(0, room.get("computers", 0) - seated)
    return [f"{waiting} computer player{'s' if waiting != 1 else ''}"] if waiting else []


def chat_line(said: dict[str, Any]) -> Text:
    """A chat line: the sender's name in bold (marked when they only watch), then the
    text as typed (the server refused what could hide or fake anything)."""
    line = Text(said["from"], style="bold magenta")
    if said.get("spectator"):
        line.append(" (watching)", style="magenta")
    line.append(": ")
    line.append(said["text"])
    return line


def roommates(data: dict[str, Any]) -> Text:
    """A waiting room's line: who is there and how many seats are left."""
    players = data.get("players", [])
    names = [player_name(seat, player, data.get("you")) for seat, player in enumerate(players)]
    names += _computers_to_come(data)
    left = data.get("seats_left", 0)
    waiting = (
        f"waiting for {left} more player{'s' if left != 1 else ''}"
        if left
        else "waiting for everyone to connect"
    )
    watching = f" {data['watching']} watching." if data.get("watching") else ""
    return Text(f"Room {data.get('room_name', '')}: {', '.join(names)}; {waiting}.{watching}")
