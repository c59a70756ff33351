"""The terminal client across a server restart: the lobby and the game reconnect by
themselves, and the player is told the connection was lost and is back (issue 11, 1-2)."""

from __future__ import annotations

import io
import random
import socket

import trio
from rich.console import Console

from cardgame.cli.lines import Ask
from cardgame.cli.terminal import TerminalClient
from cardgame.fsm.bots import bot_view, make_bot
from cardgame.fsm.game import Question
from cardgame.net.client import LobbyClient
from cardgame.net.config import ServerConfig
from cardgame.net.server import serve
from cardgame.net.sqlite_store import SqliteStore


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Restarts:
    """A server on one port and one SQLite file that a test can restart."""

    def __init__(self, nursery: trio.Nursery, path) -> None:
        self.nursery, self.path, self.port = nursery, path, free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self.scope: trio.CancelScope | None = None
        self.stopped = trio.Event()

    async def start(self) -> None:
        store = SqliteStore(self.path)
        config = ServerConfig(host="127.0.0.1", port=self.port)

        stopped = self.stopped = trio.Event()

        async def run(task_status=trio.TASK_STATUS_IGNORED) -> None:
            with trio.CancelScope() as scope:
                self.scope = scope
                try:
                    await serve(config, store, task_status=task_status)
                finally:
                    store.close()
                    stopped.set()

        await self.nursery.start(run)

    async def restart(self) -> None:
        assert self.scope is not None
        self.scope.cancel()
        await self.stopped.wait()  # the old server has closed its store
        await self.start()


class Lines:
    """Answers like a greedy player; before the ask named ``hold``, waits for ``go``."""

    interactive = False

    def __init__(self, script: dict[str, list[str]], hold: str) -> None:
        self.script = script
        self.hold, self.held, self.go = hold, trio.Event(), trio.Event()
        self.bot = make_bot("greedy", random.Random(1))

    async def line(self, ask: Ask) -> str | None:
        await trio.lowlevel.checkpoint()
        if ask.optional:
            await trio.sleep_forever()
        if ask.kind == self.hold and not self.held.is_set():
            self.held.set()
            await self.go.wait()
        if self.script.get(ask.kind):
            return self.script[ask.kind].pop(0)
        view = ask.view or {}
        question = Question(ask.kind, view.get("you", 0), "", ask.options, ask.count)
        decision = self.bot.decide(question, bot_view(view))
        if ask.kind in ("turn", "drop"):
            chosen, used = decision.data, []
            if not chosen:
                return "d"
            for text in chosen:
                used.append(next(i for i, t in enumerate(view["hand"], 1) if t == text
                                 and i not in used))  # fmt: skip
            return " ".join(map(str, used)) + ("!" if decision.last_card else "")
        return str(decision.data + 1 if ask.kind == "first_player" else decision.data)


def output(client: TerminalClient) -> str:
    return " ".join(client.console.file.getvalue().split())


async def test_the_lobby_menu_reconnects_after_a_restart(tmp_path):
    lines = Lines({"menu": ["1", "3"], "create_instead": ["n"]}, hold="menu")
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            server = Restarts(nursery, tmp_path / "games.db")
            await server.start()
            client = TerminalClient(server.url, lines, Console(file=io.StringIO(), width=100))

            async def restart_while_the_menu_waits() -> None:
                await lines.held.wait()
                await server.restart()
                lines.go.set()

            nursery.start_soon(restart_while_the_menu_waits)
            await client.run()  # 1 (no room: do not create), then the menu again: 3
            nursery.cancel_scope.cancel()
    text = output(client)
    assert "Connection lost, reconnecting…" in text and "Reconnected." in text
    assert text.endswith("Bye.")
    assert text.index("Reconnected.") < text.rindex("3 exit")  # the menu again, fresh


async def test_the_game_says_the_connection_was_lost_and_is_back(tmp_path):
    lines = Lines({}, hold="turn")
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            server = Restarts(nursery, tmp_path / "games.db")
            await server.start()
            async with LobbyClient.connect(server.url) as lobby:
                ticket = await lobby.create_room("solo", 2, "ada", computers=1)
            client = TerminalClient(server.url, lines, Console(file=io.StringIO(), width=100))

            async def restart_on_the_first_turn() -> None:
                await lines.held.wait()
                await server.restart()
                lines.go.set()

            nursery.start_soon(restart_on_the_first_turn)
            assert await client.play_game(ticket) == "over"
            nursery.cancel_scope.cancel()
    text = output(client)
    lost, back = text.index("Connection lost, reconnecting…"), text.index("Reconnected.")
    assert lost < back < text.index("Game over.")


class MenuWaits:
    """Types nothing at the first menu (until the lobby changes it), then exits."""

    interactive = False

    def __init__(self) -> None:
        self.at_menu = trio.Event()
        self.menus = 0

    async def line(self, ask: Ask) -> str | None:
        await trio.lowlevel.checkpoint()
        if ask.kind == "menu":
            self.menus += 1
            if self.menus == 1:
                self.at_menu.set()
                await trio.sleep_forever()  # cancelled when the lobby changes
            return "3"
        await trio.sleep_forever()


async def test_the_menu_follows_the_lobby_and_offers_joining_only_when_there_is_a_room(server):
    lines = MenuWaits()
    client = TerminalClient(server.url, lines, Console(file=io.StringIO(), width=100))
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.run)
            await lines.at_menu.wait()
            async with LobbyClient.connect(server.url) as lobby:
                await lobby.create_room("kitchen", 2, "bob")
    text = output(client)
    before, after = text.split("The lobby changed:")
    assert "1 join a room (none is open yet) 2 create a room (recommended)" in before
    assert "kitchen" in after and "1 join an existing room (recommended)" in after
    assert text.endswith("Bye.") and lines.menus == 2
