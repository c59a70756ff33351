"""Playing alone against computer players: a room where every other seat is a computer,
on a server started in this process (``cardgame play --computers N``) or a remote one.
"""

from __future__ import annotations

from typing import Any

import trio
from rich.console import Console

from cardgame.net.client import LobbyClient

from .lines import LineSource, Quit
from .terminal import TerminalClient, default_name


async def play_with_computers(client: TerminalClient, computers: int) -> None:
    """A room of ``computers`` + 1 seats, every other seat a computer: no questions asked."""
    name = client.name or default_name()
    async with LobbyClient.connect(client.url) as lobby:
        ticket = await lobby.create_room(
            "local", computers + 1, name, computers=computers, **client.room_options
        )
    client.name = name
    client.say(f"You ({name}) against {computers} computer player{'s' * (computers > 1)}.")
    try:
        await client.play_game(ticket)
    except Quit:
        client.say("Bye.")


async def play_local(
    computers: int,
    lines: LineSource,
    console: Console | None = None,
    name: str | None = None,
    room_options: dict[str, Any] | None = None,
) -> TerminalClient:
    """A server in this process on a free loopback port, one room, and play.

    The game is recorded in the local games' database, which ``cardgame games`` and
    ``cardgame replay`` read; when another local game holds it, this one is kept in
    memory only, and the player is told so.
    """
    from cardgame.net.config import ServerConfig
    from cardgame.net.server import serve
    from cardgame.net.store import StoreError, open_store

    from .serve import local_db

    client = TerminalClient("", lines, console, name)
    client.room_options = dict(room_options or {})
    path = local_db()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        store = open_store(str(path))
    except (StoreError, OSError) as err:
        client.say(f"This game is not recorded: {err}", style="yellow")
        store = open_store(None)
    # Nobody is waiting on this player: give them all the time they want to choose,
    # unless they asked for a clock (--turn-seconds: the room's own).
    config = ServerConfig(host="127.0.0.1", port=0, turn_seconds=0, idle_turns=0)
    try:
        async with trio.open_nursery() as nursery:
            server = await nursery.start(serve, config, store)
            client.url = server.url
            try:
                await play_with_computers(client, computers)
            finally:
                with trio.CancelScope(shield=True):
                    await server.shutdown(grace=0.5)
    finally:
        store.close()
    return client
