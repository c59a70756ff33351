"""Server load: cardgame against two echo servers, same load, same run, same machine.

Starts each server as a subprocess on a free loopback port — the real
``cardgame serve`` on a fresh SQLite file, a bare trio-websocket echo
(``bench/echo.py trio``) and a ``websockets`` echo — and drives it with a separate
load process (``bench/load.py``): by default 200 players in 50 rooms of 4 playing
complete games, and for the echoes the same connections with one closed loop per
room. Reports moves/s, messages/s, p50/p99/max latency, games completed, server CPU
seconds and peak RSS, each the median of ``--repeat`` runs, and our figures as
ratios of the echoes'.

    .venv/bin/python bench/server_load.py            # markdown table
    .venv/bin/python bench/server_load.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
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


def proc_stats(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system) and peak RSS in bytes of a live process."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    peak = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) * 1024
    return cpu, peak


def server_command(kind: str, port: int, db: str) -> list[str]:
    if kind == "cardgame":
        exe = str(Path(PYTHON).with_name("cardgame"))
        return [exe, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db]
    return [PYTHON, str(HERE / "echo.py"), kind, "--port", str(port)]


def one_run(kind: str, args: argparse.Namespace, round_trips: int) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            server_command(kind, port, str(Path(tmp) / "bench.db")),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_listening(port, server)
            cpu_before, _ = proc_stats(server.pid)
            mode = "game" if kind == "cardgame" else "echo"
            load = subprocess.run(
                [
                    PYTHON,
                    str(HERE / "load.py"),
                    mode,
                    "--url",
                    f"ws://127.0.0.1:{port}",
                    "--rooms",
                    str(args.rooms),
                    "--players",
                    str(args.players),
                    "--games",
                    str(args.games),
                    "--round-trips",
                    str(round_trips),
                ],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            cpu_after, peak = proc_stats(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)
    if load.returncode != 0:
        raise RuntimeError(f"{kind} load failed:\n{load.stderr[-2000:]}")
    result = json.loads(load.stdout)
    result["server_cpu_s"] = cpu_after - cpu_before
    result["server_peak_rss_mb"] = peak / 2**20
    return result


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
    merged: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in keys}
    merged["id_errors"] = sum(len(r.get("id_errors", [])) for r in runs)
    return merged


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--games", type=int, default=1, help="games per room")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    ours = median_of([one_run("cardgame", args, 0) for _ in range(args.repeat)])
    # Same concurrency (one closed loop per room) and as many round trips per room as moves.
    round_trips = max(1, round(ours["moves"] / args.rooms))
    trio_echo = median_of([one_run("trio", args, round_trips) for _ in range(args.repeat)])
    ws_echo = median_of([one_run("websockets", args, round_trips) for _ in range(args.repeat)])
    report = {
        "machine": machine(),
        "cardgame": ours,
        "trio_echo": trio_echo,
        "websockets_echo": ws_echo,
        "ratios": {
            "moves_per_s_vs_trio_echo": ours["moves_per_s"] / trio_echo["moves_per_s"],
            "moves_per_s_vs_websockets_echo": ours["moves_per_s"] / ws_echo["moves_per_s"],
            "p99_vs_trio_echo": ours["p99_ms"] / trio_echo["p99_ms"],
            "p99_vs_websockets_echo": ours["p99_ms"] / ws_echo["p99_ms"],
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"Server load, {args.rooms} rooms x {args.players} players, median of {args.repeat} "
        f"runs — {report['machine']}\n"
    )
    print(
        "| server | moves/s | messages/s | p50 ms | p99 ms | max ms | games | CPU s | peak RSS MB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in (
        ("cardgame (SQLite)", ours),
        ("trio-websocket echo", trio_echo),
        ("websockets echo", ws_echo),
    ):
        print(
            f"| {name} | {r['moves_per_s']:.0f} | {r['messages_per_s']:.0f} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['max_ms']:.2f} | {r['games']:.0f} | {r['server_cpu_s']:.2f} | "
            f"{r['server_peak_rss_mb']:.1f} |"
        )
    ratios = report["ratios"]
    print(
        f"\ncardgame moves/s = {ratios['moves_per_s_vs_trio_echo']:.2f} x trio-websocket echo "
        f"round trips/s, {ratios['moves_per_s_vs_websockets_echo']:.2f} x websockets echo; "
        f"p99 = {ratios['p99_vs_trio_echo']:.2f} x / {ratios['p99_vs_websockets_echo']:.2f} x; "
        f"message-id errors: {ours['id_errors']}"
    )


if __name__ == "__main__":
    main()
