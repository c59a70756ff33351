"""``cardgame bots``: network computer players against a real server on loopback."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import trio
from click.testing import CliRunner
from rich.console import Console

from cardgame.cli.bots_cmd import room_sizes, run_bots
from cardgame.cli.main import main
from cardgame.net.client import GameClient, LobbyClient, play_with_bot


def console() -> Console:
    return Console(file=io.StringIO(), width=100, highlight=False)


async def test_bots_create_rooms_and_stop_after_the_games_asked(server):
    out = console()
    with trio.fail_after(20):
        tally = await run_bots(server.url, count=5, rooms=2, games=3, console=out)
    assert tally.finished == 3 and tally.started == 3
    assert tally.moves > 0 and tally.rooms == 0
    assert "games finished 3/3" in out.file.getvalue()
    assert "moves/s" in out.file.getvalue()


async def test_bots_join_a_room_a_person_opened(server):
    async with LobbyClient.connect(server.url) as lobby:
        ticket = await lobby.create_room("ada's table", 3, "ada")

    async def ada() -> None:
        async with GameClient.connect(server.url, ticket) as game:
            final = await play_with_bot(game, "greedy", 1)
        names = [p["name"] for p in final["payload"]["data"]["players"]]
        assert names[0] == "ada" and all(n.startswith("bot") for n in names[1:])

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ada)
            tally = await run_bots(server.url, count=2, games=1, join=True, console=console())
    assert tally.finished == 1


async def test_bots_refused_for_flooding_send_their_answer_again(start_server):
    """A server stricter than the protocol's 20 a second: refusals, and the game still ends."""
    server = await start_server(rate=8.0, burst=8.0)
    with trio.fail_after(20):
        tally = await run_bots(server.url, count=2, games=1, console=console())
    assert tally.finished == 1


def cardgame_command() -> list[str]:
    script = Path(sys.executable).with_name("cardgame")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from cardgame.cli.main import main; main()"]


async def test_cardgame_bots_command_finishes_its_games(server):
    command = [*cardgame_command(), "bots", "--server", server.url, "--count", "2", "--games", "2"]
    with trio.fail_after(30):
        done = await trio.run_process(
            command, capture_stdout=True, capture_stderr=True, check=False, env=dict(os.environ)
        )
    assert done.returncode == 0, done.stderr.decode()
    assert "2 game(s) finished" in done.stdout.decode()


def test_a_room_seats_two_to_eight():
    assert room_sizes(9, 2) == [5, 4]
    assert room_sizes(20) == [7, 7, 6]  # the fewest rooms
    result = CliRunner().invoke(main, ["bots", "--count", "20", "--rooms", "1"])
    assert result.exit_code == 2 and "a room seats 2 to 8" in result.output


def test_bots_help_has_an_example():
    result = CliRunner().invoke(main, ["bots", "--help"])
    assert "Example: cardgame bots --server ws://127.0.0.1:8888" in result.output
