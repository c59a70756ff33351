"""``cardgame play``: the terminal client against a real server on loopback.

The client reads a line only when it asks for one, so these tests answer each
:class:`Ask` by looking at the view it carries (a greedy bot picks the cards, the
answer is typed as card numbers). One test runs the real ``cardgame play
--computers 3`` in a subprocess with a script piped to its stdin.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import trio
from rich.console import Console
from trio_websocket import WebSocketConnection

from cardgame.cli import render
from cardgame.cli.answers import (
    parse_drop,
    parse_first_player,
    parse_option,
    parse_turn,
    parse_vote,
)
from cardgame.cli.game_screen import GameScreen
from cardgame.cli.lines import NO_LINE, Ask, ScriptedLines
from cardgame.cli.local import play_local
from cardgame.cli.terminal import TerminalClient
from cardgame.fsm import rules
from cardgame.fsm.bots import make_bot
from cardgame.fsm.cards import cards, parse_card
from cardgame.fsm.game import Question
from cardgame.net.client import GameClient, LobbyClient, bot_view, play_with_bot

VIEW = {
    "hand": ["red-cross", "blue-?", "green-cup", "yellow--"],
    "top_card": "red-square",
    "players": [{"name": "ada", "cards": 4, "computer": False}] * 2,
    "penalty": 0,
    "request": None,
    "you": 0,
    "turn": 0,
}


def console() -> Console:
    return Console(file=io.StringIO(), width=100, highlight=False)


def output(client: TerminalClient) -> str:
    return client.console.file.getvalue()


class Player:
    """Answers every ask like a person who follows a greedy bot's advice.

    ``script`` maps an ask kind to lines typed first (bad input, say), in order;
    when a kind's script is used up, the bot answers.
    """

    def __init__(self, script: dict[str, list[Any]] | None = None, seed: int = 1) -> None:
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.bot = make_bot("greedy", random.Random(seed))
        self.events: dict[str, trio.Event] = {}

    def seen(self, kind: str) -> trio.Event:
        return self.events.setdefault(kind, trio.Event())

    def __call__(self, ask: Ask) -> Any:
        self.seen(ask.kind).set()
        if self.script.get(ask.kind):
            return self.script[ask.kind].pop(0)
        if ask.kind in ("wait", "wait_room"):
            return NO_LINE
        if ask.kind.startswith("confirm_"):
            return "y"
        if ask.kind == "menu":
            return "3"
        view = ask.view or {}
        question = Question(ask.kind, view.get("you", 0), "", ask.options, ask.count)
        decision = self.bot.decide(question, bot_view(view))
        if ask.kind in ("turn", "drop"):
            if not decision.data:
                return "d"
            return numbers(view["hand"], decision.data) + ("!" if decision.last_card else "")
        if ask.kind == "first_player":
            return str(decision.data + 1)
        if ask.kind == "vote":
            return "y"
        return str(decision.data)


def numbers(hand: list[str], chosen: list[str]) -> str:
    """The hand positions (from 1) of the chosen cards, each position used once."""
    used: list[int] = []
    for text in chosen:
        used.append(next(i for i, t in enumerate(hand, 1) if t == text and i not in used))
    return " ".join(map(str, used))


@pytest.fixture
def sent(monkeypatch) -> list[dict[str, Any]]:
    """Every frame a client sent (the server's msg_ids are numbers, the clients' are not)."""
    frames: list[dict[str, Any]] = []
    original = WebSocketConnection.send_message

    async def recording(self, message):
        frame = json.loads(message)
        if not str(frame.get("msg_id", "")).isdigit():
            frames.append(frame)
        await original(self, message)

    monkeypatch.setattr(WebSocketConnection, "send_message", recording)
    return frames


@pytest.fixture
def rig_deal(monkeypatch):
    """``rig_deal(hands, top)``: the next games deal exactly these hands and top card."""

    def rig(hands: list[str], top: str) -> None:
        def deal(table: rules.Table) -> None:
            held = [cards(h) for h in hands]
            used = Counter(c for hand in held for c in hand) + Counter([parse_card(top)])
            rest = []
            for card in table.market:
                if used[card]:
                    used[card] -= 1
                else:
                    rest.append(card)
            table.rng.shuffle(rest)
            for seat, hand in zip(table.seats, held, strict=True):
                seat.hand = hand
            table.market = rest
            table.play_pile = [parse_card(top)]

        monkeypatch.setattr(rules, "deal", deal)

    return rig


# -- what a typed line means ------------------------------------------------------------


def test_turn_lines():
    assert parse_turn("2", VIEW).data == ["blue-?"]
    assert parse_turn(" 2 4! ", VIEW).data == ["blue-?", "yellow--"]
    assert parse_turn("2 4!", VIEW).last_card and not parse_turn("2 4", VIEW).last_card
    assert parse_turn("D", VIEW).data == []
    assert parse_turn("r", VIEW).command == "rules" and parse_turn("q", VIEW).command == "leave"
    for bad, why in [
        ("", "Nothing"),
        ("0", "no number 0"),
        ("9", "from 1 to 4"),
        ("1 2 3", "not more"),
        ("1 1", "Each number once"),
        ("d!", "goes with a play"),
        ("!", "goes after"),
        ("red-cross", "not a card number"),
    ]:
        reply = parse_turn(bad, VIEW)
        assert reply.error and why in reply.error, (bad, reply)


def test_drop_request_first_player_and_vote_lines():
    assert parse_drop("3", VIEW, 1).data == ["green-cup"]
    assert "special" in parse_drop("2", VIEW, 1).error
    assert "exactly 1" in parse_drop("1 3", VIEW, 1).error
    options = list(rules.REQUEST_OPTIONS)
    assert parse_option("2", options).data == options[1]
    assert parse_option("Cup", options).data == "cup"
    assert "one of" in parse_option("purple", options).error
    assert parse_first_player("2", VIEW, [0, 1]).data == 1
    assert "from 1 to 2" in parse_first_player("3", VIEW, [0, 1]).error
    assert parse_vote("Y").data == "yes" and parse_vote("no").data == "no"
    assert "`y`" in parse_vote("maybe").error


def test_the_words_of_the_prompts():
    """Plurals, and the request and penalty said as a player would."""
    assert parse_drop("q?", VIEW, 2).error == "'q?' is not 2 card numbers, like `2 4`."
    assert parse_drop("q?", VIEW, 1).error == "'q?' is not a card number, like `2`."
    view = {**VIEW, "penalty": 1, "penalty_symbol": "1", "top_card": "red-1"}
    screen = GameScreen(TerminalClient("ws://127.0.0.1:1", ScriptedLines(lambda a: None)),
                        None, None)  # fmt: skip
    penalty = screen.help(Ask("turn", view=view))
    assert (
        "You must pick 1: type `d` to take it, or the number of a pick-one card to pass it on."
        in penalty
    )
    asked = screen.help(Ask("turn", view={**VIEW, "request": "triangle"}))
    assert "play a triangle card or a ? card, or draw." in asked
    shown = Console(file=io.StringIO(), width=100)
    shown.print(render.table({**VIEW, "request": "red", "market": 90}))
    assert "? request: red (play a red card or a ? card)" in shown.file.getvalue()


def test_a_filling_room_names_its_computer_seats_before_they_sit():
    from rich.console import Console

    from cardgame.cli import render

    waiting = {"room_name": "kitchen", "you": 0, "computers": 1, "seats_left": 1,
               "players": [{"name": "ada", "computer": False, "connected": True}]}  # fmt: skip
    assert render.roommates(waiting).plain == (
        "Room kitchen: ada (you), 1 computer player; waiting for 1 more player."
    )
    seated = {**waiting, "seats_left": 0, "players": [
        *waiting["players"], {"name": "vic", "computer": False, "connected": False},
        {"name": "computer-1", "computer": True, "connected": False}]}  # fmt: skip
    assert "computer player" not in render.roommates(seated).plain
    listed = Console(width=100, record=True)
    room = {"room_id": "r1", "room_name": "kitchen", "num_of_players": 4, "players": ["ada"],
            "computers": 2, "seats_left": 1}  # fmt: skip
    listed.print(render.rooms([room], []))
    assert "ada, 2 computer players (4 seats)" in listed.export_text()


async def test_a_message_during_a_prompt_gets_its_own_line_and_the_prompt_is_not_doubled():
    """After a restart, notices arrived while "Your move:" waited: they were printed on
    the prompt's line, and the prompt, asked again with nothing printed, twice."""
    typed = trio.Event()
    lines = ScriptedLines(lambda ask: "d" if typed.is_set() else NO_LINE)
    client = TerminalClient("ws://127.0.0.1:1", lines, console())
    ask = Ask("turn", "Your move:")

    async def arrives(notice: str | None):
        await trio.sleep(0)
        if notice:
            client.say(notice)
        return {"cmd": "GAME_MESSAGE"}

    await client.race(ask, lambda: arrives("ada is back."))
    await client.race(ask, lambda: arrives(None))  # a reply that prints nothing
    await client.race(ask, lambda: arrives(None))
    typed.set()
    assert await client.read(ask) == "d"
    assert output(client) == "Your move: \nada is back.\nYour move: d\n"


def test_a_pick_notice_names_cards_as_the_screen_does():
    message = {"payload": {"data": {"why": "wrong card: blue-circle does not match red-cross"},
                           "extra_data": ["green-cup", "red-1"]}}  # fmt: skip
    line = render.picked(message).plain
    assert line == (
        "!! You pick 2 (wrong card: ● blue circle does not match ✚ red cross): "
        "∪ green cup, +1 red pick-one"
    )


# -- whole games against a real server --------------------------------------------------


async def test_create_a_room_with_computers_and_play_to_the_end(server, sent):
    player = Player(
        {
            "menu": ["x", "2"],  # bad, then create
            "name": ["", "ada"],
            "room_name": ["kitchen"],
            "players": ["1", "9", "three", "3"],
            "computers": ["3", "2"],
        }
    )
    client = TerminalClient(server.url, ScriptedLines(player), console())
    with trio.fail_after(20):
        await client.run()
    text = output(client)
    assert "Please type one of" in text and "Type a whole number from 2 to 8" in text
    assert "Type a whole number from 0 to 2" in text and "Names are 1 to" in text
    [final] = client.results
    data = final["payload"]["data"]
    assert data["event"] == "game_over" and data["result"]["reason"] == "won"
    assert [p["computer"] for p in data["players"]] == [False, True, True]
    assert "Result" in text and "Bye." in text
    assert "The server refused" not in text
    created = [f for f in sent if f["cmd"] == "CREATE_A_ROOM"]
    assert [f["payload"]["data"]["num_of_players"] for f in created] == [3]
    assert created[0]["payload"]["data"]["computers"] == 2


async def test_every_prompt_explains_bad_input_and_sends_nothing(
    server, sent, rig_deal, tmp_path, monkeypatch
):
    """Turn, drop, request and first-player prompts; then q leaves and saves the state."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    # ada plays first with red-- on red-cup and drops red-cross, then red-? on it (a
    # request): the computer holds only yellow cups and circles, so it draws in between.
    rig_deal(
        ["red-- red-? green-? red-cross blue-square green-circle red-triangle blue-cup",
         "yellow-cup " * 4 + "yellow-circle " * 4],
        "red-cup",
    )  # fmt: skip
    player = Player(
        {
            "first_player": ["0", "3", "me", "1"],
            "turn": ["", "0", "99", "1 2 3", "1 1", "d!", "!", "x", "r", "6", "1", "1", "q"],
            "confirm_play": ["n"],  # 6 (green circle on red cup) would cost two cards
            "drop": ["1", "3 4", "2", "3"],
            "request": ["purple", "0", "yellow"],
        }
    )
    lines = ScriptedLines(player)
    client = TerminalClient(server.url, lines, console(), name="ada")
    async with LobbyClient.connect(server.url) as lobby:
        ticket = await lobby.create_room("rigged", 2, "ada", computers=1)
    with trio.fail_after(10):
        outcome = await client.play_game(ticket)
    assert outcome == "left"
    text = output(client)
    for why in ["no number 0", "from 1 to 8", "not more", "Each number once", "goes with a play",
                "goes after", "not a card number", "Nothing typed", "is special",
                "Drop exactly 1", "one of: red, blue", "Type a player's number"]:  # fmt: skip
        assert why in text, why
    assert "Combinations" in text  # r printed the rules
    flat = " ".join(text.split())
    warned = "Wrong card: ● green circle does not match ∪ red cup. Played anyway, it costs you 2"
    assert warned in flat and "Leave the game?" in flat
    answers = [f["payload"] for f in sent if f["cmd"] == "GAME_MESSAGE"]
    assert [a.get("data") for a in answers] == [0, ["red--"], ["red-cross"], ["red-?"], "yellow",
                                                None]  # fmt: skip
    assert answers[-1] == {"action": "leave"}
    assert [f["cmd"] for f in sent][-1] == "LEAVE"
    # Scenario B step 4: the paused state is saved where the client said.
    saved = tmp_path / "cardgame" / "left-games" / f"{ticket.room_id}.json"
    assert client.saved == saved and str(saved) in text.replace("\n", "")
    record = json.loads(saved.read_text())
    assert record["room_id"] == ticket.room_id and record["state"]["event"] == "paused"
    hand = ["green-?", "blue-square", "green-circle", "red-triangle", "blue-cup"]
    assert record["state"]["hand"] == hand
    assert "The server refused" not in text
    kinds = [a.kind for a in lines.asked]
    assert kinds.count("confirm_play") == 1 and kinds.count("confirm_leave") == 1
    assert kinds.count("turn") == 13 and kinds.count("drop") == 4 and kinds.count("request") == 3


async def test_join_from_the_room_list_and_vote_when_a_player_leaves(server, sent):
    """bob creates a room, we join it from the list; bob leaves on his turn; we vote yes."""
    async with LobbyClient.connect(server.url) as lobby:
        bob = await lobby.create_room("bobs table", 2, "bob")

    async def bob_leaves_on_his_turn() -> None:
        async with GameClient.connect(server.url, bob) as game:
            while True:
                message = await game.receive()
                data = message["payload"]["data"]
                if game.question is message and data["question"] == "first_player":
                    await game.answer(0)  # bob plays first
                elif game.question is message and data["question"] == "turn":
                    await game.request_leave()
                elif isinstance(data, dict) and data.get("event") == "paused":
                    await game.leave()
                elif message["cmd"] == "LEAVE_REP":
                    return

    player = Player(
        {"menu": ["1"], "room": ["5", "1"], "name": ["bob", "ada"], "vote": ["maybe", "y"]}
    )
    client = TerminalClient(server.url, ScriptedLines(player), console())
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(bob_leaves_on_his_turn)
            await client.run()
    text = output(client)
    assert "bobs table" in text and "You joined bobs table" in text
    assert "Room number (1), or b to go back:" in text  # one room: not "(1-1)"
    assert "Please type one of" in text  # room "5" refused
    assert "Could not join bobs table: somebody in 'bobs table' is already called bob" in text
    assert "Type `y`" in text and "the game resumes" in text
    votes = [f["payload"]["data"] for f in sent if f["cmd"] == "GAME_MESSAGE"
             and f["payload"].get("data") in ("yes", "no", "maybe")]  # fmt: skip
    assert votes == ["yes"]
    [final] = client.results
    assert final["payload"]["data"]["players"][0]["computer"] is True  # bob's seat
    assert final["payload"]["data"]["result"]["reason"] == "won"


async def test_scenario_a_wait_for_the_room_being_created(server):
    """bob is creating a room; we choose to wait; the room is pushed and we join it."""
    player = Player({"menu": ["1"], "scenario_a": ["x", "1"], "name": ["ada"]})
    client = TerminalClient(server.url, ScriptedLines(player), console())
    creating = trio.Event()

    async def bob() -> None:
        async with LobbyClient.connect(server.url) as lobby:
            await lobby.creating("bob")
            creating.set()
            await player.seen("wait_room").wait()  # ada is waiting: now create it
            ticket = await lobby.create_room("bobs table", 2, "bob")
        async with GameClient.connect(server.url, ticket) as game:
            await play_with_bot(game, "greedy", 3)

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(bob)
            await creating.wait()
            await client.run()
    text = output(client)
    assert "bob is creating a room: choose 1 to wait for it" in text
    assert "1 join or wait for a room (recommended)" in text  # the option the hint names
    assert "Waiting for bob's room" in text and "bob created bobs table: joining it." in text
    [final] = client.results
    assert [p["name"] for p in final["payload"]["data"]["players"]] == ["bob", "ada"]


async def test_end_of_input_at_a_prompt_exits_cleanly(server):
    client = TerminalClient(server.url, ScriptedLines(lambda ask: None), console())
    with trio.fail_after(5):
        await client.run()
    assert output(client).rstrip().endswith("Bye.")


async def test_play_local_needs_no_set_up(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    client = await play_local(2, ScriptedLines(Player()), console(), name="ada")
    [final] = client.results
    assert [p["computer"] for p in final["payload"]["data"]["players"]] == [False, True, True]


# -- the real command -------------------------------------------------------------------


def cardgame_command() -> list[str]:
    script = Path(sys.executable).with_name("cardgame")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from cardgame.cli.main import main; main()"]


def test_cardgame_play_computers_subprocess_plays_a_whole_game(tmp_path):
    """The real command, stdin piped: `1` plays first, then draw, draw… until somebody wins."""
    script = "1\n" + "d\n" * 3000
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path), COLUMNS="100")
    done = subprocess.run(
        [*cardgame_command(), "play", "--computers", "3", "--name", "ada"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Who plays first?" in done.stdout and "ada plays first" in done.stdout
    assert "Game over." in done.stdout and "Result" in done.stdout
    assert done.stdout.count("wins") == 1  # "X wins! Game over.", not again under the table
    assert "computer-1 (computer)" in done.stdout.split("Result")[-1]  # in the result table
    assert done.stderr == ""


def test_play_help_has_an_example():
    done = subprocess.run([*cardgame_command(), "play", "--help"], capture_output=True, text=True)
    assert "Example: cardgame play --computers 3" in done.stdout


def test_r_shows_the_rules_read_from_the_package():
    client = TerminalClient("ws://127.0.0.1:1", ScriptedLines(lambda ask: None), console())
    client.show_rules()
    assert "Discard" in output(client) and "not packaged" not in output(client)


async def test_the_prompt_shows_the_time_left_warns_and_says_when_it_ran_out(start_server, clock):
    server = await start_server(turn_seconds=20, idle_turns=2)
    player = Player(
        {
            "menu": ["2"],
            "name": ["ada"],
            "room_name": ["kitchen"],
            "players": ["2"],
            "computers": ["1"],
            "first_player": ["1"],
            "turn": [NO_LINE] * 10,  # ada never plays
        }
    )
    client = TerminalClient(server.url, ScriptedLines(player), console())
    with trio.fail_after(500):
        await client.run()
    text = output(client)
    assert "[20 s] Your move:" in text
    assert "10 seconds left to answer." in text and "[10 s] Your move:" in text
    # each run-out said what the game did: a card drawn, or (the computer played a
    # pick-two meanwhile: the deal is random) the penalty taken
    said = re.findall(
        r"ada ran out of time(; a card was drawn for them\.| and took the penalty)", text
    )
    assert len(said) == text.count("ada ran out of time") == 2, text
    assert "ada let the clock run out 2 turns in a row" in text


async def test_a_room_created_with_its_own_clock_asks_with_it(start_server, clock):
    """``cardgame play --turn-seconds 15``: the room ada creates gives each question 15 s,
    not the server's 45 s."""
    server = await start_server(turn_seconds=45, idle_turns=1)
    player = Player(
        {"menu": ["2"], "name": ["ada"], "room_name": ["kitchen"], "players": ["2"],
         "computers": ["1"], "first_player": ["1"], "turn": [NO_LINE] * 5}
    )  # fmt: skip
    client = TerminalClient(server.url, ScriptedLines(player), console())
    client.room_options = {"turn_seconds": 15}
    with trio.fail_after(500):
        await client.run()
    text = output(client)
    assert "[15 s] Your move:" in text and "[45 s]" not in text
    assert "ada ran out of time" in text


def test_play_turn_seconds_is_bounded_as_the_server_bounds_it():
    done = subprocess.run(
        [*cardgame_command(), "play", "--turn-seconds", "5"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "10<=x<=600" in done.stderr


class Dawdler:
    """A person who waits ``seconds`` at their first turn, then types ``line``; the
    Player answers the rest. Every turn prompt is kept, as printed."""

    interactive = False

    def __init__(self, player: Player, seconds: float, line: str) -> None:
        self.scripted = ScriptedLines(player)
        self.seconds, self.typed = seconds, line
        self.turn_prompts: list[str] = []

    async def line(self, ask: Ask) -> str | None:
        if ask.kind == "turn":
            self.turn_prompts.append(ask.prompt)
            if len(self.turn_prompts) == 1:
                await trio.sleep(self.seconds)
                return self.typed
        return await self.scripted.line(ask)


@pytest.mark.parametrize("typed", ["/say hi", "r", "9"])
async def test_a_prompt_printed_again_counts_the_seconds_left_then(start_server, clock, typed):
    """20 s into a 45 s turn, a chat line (the rules, a bad line) prints the prompt
    again: it says 25 s, not the 45 s of when the question came."""
    server = await start_server(turn_seconds=45)
    player = Player(
        {"menu": ["2"], "name": ["ada"], "room_name": ["kitchen"], "players": ["2"],
         "computers": ["1"], "first_player": ["1"]}
    )  # fmt: skip
    lines = Dawdler(player, 20, typed)
    client = TerminalClient(server.url, lines, console())
    with trio.fail_after(500):
        await client.run()
    assert lines.turn_prompts[:2] == ["[45 s] Your move:", "[25 s] Your move:"]
    assert "[25 s] Your move:" in output(client)


async def test_say_sends_a_chat_line_at_any_prompt_and_the_others_lines_are_shown(server, sent):
    """``/say …`` at a prompt is a chat line (the question stays asked); a line from
    another player is printed as it comes, with the sender's name."""
    from tables import fill_room, play_on

    ada_ticket, bob_ticket = await fill_room(server.url, 3, computers=1)
    player = Player({"turn": ["/say", "/say hello bob"]})
    client = TerminalClient(server.url, ScriptedLines(player), console(), name="p0")
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.play_game, ada_ticket)
            async with GameClient.connect(server.url, bob_ticket) as bob:
                await bob.chat("hi ada")
                heard = None
                while heard is None:
                    message = await bob.receive()
                    if message["cmd"] == "CHAT_REP" and message["payload"]["data"]["seat"] == 0:
                        heard = message["payload"]["data"]["text"]
                assert heard == "hello bob"
                await play_on(bob)
    text = output(client)
    assert "p1: hi ada" in text and "p0: hello bob" in text
    assert "Type something after /say" in text
    assert [f["payload"]["data"]["text"] for f in sent if f["cmd"] == "CHAT"] == [
        "hi ada", "hello bob"
    ]  # fmt: skip
