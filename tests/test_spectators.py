"""Spectators: the public table after every event, never a hand nor a question; every
game command refused with its own code; resumable by msg_id; limited per room and
overall (a witness game finishes meanwhile); shown to the players; chat both ways."""

from __future__ import annotations

import json
import re

import trio
from trio_websocket import open_websocket_url

from cardgame.net.client import GameClient, LobbyClient
from cardgame.net.watch_client import WatchClient

from tables import event_of, fill_room, play_on, running_server

CARD_TEXT = re.compile(r"(red|blue|green|yellow)-(cross|square|triangle|circle|cup|1|2|->|\?|-)")
#: What a spectator's view may hold: the public table, and nothing of any seat.
PUBLIC_KEYS = {"top_card", "turn", "players", "penalty", "request", "market", "state", "event",
               "result", "clock", "watching"}  # fmt: skip


async def play_all(clients: list[GameClient]) -> None:
    async with trio.open_nursery() as nursery:
        for seat, client in enumerate(clients):
            nursery.start_soon(play_on, client, seat)


def check_public(message: dict, shared: set[str]) -> None:
    """No hand, no question, and no card but the top card and those the whole table was
    told of (``shared``: every prompt the players received)."""
    payload = message["payload"]
    assert payload["flag"] is None and payload["return_type"] is None
    assert payload["next_cmd"] is None and payload["extra_data"] is None
    if message["cmd"] == "CHAT_REP":
        return
    data = payload["data"]
    assert set(data) <= PUBLIC_KEYS, set(data) - PUBLIC_KEYS
    assert payload["prompt"] == "" or all(
        sentence in shared for sentence in split_sentences(payload["prompt"])
    ), payload["prompt"]
    text = json.dumps(data)
    for match in CARD_TEXT.finditer(text):
        assert match.group(0) == data["top_card"] or match.group(0) in payload["prompt"]


def split_sentences(prompt: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?]) (?=[A-Z])", prompt) if s]


async def test_a_spectator_watches_a_whole_four_player_game_and_never_sees_a_hand():
    with trio.fail_after(90):
        async with running_server() as server:
            tickets = await fill_room(server.url, 4, name="kitchen")
            async with WatchClient.connect(server.url, tickets[0].room_id) as watch:
                hello = await watch.receive()
                assert hello["cmd"] == "WATCH_REP" and hello["msg_id"] == "0"
                assert hello["payload"]["data"]["table"] is None  # not dealt yet
                async with (
                    GameClient.connect(server.url, tickets[0]) as a,
                    GameClient.connect(server.url, tickets[1]) as b,
                    GameClient.connect(server.url, tickets[2]) as c,
                    GameClient.connect(server.url, tickets[3]) as d,
                ):
                    players = [a, b, c, d]
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(play_all, players)
                        while not watch.over:
                            await watch.receive()
    shared = {
        sentence
        for p in players
        for m in p.received
        for sentence in split_sentences(m["payload"]["prompt"])
    }
    events = [event_of(m) for m in watch.received]
    assert events[0] == "game_begin" and events[-1] == "game_over"
    assert (
        watch.received[-1]["payload"]["data"]["result"]
        == (a.received[-1]["payload"]["data"]["result"])
    )
    assert [int(m["msg_id"]) for m in watch.received] == list(range(1, len(watch.received) + 1))
    for message in watch.received:
        check_public(message, shared)
    # Every player saw one watching, in every view.
    views = [m["payload"]["data"] for m in a.received if m["cmd"] == "GAME_MESSAGE_REP"]
    assert all(v.get("watching") == 1 for v in views if "state" in v)
    assert watch.table["state"] == "finished"


async def test_every_game_command_from_a_spectator_is_refused_with_its_own_code():
    with trio.fail_after(60):
        async with running_server() as server:
            [ticket] = await fill_room(server.url, 2, computers=1)
            hello = {"room_id": ticket.room_id, "user_id": ticket.user_id, "token": ticket.token}
            attempts = [
                ("JOIN_GAME", {"data": hello}),
                ("GAME_MESSAGE", {"action": "answer", "reply_to": "2", "data": 0}),
                ("GAME_MESSAGE", {"action": "leave"}),
                ("LEAVE", {}),
                ("GET_ROOMATES", {}),
                ("WATCH", {"data": {"room_id": ticket.room_id}}),
            ]
            async with open_websocket_url(server.url + "/game") as ws:
                watch = {"cmd": "WATCH", "msg_id": "w", "payload": {"data": {
                    "room_id": ticket.room_id, "user_name": "eve"}}}  # fmt: skip
                await ws.send_message(json.dumps(watch))
                assert json.loads(await ws.get_message())["cmd"] == "WATCH_REP"
                for n, (cmd, payload) in enumerate(attempts):
                    frame = {"cmd": cmd, "msg_id": f"x{n}", "payload": payload}
                    await ws.send_message(json.dumps(frame))
                    refusal = json.loads(await ws.get_message())
                    assert refusal["cmd"] == "ERROR" and refusal["msg_id"] == "0"
                    assert refusal["payload"]["data"] == {"code": "spectator", "cmd": cmd}
                # The game it watches is untouched: its player plays it to the end.
                async with GameClient.connect(server.url, ticket) as player:
                    assert event_of(await play_on(player)) == "game_over"
                    assert not [e for e in player.errors if e["payload"]["data"]["cmd"]]
                seen = []
                while (message := json.loads(await ws.get_message()))["cmd"] != "ERROR":
                    seen.append(message)
                    if event_of(message) == "game_over":
                        break
    assert event_of(seen[-1]) == "game_over"
    assert all("hand" not in json.dumps(m["payload"]["data"]) for m in seen)


async def test_a_spectator_that_drops_resumes_from_its_last_msg_id():
    with trio.fail_after(60):
        async with running_server() as server:
            tickets = await fill_room(server.url, 3, computers=1)
            room_id = tickets[0].room_id
            async with (
                WatchClient.connect(server.url, room_id) as steady,
                GameClient.connect(server.url, tickets[0]) as a,
                GameClient.connect(server.url, tickets[1]) as b,
            ):
                await steady.receive()  # WATCH_REP: from now on
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(play_all, [a, b])
                    async with WatchClient.connect(server.url, room_id, last_msg_id=0) as first:
                        while len(first.received) < 5:
                            await first.receive()
                    dropped_at = first.last_msg_id
                    async with WatchClient.connect(
                        server.url, room_id, last_msg_id=dropped_at
                    ) as again:
                        while not again.over:
                            await again.receive()
                    while not steady.over:
                        await steady.receive()
    assert dropped_at == 5
    resumed = first.received + again.received
    assert [int(m["msg_id"]) for m in resumed] == list(range(1, len(resumed) + 1))
    assert resumed == steady.received  # the same stream, whoever watches, however often


async def test_limits_on_spectators_per_room_and_overall_with_a_witness_game():
    with trio.fail_after(60):
        async with running_server(max_spectators_per_room=2, max_spectators=3) as server:
            [x] = await fill_room(server.url, 2, computers=1, name="x")
            [y] = await fill_room(server.url, 2, computers=1, name="y")
            [witness] = await fill_room(server.url, 2, computers=1, name="witness")
            async with LobbyClient.connect(server.url) as lobby:
                closed = await lobby.create_room("closed", 2, "zed", computers=1,
                                                 spectators="none")  # fmt: skip
                listed = await lobby.request("GET_ROOMS", {"watchable": True})
            names = [r["room_name"] for r in listed["payload"]["data"]]
            assert names == ["x", "y", "witness"]  # "closed" may not be watched
            assert listed["payload"]["data"][0]["watching"] == 0

            async def refused(room_id: str, **options) -> str:
                async with WatchClient.connect(server.url, room_id, **options) as w:
                    message = await w.receive()
                    assert message["cmd"] == "ERROR" and w.over
                    return message["payload"]["data"]["code"]

            async with (
                GameClient.connect(server.url, witness) as player,
                WatchClient.connect(server.url, x.room_id) as w1,
            ):
                assert (await w1.receive())["cmd"] == "WATCH_REP"
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(play_on, player)
                    # A spectator may not pass for a player: "ｐ0" is "p0", seated in x.
                    assert await refused(x.room_id, user_name="ｐ0") == "name_taken"
                    async with WatchClient.connect(server.url, x.room_id, user_name="eve") as w2:
                        assert (await w2.receive())["payload"]["data"]["watching"] == 2
                        assert await refused(x.room_id) == "too_many_spectators"
                        async with WatchClient.connect(server.url, y.room_id) as w3:
                            assert (await w3.receive())["cmd"] == "WATCH_REP"
                            assert await refused(y.room_id) == "too_many_spectators"
                    assert await refused(closed.room_id) == "not_watchable"
                    assert await refused("nosuchroom") == "unknown_room"
            assert event_of(player.received[-1]) == "game_over"


async def test_the_public_stream_survives_a_restart(tmp_path):
    from cardgame.net.sqlite_store import SqliteStore

    path = tmp_path / "games.db"
    with trio.fail_after(60):
        store = SqliteStore(path)
        async with running_server(store) as server:
            tickets = await fill_room(server.url, 3, computers=1)
            room_id = tickets[0].room_id
            async with (
                GameClient.connect(server.url, tickets[0]) as a,
                GameClient.connect(server.url, tickets[1]) as b,
                WatchClient.connect(server.url, room_id, user_name="eve") as watch,
            ):
                await watch.receive()
                await watch.chat("before")
                while not any(m["cmd"] == "CHAT_REP" for m in watch.received):
                    await watch.receive()
                before = list(watch.received)
        store.close()
        store = SqliteStore(path)
        async with (
            running_server(store) as server,
            GameClient.connect(server.url, tickets[0]) as a,
            GameClient.connect(server.url, tickets[1]) as b,
            WatchClient.connect(server.url, room_id, last_msg_id=0) as again,
            trio.open_nursery() as nursery,
        ):
            nursery.start_soon(play_all, [a, b])
            while not again.over:
                await again.receive()
        store.close()
    start = int(before[0]["msg_id"]) - 1  # it watched from the moment it came
    assert again.received[start : start + len(before)] == before  # kept, and numbered on
    ids = [int(m["msg_id"]) for m in again.received]
    assert ids == list(range(1, len(ids) + 1)) and event_of(again.received[-1]) == "game_over"
    assert [m["payload"]["data"]["text"] for m in again.received if m["cmd"] == "CHAT_REP"] == [
        "before"
    ]


async def test_a_spectators_line_is_told_to_everyone_once_even_when_sent_twice():
    with trio.fail_after(30):
        async with running_server() as server:
            tickets = await fill_room(server.url, 2, name="here")
            [elsewhere] = await fill_room(server.url, 2, computers=1, name="elsewhere")
            async with (
                GameClient.connect(server.url, tickets[0]) as ada,
                WatchClient.connect(server.url, elsewhere.room_id) as other,
                open_websocket_url(server.url + "/game") as ws,
            ):
                await other.receive()
                hello = {"room_id": tickets[0].room_id, "user_name": "eve"}
                await ws.send_message(json.dumps({"cmd": "WATCH", "msg_id": "w", "payload":
                                                  {"data": hello}}))  # fmt: skip
                assert json.loads(await ws.get_message())["cmd"] == "WATCH_REP"
                frame = {"cmd": "CHAT", "msg_id": "c1", "payload": {"data": {"text": "hi"}}}
                for _ in range(2):
                    await ws.send_message(json.dumps(frame))
                first = json.loads(await ws.get_message())
                again = json.loads(await ws.get_message())
                assert first == again and first["cmd"] == "CHAT_REP" and first["msg_id"] == "1"
                assert first["payload"]["data"] == {"from": "eve", "seat": None,
                                                    "spectator": True, "text": "hi"}  # fmt: skip
                await ada.chat("bye")
                while (m := await ada.receive())["cmd"] != "CHAT_REP" or (
                    m["payload"]["data"]["text"] != "bye"
                ):
                    pass
    lines = [m["payload"]["data"]["text"] for m in ada.received if m["cmd"] == "CHAT_REP"]
    assert lines == ["hi", "bye"]  # once, in order
    assert not [m for m in other.received if m["cmd"] == "CHAT_REP"]  # another room's


async def test_who_may_watch_is_kept_by_every_store(tmp_path, pg_url):
    """A room's rule comes back with it after a restart, in SQLite and in PostgreSQL."""
    from cardgame.net.pg_store import PgStore
    from cardgame.net.sqlite_store import SqliteStore

    for opened in (lambda: SqliteStore(tmp_path / "games.db"), lambda: PgStore(pg_url)):
        store = opened()
        try:
            for rule in ("chat", "watch", "none"):
                await store.add_room(f"r-{rule}", rule, 2, spectators=rule)
            await store.add_room("r-default", "default", 2)
        finally:
            store.close()
        store = opened()
        try:
            kept = {room.room_id: room.spectators for room in store.all_rooms()}
        finally:
            store.close()
        assert kept == {"r-chat": "chat", "r-watch": "watch", "r-none": "none",
                        "r-default": "chat"}  # fmt: skip


async def test_a_room_closed_to_spectators_stays_closed_after_a_restart(tmp_path):
    from cardgame.net.sqlite_store import SqliteStore

    path = tmp_path / "games.db"
    with trio.fail_after(30):
        for attempt in range(2):
            store = SqliteStore(path)
            async with running_server(store) as server:
                if attempt == 0:
                    async with LobbyClient.connect(server.url) as lobby:
                        ticket = await lobby.create_room("private", 2, "ada", computers=1,
                                                         spectators="none")  # fmt: skip
                    async with GameClient.connect(server.url, ticket) as ada:
                        while event_of(await ada.receive()) != "game_begin":
                            pass
                assert ticket.room_id in server.lobby.rooms  # running (restored the 2nd time)
                async with WatchClient.connect(server.url, ticket.room_id) as watch:
                    refusal = await watch.receive()
                assert refusal["payload"]["data"]["code"] == "not_watchable"
                async with LobbyClient.connect(server.url) as lobby:
                    assert await lobby.watchable_rooms() == []
            store.close()


async def test_the_watch_client_reconnects_by_itself_and_misses_nothing():
    from cardgame.net.client import Backoff

    with trio.fail_after(60):
        async with running_server() as server:
            tickets = await fill_room(server.url, 3, computers=1)
            room = server.lobby.rooms[tickets[0].room_id]
            fast = Backoff(first=0.01, cap=0.1, attempts=20)
            async with WatchClient.connect(server.url, room.room_id, backoff=fast) as watch:
                await watch.receive()  # WATCH_REP: it is the room's first spectator
                dropped = room.gallery.spectators[0].connection
                async with (
                    WatchClient.connect(server.url, room.room_id, last_msg_id=0) as steady,
                    GameClient.connect(server.url, tickets[0]) as a,
                    GameClient.connect(server.url, tickets[1]) as b,
                    trio.open_nursery() as nursery,
                ):
                    nursery.start_soon(play_all, [a, b])
                    while not watch.over:
                        await watch.receive()
                        if len(watch.received) == 3 and not dropped.closed.is_set():
                            dropped.close(1001)  # as a server going away would
                    while not steady.over:
                        await steady.receive()
    assert watch.reconnects == 1
    assert watch.received == steady.received  # both from the deal on: nothing lost, no repeat
