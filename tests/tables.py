"""Helpers the end-to-end tests share: seating players, and playing a seat to the end."""

from __future__ import annotations

import random
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from cardgame.fsm.bots import make_bot
from cardgame.fsm.game import Q_VOTE
from cardgame.net.client import GameClient, LobbyClient, Ticket, bot_view, question_of
from cardgame.net.config import ServerConfig
from cardgame.net.memory_store import MemoryStore
from cardgame.net.server import Server, serve
from cardgame.net.store import Store

Message = dict[str, Any]


@asynccontextmanager
async def running_server(store: Store | None = None, **config: Any) -> AsyncIterator[Server]:
    """A server of its own on a free loopback port, as conftest's ``start_server`` starts
    one: pytest-trio runs each hypothesis example in a trio run of its own, so examples
    cannot share a fixture's server."""
    async with trio.open_nursery() as nursery:
        config = ServerConfig(host="127.0.0.1", port=0, **config)
        yield await nursery.start(serve, config, store or MemoryStore())
        nursery.cancel_scope.cancel()


async def fill_room(
    url: str, players: int, computers: int = 0, name: str = "table"
) -> list[Ticket]:
    """The creator and every other human seat, each through its own lobby connection."""
    async with LobbyClient.connect(url) as lobby:
        tickets = [await lobby.create_room(name, players, "p0", computers=computers)]
    for seat in range(1, players - computers):
        async with LobbyClient.connect(url) as lobby:
            tickets.append(await lobby.join_room(tickets[0].room_id, f"p{seat}"))
    return tickets


def event_of(message: Message) -> str | None:
    data = message["payload"].get("data")
    return data.get("event") if isinstance(data, dict) else None


async def play_on(client: GameClient, seed: int = 0, vote: str = "yes") -> Message:
    """Play this seat with the greedy strategy, voting ``vote``, until the game is over.

    A question the client already holds is answered first.
    """
    bot = make_bot("greedy", random.Random(seed))
    while True:
        if (asked := client.question) is not None:
            question = question_of(asked)
            if question.kind == Q_VOTE:
                await client.answer(vote)
            else:
                decision = bot.decide(question, bot_view(asked["payload"]["data"]))
                await client.answer(decision.data, decision.last_card)
        message = await client.receive()
        if event_of(message) == "game_over":
            return message


CARDGAME = str(Path(sys.executable).with_name("cardgame"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_serve(
    nursery: trio.Nursery, db: Path | str, port: int, *options: str
) -> tuple[trio.Process, list]:
    """``cardgame serve`` as a subprocess; returns once it listens, with its output lines."""
    command = [CARDGAME, "serve", "--port", str(port), "--db", str(db), *options]
    process = await trio.lowlevel.open_process(command, stdout=-1, stderr=-2)
    lines: list[str] = []
    listening = trio.Event()

    async def read_output() -> None:
        buffer = b""
        async for chunk in process.stdout:
            buffer += chunk
            *done, buffer = buffer.split(b"\n")
            for line in done:
                lines.append(line.decode())
                if "listening on" in lines[-1]:
                    listening.set()

    nursery.start_soon(read_output)
    with trio.fail_after(20):
        await listening.wait()
    return process, lines
