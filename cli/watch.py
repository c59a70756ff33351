"""``cardgame watch``: a room's game in the terminal, without a seat.

Without a room id it lists the rooms one may watch. With one it shows the public table
after every event, in the table's words, and the chat; with ``--name`` (where the room
lets spectators chat) a line ``/say …`` is a chat line. A dropped connection watches
again by itself from the last message it saw.
"""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.text import Text

from cardgame.fsm.game import ProtocolError
from cardgame.net.client import Backoff, LobbyClient
from cardgame.net.protocol import check_name
from cardgame.net.watch_client import WatchClient

from . import render
from .answers import SAY
from .lines import Ask, LineSource, StdinLines
from .play import run_command, server_url
from .terminal import TerminalClient

Message = dict[str, Any]


async def list_watchable(url: str, console: Console) -> list[dict[str, Any]]:
    async with LobbyClient.connect(url) as lobby:
        rooms = await lobby.watchable_rooms()
    if not rooms:
        console.print("No room to watch.")
    for room in rooms:
        left = room["seats_left"]
        what = "playing" if room["playing"] else "about to begin"
        if left:
            what = f"filling, {left} seat{'s' if left != 1 else ''} left"
        players = ", ".join(room["players"]) or "nobody yet"
        console.print(f"{room['room_id']}  {room['room_name']:<20} {what:<24} {players}  "
                      f"({room['watching']} watching)", highlight=False)  # fmt: skip
    return rooms


def show(client: TerminalClient, message: Message) -> None:
    """One message of the public stream (or a status, or a refusal), as the table saw it."""
    glyphs = client.glyphs
    cmd, payload = message["cmd"], message["payload"]
    data = payload.get("data")
    if cmd == "CHAT_REP":
        client.say(render.chat_line(data))
    elif cmd == "ERROR":
        client.say(Text.assemble(render.sentence(f"The server refused: {payload['prompt']}",
                                                 glyphs), style="red"))  # fmt: skip
    elif cmd == "WATCH_REP":
        names = ", ".join(p["name"] for p in data["players"]) or "nobody yet"
        client.say(Text(f"{payload['prompt']} Players: {names}.", style="bold"))
        if data["table"] is not None:
            client.say(render.table(data["table"], glyphs))
    elif cmd == "GAME_MESSAGE_REP":
        event = data.get("event")
        style = "bold" if event in ("game_begin", "paused", "resumed", "game_over") else ""
        if payload["prompt"]:
            client.say(Text.assemble(render.sentence(payload["prompt"], glyphs), style=style))
        if event == "game_over":
            client.say(render.result(data))
        else:
            client.say(render.table(data, glyphs))


async def watch_async(
    url: str,
    room_id: str | None,
    name: str | None,
    lines: LineSource | None = None,
    console: Console | None = None,
) -> TerminalClient | None:
    """What ``cardgame watch`` runs; stdin is read only to chat (with a name)."""
    console = console or Console(highlight=False)
    if room_id is None:
        await list_watchable(url, console)
        return None
    if lines is None and name is not None:
        stdin = StdinLines()
        async with stdin.running():
            return await watch_async(url, room_id, name, stdin, console)
    client = TerminalClient(url, lines or StdinLines(), console, name)
    async with WatchClient.connect(url, room_id, user_name=name, backoff=Backoff()) as watch:
        chat = False
        while not watch.over:
            if not chat:  # lines are read only once the room lets this spectator chat
                line, message = None, await watch.receive()
            else:
                line, message = await client.race(Ask("watch", optional=True), watch.receive)
            if message is not None:
                if message["cmd"] == "WATCH_REP":
                    chat = message["payload"]["data"]["chat"]
                    if name is not None and not chat:
                        client.say("This room takes no chat from spectators.", style="dim")
                if not refused(watch):  # a refusal to watch at all is the command's error
                    show(client, message)
            if line is not None:
                said = line.strip()
                if said.lower().startswith(SAY + " "):
                    await watch.chat(said[len(SAY) :].strip())
                elif said:
                    client.say("Type `/say …` to chat; Ctrl-C stops watching.", style="yellow")
    # Raised once the connection's nursery is closed: from inside it, the error would come
    # out wrapped in an exception group, as a traceback instead of one line.
    if refused(watch):
        raise click.ClickException(watch.errors[-1]["payload"]["prompt"])
    return client


def refused(watch: WatchClient) -> bool:
    """The server turned this spectator down before showing any table (no such room, not
    watchable, full…): nothing more will come."""
    return watch.over and watch.table is None and bool(watch.errors)


@click.command()
@click.argument("room_id", required=False)
@click.option(
    "--server",
    metavar="URL",
    default=None,
    callback=server_url,
    help="Server to watch on [default: ws://127.0.0.1:8888].",
)
@click.option(
    "--name",
    default=None,
    help="Your name, to chat with `/say …` (where the room lets spectators chat).",
)
def watch(room_id: str | None, server: str | None, name: str | None) -> None:
    """Watch a room's game without a seat: the table after every move and the chat
    (never anybody's cards). Without ROOM_ID, list the rooms you may watch.

    Example: cardgame watch 9f2c01ab --server ws://127.0.0.1:8888
    """
    if name is not None:
        try:
            name = check_name(name)
        except ProtocolError as err:
            raise click.BadParameter(err.sentence, param_hint="--name") from None
    url = server or "ws://127.0.0.1:8888"
    run_command(watch_async, url, url, room_id, name)
