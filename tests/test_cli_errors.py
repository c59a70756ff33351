"""Start-up failures a person can act on: one line that says what and what to do, no
traceback, nothing left behind. Each runs the real ``cardgame`` in a subprocess."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

CARDGAME = str(Path(sys.executable).with_name("cardgame"))


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    return subprocess.run(
        [CARDGAME, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env=env,
    )  # fmt: skip


def test_serve_on_a_port_in_use_says_so_and_creates_no_database(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db = tmp_path / "games.db"
        done = run("serve", "--port", str(port), "--db", str(db), tmp_path=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: address already in use "
        "(is another server running? choose another --port)"
    ]
    assert "Traceback" not in done.stdout + done.stderr
    assert not db.exists()


def test_play_with_an_http_address_names_the_websocket_one(tmp_path):
    done = run("play", "--server", "http://127.0.0.1:8888", tmp_path=tmp_path)
    assert done.returncode == 2
    assert "'http://127.0.0.1:8888' is not a WebSocket address; try ws://127.0.0.1:8888" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) <= 4


def test_play_with_no_server_running_gives_the_cause_and_a_hint(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        done = run("play", "--server", f"ws://127.0.0.1:{port}", tmp_path=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"Error: cannot reach the server at ws://127.0.0.1:{port}: connection refused.",
        "Start a server with `make serve` (or `cardgame serve`), or play alone with "
        "`cardgame play --computers 3`.",
    ]
