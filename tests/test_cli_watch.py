"""``cardgame watch``: the rooms to watch, then a game followed from the terminal with
its chat, never a hand."""

from __future__ import annotations

import io

import trio
from click.testing import CliRunner, Result
from rich.console import Console

from cardgame.cli.lines import NO_LINE, ScriptedLines
from cardgame.cli.main import main
from cardgame.cli.watch import watch_async
from cardgame.net.client import GameClient, LobbyClient

from tables import fill_room, play_on


def console() -> Console:
    return Console(file=io.StringIO(), width=120, highlight=False)


async def test_the_rooms_to_watch_are_listed(server):
    ticket, _ = await fill_room(server.url, 3, computers=1, name="kitchen")
    out = console()
    with trio.fail_after(10):
        await watch_async(server.url, None, None, console=out)
    text = out.file.getvalue()
    assert ticket.room_id in text and "kitchen" in text and "about to begin" in text
    assert "(0 watching)" in text


async def test_watch_a_game_to_its_end_and_chat_with_the_players(server):
    tickets = await fill_room(server.url, 3, computers=1, name="kitchen")
    typed = ["/say hi all", "hello?"]
    lines = ScriptedLines(lambda ask: typed.pop(0) if typed else NO_LINE)
    out = console()
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            done = trio.Event()

            async def watching() -> None:
                await watch_async(server.url, tickets[0].room_id, "eve", lines, out)
                done.set()

            nursery.start_soon(watching)
            async with (
                GameClient.connect(server.url, tickets[0]) as ada,
                GameClient.connect(server.url, tickets[1]) as bob,
            ):
                await ada.chat("welcome eve")
                async with trio.open_nursery() as both:
                    both.start_soon(play_on, ada)
                    both.start_soon(play_on, bob)
            await done.wait()
    heard = [m["payload"]["data"] for m in ada.received if m["cmd"] == "CHAT_REP"]
    assert {"from": "eve", "seat": None, "spectator": True, "text": "hi all"} in heard
    text = out.file.getvalue()
    assert "You are watching kitchen." in text and "p0: welcome eve" in text
    assert "eve (watching): hi all" in text and "Type `/say …` to chat" in text
    assert "1 watching" in text and "Result" in text
    assert "hand" not in text.lower()


async def test_watch_refused_is_a_one_line_error(server):
    """No such room, or a room closed to spectators: one line, no traceback."""
    async with LobbyClient.connect(server.url) as lobby:
        closed = await lobby.create_room("private", 2, "ada", spectators="none")

    def run(room_id: str) -> Result:
        return CliRunner().invoke(main, ["watch", room_id, "--server", server.url])

    for room_id, said in [("nosuchroom", "there is no room 'nosuchroom'"),
                          (closed.room_id, "the room 'private' may not be watched")]:  # fmt: skip
        result = await trio.to_thread.run_sync(run, room_id)
        assert result.exit_code == 1
        assert isinstance(result.exception, SystemExit)  # click's error, not a crash
        assert result.output == f"Error: {said}\n"


def test_a_spectators_table_with_a_penalty_and_watchers():
    """A public view has no hand nor seat: the table is drawn all the same."""
    from cardgame.cli import render

    view = {"top_card": "red-2", "turn": 1, "penalty": 4, "request": None, "market": 50,
            "state": "turn", "event": "turn", "watching": 2,
            "players": [{"name": "ada", "cards": 3, "computer": False},
                        {"name": "bob", "cards": 5, "computer": False}]}  # fmt: skip
    out = console()
    out.print(render.table(view))
    text = out.file.getvalue()
    assert "Penalty pending: pick 4" in text and "2 watching" in text and "(you)" not in text


def test_the_waiting_room_says_how_many_watch():
    from cardgame.cli import render

    data = {"room_name": "kitchen", "you": 0, "seats_left": 1, "computers": 0, "watching": 2,
            "players": [{"name": "ada", "computer": False, "connected": True}]}  # fmt: skip
    assert render.roommates(data).plain == (
        "Room kitchen: ada (you); waiting for 1 more player. 2 watching."
    )
