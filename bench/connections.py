"""Idle connections: what one server process pays for each, and for the roommates tickers.

Starts the real ``cardgame serve`` as a subprocess, seats ``--connections`` players
through ``/lobby`` in rooms of ``--room-size`` that never fill (one seat of each
stays empty, so every connected player's roommates ticker keeps running), then holds
one ``/game`` connection per seat from this process (one trio process, every
connection reading its ticks). Measured by psutil on the server's pid:

- **RSS per idle connection**: (RSS with every connection held − RSS of the fresh
  server) / N. It includes each connection's share of its room and seat; the
  breakdown (seats alone, then connections) is reported too. Goal: ≤ 25 KB.
- **ticker CPU**: server CPU seconds per second over ``--idle`` seconds while the
  connections are idle and only the tickers run (one ``GET_ROOMATES_REP`` per
  connection every ``--roommates-interval`` seconds), and per tick.

The reference, in the same sitting: the Colyseus room of ``bench/server_load.py``
(``bench/colyseus/``) holding the same number of idle connections in rooms of 8 that
never fill, joined by its Node load client (colyseus.js); its RSS per idle connection
and cardgame's as a ratio of it (``--against none`` skips it).

Each side needs about N file descriptors: the script raises its soft RLIMIT_NOFILE
(the server inherits it) and says so. Requires the ``bench`` extra.

    .venv/bin/python bench/connections.py                   # markdown
    .venv/bin/python bench/connections.py --connections 500 --json
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import trio
from common import (
    CARDGAME,
    LOAD_LIMITS,
    cpu_seconds,
    errors_logged,
    free_port,
    machine,
    reproduce,
    running,
)
from load import join_game, seat_room
from trio_websocket import ConnectionClosed, HandshakeError, open_websocket_url

GOAL_KB = 25
COLYSEUS = Path(__file__).resolve().parent / "colyseus"
#: Connection handshakes in flight at once (seating and joining).
CONCURRENCY = 32


def raise_nofile(needed: int) -> str:
    """Raise the soft RLIMIT_NOFILE to ``needed`` if it is lower; what was done, in words."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return f"soft RLIMIT_NOFILE {soft} is enough (need {needed})"
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        return f"raised soft RLIMIT_NOFILE from {soft} to the hard limit {target}, below {needed}"
    return f"raised soft RLIMIT_NOFILE from {soft} to {target} (this script and the server)"


def rss(process: psutil.Process) -> int:
    return process.memory_info().rss


class Holder:
    """Every /game connection of this process, the ticks they receive, and what failed."""

    def __init__(self) -> None:
        self.joined = 0
        self.ticks = 0
        self.other = 0
        self.failures: list[str] = []

    async def hold(
        self, url: str, ticket: dict[str, Any], limit: trio.Semaphore,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:  # fmt: skip
        await limit.acquire()  # held for the handshake and JOIN_GAME only
        joining = True
        try:
            async with open_websocket_url(f"{url}/game") as ws:
                await ws.send_message(join_game(ticket))
                while json.loads(await ws.get_message())["cmd"] != "JOIN_GAME_REP":
                    pass
                self.joined += 1
                limit.release()
                joining = False
                task_status.started()
                while True:
                    message = json.loads(await ws.get_message())
                    if message["cmd"] == "GET_ROOMATES_REP":
                        self.ticks += 1
                    else:
                        self.other += 1
        except (OSError, HandshakeError, ConnectionClosed) as err:  # counted, then reported
            self.failures.append(f"{type(err).__name__}: {err}")
        finally:
            if joining:
                limit.release()
                task_status.started()


async def measure(args: argparse.Namespace, url: str, server: psutil.Process) -> dict[str, Any]:
    out: dict[str, Any] = {}
    await trio.sleep(args.settle)
    out["rss_fresh_mb"] = rss(server) / 2**20
    cpu0 = cpu_seconds(server)
    await trio.sleep(args.settle)
    out["idle_cpu_per_s_fresh"] = (cpu_seconds(server) - cpu0) / args.settle

    people = args.room_size - 1  # one seat stays empty: the room never fills
    rooms = math.ceil(args.connections / people)
    limit = trio.Semaphore(CONCURRENCY)
    tickets: list[dict[str, Any]] = []
    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for number in range(rooms):
            seats = min(people, args.connections - number * people)
            nursery.start_soon(seat_room, url, f"idle-{number}", args.room_size, limit, tickets,
                               seats)  # fmt: skip
    out["seating_s"] = time.perf_counter() - start
    out["rooms"] = rooms
    await trio.sleep(args.settle)
    out["rss_seated_mb"] = rss(server) / 2**20

    holder = Holder()
    async with trio.open_nursery() as nursery:
        start = time.perf_counter()
        async with trio.open_nursery() as joining:
            for ticket in tickets:
                joining.start_soon(nursery.start, holder.hold, url, ticket, limit)
        out["connecting_s"] = time.perf_counter() - start
        out["connected"] = holder.joined
        out["failures"] = holder.failures[:10]
        await trio.sleep(args.settle)
        out["rss_connected_mb"] = rss(server) / 2**20
        ticks0, cpu0, t0 = holder.ticks, cpu_seconds(server), time.perf_counter()
        await trio.sleep(args.idle)
        seconds = time.perf_counter() - t0
        ticks, cpu_s = holder.ticks - ticks0, cpu_seconds(server) - cpu0
        out["rss_end_mb"] = rss(server) / 2**20
        out["server_connections"] = sum(
            1 for c in server.net_connections("tcp") if c.status == psutil.CONN_ESTABLISHED
        )
        nursery.cancel_scope.cancel()
    out["idle_s"] = seconds
    out["ticks"] = ticks
    out["ticks_per_s"] = ticks / seconds
    out["ticks_per_s_expected"] = args.connections / args.roommates_interval
    out["unexpected_messages"] = holder.other
    out["ticker_cpu_per_s"] = cpu_s / seconds
    out["ticker_cpu_us_per_tick"] = cpu_s / max(1, ticks) * 1e6
    # the roommates lists a waiting room sends are numbered messages, kept for resumption
    grown = (out["rss_end_mb"] - out["rss_connected_mb"]) * 2**20
    out["rss_growth_per_tick_bytes"] = grown / max(1, ticks)

    def kb_each(more: str, less: str) -> float:  # an RSS difference in MB, per connection in KB
        return (out[more] - out[less]) * 1024 / args.connections

    out["kb_per_connection"] = kb_each("rss_connected_mb", "rss_fresh_mb")
    out["kb_per_seat"] = kb_each("rss_seated_mb", "rss_fresh_mb")
    out["kb_per_socket"] = kb_each("rss_connected_mb", "rss_seated_mb")
    return out


def colyseus_idle(args: argparse.Namespace) -> dict[str, Any]:
    """The Colyseus room's RSS with ``--connections`` idle clients, from its own load client."""
    out: dict[str, Any] = {}
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "server.log"
        command = ["node", str(COLYSEUS / "server.js"), "--port", str(port)]
        with running(command, port, log_path, stop_timeout=60) as proc:
            server = psutil.Process(proc.pid)
            time.sleep(args.settle)
            out["rss_fresh_mb"] = rss(server) / 2**20
            url = f"ws://127.0.0.1:{port}"
            load_command = ["node", str(COLYSEUS / "load.js"), "idle", "--url", url,
                            "--connections", str(args.connections)]  # fmt: skip
            start = time.perf_counter()
            with subprocess.Popen(load_command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True) as load:  # fmt: skip
                held = json.loads(load.stdout.readline() or "{}")
                out["connecting_s"] = time.perf_counter() - start
                time.sleep(args.settle)
                out["rss_connected_mb"] = rss(server) / 2**20
                out["server_connections"] = sum(
                    1 for c in server.net_connections("tcp")
                    if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
                )  # fmt: skip
                load.stdin.close()  # the client leaves its rooms and exits
                load.wait(timeout=60)
        out["errors_logged"] = len(errors_logged(log_path.read_text(errors="replace").splitlines()))
    out["connected"] = held.get("connected", 0)
    out["rooms"] = held.get("rooms", 0)
    out["kb_per_connection"] = (
        (out["rss_connected_mb"] - out["rss_fresh_mb"]) * 1024 / args.connections
    )
    return out


def markdown(report: dict[str, Any]) -> str:
    r = report
    verdict = "meets" if r["kb_per_connection"] <= GOAL_KB else "**misses**"
    return "\n".join([
        f"### Idle connections: {r['connections']} on /game, rooms of {r['room_size']} "
        f"that never fill ({r['rooms']} rooms), roommates ticker every "
        f"{r['roommates_interval']} s",
        "",
        f"Machine: {r['machine']}. Reproduce: `{r['command']}`. {r['nofile']}.",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| server RSS, fresh | {r['rss_fresh_mb']:.1f} MB |",
        f"| server RSS, seats reserved (no connection) | {r['rss_seated_mb']:.1f} MB |",
        f"| server RSS, every connection held | {r['rss_connected_mb']:.1f} MB |",
        f"| **RSS per idle connection** (seat and room share included) "
        f"| **{r['kb_per_connection']:.1f} KB** |",
        f"| of which the seat and room share | {r['kb_per_seat']:.1f} KB |",
        f"| of which the connection itself | {r['kb_per_socket']:.1f} KB |",
        f"| server RSS after {r['idle']:g} s idle (growth per tick) | {r['rss_end_mb']:.1f} MB "
        f"({r['rss_growth_per_tick_bytes']:,.0f} B) |",
        f"| server CPU while idle, no connection | {r['idle_cpu_per_s_fresh']:.4f} s/s |",
        f"| **server CPU while idle, tickers running** | **{r['ticker_cpu_per_s']:.4f} s/s** |",
        f"| CPU per tick | {r['ticker_cpu_us_per_tick']:.0f} µs |",
        f"| ticks received / expected | {r['ticks_per_s']:.0f}/s / "
        f"{r['ticks_per_s_expected']:.0f}/s |",
        f"| connected (JOIN_GAME_REP) / established at the server | {r['connected']} / "
        f"{r['server_connections']} |",
        f"| seating, connecting | {r['seating_s']:.1f} s, {r['connecting_s']:.1f} s |",
        "",
        f"Goal ≤ {GOAL_KB} KB per idle connection: {verdict} "
        f"({r['kb_per_connection']:.1f} KB).",
    ] + ([] if "colyseus" not in r else [
        "",
        f"The reference, same sitting: a Colyseus 0.16 room (`bench/colyseus/`) holding "
        f"{r['colyseus']['connected']} idle connections in {r['colyseus']['rooms']} rooms "
        "of 8 that never fill (no ticker), joined by colyseus.js clients.",
        "",
        "| measure | cardgame | Colyseus |",
        "| --- | ---: | ---: |",
        f"| server RSS, fresh | {r['rss_fresh_mb']:.1f} MB "
        f"| {r['colyseus']['rss_fresh_mb']:.1f} MB |",
        f"| server RSS, every connection held | {r['rss_connected_mb']:.1f} MB "
        f"| {r['colyseus']['rss_connected_mb']:.1f} MB |",
        f"| **RSS per idle connection** | **{r['kb_per_connection']:.1f} KB** "
        f"| **{r['colyseus']['kb_per_connection']:.1f} KB** |",
        f"| connections established at the server | {r['server_connections']} "
        f"| {r['colyseus']['server_connections']} |",
        "",
        f"cardgame ÷ Colyseus, RSS per idle connection: "
        f"**{r['kb_per_connection'] / r['colyseus']['kb_per_connection']:.2f}**.",
    ]))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--room-size", type=int, default=8, choices=range(3, 9),
                        metavar="3..8")  # fmt: skip
    parser.add_argument("--roommates-interval", type=float, default=4.0)
    parser.add_argument("--idle", type=float, default=None,
                        help="seconds of idle measured (default: 3 ticker intervals)")  # fmt: skip
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before each reading")
    parser.add_argument("--against", choices=["colyseus", "none"], default="colyseus",
                        help="the reference measured after cardgame")  # fmt: skip
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.against == "colyseus" and not (COLYSEUS / "node_modules").is_dir():
        parser.error("bench/colyseus has no node_modules: run `npm ci` there (make bench does)")
    if args.idle is None:  # a whole number of intervals: every connection ticks equally often
        args.idle = 3 * args.roommates_interval

    nofile = raise_nofile(args.connections + 512)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        command = [CARDGAME, "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--db", str(Path(tmp) / "bench.db"),
                   "--roommates-interval", str(args.roommates_interval), *LOAD_LIMITS]  # fmt: skip
        log_path = Path(tmp) / "server.log"
        with running(command, port, log_path, stop_timeout=60) as proc:
            result = trio.run(measure, args, f"ws://127.0.0.1:{port}", psutil.Process(proc.pid))
        errors = errors_logged(log_path.read_text(errors="replace").splitlines())
    if args.against == "colyseus":
        result["colyseus"] = colyseus_idle(args)
    report = {"machine": machine(), "nofile": nofile, **vars(args), **result,
              "server_errors_logged": len(errors),
              "command": reproduce("connections.py")}  # fmt: skip
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    theirs = result.get("colyseus", {"connected": args.connections, "errors_logged": 0})
    if theirs["connected"] != args.connections or theirs["errors_logged"]:
        print(f"FAILED: Colyseus held {theirs['connected']} of {args.connections}, "
              f"{theirs['errors_logged']} errors logged", file=sys.stderr)  # fmt: skip
        sys.exit(1)
    if result["connected"] != args.connections or result["failures"] or errors:
        print(f"FAILED: {result['connected']} of {args.connections} connected, "
              f"{len(errors)} server errors logged; {result['failures']}",
              file=sys.stderr)  # fmt: skip
        sys.exit(1)


if __name__ == "__main__":
    main()
