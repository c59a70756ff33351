"""What the bench scripts share: the machine, a server subprocess, its CPU and its log.

Standard library only, so ``engine.py`` (run from its own venv, without psutil or
the project) can import it too.
"""

from __future__ import annotations

import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

PYTHON = sys.executable
CARDGAME = str(Path(PYTHON).with_name("cardgame"))
#: ``cardgame serve`` options for a load that comes from one loopback address: the
#: limits a public server keeps per address (and its room-creation rate) would refuse
#: the load's own connections and rooms, so the benchmarks lift them.
LOAD_LIMITS = ["--max-connections", "100000", "--max-connections-per-address", "100000",
               "--max-rooms", "100000", "--max-rooms-per-address", "100000",
               "--room-burst", "100000"]  # fmt: skip


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def reproduce(script: str) -> str:
    """The command line that ran ``bench/<script>``, as the venv's python runs it."""
    return shlex.join([".venv/bin/python", f"bench/{script}", *sys.argv[1:]])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Poll the port until the server accepts (the server's start-up is not timed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@contextmanager
def running(
    command: list[str], port: int, log_path: Path, stop_timeout: float
) -> Iterator[subprocess.Popen]:
    """The server ``command`` (output to ``log_path``), once it listens on ``port``.

    On leaving, SIGTERM (cardgame closes with 1001 and stops); killed if it has not
    stopped after ``stop_timeout`` seconds.
    """
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_listening(port, proc)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def errors_logged(lines: list[str]) -> list[str]:
    """The lines of a server log that report an error."""
    return [ln for ln in lines if " ERROR " in ln or "Traceback" in ln]


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system
