"""Server load: cardgame against Colyseus (and echo servers), same load, same sitting.

Each run starts a server as a subprocess on a free loopback port and drives it with
a separate load process:

- **cardgame**: the real ``cardgame serve --db <tmp>/bench.db``, driven by
  ``bench/load.py``; by default 200 network bots in 50 rooms of 4 play complete games.
  A move's latency runs from sending it to that player's acknowledgement (its next
  numbered message). Every move is committed to SQLite before its messages go out.
- **colyseus** (the reference, ``bench/colyseus/``): a Colyseus 0.16 room with the same
  120 cards, 4 seats, turn order and matching (specials simplified, no combinations),
  hands hidden through StateView, automatic patching off and one ``broadcastPatch()``
  per accepted move, memory only; driven by its own Node load client (colyseus.js)
  with the same rooms and seats, reserved before the timed phase. A move's latency
  runs from sending it to the mover's next state update. Needs Node 20 and
  ``npm ci`` in ``bench/colyseus`` (``make bench`` runs it).
- **trio-websocket echo** and **websockets echo** (``bench/echo.py``, with
  ``--against``): the same number of connections, one closed loop per room (a game has
  one move in flight per room), frames of the game's mean message size, as many round
  trips per loop as the game made moves per room.

Rounds are interleaved (cardgame, then each reference, ``--repeat`` times), so a drift
in the machine's load hits every server alike. Reported: the median of the runs of
moves/s, messages/s received by the clients, p50/p99/max latency, games completed,
server CPU seconds (and per move) and peak RSS (psutil on the server's pid); then
cardgame as a ratio of each reference, the median of the per-round ratios with their
spread (lowest–highest). ``--rooms 10,50,200`` measures each size in turn and adds a
table of how the cost grows. Every game must complete and every cardgame player must
receive message ids exactly 1..n, or the script exits with status 1. Requires the
``bench`` extra (``pip install -e '.[bench]'``).

    .venv/bin/python bench/server_load.py                 # markdown table
    .venv/bin/python bench/server_load.py --rooms 50 --repeat 3 --json
    .venv/bin/python bench/server_load.py --rooms 10,50,200 --against colyseus,trio
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
    LOAD_LIMITS,
    PYTHON,
    cpu_seconds,
    errors_logged,
    free_port,
    machine,
    reproduce,
    running,
)

HERE = Path(__file__).resolve().parent
COLYSEUS = HERE / "colyseus"
KINDS = {"cardgame": "cardgame serve", "colyseus": "Colyseus 0.16 room",
         "trio": "trio-websocket echo", "websockets": "websockets echo"}  # fmt: skip


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
        serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--db", db, *LOAD_LIMITS]
        if profile:
            return [PYTHON, "-m", "pyinstrument", "-r", "html", "-o", profile, CARDGAME, *serve]
        return [CARDGAME, *serve]
    if kind == "colyseus":
        return ["node", str(COLYSEUS / "server.js"), "--port", str(port)]
    return [PYTHON, str(HERE / "echo.py"), kind, "--port", str(port)]


def load_command(
    kind: str, port: int, args: argparse.Namespace, rooms: int, round_trips: int, frame: int
) -> list[str]:  # fmt: skip
    url = ["--url", f"ws://127.0.0.1:{port}"]
    shape = ["--rooms", str(rooms), "--players", str(args.players), "--games", str(args.games)]
    if kind == "colyseus":
        return ["node", str(COLYSEUS / "load.js"), "game", *url, *shape]
    mode = "game" if kind == "cardgame" else "echo"
    return [PYTHON, str(HERE / "load.py"), mode, *url, *shape, "--round-trips",
            str(round_trips), "--frame", str(frame), "--timeout", str(args.timeout)]  # fmt: skip


def one_run(
    kind: str, args: argparse.Namespace, rooms: int, round_trips: int = 0, frame: int = 0,
    profile: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "server.log"
        serve = server_command(kind, port, str(Path(tmp) / "bench.db"), profile)
        with running(serve, port, log_path, stop_timeout=30) as server:
            watch = Watch(server.pid)
            command = load_command(kind, port, args, rooms, round_trips, frame)
            load = subprocess.run(command, capture_output=True, text=True, check=False,
                                  timeout=args.timeout + 120)  # fmt: skip
            cpu, peak = watch.stop()
        server_log = log_path.read_text(errors="replace")
    if load.returncode != 0:
        raise RuntimeError(f"{kind} load process failed:\n{load.stderr[-3000:]}")
    result = json.loads(load.stdout)
    result["server_cpu_s"] = cpu
    result["server_cpu_ms_per_move"] = cpu / max(1, result["moves"]) * 1000
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


#: cardgame ÷ reference, per round: (key, result field, how to read it)
RATIOS = (("throughput", "moves_per_s"), ("p50", "p50_ms"), ("p99", "p99_ms"),
          ("cpu_per_move", "server_cpu_ms_per_move"))  # fmt: skip


def paired_ratios(
    ours: list[dict[str, Any]], theirs: list[dict[str, Any]]
) -> dict[str, Any]:  # fmt: skip
    """cardgame ÷ a reference: the median of the per-round ratios, and their spread."""
    out: dict[str, Any] = {}
    for key, field in RATIOS:
        each = [a[field] / b[field] for a, b in zip(ours, theirs, strict=True) if b[field]]
        out[key] = statistics.median(each) if each else float("nan")
        out[f"{key}_range"] = [min(each), max(each)] if each else []
    return out


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


def spread(ratios: dict[str, Any], key: str) -> str:
    low, high = ratios[f"{key}_range"] or [float("nan")] * 2
    return f"{ratios[key]:.2f} ({low:.2f}–{high:.2f})"


def markdown(report: dict[str, Any], args: argparse.Namespace) -> str:
    res = report["results"]
    rooms = report["rooms"]
    out = [
        f"### Server load: {rooms} rooms x {args.players} players, {args.games} game(s) "
        f"per room, median of {args.repeat} interleaved runs",
        "",
        f"Machine: {report['machine']}. Reproduce: `{report['command']}`",
        "",
        "| server | moves/s (echo: round trips/s) | messages/s | p50 ms | p99 ms | max ms "
        "| games | server CPU s | CPU ms/move | server peak RSS MB | load CPU s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, r in res.items():
        out.append(
            f"| {KINDS[kind]} | {r['moves_per_s']:,.0f} | {r['messages_per_s']:,.0f} "
            f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} "
            f"| {r['games']:.0f}/{r['games_expected']:.0f} | {r['server_cpu_s']:.2f} "
            f"| {r['server_cpu_ms_per_move']:.2f} | {r['server_peak_rss_mb']:.1f} "
            f"| {r['load_cpu_s']:.2f} |"
        )
    ours = res["cardgame"]
    out += [
        "",
        "cardgame ÷ each reference, median of the per-round ratios (lowest–highest); "
        "throughput: higher is better, latency and CPU: lower is better:",
        "",
        "| vs | moves/s | p50 | p99 | server CPU per move |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, r in report["ratios"].items():
        out.append(f"| {KINDS[kind]} | {spread(r, 'throughput')} | {spread(r, 'p50')} "
                   f"| {spread(r, 'p99')} | {spread(r, 'cpu_per_move')} |")  # fmt: skip
    out += [
        "",
        f"cardgame: mean game message {ours['mean_message_bytes']:.0f} bytes (an echo's "
        f"frame size), {ours['moves']:.0f} moves and {ours['messages']:.0f} messages per run; "
        f"rate-limited refusals waited out: {ours['rate_limited_all_runs']}. "
        f"The server said: `{ours['database']}`.",
    ]
    if "colyseus" in res:
        theirs = res["colyseus"]
        out.append(
            f"Colyseus: mean patch {theirs['mean_message_bytes']:.0f} bytes, "
            f"{theirs['moves']:.0f} moves and {theirs['messages']:.0f} frames per run."
        )
    found = report["problems"]
    out.append(
        "Checks: every game completed, every cardgame player's ids exactly 1..n, no server "
        "error logged: " + ("**ok**" if not found else "**FAILED**: " + "; ".join(found[:10]))
    )
    return "\n".join(out)


def growth(reports: list[dict[str, Any]], reference: str) -> str:
    """How the cost grows with the number of rooms, against one reference."""
    name = KINDS[reference]
    out = [
        f"### Cost growth: cardgame and {name}, by rooms in play",
        "",
        f"| rooms | cardgame moves/s | {name} moves/s | ratio | cardgame p99 ms "
        f"| {name} p99 ms | ratio | CPU per move ratio |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for rep in reports:
        ours, theirs = rep["results"]["cardgame"], rep["results"][reference]
        r = rep["ratios"][reference]
        out.append(
            f"| {rep['rooms']} | {ours['moves_per_s']:,.0f} | {theirs['moves_per_s']:,.0f} "
            f"| {spread(r, 'throughput')} | {ours['p99_ms']:.1f} | {theirs['p99_ms']:.1f} "
            f"| {spread(r, 'p99')} | {spread(r, 'cpu_per_move')} |"
        )
    return "\n".join(out)


def measure(args: argparse.Namespace, rooms: int, against: list[str]) -> dict[str, Any]:
    """Interleaved rounds at one size: cardgame, then each reference, ``--repeat`` times."""
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in ["cardgame", *against]}
    for _ in range(args.repeat):
        ours = one_run("cardgame", args, rooms)
        runs["cardgame"].append(ours)
        # Echoes: same concurrency (one closed loop per room), as many round trips per
        # room as moves, frames of the game's mean message size.
        round_trips = max(1, round(ours["moves"] / rooms))
        frame = round(ours["mean_message_bytes"])
        for kind in against:
            runs[kind].append(one_run(kind, args, rooms, round_trips, frame))
    results = {kind: median_of(kind_runs) for kind, kind_runs in runs.items()}
    ratios = {kind: paired_ratios(runs["cardgame"], runs[kind]) for kind in against}
    report: dict[str, Any] = {"machine": machine(), "command": reproduce("server_load.py"),
                              "settings": vars(args), "rooms": rooms, "results": results,
                              "ratios": ratios}  # fmt: skip
    report["problems"] = problems(report)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rooms", default="50", help="rooms in play; several: 10,50,200")
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--games", type=int, default=1, help="games per room")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", default="colyseus",
                        help="references, of colyseus, trio, websockets")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=600, help="seconds per load run")
    parser.add_argument("--profile", metavar="HTML", help="also profile one cardgame run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--machine", action="store_true", help="print the machine and exit")
    args = parser.parse_args()
    if args.machine:
        print(machine())
        return
    sizes = [int(n) for n in args.rooms.split(",")]
    against = [kind for kind in args.against.split(",") if kind]
    unknown = set(against) - set(KINDS) - {"cardgame"}
    if unknown or "cardgame" in against:
        parser.error(f"--against: not a reference: {', '.join(sorted(unknown)) or 'cardgame'}")
    if "colyseus" in against and not (COLYSEUS / "node_modules").is_dir():
        parser.error("bench/colyseus has no node_modules: run `npm ci` there (make bench does)")

    reports = [measure(args, rooms, against) for rooms in sizes]
    if args.profile:
        one_run("cardgame", args, sizes[0], profile=args.profile)
        reports[0]["profile"] = args.profile
    if args.json:
        print(json.dumps(reports[0] if len(reports) == 1 else {"by_rooms": reports}, indent=2))
    else:
        parts = [markdown(rep, args) for rep in reports]
        if len(reports) > 1 and against:
            parts.insert(0, growth(reports, against[0]))
        print("\n\n".join(parts))
    if any(rep["problems"] for rep in reports):
        sys.exit(1)


if __name__ == "__main__":
    main()
