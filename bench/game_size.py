"""How big a finished game is on disk, before and after its messages are pruned.

A room keeps every message it sent each seat while its game runs (so a player who
reconnects is sent exactly what it missed) and for ``finished_linger`` seconds after
(a late reconnection is told the result); then the server prunes the messages and
keeps the room, its players, its move log (what the table was told of each move)
and its result: what ``cardgame games`` and ``cardgame replay`` read.

For 2, 4 and 8 seats, ``--games`` complete games are played by network players (every
seat a person, ``fsm.bots`` deciding) on a server run in this process on a fresh
SQLite file, with a linger long enough that nothing is pruned yet. Then the file is
measured twice, each time VACUUMed first (so free pages do not count): as it is (a
finished game before pruning), and once the server's own pruning
(``Store.prune_finished``) has run. The bytes are SQLite's own count of the pages
each table and index takes (the ``dbstat`` table) less those of an empty database,
per game. Standard library and the project only.

    .venv/bin/python bench/game_size.py              # markdown
    .venv/bin/python bench/game_size.py --games 20 --json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import trio
from common import machine, reproduce
from load import SEATING_CONCURRENCY, Totals, player, seat_room

from cardgame.net.config import ServerConfig
from cardgame.net.server import serve
from cardgame.net.sqlite_store import SqliteStore

#: The load comes from one address: the per-address limits are lifted, as in bench/.
CONFIG = ServerConfig(port=0, finished_linger=3600, max_connections_per_address=100_000,
                      max_rooms_per_address=100_000, room_burst=100_000)  # fmt: skip


def table_bytes(db: Path) -> dict[str, int]:
    """Bytes of pages per table and index, once VACUUMed (a copy: ``db`` stays as is)."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "copy.db"
        source = sqlite3.connect(db)
        target = sqlite3.connect(copy)
        source.backup(target)
        source.close()
        target.execute("VACUUM")
        sizes = dict(target.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
        target.close()
    return sizes


def rows(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


async def play_games(db: Path, seats: int, games: int) -> Totals:
    """``games`` games of ``seats`` people, played to the end on a server of this
    process; it stops within their linger, so nothing is pruned yet."""
    store = SqliteStore(db)
    totals = Totals()
    try:
        async with trio.open_nursery() as nursery:
            server = await nursery.start(serve, CONFIG, store)
            tickets: list[list[dict[str, Any]]] = [[] for _ in range(games)]
            limit = trio.Semaphore(SEATING_CONCURRENCY)
            async with trio.open_nursery() as seating:
                for number in range(games):
                    seating.start_soon(seat_room, server.url, f"size-{number}", seats, limit,
                                       tickets[number])  # fmt: skip
            with trio.fail_after(600):
                async with trio.open_nursery() as playing:
                    for game in tickets:
                        for ticket in game:
                            playing.start_soon(player, server.url, ticket, "greedy", totals)
            nursery.cancel_scope.cancel()
    finally:
        store.close()
    return totals


async def prune(db: Path) -> None:
    """What the server does once the linger is over, for every game at once."""
    store = SqliteStore(db)
    try:
        await store.prune_finished(time.time() + 1)
    finally:
        store.close()


async def measure(seats: int, games: int, workdir: Path) -> dict[str, Any]:
    empty = workdir / "empty.db"
    if not empty.exists():
        SqliteStore(empty).close()
    baseline = table_bytes(empty)
    db = workdir / f"seats-{seats}.db"
    started = time.perf_counter()
    totals = await play_games(db, seats, games)
    if totals.failures or totals.id_errors:
        raise SystemExit(f"{seats} seats: {totals.failures or totals.id_errors}")
    unpruned = workdir / f"seats-{seats}-unpruned.db"
    shutil.copy(db, unpruned)  # closed: the WAL is checkpointed into the file
    await prune(db)

    def per_game(sizes: dict[str, int]) -> dict[str, float]:
        grown = {name: sizes.get(name, 0) - baseline.get(name, 0) for name in sizes}
        return {name: size / games for name, size in grown.items() if size}

    before, after = per_game(table_bytes(unpruned)), per_game(table_bytes(db))
    return {
        "seats": seats,
        "games": games,
        "moves_per_game": totals.moves / games,
        "messages_per_game": rows(unpruned, "messages") / games,
        "move_log_rows_per_game": rows(db, "moves") / games,
        "before_bytes": sum(before.values()),
        "after_bytes": sum(after.values()),
        "before_by_table": before,
        "after_by_table": after,
        "messages_left": rows(db, "messages"),
        "seconds": time.perf_counter() - started,
    }


def kb(size: float) -> str:
    return f"{size / 1024:.1f} KB"


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "## A game on disk (bench/game_size.py)",
        "",
        f"Machine: {machine()}. Reproduce: `{reproduce('game_size.py')}`.",
        "",
        "Bytes per finished game in the SQLite file (pages of its tables and indexes, "
        "VACUUMed, less an empty database's), every seat a network player, before and "
        "after the server prunes its messages (a minute after the end: the "
        "room, its players, its move log and its result are kept, which `cardgame games` "
        "and `cardgame replay` read).",
        "",
        "| seats | games | moves / game | messages / game | before pruning | after | "
        "kept | of which the move log |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        log = sum(v for k, v in r["after_by_table"].items() if "moves" in k)
        lines.append(
            f"| {r['seats']} | {r['games']} | {r['moves_per_game']:.0f} | "
            f"{r['messages_per_game']:.0f} | {kb(r['before_bytes'])} | {kb(r['after_bytes'])} "
            f"| {r['after_bytes'] / r['before_bytes']:.0%} | {kb(log)} |"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="cardgame-size-") as workdir:
        for seats in args.seats:
            results.append(await measure(seats, args.games, Path(workdir)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seats", type=lambda s: [int(x) for x in s.split(",")],
                        default=[2, 4, 8])  # fmt: skip
    parser.add_argument("--games", type=int, default=10, help="games per number of seats")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = trio.run(run, args)
    print(json.dumps(results) if args.json else markdown(results))


if __name__ == "__main__":
    main()
