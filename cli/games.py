"""``cardgame games`` and ``cardgame replay``: what the databases remember.

Without ``--db`` both of the user's databases are read: the server's
(``cardgame serve``) and the one ``cardgame play --computers`` keeps its games in. Each
command says which database it read. A replay reads as the game did: the sentences
the table was told at each move (kept with the move), computers' moves included, with
cards named as the terminal names them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from cardgame.cli.serve import default_db, local_db, open_store
from cardgame.net.store import Store, StoredRoom, shown

_DB = click.option(
    "--db",
    default=None,
    help="SQLite file, or the postgresql://… database of several servers [default: the "
    "server's database and the local games' one, in the user data directory].",
)


def _databases(db: str | None) -> list[str]:
    """The files to read: the one named, else the user's two that exist (the server's
    is named even when missing, so that the error says where it looked)."""
    if db is not None:
        return [db]
    found = [str(p) for p in (default_db(), local_db()) if Path(p).is_file()]
    return found or [str(default_db())]


@contextmanager
def _reading(path: str) -> Iterator[Store]:
    store = open_store(path, readonly=True)
    try:
        yield store
    finally:
        store.close()


def _names(room: StoredRoom) -> list[str]:
    """Every seat's name once the game began (computers too), else the people seated."""
    return [s["name"] for s in (room.snapshot or {}).get("seats", [])] or [
        p["name"] for p in room.players
    ]


# How a game ended without a winner, in the words the table used.
RESULT_WORDS = {
    "no_humans": "ended: no human player remained",
    "vote_failed": "ended: the vote for a computer player failed",
}


def _result_line(result: dict | None, names: list[str]) -> str:
    if result is None:
        return "unfinished"
    winner = result.get("winner")
    if isinstance(winner, int) and winner < len(names):
        return f"won by {names[winner]}"
    reason = result.get("reason")
    return RESULT_WORDS.get(reason, f"ended ({reason})")


@click.command()
@_DB
def games(db: str | None) -> None:
    """List the games in the database: finished ones with their result, unfinished ones
    (restored when the server starts).

    Example: cardgame games --db ~/.local/share/cardgame/cardgame.db
    """
    for path in _databases(db):
        with _reading(path) as store:
            click.echo(f"database: {shown(path)}")
            rooms = store.all_rooms()
            if not rooms:
                click.echo("no games yet")
            for room in rooms:
                names = _names(room)
                click.echo(f"{room.room_id}  {room.name:<20} {room.size} seats  "
                           f"{room.moves_logged:>4} moves  {_result_line(room.result, names)}"
                           f"  [{', '.join(names)}]")  # fmt: skip


def _in_words(text: str) -> str:
    """A server sentence with its cards named as on the screen: ``red-1`` → ``red pick-one``."""
    from cardgame.cli import render

    return render.CARD_IN_TEXT.sub(lambda match: render.card_name(match.group(0)), text)


def _move_words(move: dict[str, Any], names: list[str]) -> str:
    """A logged move as the table was told it; a move logged before stories were kept
    (an older database) is said from its event."""
    event = move["event"]
    if event.get("action") == "chat":  # as it was typed: its words are not the table's
        watching = " (watching)" if event.get("spectator") else ""
        return f"{event['from']}{watching}: {event['text']}"
    if event.get("told"):
        return _in_words(" ".join(event["told"]))
    seat = move["seat"]
    who = names[seat] if seat is not None and seat < len(names) else "the server"
    action = event.get("action")
    if action == "answer":
        data = event.get("data")
        if isinstance(data, list):
            said = f"plays {' '.join(data)}" if data else "draws"
        else:
            said = f"answers {data}"
        return _in_words(f"{who} {said}" + (", announcing the last card." if event.get(
            "last_card") else "."))  # fmt: skip
    said = {"leave": "asks to leave", "LEAVE": "leaves", "begin": "The game begins",
            "first_player_timeout": "Nobody chose who plays first: chosen at random",
            "grace_expired": "did not come back in time",
            "time_ran_out": "ran out of time"}.get(action, action)  # fmt: skip
    return f"{said}." if action in ("begin", "first_player_timeout") else f"{who} {said}."


@click.command()
@click.argument("room_id")
@_DB
def replay(room_id: str, db: str | None) -> None:
    """Print a game as its table was told it, move by move, and its result.

    Example: cardgame replay 3f9a0c1d
    """
    paths = _databases(db)
    for path in paths:
        with _reading(path) as store:
            room = store.room(room_id)
            if room is None:
                continue
            click.echo(f"database: {shown(path)}")
            names = _names(room)
            click.echo(f'{room.room_id} "{room.name}": {", ".join(names)}')
            for move in store.moves(room_id):
                at = time.strftime("%H:%M:%S", time.localtime(move["at"]))
                click.echo(f"{move['n']:>4} {at} {_move_words(move, names)}")
            click.echo(_result_line(room.result, names))
            return
    raise click.ClickException(f"there is no game {room_id!r} in {' or '.join(map(shown, paths))}")
