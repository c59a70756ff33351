"""The load process of ``bench/server_load.py``: network players, or echo clients.

It speaks the wire protocol directly (``specs/protocol.md``) with trio-websocket, so
it measures the server and not a client library; the bots decide from exactly what
their player was told (``cardgame.net.client.bot_view``). Results go to stdout as
one JSON object.

``game`` mode, in two phases:

1. *seating* (not timed): for each of ``--rooms`` rooms and each of its ``--games``
   games, a room of ``--players`` seats is created and filled through ``/lobby``
   (one lobby connection per seat: a lobby session holds one seat);
2. *play* (timed): every seat connects to ``/game`` and a ``fsm.bots`` computer
   plays it; each room plays its games one after another, so ``--rooms`` games are
   in flight at once.

A *move* is one answer sent. Its latency runs from sending it to that player's
acknowledgement: the next numbered message the server sends to that player (a
refusal numbered "0", outside the stream, does not count). Every player checks
that the ids it received are exactly 1..n, and every game must reach ``game_over``.
A ``rate_limited`` refusal (the server allows 20 messages a second per connection)
is waited out and the same frame sent again; such refusals are counted.

``echo`` mode: the same number of connections, one closed loop per room (a game has
one move in flight per room: the same concurrency) sending a frame of the game's
mean message size and waiting for its echo, ``--round-trips`` times per loop.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import time
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import open_websocket_url

from cardgame.fsm.bots import make_bot
from cardgame.net.client import bot_view, question_of
from cardgame.net.config import ServerConfig
from cardgame.net.protocol import envelope

#: Lobby connections open at once while seating (each one is pushed every other seat).
SEATING_CONCURRENCY = 16


@dataclass
class Totals:
    moves: int = 0
    messages: int = 0  # frames the server sent that the clients received
    message_bytes: int = 0
    latencies: list[float] = field(default_factory=list)
    games: int = 0
    rate_limited: int = 0
    id_errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def frame(cmd: str, msg_id: str, payload: dict[str, Any]) -> str:
    return json.dumps({"cmd": cmd, "msg_id": msg_id, "payload": payload})


async def seat(url: str, cmd: str, data: dict[str, Any]) -> dict[str, Any]:
    """One lobby connection, one seat: the ``{room_id, user_id, token}`` ticket."""
    async with open_websocket_url(f"{url}/lobby") as ws:
        await ws.send_message(frame(cmd, "c1", {"data": data}))
        while True:
            reply = json.loads(await ws.get_message())
            if reply["cmd"] == f"{cmd}_REP":
                return reply["payload"]["data"]
            if reply["cmd"] == "ERROR":
                raise RuntimeError(f"{cmd} refused: {reply['payload']}")
            # anything else is a lobby push about somebody else's room


async def seat_room(
    url: str,
    name: str,
    size: int,
    limit: trio.Semaphore,
    out: list[dict[str, Any]],
    people: int | None = None,
) -> None:
    """Create a room of ``size`` seats and take ``people`` of them (all, by default)."""
    async with limit:
        data = {"room_name": name, "num_of_players": size, "user_name": "p0"}
        first = await seat(url, "CREATE_A_ROOM", data)
    out.append(first)
    for number in range(1, size if people is None else people):
        data = {"room_id": first["room_id"], "user_name": f"p{number}"}
        async with limit:
            out.append(await seat(url, "JOIN_ROOM", data))


def join_game(ticket: dict[str, Any]) -> str:
    """The JOIN_GAME frame that presents a seat's ticket on /game."""
    hello = {k: ticket[k] for k in ("room_id", "user_id", "token")}
    return frame("JOIN_GAME", "c0", {"data": hello})


async def player(url: str, ticket: dict[str, Any], strategy: str, totals: Totals) -> None:
    """One network player from JOIN_GAME to game over."""
    bot = make_bot(strategy, random.Random(ticket["user_id"]))
    received: list[int] = []
    sent_at: float | None = None
    counter = 0
    backoff = 1 / ServerConfig().rate
    async with open_websocket_url(f"{url}/game") as ws:
        last_frame = join_game(ticket)
        await ws.send_message(last_frame)
        while True:
            text = await ws.get_message()
            totals.messages += 1
            totals.message_bytes += len(text)
            message = json.loads(text)
            payload = message["payload"]
            if message["msg_id"] == "0":  # outside the numbered stream
                if message["cmd"] != "ERROR":
                    continue  # a roommates tick while the room waits for everyone
                if (payload["data"] or {}).get("code") == "rate_limited":
                    totals.rate_limited += 1
                    await trio.sleep(backoff)
                    await ws.send_message(last_frame)
                    continue
                raise RuntimeError(f"server refused {ticket['user_id']}: {payload}")
            if sent_at is not None:
                totals.latencies.append(time.perf_counter() - sent_at)
                sent_at = None
            received.append(int(message["msg_id"]))
            if message["cmd"] == "ERROR":
                raise RuntimeError(f"server refused a move of {ticket['user_id']}: {payload}")
            data = payload["data"]
            if isinstance(data, dict) and data.get("event") == "game_over":
                break
            if payload["flag"] != "USER_INPUT_CONTINUE":
                continue
            answer = bot.decide(question_of(message), bot_view(data))
            counter += 1
            body = {"action": "answer", "reply_to": message["msg_id"], "data": answer.data,
                    "last_card": answer.last_card}  # fmt: skip
            last_frame = frame("GAME_MESSAGE", f"c{counter}", body)
            await ws.send_message(last_frame)
            sent_at = time.perf_counter()
            totals.moves += 1
    if received != list(range(1, len(received) + 1)):
        totals.id_errors.append(f"{ticket['user_id']}: ids {received[:8]}... are not 1..n")


async def room(url: str, games: list[list[dict[str, Any]]], strategy: str, totals: Totals) -> None:
    """A room's games one after another, each with all its players."""
    for tickets in games:
        async with trio.open_nursery() as nursery:
            for ticket in tickets:
                nursery.start_soon(player, url, ticket, strategy, totals)
        totals.games += 1


async def echo_loop(ws: Any, text: str, round_trips: int, totals: Totals) -> None:
    for _ in range(round_trips):
        start = time.perf_counter()
        await ws.send_message(text)
        reply = await ws.get_message()
        totals.latencies.append(time.perf_counter() - start)
        totals.moves += 1
        totals.messages += 1
        totals.message_bytes += len(reply)
    totals.games += 1  # a loop, in echo mode


async def hold(
    url: str, connections: list[Any], done: trio.Event, task_status=trio.TASK_STATUS_IGNORED
) -> None:
    async with open_websocket_url(f"{url}/game") as ws:
        connections.append(ws)
        task_status.started()
        await done.wait()


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def url_of(args: argparse.Namespace, number: int) -> str:
    """Room ``number``'s server: with several (``--url A,B``), rooms take turns, and a
    room's players use the process that created it (the one that runs it)."""
    urls = args.url.split(",")
    return urls[number % len(urls)]


async def run_game(args: argparse.Namespace, totals: Totals) -> tuple[float, float]:
    limit = trio.Semaphore(SEATING_CONCURRENCY)
    tickets = [[[] for _ in range(args.games)] for _ in range(args.rooms)]
    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for number in range(args.rooms):
            for game in range(args.games):
                name = f"bench-{number}-{game}"
                nursery.start_soon(seat_room, url_of(args, number), name, args.players,
                                   limit, tickets[number][game])  # fmt: skip
    seating = time.perf_counter() - start
    start = time.perf_counter()
    with trio.move_on_after(args.timeout) as timeout:
        async with trio.open_nursery() as nursery:
            for number, games in enumerate(tickets):
                nursery.start_soon(room, url_of(args, number), games, args.strategy, totals)
    if timeout.cancelled_caught:
        totals.failures.append(f"not finished after {args.timeout} s")
    return seating, time.perf_counter() - start


async def run_echo(args: argparse.Namespace, totals: Totals) -> tuple[float, float]:
    def text_of(prompt: str) -> str:
        return json.dumps(envelope("GAME_MESSAGE_REP", "1", prompt))

    text = text_of("x" * max(0, args.frame - len(text_of(""))))
    done = trio.Event()
    connections: list[Any] = []
    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(args.rooms * args.players):
            await nursery.start(hold, args.url, connections, done)
        seating = time.perf_counter() - start
        start = time.perf_counter()
        with trio.move_on_after(args.timeout) as timeout:
            async with trio.open_nursery() as active:
                for ws in connections[: args.rooms]:  # one closed loop per room
                    active.start_soon(echo_loop, ws, text, args.round_trips, totals)
        elapsed = time.perf_counter() - start
        if timeout.cancelled_caught:
            totals.failures.append(f"not finished after {args.timeout} s")
        done.set()
    return seating, elapsed


async def run(args: argparse.Namespace) -> dict[str, Any]:
    totals = Totals()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    try:
        seating, elapsed = await (run_game if args.mode == "game" else run_echo)(args, totals)
    except* Exception as group:
        for error in group.exceptions:
            totals.failures.append(f"{type(error).__name__}: {error}")
        seating, elapsed = 0.0, float("nan")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    lat = sorted(totals.latencies)
    return {
        "mode": args.mode,
        "connections": args.rooms * args.players,
        "seating_s": seating,
        "seconds": elapsed,
        "moves": totals.moves,
        "moves_per_s": totals.moves / elapsed,
        "messages": totals.messages,
        "messages_per_s": totals.messages / elapsed,
        "mean_message_bytes": totals.message_bytes / max(1, totals.messages),
        "p50_ms": percentile(lat, 0.50) * 1000,
        "p99_ms": percentile(lat, 0.99) * 1000,
        "max_ms": (lat[-1] if lat else 0.0) * 1000,
        "games": totals.games,
        "games_expected": args.rooms * (args.games if args.mode == "game" else 1),
        "rate_limited": totals.rate_limited,
        "load_cpu_s": usage.ru_utime + usage.ru_stime - cpu_before,
        "id_errors": totals.id_errors,
        "failures": totals.failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["game", "echo"])
    parser.add_argument("--url", default="ws://127.0.0.1:8888",
                        help="game: several, comma-separated, share the rooms")  # fmt: skip
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--games", type=int, default=1, help="games per room, one after another")
    parser.add_argument("--strategy", default="greedy")
    parser.add_argument("--round-trips", type=int, default=100, help="echo: per closed loop")
    parser.add_argument("--frame", type=int, default=600, help="echo: frame size in bytes")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before giving up")
    args = parser.parse_args()
    print(json.dumps(trio.run(run, args)))


if __name__ == "__main__":
    main()
