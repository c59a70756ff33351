"""``cardgame play``: the interactive terminal client.

The flows are the founding note's: a start menu (join a room, create one, exit), the
room list with seats left, Scenario A (somebody is creating a room: wait for it, or
create your own), then the game, where the hand is numbered and a line such as
``3``, ``3 5``, ``d``, ``3!``, ``r`` or ``q`` answers the server's question.

The pieces, each in the module named for its job: where lines come from
(:mod:`.lines`), what a typed line means (:mod:`.answers`), the person at the terminal
(:mod:`.terminal`), the lobby's menus (:mod:`.lobby_menu`), the game screen
(:mod:`.game_screen`), the state kept of a left game (:mod:`.left_games`) and playing
alone against computers (:mod:`.local`). This module is the command and its errors.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import click
import trio
from rich.console import Console

from cardgame.fsm.game import ProtocolError
from cardgame.net.protocol import MAX_TURN_SECONDS, MIN_TURN_SECONDS, check_name

from .lines import LineSource, StdinLines
from .local import play_local, play_with_computers
from .terminal import TerminalClient, unwrap


async def main_async(
    server: str | None,
    name: str | None,
    computers: int | None,
    lines: LineSource | None = None,
    console: Console | None = None,
    room_options: dict[str, Any] | None = None,
) -> TerminalClient | None:
    """What ``cardgame play`` runs: stdin lines unless a source is given; ``room_options``:
    what the rooms this person creates are given (``spectators``, ``turn_seconds``)."""
    if lines is None:
        stdin = StdinLines()
        async with stdin.running():
            return await main_async(server, name, computers, stdin, console, room_options)
    if computers is not None and server is None:
        return await play_local(computers, lines, console, name, room_options)
    client = TerminalClient(server or "ws://127.0.0.1:8888", lines, console, name)
    client.room_options = dict(room_options or {})
    if computers is not None:
        await play_with_computers(client, computers)
    else:
        await client.run()
    return client


# -- the command ---------------------------------------------------------------------------


#: What to do when nothing answers at the server's address.
NO_SERVER_HINT = (
    "Start a server with `make serve` (or `cardgame serve`), or play alone with "
    "`cardgame play --computers 3`."
)


def server_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--server`` is a WebSocket address: ``http://`` is turned down with the right one."""
    if value is None:
        return None
    scheme, sep, rest = value.partition("://")
    if sep and scheme.lower() in ("ws", "wss"):
        return value
    if sep and scheme.lower() in ("http", "https"):
        right = ("wss" if scheme.lower() == "https" else "ws") + "://" + rest
    else:
        right = "ws://" + (rest if sep else value)
    raise click.BadParameter(f"{value!r} is not a WebSocket address; try {right}")


def _why(error: BaseException) -> str:
    """The most telling words of a failed connection: the system's reason if there is one
    (a refused connection is one error per address tried, under the handshake's error)."""
    seen: list[BaseException] = []
    todo = [error]
    while todo:
        candidate = todo.pop(0)
        if candidate in seen:
            continue
        seen.append(candidate)
        if isinstance(candidate, BaseExceptionGroup):
            todo += candidate.exceptions
        todo += [c for c in (candidate.__cause__, candidate.__context__) if c is not None]
    for candidate in seen:
        if isinstance(candidate, OSError) and candidate.errno is not None:
            return os.strerror(candidate.errno).lower()
    text = next((str(c) for c in seen if str(c)), "nothing answers there")
    return text[0].lower() + text[1:]


def run_command(main: Callable[..., Awaitable[Any]], url: str | None, *args: Any) -> Any:
    """``trio.run`` with the failures a person can act on turned into one-line errors."""
    from trio_websocket import ConnectionClosed, HandshakeError

    try:
        return trio.run(main, *args)
    except BaseException as raised:
        error = unwrap(raised)
        if isinstance(error, KeyboardInterrupt):
            click.echo("\nInterrupted.", err=True)
            raise SystemExit(130) from None
        if isinstance(error, ConnectionClosed):
            reason = error.reason
            detail = f"{reason.code} {reason.reason or ''}".strip() if reason else "no reason"
            raise click.ClickException(f"the server closed the connection ({detail})") from None
        if isinstance(error, HandshakeError | OSError):
            message = f"cannot reach the server at {url}: {_why(error)}.\n{NO_SERVER_HINT}"
            raise click.ClickException(message) from None
        raise


@click.command()
@click.option(
    "--server",
    metavar="URL",
    default=None,
    callback=server_url,
    help="Server to play on [default: ws://127.0.0.1:8888; with --computers, one started "
    "in this process].",
)
@click.option("--name", default=None, help="Your name (asked for when needed otherwise).")
@click.option(
    "--computers",
    type=click.IntRange(1, 7),
    default=None,
    help="Play alone against N computer players: no set-up at all.",
)
@click.option(
    "--spectators",
    type=click.Choice(["chat", "watch", "none"]),
    default=None,
    help="Who may watch the rooms you create: anybody, and chat with you (chat, the "
    "server's default); anybody, without chatting (watch); nobody (none).",
)
@click.option(
    "--turn-seconds",
    type=click.IntRange(MIN_TURN_SECONDS, MAX_TURN_SECONDS),
    default=None,
    help="Seconds each question allows in the rooms you create [default: the server's "
    "--turn-seconds; alone with --computers and no --server, no clock].",
)
def play(
    server: str | None,
    name: str | None,
    computers: int | None,
    spectators: str | None,
    turn_seconds: int | None,
) -> None:
    """Play Discard in the terminal: join or create a room, or play alone against computers.

    Your hand is numbered: type the numbers of the cards to play (`3`, or `3 5` for a
    combination), `d` to draw, `!` after a play to announce your last card (`3!`), `r` for
    the rules and `q` to leave (asked to confirm; your last view is kept in the user data
    directory).

    Example: cardgame play --computers 3
    """
    if name is not None:
        try:
            name = check_name(name)
        except ProtocolError as err:
            raise click.BadParameter(err.sentence, param_hint="--name") from None
    options = {"spectators": spectators, "turn_seconds": turn_seconds}
    room_options = {key: value for key, value in options.items() if value is not None}
    run_command(main_async, server or "ws://127.0.0.1:8888", server, name, computers, None, None,
                room_options)  # fmt: skip
