"""``cardgame play``: the interactive terminal client.

The flows are the founding note's: a start menu (join a room, create one, exit), the
room list with seats left, Scenario A (somebody is creating a room: wait for it, or
create your own), then the game, where the hand is numbered and a line such as
``3``, ``3 5``, ``d``, ``3!``, ``r`` or ``q`` answers the server's question.

Rule 1: nothing the player types reaches the server unless it is a valid answer to
the question pending; anything else is explained and asked again. Rule 2: the client
reads input only when it asks for it (:class:`LineSource`), so a script piped to
stdin lines up with the prompts, and a test can answer each :class:`Ask` by looking
at the view it carries. While the game is not waiting for this player, an
interactive terminal may still type ``q`` or ``r`` (an *optional* ask).

Every wait is on trio: the socket and the keyboard are raced in one nursery, stdin
is read by one worker thread on demand (so a line typed is never lost to a
cancelled prompt), and EOF anywhere ends the client cleanly.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import click
import trio
from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text

from cardgame.fsm.cards import DROP, parse_card
from cardgame.fsm.game import (
    Q_DROP,
    Q_FIRST_PLAYER,
    Q_REQUEST,
    Q_TURN,
    Q_VOTE,
    QUESTION_PROMPTS,
    USER_INPUT_CONTINUE,
    ProtocolError,
)
from cardgame.fsm.session import WAITING, Session
from cardgame.net.client import Backoff, GameClient, LobbyClient, ServerError, Ticket, bot_view
from cardgame.net.protocol import MAX_NAME, check_name

from . import render
from .rules_cmd import rules_text

Message = dict[str, Any]

# Refusals of an answer that leave the question pending: the client asks it again.
# -- input ------------------------------------------------------------------------------


@dataclass
class Ask:
    """What the client is asking for: a kind, the prompt shown, and what it knows.

    ``optional`` asks (waiting for others, waiting for a room) need no answer: a
    non-interactive source leaves them unanswered rather than spend a scripted line.
    """

    kind: str
    prompt: str = ""
    view: dict[str, Any] | None = None
    options: list[Any] = field(default_factory=list)
    count: int = 0
    optional: bool = False


class LineSource(Protocol):
    """Where the player's lines come from: ``None`` is the end of input."""

    interactive: bool

    async def line(self, ask: Ask) -> str | None: ...


class StdinLines:
    """Lines from a file descriptor (stdin): a terminal or a pipe.

    One worker thread reads only when a line is wanted; its chunk lands in a channel,
    so a prompt cancelled mid-read (a message arrived) loses nothing. ``os.read`` on
    the raw descriptor keeps the thread off ``sys.stdin``'s lock, so an abandoned
    read cannot hold up the interpreter's exit.
    """

    def __init__(self, fd: int = 0, interactive: bool | None = None) -> None:
        self.fd = fd
        self.interactive = _isatty(fd) if interactive is None else interactive
        self._buffer = b""
        self._eof = False
        self._reading = False
        self._want_send, self._want_recv = trio.open_memory_channel[None](1)
        self._chunk_send, self._chunk_recv = trio.open_memory_channel[bytes](1)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[StdinLines]:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._reader)
            try:
                yield self
            finally:
                nursery.cancel_scope.cancel()

    async def _reader(self) -> None:
        async for _ in self._want_recv:
            chunk = await trio.to_thread.run_sync(self._read, abandon_on_cancel=True)
            await self._chunk_send.send(chunk)

    def _read(self) -> bytes:
        try:
            return os.read(self.fd, 65536)
        except OSError:
            return b""

    async def line(self, ask: Ask) -> str | None:
        if ask.optional and not self.interactive:
            await trio.sleep_forever()
        while b"\n" not in self._buffer and not self._eof:
            if not self._reading:
                self._reading = True
                self._want_send.send_nowait(None)
            chunk = await self._chunk_recv.receive()
            self._reading = False
            if chunk:
                self._buffer += chunk
            else:
                self._eof = True
        if not self._buffer:
            return None
        raw, _, self._buffer = self._buffer.partition(b"\n")
        return raw.decode("utf-8", errors="replace").rstrip("\r")


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


NO_LINE = ...  # a ScriptedLines answer meaning "type nothing now" (for optional asks)


class ScriptedLines:
    """Lines decided by a function of the :class:`Ask`: tests answer what they see.

    ``answer`` returns the line, ``None`` for the end of input, or ``...`` to type
    nothing (the ask then waits until something else happens).
    """

    interactive = False

    def __init__(self, answer: Callable[[Ask], str | None | Any]) -> None:
        self.answer = answer
        self.asked: list[Ask] = []

    async def line(self, ask: Ask) -> str | None:
        await trio.lowlevel.checkpoint()
        self.asked.append(ask)
        reply = self.answer(ask)
        if reply is NO_LINE:
            await trio.sleep_forever()
        return reply


class Quit(Exception):
    """The player is done: end of input, or they chose to exit."""


# -- what a typed line means -------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A typed line, understood: an answer's ``data``, a command, or why it is refused."""

    data: Any = None
    last_card: bool = False
    command: str | None = None  # "rules" or "leave"
    error: str | None = None


def _refuse(why: str) -> Reply:
    return Reply(error=why)


def _common(text: str) -> Reply | None:
    """What every game prompt accepts: ``r`` and ``q``; and an empty line is refused."""
    word = text.strip().lower()
    if word == "r":
        return Reply(command="rules")
    if word == "q":
        return Reply(command="leave")
    if not word:
        return _refuse("Nothing typed.")
    return None


def _numbers(text: str, size: int, what: str) -> list[int] | Reply:
    """Card or list numbers from 1 to ``size``, distinct; or the refusal that explains."""
    tokens = text.replace(",", " ").split()
    if not all(t.isdigit() for t in tokens):
        return _refuse(f"{text.strip()!r} is not {what}.")
    numbers = [int(t) for t in tokens]
    wrong = [n for n in numbers if not 1 <= n <= size]
    if wrong:
        return _refuse(f"There is no number {wrong[0]}: choose from 1 to {size}.")
    if len(set(numbers)) != len(numbers):
        return _refuse("Each number once: for two cards type two different numbers, like `3 5`.")
    return numbers


def parse_turn(text: str, view: dict[str, Any]) -> Reply:
    """``3``, ``3 5``, ``d``, with ``!`` after a play to announce the last card."""
    common = _common(text)
    if common is not None:
        return common
    words = text.strip().lower()
    announce = words.endswith("!")
    words = words.rstrip("!").strip()
    hand = view["hand"]
    if words == "d":
        if announce:
            return _refuse("`!` goes with a play, like `3!`: drawing never leaves you one card.")
        return Reply(data=[])
    if not words:
        return _refuse("`!` goes after the card numbers you play, like `3!` or `3 5!`.")
    what = "a card number: type `3` or `3 5` for a combination, or `d` to draw"
    numbers = _numbers(words, len(hand), what)
    if isinstance(numbers, Reply):
        return numbers
    if len(numbers) > 2:
        return _refuse("Play one card, or a combination of two (`3 5`), not more.")
    return Reply(data=[hand[n - 1] for n in numbers], last_card=announce)


def parse_drop(text: str, view: dict[str, Any], count: int) -> Reply:
    """Exactly ``count`` normal cards of the hand, by number."""
    common = _common(text)
    if common is not None:
        return common
    hand = view["hand"]
    numbers = _numbers(text, len(hand), f"{count} card number(s), like `2`")
    if isinstance(numbers, Reply):
        return numbers
    if len(numbers) != count:
        return _refuse(f"Drop exactly {count} card{'s' if count != 1 else ''}.")
    special = [n for n in numbers if parse_card(hand[n - 1]).special]
    if special:
        name = render.card_name(hand[special[0] - 1])
        return _refuse(f"Card {special[0]} ({name}) is special: only normal cards can be dropped.")
    return Reply(data=[hand[n - 1] for n in numbers])


def parse_option(text: str, options: list[str]) -> Reply:
    """One of ``options`` (a colour or a shape), by number or by name."""
    common = _common(text)
    if common is not None:
        return common
    word = text.strip().lower()
    if word.isdigit() and 1 <= int(word) <= len(options):
        return Reply(data=options[int(word) - 1])
    if word in options:
        return Reply(data=word)
    return _refuse(f"Type a number from 1 to {len(options)}, or one of: {', '.join(options)}.")


def parse_first_player(text: str, view: dict[str, Any], options: list[int]) -> Reply:
    """A player's number as listed (from 1); the server wants the seat (from 0)."""
    common = _common(text)
    if common is not None:
        return common
    word = text.strip()
    if word.isdigit() and int(word) - 1 in options:
        return Reply(data=int(word) - 1)
    return _refuse(f"Type a player's number, from 1 to {len(view['players'])}.")


def parse_vote(text: str) -> Reply:
    common = _common(text)
    if common is not None:
        return common
    word = text.strip().lower()
    if word in ("y", "yes"):
        return Reply(data="yes")
    if word in ("n", "no"):
        return Reply(data="no")
    return _refuse("Type `y` (a computer takes the seat) or `n` (the game ends).")


def parse_answer(ask: Ask, text: str) -> Reply:
    view = ask.view or {}
    if ask.kind == Q_TURN:
        return parse_turn(text, view)
    if ask.kind == Q_DROP:
        return parse_drop(text, view, ask.count)
    if ask.kind == Q_REQUEST:
        return parse_option(text, ask.options)
    if ask.kind == Q_FIRST_PLAYER:
        return parse_first_player(text, view, ask.options)
    if ask.kind == Q_VOTE:
        return parse_vote(text)
    common = _common(text)
    return common or _refuse("Nothing is asked of you now: wait, `r` for the rules, `q` to leave.")


# -- files -------------------------------------------------------------------------------


def data_home() -> Path:
    """The user's data directory (XDG): ``$XDG_DATA_HOME``, else ``~/.local/share``."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "cardgame"


def left_game_path(room_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", room_id) or "room"
    return data_home() / "left-games" / f"{safe}.json"


def default_name() -> str:
    try:
        name = getpass.getuser()
    except Exception:  # no user database entry (containers)
        name = ""
    try:
        return check_name(name[:MAX_NAME] or "player")
    except ProtocolError:
        return "player"


# -- the client --------------------------------------------------------------------------


# The prompt for each question kind: short, the help line under the hand explains it.
PROMPTS: dict[str, str] = {
    Q_TURN: "Your move:",
    Q_DROP: "Cards to drop:",
    Q_REQUEST: "Colour or shape:",
    Q_FIRST_PLAYER: "Player number:",
    Q_VOTE: "Computer player (y/n)?",
}

MENU = "1 join an existing room (recommended)\n2 create a room\n3 exit"


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
        self.saved: Path | None = None  # where the last left game was saved
        self.results: list[Message] = []  # every game-over message seen
        self._shown_roommates = ""

    # -- output and input ------------------------------------------------------------------

    def say(self, *things: Any, style: str | None = None) -> None:
        for thing in things:
            self.console.print(Text(thing, style=style or "") if isinstance(thing, str) else thing)

    async def read(self, ask: Ask) -> str:
        """One line for ``ask``; end of input raises :class:`Quit`."""
        if ask.prompt and not ask.optional:
            self.console.print(Text(ask.prompt + " ", style="bold"), end="")
        line = await self.lines.line(ask)
        if line is None:
            if not ask.optional:
                self.console.print()
            raise Quit("end of input")
        if not self.lines.interactive and not ask.optional:
            self.console.print(Text(line))  # a piped line, echoed where the typing would be
        return line

    async def race(
        self, ask: Ask, receive: Callable[[], Awaitable[Message]]
    ) -> tuple[str | None, Message | None]:
        """Read a line for ``ask`` and receive a message, whichever comes first (maybe both).

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

    async def play_with_computers(self, computers: int) -> None:
        """A room of ``computers`` + 1 seats, every other seat a computer: no questions asked."""
        name = self.name or default_name()
        async with LobbyClient.connect(self.url) as lobby:
            ticket = await lobby.create_room("local", computers + 1, name, computers=computers)
        self.name = name
        self.say(f"You ({name}) against {computers} computer player{'s' * (computers > 1)}.")
        try:
            await self.play_game(ticket)
        except Quit:
            self.say("Bye.")

    # -- the lobby ---------------------------------------------------------------------------

    async def lobby(self) -> Ticket | None:
        """The start menu, until the player holds a seat (or exits: None)."""
        async with LobbyClient.connect(self.url) as lobby:
            try:
                return await self._menu(lobby)
            except Quit:
                pass  # raised again outside the connection's nursery
        raise Quit("end of input")

    async def _menu(self, lobby: LobbyClient) -> Ticket | None:
        while True:
            open_rooms, creations = await lobby.get_rooms()
            lobby.pushes.clear()  # the list already reflects them
            if open_rooms or creations:
                self.say(render.rooms(open_rooms, creations))
            else:
                self.say("No room is open right now.")
            for creation in creations:
                self.say(
                    f"{creation['user_name']} is creating a room: choose 1 to wait for it, "
                    "or 2 to create your own."
                )
            self.say(MENU)
            choice = await self.choose(
                "Choose 1, 2 or 3:", {"1": "join", "2": "create", "3": "exit"}, "menu"
            )
            if choice == "3":
                return None
            if choice == "1":
                ticket = await self.join(lobby, open_rooms, creations)
            else:
                ticket = await self.create(lobby)
            if ticket is not None:
                return ticket

    async def join(
        self,
        lobby: LobbyClient,
        open_rooms: list[dict[str, Any]],
        creations: list[dict[str, Any]],
    ) -> Ticket | None:
        if not open_rooms and not creations:
            self.say("There is no open room to join.")
            choice = await self.choose(
                "Create one? (y/n)", {"y": "creates a room", "n": "goes back"}, "create_instead"
            )
            return await self.create(lobby) if choice == "y" else None
        if not open_rooms:
            [creation, *_] = creations
            self.say(f"No room is open yet, but {creation['user_name']} is creating one.")
            choice = await self.choose(
                "1 wait for it (recommended), 2 create your own room, 3 back:",
                {"1": "waits", "2": "creates", "3": "goes back"},
                "scenario_a",
            )
            if choice == "1":
                return await self.wait_for_room(lobby, creation)
            return await self.create(lobby) if choice == "2" else None
        total = len(open_rooms) + len(creations)
        choices = {str(n): "a room" for n in range(1, total + 1)} | {"b": "goes back"}
        choice = await self.choose(f"Room number (1-{total}), or b to go back:", choices, "room")
        if choice == "b":
            return None
        number = int(choice)
        if number > len(open_rooms):
            return await self.wait_for_room(lobby, creations[number - len(open_rooms) - 1])
        return await self.join_room(lobby, open_rooms[number - 1])

    async def join_room(self, lobby: LobbyClient, room: dict[str, Any]) -> Ticket | None:
        while True:
            name = await self.user_name()
            try:
                ticket = await lobby.join_room(room["room_id"], name)
            except ServerError as err:
                self.say(f"Could not join {room['room_name']}: {err.sentence}", style="yellow")
                if err.code not in ("name_taken", "bad_name"):
                    return None
                self.name = None  # ask for another name
                continue
            self.say(f"You joined {room['room_name']}.", style="green")
            return ticket

    async def wait_for_room(self, lobby: LobbyClient, creation: dict[str, Any]) -> Ticket | None:
        """Scenario A: wait for the room being created; its id is pushed the moment it has one."""
        await self.user_name()  # asked now, so the seat is taken the moment the room opens
        creator, creation_id = creation["user_name"], creation["creation_id"]
        self.say(f"Waiting for {creator}'s room… (type c to create your own instead, b to go back)")
        while True:
            line, push = await self.race(Ask("wait_room", optional=True), lobby.next_push)
            if push is not None:
                data = push["payload"]["data"] or {}
                if push["cmd"] == "ROOM_CREATED" and data.get("creation_id") == creation_id:
                    room = data["room"]
                    self.say(f"{creator} created {room['room_name']}: joining it.")
                    return await self.join_room(lobby, room)
                if push["cmd"] == "ROOM_ABANDONED" and data.get("creation_id") == creation_id:
                    self.say(f"{creator} gave up creating a room.", style="yellow")
                    return None
            if line is not None:
                word = line.strip().lower()
                if word == "c":
                    return await self.create(lobby)
                if word == "b":
                    return None
                self.say("Still waiting: type c to create your own room, or b to go back.")

    async def create(self, lobby: LobbyClient) -> Ticket | None:
        """Name, size and computer seats; the lobby sees that a room is being created."""
        name = await self.user_name()
        await lobby.creating(name)
        room_name = await self.ask_name(
            f"Room name (Enter for {name}'s room):",
            "room_name",
            default=f"{name}'s room"[:MAX_NAME],
        )
        players = await self.ask_int("Number of players, you included (2-8):", 2, 8, "players")
        computers = await self.ask_int(
            f"How many of them are computer players (0-{players - 1})?", 0, players - 1, "computers"
        )
        try:
            ticket = await lobby.create_room(room_name, players, name, computers=computers)
        except ServerError as err:
            self.say(f"The room was not created: {err.sentence}", style="yellow")
            await lobby.cancel_create()
            return None
        self.say(f"You created {room_name}.", style="green")
        return ticket

    # -- a game ---------------------------------------------------------------------------

    async def play_game(self, ticket: Ticket) -> str:
        """Play one seat until the game is over ("over") or the player leaves ("left")."""
        outcome = "quit"
        async with GameClient.connect(self.url, ticket, backoff=Backoff()) as game:
            session = Session()
            session.command("JOIN_GAME")
            # Quit leaves the connection's nursery as itself, not in an exception group.
            with suppress(Quit):
                outcome = await _GameRun(self, game, session).run()
            session.close()
        if outcome == "quit":
            raise Quit("end of input")
        return outcome

    def show_rules(self) -> None:
        try:
            text = rules_text()
        except OSError:
            self.say("The rules are not packaged with this installation (RULES.md is missing).")
        else:
            self.say(Markdown(text))

    def save_left_game(self, ticket: Ticket, message: Message) -> Path:
        """Scenario B step 4: the state the server sent when the game paused, kept locally."""
        path = left_game_path(ticket.room_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "room_id": ticket.room_id,
            "user_id": ticket.user_id,
            "name": self.name,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "msg_id": message["msg_id"],
            "prompt": message["payload"].get("prompt"),
            "state": message["payload"]["data"],
        }
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        return path


class _GameRun:
    """One game connection: show every message, answer questions, leave on request."""

    def __init__(self, client: TerminalClient, game: GameClient, session: Session) -> None:
        self.client = client
        self.game = game
        self.session = session
        self.backlog: deque[Message] = deque()
        self.leaving = False

    async def next_message(self) -> Message:
        message = self.backlog.popleft() if self.backlog else await self.game.receive()
        self.session.observe(message, you_are_leaving=self.leaving)
        return message

    async def run(self) -> str:
        client, game = self.client, self.game
        while True:
            outcome = self.show(await self.next_message())
            if outcome is not None:
                return outcome
            while not self.backlog:
                question = game.question
                ask = self.ask_for(question)
                line, message = await client.race(ask, game.receive)
                if message is not None:
                    self.backlog.append(message)
                if line is None:
                    continue
                if question is not None and game.question is not question:
                    client.say("That question is no longer asked; your line was ignored.")
                    continue
                outcome = await self.on_line(ask, question, line)
                if outcome is not None:
                    return outcome
                if question is not None and game.question is None:
                    break  # answered: the server's reply comes next

    def ask_for(self, question: Message | None) -> Ask:
        if question is None:
            return Ask("wait", view=self.game.view, optional=True)
        data = question["payload"]["data"]
        kind = data["question"]
        return Ask(
            kind,
            PROMPTS.get(kind, ">"),
            view=data,
            options=question["payload"].get("extra_data") or [],
            count=data.get("count", 0),
        )

    async def on_line(self, ask: Ask, question: Message | None, line: str) -> str | None:
        client = self.client
        reply = parse_answer(ask, line)
        if reply.error:
            client.say(reply.error, style="yellow")
            return None
        if reply.command == "rules":
            client.show_rules()
            if question is not None:
                self.show_question(question)  # the hand again, below the rules
            return None
        if reply.command == "leave":
            return await self.leave()
        assert question is not None
        await self.game.answer(reply.data, reply.last_card)
        return None

    # -- showing messages -------------------------------------------------------------------

    def show(self, message: Message) -> str | None:
        """Print one message; "over" or "left" when the game has ended for this player."""
        client, glyphs = self.client, self.client.glyphs
        cmd, payload = message["cmd"], message["payload"]
        data = payload.get("data")
        if cmd == "ERROR":
            client.say(f"The server refused: {payload.get('prompt')}", style="red")
            if self.game.question is not None:  # refused, still pending: asked again
                self.show_question(self.game.question)
            return None
        if cmd in ("JOIN_GAME_REP", "GET_ROOMATES_REP"):
            line = render.roommates(data)
            if line.plain != client._shown_roommates and self.session.state == WAITING:
                client._shown_roommates = line.plain
                client.say(line)
            return None
        if cmd == "LEAVE_REP":
            return "left"
        if not isinstance(data, dict):
            client.say(render.sentence(payload.get("prompt") or "", glyphs))
            return None
        event = data.get("event")
        if event == "picked":
            client.say(render.picked(message, glyphs))
            return None
        prompt = payload.get("prompt") or ""
        # The server's question sentence is for any client; the help line says it for this one.
        asked = QUESTION_PROMPTS.get(data.get("question"))
        if asked and prompt.endswith(asked):
            prompt = prompt.removesuffix(asked).rstrip()
        style = "bold" if event in ("game_begin", "paused", "resumed", "game_over") else ""
        client.say(Text.assemble(render.sentence(prompt, glyphs), style=style))
        if event == "game_over":
            client.results.append(message)
            client.say(render.result(data))
            return "over"
        if payload.get("flag") == USER_INPUT_CONTINUE:
            self.show_question(message)
        elif event in ("game_begin", "resumed"):
            client.say(render.table(data, glyphs), render.hand(data, glyphs))
        return None

    def show_question(self, message: Message) -> None:
        client, glyphs = self.client, self.client.glyphs
        data = message["payload"]["data"]
        ask = self.ask_for(message)
        client.say(Text(""), render.table(data, glyphs))
        if ask.kind == Q_TURN:
            client.say(render.hand(data, glyphs, marked=render.playable(data)))
        elif ask.kind == Q_DROP:
            normals = {t for t in data["hand"] if not parse_card(t).special}
            client.say(render.hand(data, glyphs, marked=normals))
        elif ask.kind == Q_REQUEST:
            listed = "  ".join(f"{n} {o}" for n, o in enumerate(ask.options, start=1))
            client.say(render.hand(data, glyphs), Text(listed))
        else:
            client.say(render.hand(data, glyphs))
        client.say(Text(self.help(ask), style="cyan"))

    def help(self, ask: Ask) -> str:
        """Exactly what the prompt expects."""
        view = ask.view or {}
        if ask.kind == Q_TURN:
            if view.get("penalty"):
                symbol = bot_view(view).penalty_symbol
                text = (
                    f"You must pick {view['penalty']}: type `d` to take them, or the number of "
                    f"a {render.SYMBOL_NAMES[symbol]} card to pass them on."
                )
            else:
                text = (
                    "Type card numbers: `3`, or `3 5` for a combination; `d` to draw; "
                    "add `!` to announce your last card (`3!`)."
                )
                if view.get("request"):
                    text += f" {view['request']} was asked for: play it or an ?, or draw."
            hand = view.get("hand", [])
            drops = any(parse_card(t).sign == DROP for t in hand)
            if len(hand) in (2, 3) or (drops and len(hand) <= 5):
                text += (
                    "\nLast card: if your play leaves you one card, add `!` (like `1!`), "
                    "or you pick 1."
                )
            text += "\n* marks the cards that match. `r` shows the rules, `q` leaves the game."
            return text
        if ask.kind == Q_DROP:
            count = ask.count
            return (
                f"Drop {count} normal card{'s' if count != 1 else ''} (marked *): type "
                f"{'its number, like `2`' if count == 1 else f'{count} numbers, like `2 4`'}."
            )
        if ask.kind == Q_REQUEST:
            return "Name a colour or a shape for the next player: type its number or its name."
        if ask.kind == Q_FIRST_PLAYER:
            players = view.get("players", [])
            listed = ", ".join(f"{n} {p['name']}" for n, p in enumerate(players, start=1))
            return f"Who plays first? Type a player's number ({listed})."
        if ask.kind == Q_VOTE:
            return (
                "Should a computer player take the empty seat? Type `y` or `n` "
                "(`n` ends the game; `q` to leave too)."
            )
        return "Type `r` for the rules or `q` to leave."

    # -- leaving (Scenario B) ---------------------------------------------------------------

    async def leave(self) -> str | None:
        """Ask to leave, save the paused state, send LEAVE, wait for LEAVE_REP."""
        client, game = self.client, self.game
        if self.session.state == WAITING:
            client.say("You left the room before the game began.")
            return "left"
        await game.request_leave()
        self.leaving = True
        while True:
            message = await self.next_message()
            data = message["payload"].get("data")
            event = data.get("event") if isinstance(data, dict) else None
            if message["cmd"] == "ERROR":
                self.leaving = False
                self.show(message)
                return None
            if event == "paused":
                break
            outcome = self.show(message)
            if outcome is not None:
                return outcome
        client.say(render.sentence(message["payload"].get("prompt") or "", client.glyphs))
        path = client.save_left_game(game.ticket, message)
        client.saved = path
        await game.leave()
        while True:
            message = await self.next_message()
            if message["cmd"] in ("LEAVE_REP", "ERROR"):
                break
        if message["cmd"] == "ERROR":
            client.say(f"The server refused: {message['payload'].get('prompt')}", style="red")
        client.say(f"You left the game. Your game state is saved in {path}", style="bold")
        return "left"


# -- entry points -------------------------------------------------------------------------


async def play_local(
    computers: int,
    lines: LineSource,
    console: Console | None = None,
    name: str | None = None,
) -> TerminalClient:
    """A server in this process on a free loopback port, one room, and play."""
    from cardgame.net.config import ServerConfig
    from cardgame.net.server import serve
    from cardgame.net.store import MemoryStore

    # Nobody is waiting on this player: give them all the time they want to choose.
    config = ServerConfig(host="127.0.0.1", port=0, first_player_timeout=24 * 3600)
    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve, config, MemoryStore())
        client = TerminalClient(server.url, lines, console, name)
        try:
            await client.play_with_computers(computers)
        finally:
            with trio.CancelScope(shield=True):
                await server.shutdown(grace=0.5)
    return client


async def main_async(
    server: str | None,
    name: str | None,
    computers: int | None,
    lines: LineSource | None = None,
    console: Console | None = None,
) -> TerminalClient | None:
    """What ``cardgame play`` runs: stdin lines unless a source is given."""
    if lines is None:
        stdin = StdinLines()
        async with stdin.running():
            return await main_async(server, name, computers, stdin, console)
    if computers is not None and server is None:
        return await play_local(computers, lines, console, name)
    client = TerminalClient(server or "ws://127.0.0.1:8888", lines, console, name)
    if computers is not None:
        await client.play_with_computers(computers)
    else:
        await client.run()
    return client


# -- the command ---------------------------------------------------------------------------


def _unwrap(error: BaseException) -> BaseException:
    """The one exception inside nested exception groups (trio's nurseries wrap them)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def run_command(main: Callable[..., Awaitable[Any]], url: str | None, *args: Any) -> Any:
    """``trio.run`` with the failures a person can act on turned into one-line errors."""
    from trio_websocket import ConnectionClosed, HandshakeError

    try:
        return trio.run(main, *args)
    except BaseException as raised:
        error = _unwrap(raised)
        if isinstance(error, KeyboardInterrupt):
            click.echo("\nInterrupted.", err=True)
            raise SystemExit(130) from None
        if isinstance(error, ConnectionClosed):
            reason = error.reason
            detail = f"{reason.code} {reason.reason or ''}".strip() if reason else "no reason"
            raise click.ClickException(f"the server closed the connection ({detail})") from None
        if isinstance(error, HandshakeError | OSError):
            raise click.ClickException(f"cannot reach the server at {url}: {error}") from None
        raise


@click.command()
@click.option(
    "--server",
    metavar="URL",
    default=None,
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
def play(server: str | None, name: str | None, computers: int | None) -> None:
    """Play Discard in the terminal: join or create a room, or play alone against computers.

    Your hand is numbered: type the numbers of the cards to play (`3`, or `3 5` for a
    combination), `d` to draw, `!` after a play to announce your last card (`3!`), `r` for
    the rules and `q` to leave (your game state is saved in the user data directory).

    Example: cardgame play --computers 3
    """
    if name is not None:
        try:
            name = check_name(name)
        except ProtocolError as err:
            raise click.BadParameter(err.sentence, param_hint="--name") from None
    run_command(main_async, server or "ws://127.0.0.1:8888", server, name, computers)
