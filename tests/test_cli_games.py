"""``cardgame games`` and ``replay`` after a real ``cardgame play --computers`` game:
the local game is recorded, and its replay reads as the table was told it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

CARDGAME = str(Path(sys.executable).with_name("cardgame"))
WIRE_CARD = re.compile(r"\b(red|blue|green|yellow)-")


def run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
           "COLUMNS": "100"}  # fmt: skip
    return subprocess.run([CARDGAME, *args], input=stdin, capture_output=True, text=True,
                          timeout=120, env=env)  # fmt: skip


def test_a_game_against_computers_is_listed_and_replayed_in_the_tables_words(tmp_path):
    played = run(tmp_path, "play", "--computers", "2", "--name", "ada", stdin="1\n" + "d\n" * 3000)
    assert played.returncode == 0, played.stderr
    local = tmp_path / "cardgame" / "local.db"
    listed = run(tmp_path, "games")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0] == f"database: {local}"
    [line] = [
        line for line in listed.stdout.splitlines() if "[ada, computer-1, computer-2]" in line
    ]
    assert re.search(r"won by (ada|computer-[12])  \[", line)
    room_id = line.split()[0]

    replayed = run(tmp_path, "replay", room_id)
    assert replayed.returncode == 0, replayed.stderr
    lines = replayed.stdout.splitlines()
    assert lines[0] == f"database: {local}"
    assert "The game begins." in replayed.stdout and "ada plays first." in replayed.stdout
    assert re.search(r"computer-[12] (played|drew|took)", replayed.stdout)  # computers' moves
    assert "{" not in replayed.stdout and not WIRE_CARD.search(replayed.stdout)
    assert "Your turn" not in replayed.stdout  # the questions were one player's, not the story
    assert re.fullmatch(r"won by (ada|computer-[12])", lines[-1])
    assert lines[1].startswith(f'{room_id} "') and lines[1].endswith(
        '": ada, computer-1, computer-2'
    )
    moves = lines[2:-1]
    assert moves and all(re.fullmatch(r" *\d+ \d\d:\d\d:\d\d \S.*", line) for line in moves)


def test_a_game_that_ended_without_a_winner_says_why_in_words():
    from cardgame.cli.games import _result_line

    names = ["ada", "vic"]
    assert _result_line({"reason": "no_humans", "winner": None}, names) == (
        "ended: no human player remained"
    )
    assert _result_line({"reason": "vote_failed", "winner": None}, names) == (
        "ended: the vote for a computer player failed"
    )
    assert _result_line({"reason": "won", "winner": 1}, names) == "won by vic"
    assert _result_line(None, names) == "unfinished"


def test_replay_says_where_it_looked_for_a_game_it_does_not_have(tmp_path):
    run(tmp_path, "play", "--computers", "1", "--name", "ada", stdin="")  # creates local.db
    missing = run(tmp_path, "replay", "nope")
    assert missing.returncode == 1
    assert f"there is no game 'nope' in {tmp_path / 'cardgame' / 'local.db'}" in missing.stderr
