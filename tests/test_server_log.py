"""``cardgame serve`` logs one line per room event (README, "How to host")."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

from test_scenario_b import scenario_b

from cardgame.net.client import LobbyClient


async def test_a_vote_a_computer_taking_a_seat_and_the_end_each_have_a_line(server, caplog):
    caplog.set_level(logging.INFO, logger="cardgame.net")
    outcome = await scenario_b(server, 3, leavers=[1], vote="yes")
    await outcome["room"].done.wait()
    room_id = outcome["room"].room_id
    lines = [r.getMessage() for r in caplog.records if room_id in r.getMessage()]
    assert f"room {room_id}: p0 votes yes" in lines and f"room {room_id}: p2 votes yes" in lines
    assert f"room {room_id}: a computer takes p1's seat" in lines
    assert (
        f"room {room_id}: p1 took a seat" in lines and f"room {room_id}: p1 asks to leave" in lines
    )
    assert f"room {room_id}: p1 left" in lines and f"room {room_id}: the game begins" in lines
    assert any(line.startswith(f"room {room_id}: the game is over (won, ") for line in lines)


async def test_one_computer_is_one_computer(server, caplog):
    caplog.set_level(logging.INFO, logger="cardgame.net")
    async with LobbyClient.connect(server.url) as lobby:
        await lobby.create_room("solo", 2, "ada", computers=1)
    [line] = [r.getMessage() for r in caplog.records if "created by ada" in r.getMessage()]
    assert "(solo, 2 seats, 1 computer) created by ada" in line


def test_cardgame_serve_says_where_it_listens_once(tmp_path):
    command = [str(Path(sys.executable).with_name("cardgame")), "serve", "--port", "0", "--db",
               str(tmp_path / "games.db")]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as p:
        assert p.stdout is not None
        lines = [p.stdout.readline(), p.stdout.readline()]  # listening, database
        p.send_signal(signal.SIGINT)
        lines += p.stdout.readlines()
    assert sum("listening on" in line for line in lines) == 1, lines
    assert lines[1] == f"database: {tmp_path / 'games.db'}\n"
