"""What the lobby may be made to spend: GET_ROOMS a page at a time from a list built once
per change, rooms limited (overall, per address, creation rate per address), pushes
coalesced, the outbox counted in bytes; the drain after SIGTERM; every limit a
``cardgame serve`` option. Each test that runs a server holds a witness game in another
room that must finish (the ``witnessed`` fixture)."""

from __future__ import annotations

import json
import signal
import time
from contextlib import AsyncExitStack
from dataclasses import fields

import pytest
import trio
from click.testing import CliRunner
from rawws import TEXT, frame, open_rooms, raw_socket, request, witness_game
from trio.testing import MockClock
from trio_websocket import ConnectionClosed

from cardgame.cli.main import main
from cardgame.cli.serve import LIMITS
from cardgame.net import room as room_module
from cardgame.net import watchers as watchers_module
from cardgame.net.client import Backoff, GameClient, LobbyClient, ServerError, unpack_pushes
from cardgame.net.config import ServerConfig
from cardgame.net.server import serve
from cardgame.net.sqlite_store import SqliteStore

from tables import fill_room, free_port, play_on, start_serve


@pytest.fixture
async def witnessed(start_server, nursery, request):
    """``await witnessed(**config)``: a server with a witness game (a person and a
    computer) in a room of its own, played to its end after the test (on a clock that
    moves: under one that stands still, a long game spends the witness's allowance of
    messages, which never refills, and the client's pause before sending again never
    ends: the whole suite hung so, rarely)."""
    test_over = trio.Event()
    finished: list[trio.Event] = []

    async def hold(url: str, task_status=trio.TASK_STATUS_IGNORED) -> None:
        done = trio.Event()
        finished.append(done)
        async with witness_game(url):
            task_status.started()
            await test_over.wait()
        done.set()

    async def start(*args, **config):
        server = await start_server(*args, **config)
        await nursery.start(hold, server.url)
        return server

    yield start
    if "still_clock" in request.fixturenames:
        request.getfixturevalue("still_clock").autojump_threshold = 0
    test_over.set()
    for done in finished:
        await done.wait()


async def until(condition) -> None:
    """Wait in real time for the server to have done something (under a MockClock that
    stands still as well): bounded."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the server never got there"
        await trio.to_thread.run_sync(time.sleep, 0.005)


@pytest.fixture
def still_clock() -> MockClock:
    """Virtual time that moves only when the test says (``jump``): what happens
    between two jumps happens at one instant, however slow the machine."""
    return MockClock()


def room_ids(rooms: list[dict]) -> list[str]:
    return [r["room_id"] for r in rooms]


# -- GET_ROOMS --------------------------------------------------------------------------


async def test_a_client_reading_pages_gets_every_room_once(witnessed):
    """specs/protocol.md: a reply holds at most 50 rooms; ``{"offset": 50}`` (then 100,
    ...) asks for the next ones; a reply with fewer is the last."""
    server = await witnessed(max_rooms_per_address=200, room_burst=200)
    opened = await open_rooms(server.url, 110)
    seen, sizes = [], []
    async with LobbyClient.connect(server.url) as lobby:
        while True:
            page, _ = await lobby.get_rooms(offset=len(seen))
            seen += room_ids(page)
            sizes.append(len(page))
            if len(page) < 50:
                break
        second = await lobby.request("GET_ROOMS", {"offset": 50})
        beyond, _ = await lobby.get_rooms(offset=500)
    assert sizes == [50, 50, 10]
    assert seen == opened  # every room, once, oldest first
    assert second["payload"]["prompt"] == "110 room(s) open (51-100 here)."
    assert beyond == []


async def test_the_room_list_is_built_once_per_change(witnessed, monkeypatch):
    server = await witnessed()
    opened = await open_rooms(server.url, 5)
    built = 0
    summary = room_module.Room.summary

    def counted(room):
        nonlocal built
        built += 1
        return summary(room)

    monkeypatch.setattr(room_module.Room, "summary", counted)
    async with LobbyClient.connect(server.url) as lobby:
        for _ in range(20):
            rooms, _ = await lobby.get_rooms()
        assert room_ids(rooms) == opened
        assert built == 5  # twenty requests, one list
        await lobby.join_room(opened[0], "bob")  # a change: its push, and a new list
        built = 0
    async with LobbyClient.connect(server.url) as lobby:
        for _ in range(20):
            rooms, _ = await lobby.get_rooms()
    assert room_ids(rooms) == opened and rooms[0]["players"] == ["host", "bob"]
    assert built == 5


# -- room limits ------------------------------------------------------------------------


async def test_rooms_overall_are_limited_and_a_refusal_changes_nothing(start_server):
    server = await start_server(max_rooms=3, finished_linger=0)
    [witness] = await fill_room(server.url, 2, computers=1, name="witness")
    opened = await open_rooms(server.url, 2)  # the witness's room and these: 3
    async with LobbyClient.connect(server.url) as lobby:
        with pytest.raises(ServerError) as refused:
            await lobby.create_room("one more", 2, "eve")
        assert refused.value.code == "too_many_rooms"
        rooms, _ = await lobby.get_rooms()
        assert room_ids(rooms) == opened and len(server.lobby.rooms) == 3
        # "open at once": once the witness's game is over and its room closed, a room
        # may be created again
        async with GameClient.connect(server.url, witness) as client:
            with trio.fail_after(120):
                await play_on(client)
        await until(lambda: len(server.lobby.rooms) == 2)
        await lobby.create_room("one more", 2, "eve")


async def test_rooms_per_address(witnessed):
    server = await witnessed(max_rooms_per_address=2)
    await open_rooms(server.url, 1)  # 127.0.0.1: the witness's room and this one
    create = {"room_name": "r", "num_of_players": 2, "user_name": "eve"}
    async with raw_socket(server.port) as sock:
        refused = await request(sock, "CREATE_A_ROOM", create)
    assert refused["cmd"] == "ERROR"
    assert refused["payload"]["data"]["code"] == "too_many_rooms"
    assert "2 rooms from one address" in refused["payload"]["prompt"]
    for _ in range(2):  # another address is not held back by this one
        async with raw_socket(server.port, source="127.0.0.2") as sock:
            assert (await request(sock, "CREATE_A_ROOM", create))["cmd"] == "CREATE_A_ROOM_REP"
    async with raw_socket(server.port, source="127.0.0.2") as sock:
        again = await request(sock, "CREATE_A_ROOM", create)
    assert again["payload"]["data"]["code"] == "too_many_rooms"
    assert len(server.lobby.rooms) == 4


async def test_room_creation_rate_per_address(witnessed, still_clock):
    server = await witnessed(room_rate=0.5, room_burst=3)  # the witness spent one
    create = {"room_name": "r", "num_of_players": 2, "user_name": "eve"}

    async def create_from(source: str) -> str:
        async with raw_socket(server.port, source=source) as sock:
            reply = await request(sock, "CREATE_A_ROOM", create)
        return reply["cmd"] if reply["cmd"] != "ERROR" else reply["payload"]["data"]["code"]

    assert [await create_from("127.0.0.1") for _ in range(3)] == [
        "CREATE_A_ROOM_REP", "CREATE_A_ROOM_REP", "rate_limited"
    ]  # fmt: skip
    assert await create_from("127.0.0.3") == "CREATE_A_ROOM_REP"  # its own allowance
    rooms = len(server.lobby.rooms)
    still_clock.jump(2)  # one more room two seconds later, at 0.5 a second
    assert await create_from("127.0.0.1") == "CREATE_A_ROOM_REP"
    assert await create_from("127.0.0.1") == "rate_limited"
    assert len(server.lobby.rooms) == rooms + 1


# -- coalesced pushes ---------------------------------------------------------------------


async def test_a_burst_of_room_changes_costs_a_watcher_one_frame(
    witnessed, still_clock, monkeypatch
):
    server = await witnessed(lobby_push_interval=0.25)
    watchers = server.lobby.watchers
    serialised = 0
    frame = watchers_module._frame

    def counted(*args):
        nonlocal serialised
        serialised += 1
        return frame(*args)

    monkeypatch.setattr(watchers_module, "_frame", counted)
    async with AsyncExitStack() as stack:
        lobbies = [await stack.enter_async_context(LobbyClient.connect(server.url))
                   for _ in range(3)]  # fmt: skip
        for lobby in lobbies:
            await lobby.get_rooms()  # each is watching
        await until(lambda: len(watchers) == 3)
        conns = list(watchers.numbers)
        await open_rooms(server.url, 1)
        if watchers._pending:  # the last push was less than an interval ago
            still_clock.jump(0.25)
        await until(lambda: not watchers._pending)  # pushed: the next push is 0.25 s away
        numbered = [watchers.numbers[conn] for conn in conns]
        burst = await open_rooms(server.url, 20)  # within one push interval: no clock moved
        await until(lambda: len(watchers) == 3)  # the creators' connections have gone
        assert [watchers.numbers[conn] for conn in conns] == numbered  # nothing sent yet
        serialised = 0
        still_clock.jump(0.25)
        await until(lambda: not watchers._pending)
        assert [watchers.numbers[conn] for conn in conns] == [n + 1 for n in numbered]
        assert serialised == 1  # one frame, written once for every watcher
        for lobby in lobbies:
            while (pushed := await lobby._next())["cmd"] != "LOBBY_CHANGED" or not any(
                i["data"]["room"]["room_id"] == burst[0] for i in pushed["payload"]["data"]
            ):
                pass  # what came before the burst
            items = pushed["payload"]["data"]
            assert [i["data"]["room"]["room_id"] for i in items] == burst
            assert {i["cmd"] for i in items} == {"ROOM_CREATED"}


async def test_announcing_a_creation_spends_the_creation_allowance(witnessed, still_clock):
    """CREATING_A_ROOM pushes to every watcher as a room does: begun and cancelled again
    and again it was a push flood the room limits did not see."""
    server = await witnessed(room_rate=0.5, room_burst=3)  # 127.0.0.4: its own allowance
    async with raw_socket(server.port, source="127.0.0.4") as sock:
        for _ in range(2):
            assert (await request(sock, "CREATING_A_ROOM", {"user_name": "eve"}))["cmd"] == (
                "CREATING_A_ROOM_REP"
            )
            assert (await request(sock, "CANCEL_CREATE"))["cmd"] == "CANCEL_CREATE_REP"
        await request(sock, "CREATING_A_ROOM", {"user_name": "eve"})
        # the room of an announced creation was paid for with the announcement
        create = {"room_name": "r", "num_of_players": 2, "user_name": "eve"}
        assert (await request(sock, "CREATE_A_ROOM", create))["cmd"] == "CREATE_A_ROOM_REP"
    async with raw_socket(server.port, source="127.0.0.4") as sock:
        refused = await request(sock, "CREATING_A_ROOM", {"user_name": "eve"})
        assert refused["payload"]["data"]["code"] == "rate_limited"
        assert not server.lobby.creations  # a refusal announces nothing
        still_clock.jump(2)
        again = await request(sock, "CREATING_A_ROOM", {"user_name": "eve"})
        assert again["cmd"] == "CREATING_A_ROOM_REP"


async def test_a_creation_begun_and_given_up_within_one_push_is_one_change(witnessed, still_clock):
    server = await witnessed(lobby_push_interval=0.25)
    watchers = server.lobby.watchers
    async with LobbyClient.connect(server.url) as watcher:
        await watcher.get_rooms()
        await until(lambda: not watchers._pending)
        still_clock.jump(0.25)  # whatever was pushed last is an interval ago
        async with raw_socket(server.port) as sock:
            await request(sock, "CREATING_A_ROOM", {"user_name": "eve"})  # pushed at once
            for _ in range(3):
                await request(sock, "CANCEL_CREATE")
                await request(sock, "CREATING_A_ROOM", {"user_name": "eve"})
            await request(sock, "CANCEL_CREATE")
        # the first went out alone; each later begin was replaced by its abandon
        assert [c.cmd for c in watchers._pending] == ["ROOM_ABANDONED"] * 4
        still_clock.jump(0.25)
        first = await watcher.next_push()
        assert first["cmd"] == "ROOM_BEING_CREATED"
        later = [await watcher.next_push() for _ in range(4)]
        assert [p["cmd"] for p in later] == ["ROOM_ABANDONED"] * 4


async def test_a_watcher_that_does_not_keep_up_is_queued_no_more_pushes(witnessed):
    """A /lobby connection with much still to be sent is queued no more pushes (2,000
    watchers under room spam once held hundreds of megabytes of them); once it has
    read, it is told how many changes it was not sent (and asks GET_ROOMS)."""
    server = await witnessed(lobby_push_interval=0.01, room_burst=100, rate=1000, burst=1000,
                             outbox_bytes=16 * 1024 * 1024)  # fmt: skip
    watchers = server.lobby.watchers
    await open_rooms(server.url, 20, "\U0001f0cf" * 32)  # GET_ROOMS replies of ~5 KB
    get_rooms = frame(TEXT, b'{"cmd": "GET_ROOMS", "msg_id": "1"}')
    await until(lambda: len(watchers) == 0)  # the rooms' creators have gone
    async with raw_socket(server.port, receive_buffer=4096) as sock:
        await until(lambda: len(watchers) == 1)
        [conn] = list(watchers.numbers)
        await sock.send(get_rooms * 600)  # ~3 MB: more than the sockets' buffers hold
        await until(lambda: watchers.numbers[conn] >= 600)  # (and a push, perhaps)
        assert conn.queued_bytes > watchers_module.BEHIND_BYTES
        queued = conn.queued_bytes
        await open_rooms(server.url, 5)
        await until(lambda: watchers.behind.get(conn, 0) >= 5)
        assert conn.queued_bytes <= queued  # not one push more
        missed = None
        while missed is None:  # it reads at last
            opcode, payload = await sock.next_frame()
            message = json.loads(payload)
            if message["cmd"] == "LOBBY_CHANGED" and message["payload"]["extra_data"]:
                missed = message["payload"]["extra_data"]["missed"]
        assert missed >= 5
        assert conn not in watchers.behind


def test_a_client_is_told_when_pushes_were_left_out():
    """The client library keeps the ``missed`` of a LOBBY_CHANGED (the terminal's menu
    lists the rooms again on any push), even when the frame carries no change."""
    change = {"cmd": "ROOM_UPDATED", "prompt": "p", "data": {"room_id": "r"}}
    frame = {"cmd": "LOBBY_CHANGED", "msg_id": "7",
             "payload": {"prompt": "", "data": [change], "extra_data": {"missed": 3}}}  # fmt: skip
    pushes = unpack_pushes(frame)
    assert [p["cmd"] for p in pushes] == ["ROOM_UPDATED", "LOBBY_CHANGED"]
    assert pushes[-1]["payload"]["data"] == [] and pushes[-1]["payload"]["extra_data"]
    assert unpack_pushes(pushes[-1]) == [pushes[-1]]  # unpacked again: itself
    empty = {**frame, "payload": {**frame["payload"], "data": []}}
    assert [p["cmd"] for p in unpack_pushes(empty)] == ["LOBBY_CHANGED"]
    frame["payload"]["extra_data"] = None
    assert [p["cmd"] for p in unpack_pushes(frame)] == ["ROOM_UPDATED"]


def test_many_watchers_are_pushed_less_often():
    watchers = watchers_module.Watchers(
        ServerConfig(lobby_push_interval=0.25, lobby_push_frames=100)
    )
    for number in range(10):
        watchers.numbers[object()] = number  # type: ignore[index]
    assert watchers.interval() == 0.25  # 10 watchers, four times a second: 40 frames/s
    for number in range(90):
        watchers.numbers[object()] = number  # type: ignore[index]
    assert watchers.interval() == 1.0  # 100 watchers: once a second


async def test_names_are_sent_in_utf_8_as_they_are(witnessed):
    """A room list of emoji names is sent as UTF-8, not as \\u escapes (six bytes a
    character where four do): what makes a page of long names fit a frame."""
    server = await witnessed()
    await open_rooms(server.url, 3, "\U0001f0cf" * 32)
    async with raw_socket(server.port) as sock:
        await sock.send(frame(TEXT, b'{"cmd": "GET_ROOMS", "msg_id": "1"}'))
        while (got := await sock.next_frame())[0] != TEXT or b"GET_ROOMS_REP" not in got[1]:
            pass
    payload = got[1]
    assert ("\U0001f0cf" * 32).encode() in payload
    assert b"\\u" not in payload and b"\\U" not in payload


# -- the outbox -----------------------------------------------------------------------------


async def test_the_outbox_is_counted_in_bytes(witnessed):
    """Many small messages queued for a client that does not read are kept (it may just
    be slow); one that takes the queue past ``outbox_bytes`` closes it (1013)."""
    server = await witnessed(outbox_bytes=256 * 1024, close_timeout=1)
    async with raw_socket(server.port, receive_buffer=4096):
        await until(lambda: len(server.lobby.connections) == 2)
        [conn] = [c for c in server.lobby.connections if c.endpoint == "/lobby"]
        small = {"cmd": "NOTE", "msg_id": "0", "payload": {"prompt": "x" * 40}}
        for _ in range(2000):  # ~130 KB: far more than a count of messages would allow
            conn.deliver(small)
        assert not conn.closed.is_set()
        assert 100_000 < conn.queued_bytes <= 256 * 1024
        conn.deliver({"cmd": "NOTE", "msg_id": "0", "payload": {"prompt": "x" * 130_000}})
        assert conn.closed.is_set() and conn.close_code == 1013
        await until(lambda: conn not in server.lobby.connections)


# -- the drain --------------------------------------------------------------------------------


async def test_the_drain_begins_nothing_and_a_running_game_is_kept(nursery, tmp_path):
    """After SIGTERM (``Server.drain``, then ``shutdown``): no new connection, room,
    seat or game; the game being played is kept and finishes after a restart."""
    port, db = free_port(), tmp_path / "games.db"
    config = ServerConfig(host="127.0.0.1", port=port)
    url = f"ws://127.0.0.1:{port}"
    started, over, go_on = trio.Event(), trio.Event(), trio.Event()
    result = {}

    async def play_witness(witness) -> None:
        again = Backoff(first=0.05, cap=0.5, attempts=100)
        async with GameClient.connect(url, witness, backoff=again) as client:
            await client.receive()  # the game has begun
            started.set()
            # it plays on once the server has stopped: a short game played meanwhile
            # would be over before the drain (the test failed so, now and then)
            await go_on.wait()
            result["over"] = await play_on(client)
        over.set()

    store = SqliteStore(db)
    async with trio.open_nursery() as first:
        server = await first.start(serve, config, store)
        [witness] = await fill_room(url, 2, computers=1, name="witness")
        [waiting] = await open_rooms(url, 1)
        nursery.start_soon(play_witness, witness)
        await started.wait()
        async with LobbyClient.connect(url) as lobby:
            await server.drain()
            for refused in (
                lobby.create_room("late", 2, "eve"),
                lobby.join_room(waiting, "eve"),
                lobby.creating("eve"),
            ):
                with pytest.raises(ServerError) as raised:
                    await refused
                assert raised.value.code == "shutting_down"
            with pytest.raises(OSError):  # nobody listens any more
                await trio.open_tcp_stream("127.0.0.1", port)
            assert set(server.lobby.rooms) == {witness.room_id, waiting}
            await server.shutdown()
    store.close()
    assert not over.is_set()
    go_on.set()
    # the room was kept: a server on the same file restores it and the game finishes
    again = SqliteStore(db)
    async with trio.open_nursery() as second:
        restarted = await second.start(serve, config, again)
        assert {r.room_id for r in restarted.restored} == {witness.room_id, waiting}
        with trio.fail_after(120):
            await over.wait()
        second.cancel_scope.cancel()
    again.close()
    assert result["over"]["payload"]["data"]["result"]


async def test_sigterm_to_cardgame_serve_begins_nothing_and_keeps_the_game(tmp_path):
    """The drain as a host meets it: SIGTERM to ``cardgame serve`` while a game is being
    played. The game's players are told 1001, nothing is listening any more, the process
    exits 0, and the game is kept: a server started again on the file finishes it."""
    db, port = tmp_path / "games.db", free_port()
    url = f"ws://127.0.0.1:{port}"
    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            process, lines = await start_serve(nursery, db, port)
            [witness] = await fill_room(url, 2, computers=1, name="witness")
            async with GameClient.connect(url, witness, backoff=Backoff(attempts=0)) as client:
                await client.receive()  # the game has begun
                process.send_signal(signal.SIGTERM)
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await client.ws.get_message()
                assert closed.value.reason.code == 1001
            assert await process.wait() == 0
            with pytest.raises(OSError):
                await trio.open_tcp_stream("127.0.0.1", port)
            assert any("SIGTERM: closing connections (1001)" in line for line in lines)
        async with trio.open_nursery() as nursery:
            again, _ = await start_serve(nursery, db, port)
            async with GameClient.connect(url, witness) as client:  # restored, it goes on
                over = await play_on(client)
            assert over["payload"]["data"]["result"]
            again.terminate()
            await again.wait()


# -- every limit is an option -------------------------------------------------------------------


ISSUE_LIMITS = {
    "max_connections", "max_connections_per_address", "handshake_timeout",
    "lobby_idle_timeout", "fragment_timeout", "max_frame", "hard_frame_limit", "rate",
    "burst", "outbox_bytes", "close_timeout", "max_rooms", "max_rooms_per_address",
    "room_rate", "room_burst", "lobby_push_interval",
}  # fmt: skip


def test_every_limit_is_a_serve_option_with_its_default_in_help(monkeypatch):
    assert not ISSUE_LIMITS - {name for name, _ in LIMITS}
    shown = " ".join(CliRunner().invoke(main, ["serve", "--help"]).output.split())
    defaults = ServerConfig()
    for name in ISSUE_LIMITS:
        option = "--" + name.replace("_", "-")
        assert option in shown
        after = shown[shown.index(option + " ") :]
        assert f"[default: {getattr(defaults, name)}]" in after[: after.index("--", 2)]
    # and each reaches the server: every limit doubled on the command line
    started = {}
    monkeypatch.setattr("cardgame.cli.serve.trio.run", lambda _, config, *a: started.update(
        config=config))  # fmt: skip
    doubled = {f.name: getattr(defaults, f.name) * 2 for f in fields(ServerConfig)
               if f.name in ISSUE_LIMITS}  # fmt: skip
    args = [a for name, value in doubled.items() for a in ("--" + name.replace("_", "-"),
            str(value))]  # fmt: skip
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--db", ":memory:", *args])
    assert result.exit_code == 0, result.output
    assert {name: getattr(started["config"], name) for name in doubled} == doubled
