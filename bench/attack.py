"""The attacks of issue 9 against a real ``cardgame serve``, with a witness game timed
with and without each, in one run: does a stranger on the network take the server down?

For each attack a fresh ``cardgame serve`` (its own SQLite file, every limit at its
default: what a host gets) is started and:

1. the witness's rooms are seated from 127.0.0.1 (rooms of 2, one computer seat), for
   both phases, before anything else;
2. *unloaded*: the first half of them play their games, each move timed (an answer
   sent → that player's next numbered message), with a little thinking between moves;
3. the attacker (this script again, ``--attacker``, a process of its own so that its
   work does not slow the witness's own event loop) sets up and attacks; once it says
   it is ready, *under attack*: the other half play theirs, timed the same way;
4. the server's peak RSS is read from the kernel (``VmHWM`` of ``/proc/PID/status``:
   the high-water mark over the server's whole life, so over the attack too), and its
   log is searched for tracebacks.

The attacks (the first four of issue 9), from many loopback source addresses
(127.0.1.1, 127.0.1.2, …: Linux routes all of 127/8 to lo), as a real attacker would
spread over addresses to get past the per-address limits; the witness alone uses
127.0.0.1:

- ``watchers``: the rooms the server holds, each with a long emoji name, and 10
  ``/lobby`` connections sending GET_ROOMS at 19/s (under the rate limit) that never
  read (a small receive buffer); each one that is dropped comes back at once.
- ``room-spam``: 32 connections at a time creating rooms with long emoji names as fast
  as the server answers, for the whole phase; one reader pages GET_ROOMS meanwhile
  and the largest reply is reported (it once passed the 1 MiB frame limit).
- ``connections``: idle connections past the handshake, connections holding an
  unfinished fragmented message just under the hard frame limit, and slowloris
  handshakes (a request head that never ends, a byte a second); together more than
  the server's connection limit; each one dropped comes back at once.
- ``watchers+spam``: 2,000 ``/lobby`` watchers that read every push, while rooms are
  created to the limit and creations are begun and cancelled (CREATING_A_ROOM,
  CANCEL_CREATE) at 19/s per connection: every change is pushed to every watcher.

Goals (issue 9): peak RSS ≤ 200 MB under every attack, the witness's p99 under attack
≤ 5× its unloaded p99, no traceback in the server log. Exit 1 unless every witness
game finished. Loopback only, bounded in count and time (``--timeout`` per phase).
Requires the ``bench`` extra (psutil, for the machine line only) and Linux.

    .venv/bin/python bench/attack.py                    # markdown, every attack
    .venv/bin/python bench/attack.py --attacks watchers --json
    .venv/bin/python bench/attack.py --quick            # a smoke test, small counts
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import random
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import trio
from common import CARDGAME, cpu_seconds, errors_logged, free_port, machine, reproduce, running
from load import frame as text_frame
from load import join_game, percentile
from trio_websocket import open_websocket_url

from cardgame.fsm.bots import make_bot
from cardgame.net.client import bot_view, question_of

GOAL_RSS_MB = 200
GOAL_P99_RATIO = 5
#: 32 four-byte emoji: the longest room name the protocol allows, in bytes.
LONG_NAME = "\U0001f0cf" * 32
ATTACKS = ("watchers", "room-spam", "connections", "watchers+spam")
TEXT, CONTINUATION, CLOSE = 0x1, 0x0, 0x8


# -- a hand-made WebSocket client: cheap enough for thousands per process ---------------------


def source(number: int) -> str:
    """The attacker's ``number``-th loopback source address (never 127.0.0.1)."""
    return f"127.0.{1 + number // 250}.{1 + number % 250}"


def ws_frame(payload: bytes, opcode: int = TEXT, fin: bool = True) -> bytes:
    """A client frame (RFC 6455 5.2), masked with the all-zero key: valid, and no
    per-byte work for the attacker."""
    head = bytes([(0x80 if fin else 0) | opcode])
    length = len(payload)
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", length)
    return head + b"\0\0\0\0" + payload


def command(cmd: str, data: Any = None, msg_id: str = "1") -> bytes:
    return ws_frame(text_frame(cmd, msg_id, {"data": data}).encode())


class Refused(Exception):
    """The server did not take the connection (503, or closed during the handshake)."""


def request_head(path: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


async def tcp(port: int, address: str, receive_buffer: int = 0) -> trio.SocketStream:
    sock = trio.socket.socket()
    try:
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        await sock.bind((address, 0))
        await sock.connect(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return trio.SocketStream(sock)


class Raw:
    """One connection past the opening handshake, reading server frames when asked."""

    def __init__(self, stream: trio.SocketStream, buffer: bytes) -> None:
        self.stream = stream
        self.buffer = buffer
        self.last_size = 0  # bytes of the last message read

    @classmethod
    async def open(cls, port: int, address: str, path: str = "/lobby", receive_buffer: int = 0):
        stream = await tcp(port, address, receive_buffer)
        try:
            await stream.send_all(request_head(path))
            head = b""
            while b"\r\n\r\n" not in head:
                data = await stream.receive_some(4096)
                if not data:
                    raise Refused("closed during the handshake")
                head += data
        except (OSError, trio.BrokenResourceError, Refused):
            await stream.aclose()
            raise Refused("handshake") from None
        if not head.startswith(b"HTTP/1.1 101"):
            await stream.aclose()
            raise Refused(head.split(b"\r\n", 1)[0].decode())
        return cls(stream, head[head.index(b"\r\n\r\n") + 4 :])

    async def _fill(self, size: int) -> None:
        while len(self.buffer) < size:
            data = await self.stream.receive_some(65536)
            if not data:
                raise trio.BrokenResourceError("closed")
            self.buffer += data

    async def message(self) -> dict[str, Any]:
        """The next text message (server frames are unmasked and, from cardgame, whole)."""
        while True:
            await self._fill(2)
            length, start = self.buffer[1] & 0x7F, 2
            if length == 126:
                await self._fill(4)
                length, start = struct.unpack("!H", self.buffer[2:4])[0], 4
            elif length == 127:
                await self._fill(10)
                length, start = struct.unpack("!Q", self.buffer[2:10])[0], 10
            await self._fill(start + length)
            opcode = self.buffer[0] & 0x0F
            payload = self.buffer[start : start + length]
            self.buffer = self.buffer[start + length :]
            if opcode == CLOSE:
                raise trio.BrokenResourceError("closed by the server")
            if opcode == TEXT:
                self.last_size = length
                return json.loads(payload)

    async def reply(self, cmd: str) -> dict[str, Any]:
        """The reply to ``cmd`` (pushes about other rooms are skipped)."""
        while True:
            message = await self.message()
            if message["cmd"] in (f"{cmd}_REP", "ERROR"):
                return message

    async def aclose(self) -> None:
        await self.stream.aclose()


# -- the attacker process ---------------------------------------------------------------------


@dataclass
class Tally:
    """What the attacker did and what the server answered."""

    counts: dict[str, int] = field(default_factory=dict)
    largest_reply: int = 0

    def add(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n


async def persistently(tally: Tally, name: str, attempt) -> None:
    """Run ``attempt`` again each time the server drops or refuses it: an attacker
    comes back at once (a short pause after a refusal, as a real one would retry)."""
    while True:
        try:
            await attempt()
            tally.add(f"{name}: ended")
        except Refused as refused:
            tally.add(f"{name}: refused ({str(refused)[:40]})")
            await trio.sleep(0.2)
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            tally.add(f"{name}: dropped")


async def create_room(port: int, address: str, tally: Tally, name: str = LONG_NAME) -> bool:
    """One lobby connection creates one room and leaves (the room stays, as spam does)."""
    data = {"room_name": name, "num_of_players": 8, "user_name": "spam"}
    try:
        conn = await Raw.open(port, address)
    except Refused:
        tally.add("create: connection refused")
        return False
    try:
        await conn.stream.send_all(command("CREATE_A_ROOM", data))
        reply = await conn.reply("CREATE_A_ROOM")
    except (OSError, trio.BrokenResourceError):
        tally.add("create: dropped")
        return False
    finally:
        await conn.aclose()
    if reply["cmd"] == "ERROR":
        tally.add(f"create: refused {reply['payload']['data']['code']}")
        return False
    tally.add("create: room created")
    return True


async def fill_rooms(port: int, rooms: int, tally: Tally, concurrency: int = 16) -> None:
    """Create up to ``rooms`` rooms, 50 per address (within the per-address burst)."""
    numbers = iter(range(rooms))

    async def worker() -> None:
        for number in numbers:
            await create_room(port, source(number // 50), tally)

    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(worker)


async def never_reading_watcher(port: int, address: str, per_second: float, tally: Tally) -> None:
    conn = await Raw.open(port, address, receive_buffer=4096)
    tally.add("watcher: connected")
    async with conn.stream:
        number = 0
        while True:
            number += 1
            await conn.stream.send_all(command("GET_ROOMS", {"offset": 0}, str(number)))
            await trio.sleep(1 / per_second)


async def spam_rooms(port: int, first_address: int, addresses: int, tally: Tally) -> None:
    """Create rooms without pause, taking the addresses in turn; a refusal is tried
    again a second later (hammering a refusal gains the attacker nothing: a flood of
    connections is the ``connections`` attack)."""
    number = first_address
    while True:
        if not await create_room(port, source(first_address + number % addresses), tally):
            await trio.sleep(1)
        number += 1


async def page_reader(port: int, tally: Tally) -> None:
    """An ordinary client reading GET_ROOMS once a second: how big does a reply get?"""
    conn = await Raw.open(port, source(999))
    async with conn.stream:
        while True:
            await conn.stream.send_all(command("GET_ROOMS", {"offset": 0}))
            await conn.reply("GET_ROOMS")
            tally.largest_reply = max(tally.largest_reply, conn.last_size)
            tally.add("reader: GET_ROOMS answered")
            await trio.sleep(1)


async def idle_connection(port: int, address: str, tally: Tally) -> None:
    conn = await Raw.open(port, address)
    tally.add("idle: connected")
    async with conn.stream:
        while await conn.stream.receive_some(65536):
            pass


async def unfinished_fragment(port: int, address: str, size: int, tally: Tally) -> None:
    conn = await Raw.open(port, address)
    tally.add("fragment: held")
    async with conn.stream:
        await conn.stream.send_all(ws_frame(b'{"cmd": "' + b"x" * size, TEXT, fin=False))
        while await conn.stream.receive_some(65536):
            pass


async def slowloris(port: int, address: str, tally: Tally) -> None:
    stream = await tcp(port, address)
    tally.add("slowloris: begun")
    async with stream:
        await stream.send_all(b"GET /lobby HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        while True:
            await stream.send_all(b"X")
            await trio.sleep(1)


async def reading_watcher(port: int, address: str, tally: Tally) -> None:
    conn = await Raw.open(port, address)
    tally.add("watcher: connected")
    async with conn.stream:
        await conn.stream.send_all(command("GET_ROOMS"))
        while data := await conn.stream.receive_some(65536):
            tally.add("watcher: bytes read", len(data))


async def churn_creations(port: int, address: str, per_second: float, tally: Tally) -> None:
    """Begin creating a room and cancel it, again and again: two pushes to every watcher
    each time, under the connection's rate limit."""
    conn = await Raw.open(port, address)
    async with conn.stream:
        creating = command("CREATING_A_ROOM", {"user_name": "spam"})
        cancel = command("CANCEL_CREATE")
        while True:
            await conn.stream.send_all(creating)
            await trio.sleep(1 / per_second)
            await conn.stream.send_all(cancel)
            await trio.sleep(1 / per_second)
            tally.add("churn: creation begun and cancelled")


async def watchers_attack(args, port: int, tally: Tally, ready) -> None:
    await fill_rooms(port, args.rooms, tally)
    async with trio.open_nursery() as nursery:
        for number in range(args.watchers):
            address = source(100 + number)
            attempt = lambda a=address: never_reading_watcher(port, a, 19, tally)  # noqa: E731
            nursery.start_soon(persistently, tally, "watcher", attempt)
        ready()


async def room_spam_attack(args, port: int, tally: Tally, ready) -> None:
    async with trio.open_nursery() as nursery:
        nursery.start_soon(persistently, tally, "reader", lambda: page_reader(port, tally))
        for number in range(args.spammers):
            nursery.start_soon(spam_rooms, port, number * 4, 4, tally)
        ready()


async def connections_attack(args, port: int, tally: Tally, ready) -> None:
    size = args.fragment_bytes
    kinds = (
        ("idle", args.idle, lambda a: idle_connection(port, a, tally)),
        ("fragment", args.fragments, lambda a: unfinished_fragment(port, a, size, tally)),
        ("slowloris", args.slowloris, lambda a: slowloris(port, a, tally)),
    )
    async with trio.open_nursery() as nursery:
        number = 0
        for name, count, make in kinds:
            for _ in range(count):
                address = source(number % args.addresses)
                nursery.start_soon(persistently, tally, name, lambda m=make, a=address: m(a))
                number += 1
                if number % 100 == 0:
                    await trio.sleep(0.05)  # a flood, not a SYN backlog overflow
        ready()


async def watchers_and_spam_attack(args, port: int, tally: Tally, ready) -> None:
    async with trio.open_nursery() as nursery:
        for number in range(args.spammers):  # first: the watchers fill what is left
            address = source(200 + number)
            attempt = lambda a=address: churn_creations(port, a, 19, tally)  # noqa: E731
            nursery.start_soon(persistently, tally, "churn", attempt)
            nursery.start_soon(spam_rooms, port, 300 + number * 4, 4, tally)
        for number in range(args.watchers):
            address = source(number // 50)
            attempt = lambda a=address: reading_watcher(port, a, tally)  # noqa: E731
            nursery.start_soon(persistently, tally, "watcher", attempt)
            if number % 100 == 99:
                await trio.sleep(0.05)
        ready()


ATTACKERS = {
    "watchers": watchers_attack,
    "room-spam": room_spam_attack,
    "connections": connections_attack,
    "watchers+spam": watchers_and_spam_attack,
}


async def attacker(args) -> None:
    """Attack until SIGTERM (or ``--timeout``), then print the tally as one JSON line."""
    tally = Tally()

    def ready() -> None:
        print(json.dumps({"ready": True}), flush=True)

    with trio.move_on_after(args.timeout):
        with trio.open_signal_receiver(signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(ATTACKERS[args.attacker], args, args.port, tally, ready)
                async for _ in signals:
                    nursery.cancel_scope.cancel()
                    break
    print(json.dumps({"tally": tally.counts, "largest_reply": tally.largest_reply}), flush=True)


# -- the witness ------------------------------------------------------------------------------


@dataclass
class Witness:
    latencies: list[float] = field(default_factory=list)
    games: int = 0
    playing: int = 0
    done: trio.Event = field(default_factory=trio.Event)
    failures: list[str] = field(default_factory=list)


async def seat_witness(port: int, rooms: int, address: str) -> list[dict[str, Any]]:
    """Rooms of two seats, one for a computer: tickets for the other seat."""
    tickets = []
    for number in range(rooms):
        data = {"room_name": f"witness {number}", "num_of_players": 2, "user_name": "wit",
                "computers": 1}  # fmt: skip
        conn = await Raw.open(port, address)
        async with conn.stream:
            await conn.stream.send_all(command("CREATE_A_ROOM", data))
            reply = await conn.reply("CREATE_A_ROOM")
        if reply["cmd"] == "ERROR":
            raise RuntimeError(f"the witness's room was refused: {reply['payload']}")
        tickets.append(reply["payload"]["data"])
    return tickets


async def witness_player(
    url: str, ticket: dict[str, Any], think: float, go: trio.Event, out: Witness, task_status
) -> None:
    """One player from JOIN_GAME to game over, thinking ``think`` seconds a move; its
    first answer waits for ``go`` (its connection is open before the attack begins)."""
    out.playing += 1
    try:
        await play_one(url, ticket, think, go, out, task_status)
    finally:
        out.playing -= 1
        if out.playing == 0:
            out.done.set()


async def play_one(url, ticket, think, go, out, task_status) -> None:
    bot = make_bot("greedy", random.Random(ticket["user_id"]))
    sent_at: float | None = None
    counter = 0
    async with open_websocket_url(f"{url}/game") as ws:
        await ws.send_message(join_game(ticket))
        task_status.started()
        while True:
            message = json.loads(await ws.get_message())
            if message["msg_id"] == "0":
                if message["cmd"] == "ERROR":
                    raise RuntimeError(f"the witness was refused: {message['payload']}")
                continue
            if sent_at is not None:
                out.latencies.append(time.perf_counter() - sent_at)
                sent_at = None
            data = message["payload"]["data"]
            if isinstance(data, dict) and data.get("event") == "game_over":
                out.games += 1
                return
            if message["payload"]["flag"] != "USER_INPUT_CONTINUE":
                continue
            answer = bot.decide(question_of(message), bot_view(data))
            await go.wait()
            await trio.sleep(think * random.uniform(0.5, 1.5))
            counter += 1
            body = {"action": "answer", "reply_to": message["msg_id"], "data": answer.data,
                    "last_card": answer.last_card}  # fmt: skip
            await ws.send_message(text_frame("GAME_MESSAGE", f"c{counter}", body))
            sent_at = time.perf_counter()


@asynccontextmanager
async def witness_games(url: str, tickets, think: float, timeout: float):
    """Every game of ``tickets`` connected (the games begin, the first answers wait);
    yields the event that lets them play, and ends when all are over."""
    out, go = Witness(), trio.Event()
    with trio.move_on_after(timeout) as scope:
        try:
            async with trio.open_nursery() as nursery:
                for ticket in tickets:
                    await nursery.start(witness_player, url, ticket, think, go, out)
                yield go, out
        except* Exception as group:
            out.failures += [f"{type(e).__name__}: {e}" for e in group.exceptions]
    if scope.cancelled_caught:
        out.failures.append(f"not finished after {timeout} s")


@dataclass
class Newcomers:
    """Somebody arriving while the attack goes on: can they open the lobby?"""

    admitted: int = 0
    refused: int = 0
    seconds: list[float] = field(default_factory=list)


async def newcomers(port: int, out: Newcomers) -> None:
    """Once a second, a new /lobby connection asks GET_ROOMS (from its own address)."""
    while True:
        started = time.perf_counter()
        try:
            with trio.fail_after(10):
                conn = await Raw.open(port, "127.0.0.3")
                async with conn.stream:
                    await conn.stream.send_all(command("GET_ROOMS"))
                    await conn.reply("GET_ROOMS")
            out.admitted += 1
            out.seconds.append(time.perf_counter() - started)
        except (Refused, OSError, trio.BrokenResourceError, trio.TooSlowError):
            out.refused += 1
        await trio.sleep(1)


def figures(witness: Witness) -> dict[str, Any]:
    lat = sorted(witness.latencies)
    return {
        "moves": len(lat),
        "games": witness.games,
        "p50_ms": percentile(lat, 0.50) * 1000,
        "p99_ms": percentile(lat, 0.99) * 1000,
        "max_ms": (lat[-1] if lat else 0.0) * 1000,
        "failures": witness.failures,
    }


@contextmanager
def server_cpu(pid: int) -> Iterator[dict[str, float]]:
    """The server's CPU use over the block, in cores (1.0: one core all the time)."""
    process, out = psutil.Process(pid), {}
    before, start = cpu_seconds(process), time.monotonic()
    yield out
    out["server_cores"] = (cpu_seconds(process) - before) / (time.monotonic() - start)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def lines_of(stream) -> Any:
    buffer = b""
    async for chunk in stream:
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield json.loads(line)


def attacker_command(args, attack: str, port: int) -> list[str]:
    passed = ["--rooms", args.rooms, "--watchers", args.watchers, "--spammers", args.spammers,
              "--idle", args.idle, "--fragments", args.fragments, "--slowloris",
              args.slowloris, "--addresses", args.addresses, "--fragment-bytes",
              args.fragment_bytes, "--timeout", args.timeout]  # fmt: skip
    if attack == "watchers+spam":
        passed[3] = args.spam_watchers
    return [sys.executable, __file__, "--attacker", attack, "--port", str(port),
            *map(str, passed)]  # fmt: skip


async def play(url: str, tickets, args, pid: int) -> tuple[Witness, dict[str, float]]:
    async with witness_games(url, tickets, args.think, args.timeout) as (go, witness):
        with server_cpu(pid) as cpu:
            go.set()
            await witness.done.wait()
    return witness, cpu


async def attacked_round(args, attack: str, port: int, tickets, pid: int, arrivals) -> dict:
    """The attacker started, and once it is in full swing the witness's games played;
    then the attacker stopped: its report."""
    url = f"ws://127.0.0.1:{port}"
    async with witness_games(url, tickets, args.think, args.timeout) as (go, witness):
        proc = await trio.lowlevel.open_process(
            attacker_command(args, attack, port), stdout=subprocess.PIPE
        )
        lines = lines_of(proc.stdout)
        began = time.monotonic()
        with trio.fail_after(args.timeout):
            assert (await anext(lines)).get("ready"), "the attacker did not start"
        setup = time.monotonic() - began
        await trio.sleep(args.settle)  # the attack in full swing
        async with trio.open_nursery() as probes:
            probes.start_soon(newcomers, port, arrivals)
            with server_cpu(pid) as cpu:
                go.set()
                await witness.done.wait()
            probes.cancel_scope.cancel()
    proc.send_signal(signal.SIGTERM)
    with trio.fail_after(30):
        report = await anext(lines)
        await proc.wait()
    return {"witness": witness, "cpu": cpu, "setup_s": setup, "report": report}


async def one_attack(args, attack: str, workdir: Path) -> dict[str, Any]:
    """``--rounds`` rounds on one server: the witness unloaded, then under attack."""
    port = free_port()
    url = f"ws://127.0.0.1:{port}"
    log_path = workdir / f"{attack}.log"
    # every witness room is seated at the start (the attack may leave no room to create
    # one): their seats must wait for their games
    command = [CARDGAME, "serve", "--port", str(port), "--db", str(workdir / f"{attack}.db"),
               "--seat-wait", "3600"]  # fmt: skip
    if args.profile:  # the server under pyinstrument (its figures are then not comparable)
        profile = f"{args.profile}-{attack.replace('+', '-')}.txt"
        command = [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", profile, *command]
    result: dict[str, Any] = {"attack": attack, "rounds": []}
    arrivals, tally, largest = Newcomers(), Tally(), 0
    with running(command, port, log_path, stop_timeout=30) as server:
        result["start_rss_mb"] = rss_mb(server.pid)
        batches = [
            await seat_witness(port, args.witness_rooms, f"127.0.0.{1 + batch}")
            for batch in range(2 * args.rounds)  # an address a batch: the room burst is 60
        ]
        for number in range(args.rounds):
            unloaded, cpu = await play(url, batches[2 * number], args, server.pid)
            round_ = {"unloaded": figures(unloaded) | cpu}
            got = await attacked_round(
                args, attack, port, batches[2 * number + 1], server.pid, arrivals
            )
            round_["attacked"] = figures(got["witness"]) | got["cpu"]
            round_["setup_s"] = got["setup_s"]
            for what, n in got["report"]["tally"].items():
                tally.add(what, n)
            largest = max(largest, got["report"]["largest_reply"])
            result["rounds"].append(round_)
        result["peak_rss_mb"] = peak_rss_mb(server.pid)
        result["rss_end_mb"] = rss_mb(server.pid)
    result["attacker"] = {"tally": tally.counts, "largest_reply": largest}
    result["newcomers"] = {
        "admitted": arrivals.admitted,
        "refused": arrivals.refused,
        "p50_ms": percentile(sorted(arrivals.seconds), 0.5) * 1000,
    }
    log = log_path.read_text().splitlines()
    result["tracebacks"] = sum("Traceback" in line for line in log)
    result["errors_logged"] = errors_logged(log)[:5]
    ratios = sorted(
        r["attacked"]["p99_ms"] / r["unloaded"]["p99_ms"] if r["unloaded"]["p99_ms"] else math.inf
        for r in result["rounds"]
    )
    result["p99_ratio"] = statistics.median(ratios)
    result["p99_ratios"] = ratios
    result["failures"] = [f for r in result["rounds"] for phase in ("unloaded", "attacked")
                          for f in r[phase]["failures"]]  # fmt: skip
    result["goals_met"] = (
        result["peak_rss_mb"] <= GOAL_RSS_MB
        and result["p99_ratio"] <= GOAL_P99_RATIO
        and result["tracebacks"] == 0
        and not result["failures"]
    )
    return result


def pooled(result: dict[str, Any], phase: str, key: str) -> float:
    return statistics.median(r[phase][key] for r in result["rounds"])


WHAT = {
    "watchers": "{rooms} rooms with long names, {watchers} never-reading GET_ROOMS watchers "
    "at 19/s",
    "room-spam": "{spammers} connections creating long-named rooms without pause",
    "connections": "{idle} idle + {fragments} unfinished fragments + {slowloris} slowloris, "
    "from {addresses} addresses",
    "watchers+spam": "{spam_watchers} reading watchers, {spammers} connections creating rooms "
    "and begin/cancel creations at 19/s",
}


def markdown(args, results: list[dict[str, Any]]) -> str:
    lines = [
        "## Under attack (bench/attack.py)",
        "",
        f"Machine: {machine()}. Reproduce: `{reproduce('attack.py')}`.",
        "",
        "A fresh `cardgame serve` per attack, every limit at its default (and `--seat-wait "
        "3600`: the witness's rooms are all seated at the start); the attacker from loopback "
        f"addresses other than the witness's. {args.rounds} rounds per attack: the witness "
        "unloaded, then under attack (a new attacker process each round; what it left, "
        "rooms for one, stays). Witness: "
        f"{args.witness_rooms} games at once, each in a room of 2 seats (one a computer), "
        f"{args.think * 1000:.0f} ms of thinking per move on average; under attack, their "
        "connections are opened before the attack begins and their first moves made "
        f"{args.settle:.0f} s after it is set up. p50/p99: the median over the rounds; the "
        "p99 ratio: the median of the rounds' ratios (each round's in brackets). The "
        "attacker runs at nice 19 (on this machine it shares the server's 2 cores, with "
        f"other work going on; a real one is elsewhere). Goals: peak RSS ≤ {GOAL_RSS_MB} MB, "
        f"p99 under attack ≤ {GOAL_P99_RATIO}× unloaded, no traceback.",
        "",
        "| attack | server peak RSS (at start) | witness p50 / p99 unloaded | under attack | "
        "p99 ratio (rounds) | moves (unloaded / attacked) | server CPU (unloaded / attacked) | "
        "tracebacks | goals |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        what = WHAT[r["attack"]].format(**vars(args))
        moves = [sum(x[phase]["moves"] for x in r["rounds"]) for phase in ("unloaded", "attacked")]
        spread = ", ".join(f"{x:.2f}" for x in r["p99_ratios"])
        lines.append(
            f"| `{r['attack']}`: {what} | {r['peak_rss_mb']:.0f} MB ({r['start_rss_mb']:.0f}) | "
            f"{pooled(r, 'unloaded', 'p50_ms'):.1f} / {pooled(r, 'unloaded', 'p99_ms'):.1f} ms | "
            f"{pooled(r, 'attacked', 'p50_ms'):.1f} / {pooled(r, 'attacked', 'p99_ms'):.1f} ms | "
            f"{r['p99_ratio']:.2f}× ({spread}) | {moves[0]} / {moves[1]} | "
            f"{pooled(r, 'unloaded', 'server_cores'):.2f} / "
            f"{pooled(r, 'attacked', 'server_cores'):.2f} cores | {r['tracebacks']} | "
            f"{'met' if r['goals_met'] else 'NOT met'} |"
        )
    lines += ["", "What the server answered the attacker (counts over the whole attack):", ""]
    for r in results:
        counts = r["attacker"]["tally"]
        said = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()) if "bytes" not in k)
        extra = ""
        if r["attacker"]["largest_reply"]:
            extra = f"; largest GET_ROOMS reply {r['attacker']['largest_reply']:,} bytes"
        setup = max(x["setup_s"] for x in r["rounds"])
        lines.append(f"- `{r['attack']}` (set up in {setup:.1f} s at most): {said}{extra}.")
        for failure in r["failures"]:
            lines.append(f"  - witness failure: {failure}")
        n = r["newcomers"]
        lines.append(
            f"  - newcomers (a new /lobby connection asking GET_ROOMS once a second during the "
            f"attack): {n['admitted']} admitted (p50 {n['p50_ms']:.0f} ms), {n['refused']} "
            "refused or timed out"
        )
        for error in r["errors_logged"]:
            lines.append(f"  - server log: `{error[:160]}`")
    return "\n".join(lines)


async def run(args) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="cardgame-attack-") as workdir:
        for attack in args.attacks.split(","):
            results.append(await one_attack(args, attack, Path(workdir)))
            print(f"{attack}: done", file=sys.stderr, flush=True)
    return results


SECTION = "## Under attack (bench/attack.py)"


def section_of(text: str) -> str:
    """This script's section of a RESULTS.md ('' if it has none): to the next section."""
    if SECTION not in text:
        return ""
    rest = text[text.index(SECTION) :]
    end = rest.find("\n## ", 1)
    return (rest if end < 0 else rest[: end + 1]).rstrip("\n") + "\n"


def write_section(path: Path, section: str) -> None:
    """Put ``section`` in ``path`` in place of the last one, or at its end."""
    text = path.read_text() if path.exists() else ""
    old = section_of(text)
    if old:
        text = text.replace(old, section)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--attacks", default=",".join(ATTACKS))
    parser.add_argument("--rooms", type=int, default=850,
                        help="watchers: rooms open (the witness adds its own)")  # fmt: skip
    parser.add_argument("--watchers", type=int, default=10, help="watchers: never reading")
    parser.add_argument("--spam-watchers", type=int, default=1900,
                        help="watchers+spam: watchers that read")  # fmt: skip
    parser.add_argument("--spammers", type=int, default=32)
    parser.add_argument("--idle", type=int, default=1500)
    parser.add_argument("--fragments", type=int, default=400)
    parser.add_argument("--slowloris", type=int, default=500)
    parser.add_argument("--addresses", type=int, default=64, help="connections: sources")
    parser.add_argument("--fragment-bytes", type=int, default=78 * 1024)
    parser.add_argument("--witness-rooms", type=int, default=32,
                        help="games played at once, in each phase")  # fmt: skip
    parser.add_argument("--think", type=float, default=0.4,
                        help="witness: seconds a move (on average)")  # fmt: skip
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds of attack before the witness plays")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=180, help="seconds per phase at most")
    parser.add_argument("--rounds", type=int, default=2,
                        help="unloaded, then attacked, this many times (interleaved)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke test")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--results", type=Path, metavar="FILE",
                        help="also put the table in FILE (its own section, replaced)")  # fmt: skip
    parser.add_argument("--section-of", type=Path, metavar="FILE",
                        help="print FILE's section of this script's figures, and stop "
                             "(make bench keeps it so)")  # fmt: skip
    parser.add_argument("--profile", metavar="PREFIX",
                        help="run each server under pyinstrument: PREFIX-ATTACK.txt")  # fmt: skip
    parser.add_argument("--attacker", choices=ATTACKS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.section_of:
        text = args.section_of.read_text() if args.section_of.exists() else ""
        if section := section_of(text):
            print("\n" + section, end="")
        return
    if args.attacker:
        os.nice(19)
        trio.run(attacker, args)
        return
    if args.quick:
        args.rooms, args.spam_watchers, args.idle, args.fragments, args.slowloris = (
            100, 200, 100, 40, 40)  # fmt: skip
        args.witness_rooms, args.think, args.settle, args.rounds = 4, 0.1, 0.5, 1
    results = trio.run(run, args)
    table = markdown(args, results)
    print(json.dumps(results) if args.json else table)
    if args.results:
        write_section(args.results, table + "\n")
    if any(r["failures"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
