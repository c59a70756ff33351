"""``cardgame games`` and ``cardgame replay``: what the server's database remembers."""

from __future__ import annotations

import json
import time

import click

from cardgame.cli.serve import default_db, open_store
from cardgame.net.store import StoredRoom

_DB = click.option("--db", default=None, help="SQLite file (default: the user data directory).")


def _names(room: StoredRoom) -> list[str]:
    """Every seat's name once the game began (computers too), else the people seated."""
    return [s["name"] for s in (room.snapshot or {}).get("seats", [])] or [
        p["name"] for p in room.players
    ]


def _result_line(result: dict | None, names: list[str]) -> str:
    if result is None:
        return "unfinished"
    winner = result.get("winner")
    who = names[winner] if isinstance(winner, int) and winner < len(names) else "nobody"
    return f"{result.get('reason', 'finished')}, winner {who}"


@click.command()
@_DB
def games(db: str | None) -> None:
    """List the games in the database: finished ones with their result, unfinished ones
    (restored when the server starts).

    Example: cardgame games --db ~/.local/share/cardgame/cardgame.db
    """
    store = open_store(db or str(default_db()), readonly=True)
    try:
        rooms = store.all_rooms()
        if not rooms:
            click.echo("no games yet")
        for room in rooms:
            names = _names(room)
            click.echo(f"{room.room_id}  {room.name:<20} {room.size} seats  "
                       f"{room.moves_logged:>4} moves  {_result_line(room.result, names)}"
                       f"  [{', '.join(names)}]")  # fmt: skip
    finally:
        store.close()


@click.command()
@click.argument("room_id")
@_DB
def replay(room_id: str, db: str | None) -> None:
    """Print a game's move log, oldest first, and its result.

    Example: cardgame replay 3f9a0c1d
    """
    store = open_store(db or str(default_db()), readonly=True)
    try:
        room = store.room(room_id)
        if room is None:
            raise click.ClickException(f"there is no game {room_id!r} in the database")
        names = _names(room)
        click.echo(f"{room.room_id} {room.name!r}: {', '.join(names)}")
        for move in store.moves(room_id):
            seat = move["seat"]
            who = names[seat] if seat is not None and seat < len(names) else "server"
            at = time.strftime("%H:%M:%S", time.localtime(move["at"]))
            click.echo(f"{move['n']:>4} {at} {who:<12} {json.dumps(move['event'])}")
        click.echo(_result_line(room.result, names))
    finally:
        store.close()
