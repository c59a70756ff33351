"""The server killed with SIGKILL mid-game and started again on the same SQLite file.

The server is a real ``cardgame serve`` subprocess. The players' clients reconnect by
themselves (backoff with jitter) and the game completes with the same hands and
turn; per player, the ids received are exactly 1..n: nothing lost, nothing twice.
Also: ``cardgame games`` / ``replay`` read the finished game, and a database that is
not ours stops ``cardgame serve`` with a clear error and is never written.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import trio
from click.testing import CliRunner

from cardgame.cli.main import main
from cardgame.net.client import Backoff, GameClient

from tables import event_of, fill_room, play_on

CARDGAME = str(Path(sys.executable).with_name("cardgame"))
RECONNECT = Backoff(first=0.05, cap=0.5, attempts=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_serve(nursery: trio.Nursery, db: Path, port: int) -> tuple[trio.Process, list]:
    """``cardgame serve`` as a subprocess; returns once it listens, with its output lines."""
    command = [CARDGAME, "serve", "--port", str(port), "--db", str(db)]
    process = await trio.lowlevel.open_process(command, stdout=-1, stderr=-2)
    lines: list[str] = []
    listening = trio.Event()

    async def read_output() -> None:
        buffer = b""
        async for chunk in process.stdout:
            buffer += chunk
            *done, buffer = buffer.split(b"\n")
            for line in done:
                lines.append(line.decode())
                if "listening on" in lines[-1]:
                    listening.set()

    nursery.start_soon(read_output)
    with trio.fail_after(20):
        await listening.wait()
    return process, lines


async def test_kill_9_mid_game_then_restart_every_game_completes(tmp_path):
    db, port = tmp_path / "games.db", free_port()
    url = f"ws://127.0.0.1:{port}"
    results: dict = {}
    received = 0
    halfway = trio.Event()
    with trio.fail_after(90):
        async with trio.open_nursery() as nursery:
            first, _ = await start_serve(nursery, db, port)
            tickets = await fill_room(url, 4, computers=1)

            async def player(seat, ticket) -> None:
                nonlocal received
                async with GameClient.connect(url, ticket, backoff=RECONNECT, seed=seat) as client:
                    original = client.receive

                    async def counting() -> dict:
                        nonlocal received
                        message = await original()
                        received += 1
                        if received >= 30:
                            halfway.set()
                        return message

                    client.receive = counting  # type: ignore[method-assign]
                    results[seat] = (await play_on(client, seed=seat), client)

            async with trio.open_nursery() as players:
                for seat, ticket in enumerate(tickets):
                    players.start_soon(player, seat, ticket)
                await halfway.wait()
                first.kill()  # SIGKILL: no goodbye, no flush beyond what was committed
                await first.wait()
                second, lines = await start_serve(nursery, db, port)
            second.terminate()
            await second.wait()
    assert any(f"restored room {tickets[0].room_id}" in line for line in lines), lines
    finals = [final["payload"]["data"]["result"] for final, _ in results.values()]
    assert len(finals) == 3 and all(f == finals[0] for f in finals)
    assert finals[0]["reason"] == "won"
    for seat, (final, client) in sorted(results.items()):
        ids = [int(m["msg_id"]) for m in client.received]
        assert ids == list(range(1, len(ids) + 1)), f"seat {seat}: gap or repeat in {ids}"
        assert client.duplicates == 0 and client.reconnects >= 1
        assert event_of(final) == "game_over"
        print(f"seat {seat}: ids 1..{len(ids)}, no gap, no repeat; "
              f"{client.reconnects} reconnection(s)")  # fmt: skip

    runner = CliRunner()
    listing = runner.invoke(main, ["games", "--db", str(db)])
    assert listing.exit_code == 0 and tickets[0].room_id in listing.output
    assert "won, winner" in listing.output
    replay = runner.invoke(main, ["replay", tickets[0].room_id, "--db", str(db)])
    assert replay.exit_code == 0
    assert '"action": "answer"' in replay.output and "won, winner" in replay.output


def test_serve_refuses_a_database_that_is_not_ours(tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"shopping list: eggs, milk\n" * 100)
    before = junk.read_bytes()
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--db", str(junk)])
    assert result.exit_code == 1
    assert "not a cardgame database" in result.output and "untouched" in result.output
    assert junk.read_bytes() == before


def test_replay_of_an_unknown_game(tmp_path):
    result = CliRunner().invoke(main, ["replay", "nope", "--db", str(tmp_path / "g.db")])
    assert result.exit_code == 1 and "no game 'nope'" in result.output
