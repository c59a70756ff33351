"""The load process of ``bench/server_load.py``: network players, or echo clients.

It speaks the wire protocol directly (``specs/protocol.md``) with trio-websocket, so
it measures the server and not a client library. Results go to stdout as one JSON
object.

``game`` mode: ``--rooms`` rooms of ``--players`` computer players each (``fsm.bots``
deciding from the player's own view only), every room playing ``--games`` games one
after another. A *move* is one answer sent; its latency runs from sending it to the
next message that player receives (the server's acknowledgement). Every player
checks that the ids it received are exactly 1..n.

``echo`` mode: the same number of connections; one per room sends a frame of the
size of a typical game message and waits for its echo, in a closed loop, for as many
round trips as the game run made moves per room — the same concurrency.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from typing import Any

import trio
from trio_websocket import open_websocket_url

from cardgame.fsm.bots import BotView, make_bot
from cardgame.fsm.cards import parse_card
from cardgame.fsm.game import Question


class Totals:
    def __init__(self) -> None:
        self.moves = 0
        self.messages = 0
        self.latencies: list[float] = []
        self.games = 0
        self.id_errors: list[str] = []


async def request(ws: Any, cmd: str, data: dict[str, Any], msg_id: str) -> dict[str, Any]:
    """Send a command and return the reply (``<cmd>_REP``), skipping lobby pushes."""
    await ws.send_message(json.dumps({"cmd": cmd, "msg_id": msg_id, "payload": {"data": data}}))
    while True:
        reply = json.loads(await ws.get_message())
        if reply["cmd"] == f"{cmd}_REP":
            return reply["payload"]["data"]
        if reply["cmd"] == "ERROR":
            raise RuntimeError(f"{cmd} refused: {reply['payload']}")


def view_of(data: dict[str, Any]) -> BotView:
    top = parse_card(data["top_card"])
    return BotView(
        seat=data["you"],
        hand=tuple(parse_card(c) for c in data["hand"]),
        top_card=top,
        request=data["request"],
        # A pending penalty's symbol is the top card's: only 1s or only 2s stack.
        penalty_symbol=top.sign if data["penalty"] else None,
        card_counts=tuple(p["cards"] for p in data["players"]),
    )


async def player(url: str, seat_info: dict[str, Any], strategy: str, totals: Totals) -> None:
    """One network player from JOIN_GAME to game over."""
    bot = make_bot(strategy, random.Random(hash(seat_info["user_id"]) & 0xFFFF))
    received: list[int] = []
    sent_at: float | None = None
    counter = 0
    async with open_websocket_url(f"{url}/game") as ws:
        hello = {k: seat_info[k] for k in ("room_id", "user_id", "token")}
        await ws.send_message(
            json.dumps({"cmd": "JOIN_GAME", "msg_id": "c0", "payload": {"data": hello}})
        )
        while True:
            message = json.loads(await ws.get_message())
            if sent_at is not None:
                totals.latencies.append(time.perf_counter() - sent_at)
                sent_at = None
            totals.messages += 1
            received.append(int(message["msg_id"]))
            payload = message["payload"]
            data = payload.get("data") or {}
            if message["cmd"] == "ERROR":
                raise RuntimeError(f"server refused a move: {payload}")
            if isinstance(data, dict) and data.get("event") == "game_over":
                break
            if payload.get("flag") != "USER_INPUT_CONTINUE":
                continue
            question = Question(
                data["question"],
                data["you"],
                message["msg_id"],
                payload["extra_data"] or [],
                data.get("count", 0),
            )
            answer = bot.decide(question, view_of(data))
            counter += 1
            body = {
                "action": "answer",
                "reply_to": message["msg_id"],
                "data": answer.data,
                "last_card": answer.last_card,
            }
            await ws.send_message(
                json.dumps({"cmd": "GAME_MESSAGE", "msg_id": f"c{counter}", "payload": body})
            )
            sent_at = time.perf_counter()
            totals.moves += 1
    if received != list(range(1, len(received) + 1)):
        totals.id_errors.append(f"{seat_info['user_id']}: ids {received[:5]}... not 1..n")


async def room(
    url: str, number: int, players: int, games: int, strategy: str, totals: Totals
) -> None:
    for game in range(games):
        seats = []
        async with open_websocket_url(f"{url}/lobby") as lobby:
            created = await request(
                lobby,
                "CREATE_A_ROOM",
                {
                    "room_name": f"bench-{number}-{game}",
                    "num_of_players": players,
                    "user_name": f"p{number}x0",
                },
                "c1",
            )
            seats.append(created)
            for other in range(1, players):
                joined = await request(
                    lobby,
                    "JOIN_ROOM",
                    {"room_id": created["room_id"], "user_name": f"p{number}x{other}"},
                    f"c{other + 1}",
                )
                seats.append(joined)
        async with trio.open_nursery() as nursery:
            for seat_info in seats:
                nursery.start_soon(player, url, seat_info, strategy, totals)
        totals.games += 1


async def echo_loop(url: str, frame: str, round_trips: int, totals: Totals) -> None:
    async with open_websocket_url(f"{url}/game") as ws:
        for _ in range(round_trips):
            start = time.perf_counter()
            await ws.send_message(frame)
            await ws.get_message()
            totals.latencies.append(time.perf_counter() - start)
            totals.moves += 1
            totals.messages += 1


async def idle(url: str, done: trio.Event) -> None:
    async with open_websocket_url(f"{url}/game"):
        await done.wait()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    totals = Totals()
    start = time.perf_counter()
    if args.mode == "game":
        async with trio.open_nursery() as nursery:
            for number in range(args.rooms):
                nursery.start_soon(
                    room, args.url, number, args.players, args.games, args.strategy, totals
                )
    else:
        frame = json.dumps(
            {"cmd": "GAME_MESSAGE_REP", "msg_id": "1", "payload": {"prompt": "x" * args.frame}}
        )
        done = trio.Event()
        async with trio.open_nursery() as nursery:
            for _ in range(args.rooms * (args.players - 1)):
                nursery.start_soon(idle, args.url, done)
            async with trio.open_nursery() as active:
                for _ in range(args.rooms):
                    active.start_soon(echo_loop, args.url, frame, args.round_trips, totals)
            done.set()
    elapsed = time.perf_counter() - start
    lat = sorted(totals.latencies) or [0.0]
    return {
        "mode": args.mode,
        "seconds": elapsed,
        "moves": totals.moves,
        "moves_per_s": totals.moves / elapsed,
        "messages_per_s": totals.messages / elapsed,
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
        "max_ms": lat[-1] * 1000,
        "games": totals.games,
        "id_errors": totals.id_errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["game", "echo"])
    parser.add_argument("--url", default="ws://127.0.0.1:8888")
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--games", type=int, default=1)
    parser.add_argument("--strategy", default="greedy")
    parser.add_argument("--round-trips", type=int, default=100)
    parser.add_argument("--frame", type=int, default=600, help="echo frame size in bytes")
    args = parser.parse_args()
    print(json.dumps(trio.run(run, args)))


if __name__ == "__main__":
    main()
