"""One person at a terminal: what they are shown, what they type, and their sessions.

The lobby's menus (:mod:`.lobby_menu`) and the game screen (:mod:`.game_screen`) talk
to the player through this class: ``say`` prints, ``read`` asks for one line, and
``race`` waits for a line and a server message at once. Every wait is on trio: the
socket and the keyboard are raced in one nursery, and EOF anywhere ends the client
cleanly (:class:`~.lines.Quit`).
"""

from __future__ import annotations

import getpass
import random
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import trio
from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text
from trio_websocket import ConnectionClosed, HandshakeError

from cardgame.fsm.game import ProtocolError
from cardgame.fsm.session import Session
from cardgame.net.client import Backoff, GameClient, LobbyClient, Ticket
from cardgame.net.protocol import MAX_NAME, check_name

from . import render
from .game_screen import GameScreen
from .lines import Ask, LineSource, Quit
from .lobby_menu import LobbyMenu
from .rules_cmd import player_rules_text

Message = dict[str, Any]


def unwrap(error: BaseException) -> BaseException:
    """The one exception inside nested exception groups (trio's nurseries wrap them)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def default_name() -> str:
    try:
        name = getpass.getuser()
    except Exception:  # no user database entry (containers)
        name = ""
    try:
        return check_name(name[:MAX_NAME] or "player")
    except ProtocolError:
        return "player"


class TerminalClient:
    """One person at a terminal: the lobby's menus, then games, until they exit."""

    def __init__(
        self,
        url: str,
        lines: LineSource,
        console: Console | None = None,
        name: str | None = None,
    ) -> None:
        self.url = url
        self.lines = lines
        self.console = console or Console(highlight=False)
        self.glyphs = render.glyphs_for(self.console)
        self.name = name
        #: What the rooms this person creates are given beyond their seats (CREATE_A_ROOM's
        #: ``spectators``, ``turn_seconds``); a setting left out is the server's default.
        self.room_options: dict[str, Any] = {}
        self.saved: Path | None = None  # where the last left game was saved
        self.results: list[Message] = []  # every game-over message seen
        self._shown_roommates = ""
        # The prompt at the end of the screen's last line, waiting for typing: a message
        # that arrives meanwhile starts a line of its own, and the same prompt asked again
        # with nothing printed since is not printed twice.
        self._prompt_on_screen: str | None = None

    # -- output and input ------------------------------------------------------------------

    @property
    def prompt_on_screen(self) -> bool:
        """Whether a prompt waits at the end of the screen's last line."""
        return self._prompt_on_screen is not None

    def say(self, *things: Any, style: str | None = None) -> None:
        if self._prompt_on_screen is not None:
            self.console.print()
            self._prompt_on_screen = None
        for thing in things:
            self.console.print(Text(thing, style=style or "") if isinstance(thing, str) else thing)

    async def read(self, ask: Ask) -> str:
        """One line for ``ask``; end of input raises :class:`Quit`."""
        if ask.prompt and not ask.optional and self._prompt_on_screen != ask.prompt:
            if self._prompt_on_screen is not None:
                self.console.print()
            self.console.print(Text(ask.prompt + " ", style="bold"), end="")
            self._prompt_on_screen = ask.prompt
        line = await self.lines.line(ask)
        if not ask.optional:
            self._prompt_on_screen = None  # the typed line ended it
        if line is None:
            if not ask.optional:
                self.console.print()
            raise Quit("end of input")
        if not self.lines.interactive and not ask.optional:
            self.console.print(Text(line))  # a piped line, echoed where the typing would be
        return line

    async def race(
        self, ask: Ask, receive: Callable[[], Awaitable[Message | None]]
    ) -> tuple[str | None, Message | None]:
        """Read a line for ``ask`` and receive a message, whichever comes first (maybe both).

        ``receive`` may end with None (nothing came, but the ask is to be made again).

        Exceptions leave this as themselves (not in an exception group): end of input,
        a closed connection.
        """
        got: dict[str, Any] = {}

        async def reading() -> None:
            try:
                got["line"] = await self.read(ask)
            except Exception as err:  # Quit, or a source's failure
                got["error"] = err
            nursery.cancel_scope.cancel()

        async def receiving() -> None:
            try:
                got["message"] = await receive()
            except Exception as err:  # a closed connection
                got["error"] = err
            nursery.cancel_scope.cancel()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(reading)
            nursery.start_soon(receiving)
        if "error" in got and "message" not in got:
            raise got["error"]
        return got.get("line"), got.get("message")

    async def choose(self, prompt: str, choices: dict[str, str], kind: str) -> str:
        """Ask until the line is one of ``choices`` (keys); their values explain."""
        while True:
            line = (await self.read(Ask(kind, prompt, options=list(choices)))).strip().lower()
            if line in choices:
                return line
            listed = ", ".join(f"`{k}` {v}" for k, v in choices.items())
            self.say(f"Please type one of: {listed}.", style="yellow")

    async def ask_int(self, prompt: str, low: int, high: int, kind: str) -> int:
        while True:
            line = (await self.read(Ask(kind, prompt, options=[low, high]))).strip()
            if line.isdigit() and low <= int(line) <= high:
                return int(line)
            self.say(f"Type a whole number from {low} to {high}.", style="yellow")

    async def ask_name(self, prompt: str, kind: str, default: str | None = None) -> str:
        while True:
            line = (await self.read(Ask(kind, prompt))).strip()
            if not line and default:
                return default
            try:
                return check_name(line)
            except ProtocolError as err:
                self.say(f"{err.sentence[0].upper()}{err.sentence[1:]}.", style="yellow")

    async def user_name(self) -> str:
        if self.name is None:
            self.name = await self.ask_name("Your name:", "name")
        return self.name

    # -- the whole session -----------------------------------------------------------------

    async def run(self) -> None:
        """Lobby, game, lobby… until the player exits or input ends."""
        try:
            while True:
                ticket = await self.lobby()
                if ticket is None:
                    break
                await self.play_game(ticket)
                self.say("Back to the lobby.", style="dim")
        except Quit:
            pass
        self.say("Bye.")

    # -- the lobby ---------------------------------------------------------------------------

    async def lobby(self) -> Ticket | None:
        """The start menu, until the player holds a seat (or exits: None).

        A lobby connection that drops (a server restart) is opened again, with the
        game's backoff, and the menu starts over from the fresh room list.
        """
        backoff, rng, attempt, connected = Backoff(), random.Random(), 0, False
        while True:
            try:
                async with LobbyClient.connect(self.url) as lobby:
                    if attempt:
                        self.connection_news("back")
                    attempt, connected = 0, True
                    try:
                        return await LobbyMenu(self, lobby).run()
                    except Quit:
                        pass  # raised again outside the connection's nursery
                raise Quit("end of input")
            except Exception as raised:
                error = unwrap(raised)
                dropped = isinstance(error, ConnectionClosed | HandshakeError | OSError)
                if not (dropped and connected) or attempt >= backoff.attempts:
                    raise error from None
                if attempt == 0:
                    self.connection_news("lost")
                await trio.sleep(backoff.delay(attempt, rng))
                attempt += 1

    def connection_news(self, what: str) -> None:
        """The connection dropped ("lost") or is open again ("back"): say so."""
        if what == "lost":
            self.say("Connection lost, reconnecting…", style="yellow")
        else:
            self.say("Reconnected.", style="green")

    # -- a game ---------------------------------------------------------------------------

    async def play_game(self, ticket: Ticket) -> str:
        """Play one seat until the game is over ("over") or the player leaves ("left")."""
        outcome = "quit"
        async with GameClient.connect(self.url, ticket, backoff=Backoff()) as game:
            game.on_connection = self.connection_news
            session = Session()
            session.command("JOIN_GAME")
            # Quit leaves the connection's nursery as itself, not in an exception group.
            with suppress(Quit):
                outcome = await GameScreen(self, game, session).run()
            session.close()
        if outcome == "quit":
            raise Quit("end of input")
        return outcome

    def show_rules(self) -> None:
        try:
            text = player_rules_text()
        except OSError:
            self.say(
                "The rules are not packaged with this installation (HOW_TO_PLAY.md is missing)."
            )
        else:
            self.say(Markdown(text))
