"""Chat: a line to the room reaches everyone in it and nobody else, is refused when too
long, too fast or hiding characters, and is part of the room's story (stored, resumed,
replayed after a restart)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from click.testing import CliRunner

from cardgame.cli.main import main
from cardgame.net.client import GameClient
from cardgame.net.protocol import MAX_CHAT
from cardgame.net.sqlite_store import SqliteStore

from tables import event_of, fill_room, play_on, running_server

Message = dict


async def until(client: GameClient, cmd: str) -> Message:
    while True:
        message = await client.receive()
        if message["cmd"] == cmd:
            return message


async def refusal(client: GameClient) -> str:
    """The code of the next unnumbered refusal (what chat refusals are)."""
    message = await until(client, "ERROR")
    assert message["msg_id"] == "0"
    return message["payload"]["data"]["code"]


def chats(client: GameClient) -> list[tuple[str, str]]:
    return [
        (m["payload"]["data"]["from"], m["payload"]["data"]["text"])
        for m in client.received
        if m["cmd"] == "CHAT_REP"
    ]


async def test_a_line_reaches_everyone_in_the_room_and_nobody_else():
    with trio.fail_after(60):
        async with running_server() as server:
            tickets = await fill_room(server.url, 3, name="kitchen")
            witness = await fill_room(server.url, 2, computers=1, name="witness")
            async with (
                GameClient.connect(server.url, tickets[0]) as ada,
                GameClient.connect(server.url, tickets[1]) as bob,
                GameClient.connect(server.url, tickets[2]) as cy,
                GameClient.connect(server.url, witness[0]) as other,
            ):
                await ada.chat("  ｈｉ all, good luck  ")  # NFKC and trimmed, as names are
                for client in (ada, bob, cy):
                    said = await until(client, "CHAT_REP")
                    assert said["payload"]["data"] == {
                        "from": "p0", "seat": 0, "spectator": False, "text": "hi all, good luck"
                    }  # fmt: skip
                    assert said["payload"]["prompt"] == "p0: hi all, good luck"
                    assert int(said["msg_id"]) > 0  # numbered, in each one's own stream
                await bob.chat("thanks")
                for client in (ada, bob, cy):
                    assert (await until(client, "CHAT_REP"))["payload"]["data"]["from"] == "p1"
                over = await play_on(other)  # the witness room finishes, never told a word
                assert event_of(over) == "game_over"
                assert chats(other) == []
            # The sender's copy is its reply; the stream has no gap.
            for client in (ada, bob, cy):
                ids = [int(m["msg_id"]) for m in client.received]
                assert ids == list(range(1, len(ids) + 1))


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("x" * (MAX_CHAT + 1), "too long"),
        ("ring\x07", "a control character"),
        ("abc\u202edef", "a bidi override"),
        ("a\u200bb", "a zero-width space"),
        ("\u3164", "a Hangul filler (renders blank)"),
        ("hi \u2800 there", "a braille blank"),
        ("   ", "only spaces"),
        ("e\u0301\u0301\u0301", "accents stacked three deep"),
        ("\ue000", "a private-use character"),
    ],
)
async def test_a_line_that_hides_or_overflows_is_refused_and_told_to_nobody(text, why):
    with trio.fail_after(30):
        async with running_server() as server:
            tickets = await fill_room(server.url, 2)
            async with (
                GameClient.connect(server.url, tickets[0]) as ada,
                GameClient.connect(server.url, tickets[1]) as bob,
            ):
                await until(ada, "JOIN_GAME_REP")
                await ada.chat(text)
                assert await refusal(ada) == "bad_text", why
                await ada.chat("after")  # the room goes on: the next line goes through
                assert (await until(bob, "CHAT_REP"))["payload"]["data"]["text"] == "after"
                await until(ada, "CHAT_REP")
                assert chats(bob) == [("p0", "after")]
                assert chats(ada) == [("p0", "after")]


async def test_too_fast_is_refused_until_the_allowance_refills(clock):
    with trio.fail_after(30):
        async with running_server(chat_rate=0.5, chat_burst=3) as server:
            tickets = await fill_room(server.url, 2)
            async with (
                GameClient.connect(server.url, tickets[0]) as ada,
                GameClient.connect(server.url, tickets[1]) as bob,
            ):
                for n in range(4):
                    await ada.chat(f"line {n}")
                for n in range(3):
                    assert (await until(bob, "CHAT_REP"))["payload"]["data"]["text"] == f"line {n}"
                assert await refusal(ada) == "rate_limited"
                await trio.sleep(2.5)  # a line every 2 s: one more fits
                await ada.chat("later")
                assert (await until(bob, "CHAT_REP"))["payload"]["data"]["text"] == "later"
                assert [t for _, t in chats(bob)] == ["line 0", "line 1", "line 2", "later"]


async def test_chat_is_kept_resumed_after_a_restart_and_replayed_with_the_moves(tmp_path):
    path: Path = tmp_path / "games.db"
    with trio.fail_after(60):
        store = SqliteStore(path)
        async with running_server(store) as server:
            tickets = await fill_room(server.url, 3, computers=1)
            async with (
                GameClient.connect(server.url, tickets[0]) as ada,
                GameClient.connect(server.url, tickets[1]) as bob,
            ):
                await until(bob, "GAME_MESSAGE_REP")  # the game has begun
                await ada.chat("good luck")
                await until(ada, "CHAT_REP")
                said_at = int((await until(bob, "CHAT_REP"))["msg_id"])
        store.close()
        store = SqliteStore(path)
        # bob comes back remembering nothing: the whole stream again, chat in it.
        async with (
            running_server(store) as server,
            GameClient.connect(server.url, tickets[1]) as again,
        ):
            said = await until(again, "CHAT_REP")
            assert said["msg_id"] == str(said_at)
            assert said["payload"]["data"]["text"] == "good luck"
            async with GameClient.connect(server.url, tickets[0]) as ada:
                await ada.chat("still here")
                assert (await until(again, "CHAT_REP"))["payload"]["data"]["text"] == ("still here")
                async with trio.open_nursery() as both:
                    both.start_soon(play_on, ada)
                    both.start_soon(play_on, again)
        store.close()
    replayed = CliRunner().invoke(main, ["replay", tickets[0].room_id, "--db", str(path)])
    assert replayed.exit_code == 0, replayed.output
    lines = replayed.output.splitlines()
    begins = next(i for i, line in enumerate(lines) if "The game begins" in line)
    luck = next(i for i, line in enumerate(lines) if line.endswith("p0: good luck"))
    here = next(i for i, line in enumerate(lines) if line.endswith("p0: still here"))
    assert begins < luck < here < len(lines) - 1
    assert lines[-1].startswith("won by")
