"""The server killed with SIGKILL mid-game and started again on the same SQLite file.

The server is a real ``cardgame serve`` subprocess. The players' clients reconnect by
themselves (backoff with jitter) and the game completes with the same hands and
turn; per player, the ids received are exactly 1..n: nothing lost, nothing twice.
Also: ``cardgame games`` / ``replay`` read the finished game, and a database that is
not ours stops ``cardgame serve`` with a clear error and is never written.
"""

from __future__ import annotations

import re
from pathlib import Path

import trio
from click.testing import CliRunner

from cardgame.cli.main import main
from cardgame.net.client import Backoff, GameClient
from cardgame.net.sqlite_store import SqliteStore

from tables import event_of, fill_room, free_port, play_on, start_serve

RECONNECT = Backoff(first=0.05, cap=0.5, attempts=60)


async def play_through_a_crash(tmp_path: Path, rooms: int) -> tuple[list, dict, list[str]]:
    """``rooms`` rooms of 3 people and a computer play; the server is killed with SIGKILL
    once a tenth of a game's messages per room have gone out, and restarted."""
    db, port = tmp_path / "games.db", free_port()
    url = f"ws://127.0.0.1:{port}"
    results: dict = {}
    received = 0
    halfway = trio.Event()
    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            first, _ = await start_serve(nursery, db, port)
            rooms_tickets = [await fill_room(url, 4, computers=1) for _ in range(rooms)]

            async def player(key, ticket) -> None:
                async with GameClient.connect(url, ticket, backoff=RECONNECT, seed=hash(key)) as c:
                    original = c.receive

                    async def counting() -> dict:
                        nonlocal received
                        message = await original()
                        received += 1
                        if received >= 30 * rooms:
                            halfway.set()
                        return message

                    c.receive = counting  # type: ignore[method-assign]
                    results[key] = (await play_on(c, seed=key[1]), c)

            async with trio.open_nursery() as players:
                for number, tickets in enumerate(rooms_tickets):
                    for seat, ticket in enumerate(tickets):
                        players.start_soon(player, (number, seat), ticket)
                await halfway.wait()
                first.kill()  # SIGKILL: no goodbye, no flush beyond what was committed
                await first.wait()
                second, lines = await start_serve(nursery, db, port)
            second.terminate()
            await second.wait()
    return rooms_tickets, results, lines


def check_every_game(rooms_tickets: list, results: dict, lines: list[str]) -> None:
    """Every game completed, the same result for its players, ids 1..n per player."""
    for number, tickets in enumerate(rooms_tickets):
        room_id = tickets[0].room_id
        finals = [results[number, seat][0]["payload"]["data"]["result"] for seat in range(3)]
        assert all(f == finals[0] for f in finals) and finals[0]["reason"] == "won"
        assert event_of(results[number, 0][0]) == "game_over"
        # A room that had finished before the kill is not restored: a player who had not
        # read its end yet reconnects, gets what it missed, and game_finished.
        assert any(f"restored room {room_id}" in line for line in lines) or all(
            results[number, seat][1].reconnects == 0
            or any(e["payload"]["data"]["code"] == "game_finished"
                   for e in results[number, seat][1].errors)
            for seat in range(3)
        )  # fmt: skip
    for key, (_, client) in sorted(results.items()):
        ids = [int(m["msg_id"]) for m in client.received]
        assert ids == list(range(1, len(ids) + 1)), f"{key}: gap or repeat in {ids}"
        assert client.duplicates == 0


async def test_kill_9_mid_game_then_restart_the_game_completes(tmp_path):
    rooms_tickets, results, lines = await play_through_a_crash(tmp_path, rooms=1)
    check_every_game(rooms_tickets, results, lines)
    for key, (_, client) in sorted(results.items()):
        ids = [int(m["msg_id"]) for m in client.received]
        assert client.reconnects >= 1
        print(f"seat {key[1]}: ids 1..{len(ids)}, no gap, no repeat; "
              f"{client.reconnects} reconnection(s)")  # fmt: skip

    db, room_id = tmp_path / "games.db", rooms_tickets[0][0].room_id
    runner = CliRunner()
    listing = runner.invoke(main, ["games", "--db", str(db)])
    assert listing.exit_code == 0 and room_id in listing.output
    assert re.search(r"won by (p[0-2]|computer-1) ", listing.output)
    replay = runner.invoke(main, ["replay", room_id, "--db", str(db)])
    assert replay.exit_code == 0
    assert "The game begins." in replay.output and " plays first." in replay.output
    assert re.search(r"won by (p[0-2]|computer-1)$", replay.output, re.M)
    assert "{" not in replay.output  # words, not JSON


async def test_kill_9_during_a_20_room_load_every_game_completes(tmp_path):
    rooms_tickets, results, lines = await play_through_a_crash(tmp_path, rooms=20)
    check_every_game(rooms_tickets, results, lines)
    assert len(results) == 60
    assert sum(client.reconnects >= 1 for _, client in results.values()) >= 30


def test_serve_refuses_a_database_that_is_not_ours(tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"shopping list: eggs, milk\n" * 100)
    before = junk.read_bytes()
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--db", str(junk)])
    assert result.exit_code == 1
    assert "not a cardgame database" in result.output and "untouched" in result.output
    assert junk.read_bytes() == before


def test_replay_of_an_unknown_game_and_of_no_database(tmp_path):
    db = tmp_path / "g.db"
    missing = CliRunner().invoke(main, ["games", "--db", str(db)])
    assert missing.exit_code == 1 and "there is no database" in missing.output
    assert not db.exists()  # reading never creates a database
    SqliteStore(db).close()
    result = CliRunner().invoke(main, ["replay", "nope", "--db", str(db)])
    assert result.exit_code == 1 and "no game 'nope'" in result.output
