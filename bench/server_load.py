"""Server load: cardgame against two echo servers, same load, same run, same machine.

Each run starts a server as a subprocess on a free loopback port and drives it with
a separate load process (``bench/load.py``):

- **cardgame**: the real ``cardgame serve --db <tmp>/bench.db``; by default 200
  network bots in 50 rooms of 4 play complete games. A move's latency runs from
  sending it to that player's acknowledgement (its next numbered message).
- **trio-websocket echo** and **websockets echo** (``bench/echo.py``): the same
  number of connections, one closed loop per room (a game has one move in flight
  per room), frames of the game's mean message size, as many round trips per loop
  as the game made moves per room.

Reported, each the median of ``--repeat`` runs (interleaved, so a drift in machine
load hits all three): moves/s (round trips/s for the echoes), messages/s received
by the clients, p50/p99/max latency, games completed, server CPU seconds and peak
RSS (psutil on the server's pid), and our figures as ratios of the echoes'. Every
game must complete and every player must receive message ids exactly 1..n, or the
script exits with status 1. Requires the ``bench`` extra (``pip install -e
'.[bench]'``).

    .venv/bin/python bench/server_load.py                 # markdown table
    .venv/bin/python bench/server_load.py --json
    .venv/bin/python bench/server_load.py --profile bench/profile.html   # + one pyinstrument run
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import psutil
from common import (
    CARDGAME,
    PYTHON,
    cpu_seconds,
    errors_logged,
    free_port,
    machine,
    reproduce,
    running,
)

HERE = Path(__file__).resolve().parent
KINDS = {"cardgame": "cardgame serve", "trio": "trio-websocket echo",
         "websockets": "websockets echo"}  # fmt: skip


class Watch:
    """CPU seconds and peak RSS of one process, by psutil (sampled every 20 ms)."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.cpu_start = cpu_seconds(self.process)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return

    def stop(self) -> tuple[float, int]:
        """(CPU seconds since start, peak RSS in bytes)."""
        cpu = cpu_seconds(self.process) - self.cpu_start
        self._stop.set()
        self._thread.join()
        peak = self.peak
        try:  # Linux keeps the true high-water mark, which sampling could miss
            status = Path(f"/proc/{self.process.pid}/status").read_text()
            hwm = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
            peak = max(peak, int(hwm.split()[1]) * 1024)
        except (OSError, StopIteration):
            pass
        return cpu, peak


def server_command(kind: str, port: int, db: str, profile: str | None = None) -> list[str]:
    if kind == "cardgame":
        serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--db", db]
        if profile:
            return [PYTHON, "-m", "pyinstrument", "-r", "html", "-o", profile, CARDGAME, *serve]
        return [CARDGAME, *serve]
    return [PYTHON, str(HERE / "echo.py"), kind, "--port", str(port)]


def one_run(
    kind: str, args: argparse.Namespace, round_trips: int = 0, frame: int = 0,
    profile: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "server.log"
        serve = server_command(kind, port, str(Path(tmp) / "bench.db"), profile)
        with running(serve, port, log_path, stop_timeout=30) as server:
            watch = Watch(server.pid)
            mode = "game" if kind == "cardgame" else "echo"
            command = [PYTHON, str(HERE / "load.py"), mode, "--url", f"ws://127.0.0.1:{port}",
                       "--rooms", str(args.rooms), "--players", str(args.players),
                       "--games", str(args.games), "--round-trips", str(round_trips),
                       "--frame", str(frame), "--timeout", str(args.timeout)]  # fmt: skip
            load = subprocess.run(command, capture_output=True, text=True, check=False,
                                  timeout=args.timeout + 120)  # fmt: skip
            cpu, peak = watch.stop()
        server_log = log_path.read_text(errors="replace")
    if load.returncode != 0:
        raise RuntimeError(f"{kind} load process failed:\n{load.stderr[-3000:]}")
    result = json.loads(load.stdout)
    result["server_cpu_s"] = cpu
    result["server_peak_rss_mb"] = peak / 2**20
    lines = server_log.splitlines()
    result["server_errors_logged"] = len(errors_logged(lines))
    # what `cardgame serve` says it stores games in
    result["database"] = next((ln for ln in lines if ln.startswith("database:")), "")
    return result


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    numbers = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    merged: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in numbers}
    merged["database"] = runs[0].get("database", "")
    for key in ("id_errors", "failures"):
        merged[key] = [item for r in runs for item in r[key]]
    for key in ("games", "server_errors_logged", "rate_limited"):  # totals, not medians
        merged[f"{key}_all_runs"] = sum(r[key] for r in runs)
    merged["games_expected_all_runs"] = sum(r["games_expected"] for r in runs)
    return merged


def problems(report: dict[str, Any]) -> list[str]:
    """What makes this run invalid: incomplete games, id gaps, server errors."""
    found = []
    for name, r in report["results"].items():
        if r["games_all_runs"] != r["games_expected_all_runs"]:
            found.append(f"{name}: {r['games_all_runs']} of {r['games_expected_all_runs']} "
                         "games completed")  # fmt: skip
        found += [f"{name}: {text}" for text in r["failures"] + r["id_errors"]]
        if r["server_errors_logged_all_runs"]:
            found.append(f"{name}: the server logged {r['server_errors_logged_all_runs']} errors")
    return found


def markdown(report: dict[str, Any], args: argparse.Namespace) -> str:
    res = report["results"]
    out = [
        f"### Server load: {args.rooms} rooms x {args.players} players, {args.games} game(s) "
        f"per room, median of {args.repeat} runs",
        "",
        f"Machine: {report['machine']}. Reproduce: `{report['command']}`",
        "",
        "| server | moves/s (echo: round trips/s) | messages/s | p50 ms | p99 ms | max ms "
        "| games | server CPU s | server peak RSS MB | load CPU s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, r in res.items():
        out.append(
            f"| {KINDS[kind]} | {r['moves_per_s']:,.0f} | {r['messages_per_s']:,.0f} "
            f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} "
            f"| {r['games']:.0f}/{r['games_expected']:.0f} | {r['server_cpu_s']:.2f} "
            f"| {r['server_peak_rss_mb']:.1f} | {r['load_cpu_s']:.2f} |"
        )
    ratios = report["ratios"]
    ours = res["cardgame"]
    out += [
        "",
        "cardgame as a ratio of each echo server (throughput: higher is better; "
        "latency: lower is better):",
        "",
        "| vs | moves/s ÷ round trips/s | p50 ÷ p50 | p99 ÷ p99 |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind in ("trio", "websockets"):
        r = ratios[kind]
        out.append(f"| {KINDS[kind]} | {r['throughput']:.2f} | {r['p50']:.2f} | {r['p99']:.2f} |")
    out += [
        "",
        f"Mean game message {ours['mean_message_bytes']:.0f} bytes (the echo frame size); "
        f"{ours['moves']:.0f} moves and {ours['messages']:.0f} messages per run; "
        f"rate-limited refusals waited out: {ours['rate_limited_all_runs']}. "
        f"The server said: `{ours['database']}`.",
    ]
    found = report["problems"]
    out.append(
        "Checks: every game completed, every player's ids exactly 1..n, no server error "
        "logged: " + ("**ok**" if not found else "**FAILED**: " + "; ".join(found[:10]))
    )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--games", type=int, default=1, help="games per room")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per load run")
    parser.add_argument("--profile", metavar="HTML", help="also profile one cardgame run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--machine", action="store_true", help="print the machine and exit")
    args = parser.parse_args()
    if args.machine:
        print(machine())
        return

    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for _ in range(args.repeat):
        ours = one_run("cardgame", args)
        runs["cardgame"].append(ours)
        # Same concurrency (one closed loop per room), as many round trips per room as
        # moves, frames of the game's mean message size.
        round_trips = max(1, round(ours["moves"] / args.rooms))
        frame = round(ours["mean_message_bytes"])
        for kind in ("trio", "websockets"):
            runs[kind].append(one_run(kind, args, round_trips, frame))
    results = {kind: median_of(kind_runs) for kind, kind_runs in runs.items()}
    ours = results["cardgame"]
    ratios = {
        kind: {
            "throughput": ours["moves_per_s"] / results[kind]["moves_per_s"],
            "p50": ours["p50_ms"] / results[kind]["p50_ms"],
            "p99": ours["p99_ms"] / results[kind]["p99_ms"],
        }
        for kind in ("trio", "websockets")
    }
    report: dict[str, Any] = {"machine": machine(), "command": reproduce("server_load.py"),
                              "settings": vars(args), "results": results,
                              "ratios": ratios}  # fmt: skip
    report["problems"] = problems(report)
    if args.profile:
        one_run("cardgame", args, profile=args.profile)
        report["profile"] = args.profile
    print(json.dumps(report, indent=2) if args.json else markdown(report, args))
    if report["problems"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
