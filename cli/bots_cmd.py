"""``cardgame bots``: computer players over the network, game after game.

Each bot is a real client (``net.client``): its own lobby connection to take a seat,
its own ``/game`` connection, and :func:`play_with_bot` deciding from what that seat
was told. Rooms of bots are created and filled by the bots themselves; with
``--join`` the bots instead take seats in rooms other people opened. They play until
Ctrl-C, or until ``--games`` games are finished.
"""

from __future__ import annotations

import secrets
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import click
import trio
from rich.console import Console
from rich.live import Live
from rich.text import Text

from cardgame.cli.play import run_command, server_url
from cardgame.fsm.bots import STRATEGIES
from cardgame.net.client import (
    Backoff,
    GameClient,
    LobbyClient,
    ServerError,
    Ticket,
    play_with_bot,
)
from cardgame.net.connection import RateLimiter


@dataclass
class Tally:
    """What the progress line shows; ``games`` is the limit (None: until stopped)."""

    games: int | None = None
    started: int = 0  # games claimed (rooms created or joined) so far
    finished: int = 0
    moves: int = 0
    rooms: int = 0  # rooms in play right now
    began: float = field(default_factory=trio.current_time)
    finished_rooms: set[str] = field(default_factory=set)
    done: trio.Event = field(default_factory=trio.Event)

    def claim(self) -> bool:
        """Another game may begin (under ``--games``, exactly that many begin)."""
        if self.games is not None and self.started >= self.games:
            return False
        self.started += 1
        return True

    def game_over(self, room_id: str) -> None:
        if room_id in self.finished_rooms:
            return
        self.finished_rooms.add(room_id)
        self.finished += 1
        if self.games is not None and self.finished >= self.games:
            self.done.set()

    def line(self) -> Text:
        elapsed = max(trio.current_time() - self.began, 1e-9)
        limit = f"/{self.games}" if self.games is not None else ""
        return Text(
            f"rooms {self.rooms} | games finished {self.finished}{limit} | "
            f"moves {self.moves} | {self.moves / elapsed:.1f} moves/s"
        )


def pace() -> RateLimiter:
    """A bot answers the instant it is asked, which in a room of bots is faster than the
    server allows one connection (20 a second, bursts of 40): it waits under that."""
    return RateLimiter(rate=16.0, burst=30.0)


class BotGameClient(GameClient):
    """A paced game client that counts its answers (the client library itself sends an
    answer again if it was refused for flooding)."""

    tally: Tally | None = None
    pace: RateLimiter | None = None

    async def answer(self, data: Any, last_card: bool = False) -> str:
        if self.pace is not None:
            await self.pace.wait()
        if self.tally is not None:
            self.tally.moves += 1
        return await super().answer(data, last_card)


async def play_seat(url: str, ticket: Ticket, strategy: str, seed: int, tally: Tally) -> None:
    async with BotGameClient.connect(url, ticket, backoff=Backoff()) as client:
        client.tally, client.pace = tally, pace()
        await play_with_bot(client, strategy, seed)
    tally.game_over(ticket.room_id)


def room_sizes(count: int, rooms: int | None = None) -> list[int]:
    """``count`` bots in ``rooms`` rooms (None: the fewest), as even as can be; each
    room seats 2 to 8."""
    rooms = rooms or max(1, -(-count // 8))
    sizes = [count // rooms + (1 if i < count % rooms else 0) for i in range(rooms)]
    if not all(2 <= s <= 8 for s in sizes):
        raise click.BadParameter(
            f"{count} bots in {rooms} room(s) gives rooms of {sorted(set(sizes))} players; "
            "a room seats 2 to 8",
            param_hint="--count/--rooms",
        )
    return sizes


async def run_room(url: str, index: int, size: int, strategy: str, seed: int, tally: Tally):
    """One table of bots: create a room, fill it, play it out; again."""
    game_number = 0
    while tally.claim():
        game_number += 1
        names = [f"bot{index}-{seat + 1}" for seat in range(size)]
        async with LobbyClient.connect(url) as lobby:
            tickets = [await lobby.create_room(f"bots {index}", size, names[0])]
        for name in names[1:]:
            async with LobbyClient.connect(url) as lobby:
                try:
                    tickets.append(await lobby.join_room(tickets[0].room_id, name))
                except ServerError as err:
                    if err.code != "room_full":  # a person took the seat: fine
                        raise
        tally.rooms += 1
        try:
            async with trio.open_nursery() as nursery:
                for seat, ticket in enumerate(tickets):
                    bot_seed = seed + 1000 * index + 100 * game_number + seat
                    nursery.start_soon(play_seat, url, ticket, strategy, bot_seed, tally)
        finally:
            tally.rooms -= 1


async def run_joiner(url: str, index: int, strategy: str, seed: int, tally: Tally) -> None:
    """One bot that takes a seat in any open room, plays it out, and looks for another."""
    game_number = 0
    while True:  # until run_bots stops everybody (Ctrl-C, or --games finished)
        game_number += 1
        name = f"bot{index}-{secrets.token_hex(2)}"
        ticket: Ticket | None = None
        async with LobbyClient.connect(url) as lobby:
            while ticket is None:
                open_rooms, _ = await lobby.get_rooms()
                lobby.pushes.clear()
                for room in open_rooms:
                    try:
                        ticket = await lobby.join_room(room["room_id"], name)
                        break
                    except ServerError:
                        continue  # full meanwhile, or the name is taken: the next room
                if ticket is None:
                    await lobby.next_push()  # something changed in the lobby: look again
        tally.rooms += 1
        try:
            await play_seat(url, ticket, strategy, seed + 1000 * index + game_number, tally)
        finally:
            tally.rooms -= 1


async def stop_on(signum: int, tally: Tally) -> None:
    """Ctrl-C stops the bots (their games are abandoned) and the totals are still printed."""
    with trio.open_signal_receiver(signum) as signals:
        async for _ in signals:
            tally.done.set()
            return


async def run_bots(
    url: str,
    count: int,
    strategy: str = "greedy",
    rooms: int | None = None,
    games: int | None = None,
    join: bool = False,
    seed: int = 1,
    console: Console | None = None,
    stop_on_sigint: bool = False,
) -> Tally:
    """Play until ``games`` are finished (or until cancelled), showing one progress line."""
    console = console or Console(highlight=False)
    tally = Tally(games=games)
    tables: list[Callable[[], Awaitable[None]]] = []
    if join:
        for index in range(1, count + 1):
            tables.append(lambda i=index: run_joiner(url, i, strategy, seed, tally))
    else:
        for index, size in enumerate(room_sizes(count, rooms), start=1):
            tables.append(lambda i=index, s=size: run_room(url, i, s, strategy, seed, tally))
    with Live(tally.line(), console=console, auto_refresh=False, transient=False) as live:

        async def everyone() -> None:
            async with trio.open_nursery() as players:
                for table in tables:
                    players.start_soon(table)
            tally.done.set()  # every table stopped by itself (the --games limit)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(everyone)

            async def refresh() -> None:
                while True:
                    live.update(tally.line(), refresh=True)
                    await trio.sleep(0.25)

            nursery.start_soon(refresh)
            if stop_on_sigint:
                nursery.start_soon(stop_on, signal.SIGINT, tally)
            await tally.done.wait()
            nursery.cancel_scope.cancel()
        live.update(tally.line(), refresh=True)
    if not console.is_terminal:
        console.line()  # a terminal's live line ends itself; a file's does not
    return tally


@click.command()
@click.option("--server", metavar="URL", default="ws://127.0.0.1:8888", show_default=True,
              callback=server_url, help="Server to play on.")  # fmt: skip
@click.option("--count", "-n", type=click.IntRange(1, 10_000), default=4, show_default=True,
              help="How many computer players.")  # fmt: skip
@click.option("--strategy", type=click.Choice(sorted(STRATEGIES)), default="greedy",
              show_default=True, help="How the computer players choose their moves.")  # fmt: skip
@click.option("--rooms", "-r", type=click.IntRange(1), default=None,
              help="Rooms to spread them over [default: fewest, 8 seats a room].")  # fmt: skip
@click.option("--games", "-g", type=click.IntRange(1), default=None,
              help="Stop after this many finished games [default: play until Ctrl-C].")  # fmt: skip
@click.option("--join", is_flag=True,
              help="Take seats in rooms people opened instead of creating rooms.")  # fmt: skip
@click.option("--seed", "-s", type=int, default=1, show_default=True,
              help="Seed of the players' choices (the same seed, the same choices).")  # fmt: skip
def bots(
    server: str,
    count: int,
    strategy: str,
    rooms: int | None,
    games: int | None,
    join: bool,
    seed: int,
) -> None:
    """Computer players over the network: they fill rooms and play game after game.

    Each bot is a real client with its own connections, deciding only from what its
    seat is told. A one-line progress display shows rooms in play, games finished and
    moves per second; stop with Ctrl-C.

    Example: cardgame bots --server ws://127.0.0.1:8888 --count 8 --games 10
    """
    if not join:
        room_sizes(count, rooms)  # refuse a bad split before starting
    tally = run_command(
        partial(run_bots, server, count, strategy, rooms, games, join, seed, stop_on_sigint=True),
        server,
    )
    click.echo(f"{tally.finished} game(s) finished, {tally.moves} moves.")
