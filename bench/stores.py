"""One process on SQLite, one on PostgreSQL, two on PostgreSQL: the same load, one run.

Each configuration starts real ``cardgame serve`` subprocesses on free loopback ports
and drives them with ``bench/load.py game`` (network bots playing whole games; a
move's latency runs from sending it to that player's next numbered message):

- **SQLite, 1 process**: ``--db <tmp>/bench.db``, the default;
- **PostgreSQL, 1 process** and **PostgreSQL, 2 processes**: ``--db postgresql://…``
  on a throwaway cluster (``tests/pgcluster.py``: ``fsync`` off, unix socket; the
  caveat is printed under the table), a new database per run. With two, rooms
  alternate between the processes and each room's players use the process that runs it.

Reported, each the median of ``--repeat`` interleaved runs: moves/s, p50/p99/max
latency, games completed, and the CPU seconds of the cardgame processes and of the
PostgreSQL server. Every game must complete and every player must receive ids exactly
1..n, or the script exits with status 1. Requires the ``bench`` extra.

    .venv/bin/python bench/stores.py --rooms 40 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack, suppress
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
)
from common import running as running_server

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from pgcluster import Cluster  # noqa: E402

CONFIGS = {"sqlite-1": "SQLite, 1 process", "pg-1": "PostgreSQL, 1 process",
           "pg-2": "PostgreSQL, 2 processes"}  # fmt: skip


def postgres_cpu(cluster: Cluster) -> float:
    """CPU seconds of every process of the cluster so far (postmaster and backends)."""
    pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
    root = psutil.Process(pid)
    total = cpu_seconds(root)
    for child in root.children(recursive=True):
        with suppress(psutil.Error):  # a backend that ended meanwhile
            total += cpu_seconds(child)
    return total


def one_run(config: str, args: argparse.Namespace, cluster: Cluster) -> dict[str, Any]:
    processes = 2 if config == "pg-2" else 1
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        db = str(Path(tmp) / "bench.db") if config == "sqlite-1" else cluster.new_database()
        servers, logs = [], []
        for number in range(processes):
            port = free_port()
            log_path = Path(tmp) / f"server{number}.log"
            command = [
                CARDGAME,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--db",
                db,
                *LOAD_LIMITS,
            ]
            servers.append((stack.enter_context(running_server(command, port, log_path, 30)), port))
            logs.append(log_path)
        watched = [psutil.Process(proc.pid) for proc, _ in servers]
        cpu_before = [cpu_seconds(p) for p in watched]
        pg_before = postgres_cpu(cluster)
        urls = ",".join(f"ws://127.0.0.1:{port}" for _, port in servers)
        command = [PYTHON, str(HERE / "load.py"), "game", "--url", urls,
                   "--rooms", str(args.rooms), "--players", str(args.players),
                   "--games", str(args.games), "--timeout", str(args.timeout)]  # fmt: skip
        load = subprocess.run(command, capture_output=True, text=True, check=False,
                              timeout=args.timeout + 120)  # fmt: skip
        cpu = sum(cpu_seconds(p) - before for p, before in zip(watched, cpu_before, strict=True))
        pg_cpu = postgres_cpu(cluster) - pg_before if config != "sqlite-1" else 0.0
        stack.close()
        lines = [ln for path in logs for ln in path.read_text(errors="replace").splitlines()]
    if load.returncode != 0:
        raise RuntimeError(f"{config} load process failed:\n{load.stderr[-3000:]}")
    result = json.loads(load.stdout)
    result["server_cpu_s"] = cpu
    result["postgres_cpu_s"] = pg_cpu
    result["server_errors_logged"] = len(errors_logged(lines))
    return result


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    numbers = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    merged: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in numbers}
    for key in ("id_errors", "failures"):
        merged[key] = [item for r in runs for item in r[key]]
    for key in ("games", "games_expected", "server_errors_logged"):
        merged[f"{key}_all_runs"] = sum(r[key] for r in runs)
    return merged


def problems(results: dict[str, dict[str, Any]]) -> list[str]:
    found = []
    for name, r in results.items():
        if r["games_all_runs"] != r["games_expected_all_runs"]:
            found.append(f"{name}: {r['games_all_runs']} of {r['games_expected_all_runs']} games")
        found += [f"{name}: {text}" for text in r["failures"] + r["id_errors"]]
        if r["server_errors_logged_all_runs"]:
            found.append(f"{name}: the servers logged {r['server_errors_logged_all_runs']} errors")
    return found


def markdown(results: dict[str, dict[str, Any]], args: argparse.Namespace, found: list) -> str:
    base = results["sqlite-1"]
    out = [
        f"### Stores: {args.rooms} rooms x {args.players} players, {args.games} game(s) per "
        f"room, median of {args.repeat} runs",
        "",
        f"Machine: {machine()}. Reproduce: `{reproduce('stores.py')}`",
        "",
        "| configuration | moves/s | ÷ SQLite | p50 ms | p99 ms | ÷ SQLite | max ms | games "
        "| cardgame CPU s | PostgreSQL CPU s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for config, r in results.items():
        out.append(
            f"| {CONFIGS[config]} | {r['moves_per_s']:,.0f} "
            f"| {r['moves_per_s'] / base['moves_per_s']:.2f} | {r['p50_ms']:.2f} "
            f"| {r['p99_ms']:.2f} | {r['p99_ms'] / base['p99_ms']:.2f} | {r['max_ms']:.2f} "
            f"| {r['games']:.0f}/{r['games_expected']:.0f} | {r['server_cpu_s']:.2f} "
            f"| {r['postgres_cpu_s']:.2f} |"
        )
    out += [
        "",
        "The PostgreSQL cluster is the tests' throwaway one (`fsync=off`, unix socket), on "
        "the same cores as the servers and the load; SQLite runs with `synchronous=NORMAL` "
        "in WAL mode. Checks: every game completed, every player's ids exactly 1..n, no "
        "server error logged: " + ("**ok**" if not found else "**FAILED**: " + "; ".join(found)),
    ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=40)
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--games", type=int, default=1, help="games per room")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per load run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cluster = Cluster()
    try:
        runs: dict[str, list[dict[str, Any]]] = {config: [] for config in CONFIGS}
        for _ in range(args.repeat):
            for config in CONFIGS:  # interleaved: a drift in machine load hits all three
                runs[config].append(one_run(config, args, cluster))
    finally:
        cluster.stop()
    results = {config: median_of(config_runs) for config, config_runs in runs.items()}
    found = problems(results)
    if args.json:
        print(json.dumps({"machine": machine(), "results": results, "problems": found}, indent=2))
    else:
        print(markdown(results, args, found))
    if found:
        sys.exit(1)


if __name__ == "__main__":
    main()
