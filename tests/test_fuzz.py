"""A protocol fuzzer against a live server on loopback, while bot games run in other rooms.

Hypothesis generates what a hostile or broken client could send — random JSON,
mutated valid frames, wrong types, huge strings, binary frames, text frames that are
not UTF-8, floods, valid commands in the wrong state, wrong tokens — and drops and
resumes real players mid-game. After every example:

- the server is up: a fresh ``/lobby`` connection is answered ``GET_ROOMS_REP``;
- the game in another room ran to ``game_over`` meanwhile (``play_with_bot``);
- every room's cards are conserved (``fsm.simulate.is_conserved``), after every action;
- nothing was logged at ERROR (an unhandled exception in a room or a connection);
- once the clients have gone, the server's registries hold nothing of them;
- players who drop and resume receive every id exactly once, in order.

Two more tests run connections through many cycles, and games to their end, under
``tracemalloc``: memory must not grow with them. The server bugs the fuzzers found
(integral floats and huge message ids that crashed a room or the server, a memory
store that never forgot a room) are the regression tests at the end.

pytest-trio runs every Hypothesis example in a trio run of its own, so each example
starts its own server (``live_server``, as conftest's ``start_server`` does); the
other tests use ``start_server``. ``make test`` runs a few seeded examples of each;
``make fuzz`` sets ``CARDGAME_FUZZ_EXAMPLES`` (and ``CARDGAME_FUZZ_CYCLES`` for the
churn test) high and lets Hypothesis roam.
"""

from __future__ import annotations

import copy
import gc
import json
import logging
import os
import random
import sys
import tracemalloc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from functools import partial
from itertools import count
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    connect_websocket_url,
    open_websocket_url,
)

from cardgame.fsm.bots import make_bot
from cardgame.fsm.simulate import is_conserved
from cardgame.net.client import (
    GameClient,
    LobbyClient,
    Ticket,
    bot_view,
    play_with_bot,
    question_of,
)
from cardgame.net.memory_store import MemoryStore
from cardgame.net.protocol import LOBBY_COMMANDS, SERVER_SCHEMA
from cardgame.net.server import Server
from cardgame.net.sqlite_store import SqliteStore

from tables import fill_room, running_server

SERVER_VALIDATOR = jsonschema.Draft202012Validator(SERVER_SCHEMA)

#: 0 (unset): the short, seeded run of ``make test``; ``make fuzz`` sets it high.
EXAMPLES = int(os.environ.get("CARDGAME_FUZZ_EXAMPLES", "0"))
CYCLES = int(os.environ.get("CARDGAME_FUZZ_CYCLES", "25"))

MAX_FRAME = 4096
HARD_LIMIT = 16384
FUZZ_CONFIG: dict[str, Any] = {
    "max_frame": MAX_FRAME,
    "hard_frame_limit": HARD_LIMIT,
    "rate": 400,
    "burst": 100,
    "flood_close_after": 30,
    # no timer of the game fires during a test: only what the clients do moves it
    "turn_seconds": 10_000,
    "grace_period": 10_000,
}
#: Real seconds before an example is declared hung (nothing here waits on a timer). A whole
#: game of drops and resumptions takes a few seconds alone; 60 s was reached on a 2-core
#: machine shared with five other test runs (load 7), so the bound is generous.
HUNG = 180


def fuzz_settings(short_run: int) -> settings:
    return settings(
        max_examples=EXAMPLES or short_run,
        derandomize=not EXAMPLES,
        deadline=None,
        database=None if not EXAMPLES else settings.default.database,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# -- strategies -----------------------------------------------------------------------

#: Numbers at the edges: integral floats (JSON has one number type), 64-bit overflow.
NUMBERS = st.sampled_from(
    [0, -1, 1, 2**31, 2**53 + 1, 2**63, 2**64, -(2**63) - 1, 0.0, -0.0, 1.0, 3.0, 8.0, 1e300, 0.5]
) | st.integers(-10, 10).map(float)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | NUMBERS
    | st.floats()  # NaN and Infinity too: Python's json writes and reads them
    | st.text(max_size=40)
    | st.sampled_from(["\ud800", "a\udfff", "\u0000", "\u202e", "\U0001d54f", " "]),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
#: String lengths around every limit: names (32), ids (64), tokens (128), frames.
SIZES = st.sampled_from(
    [0, 32, 33, 64, 65, 128, 129, 1000, MAX_FRAME - 100, MAX_FRAME + 1, HARD_LIMIT + 1]
) | st.integers(0, HARD_LIMIT + 100)
MUTATION = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, 63), JSON),
    st.tuples(st.just("retype"), st.integers(0, 63), st.none()),
    st.tuples(st.just("delete"), st.integers(0, 63), st.none()),
    st.tuples(st.just("add"), st.integers(0, 63), st.tuples(st.text(max_size=10), JSON)),
    st.tuples(st.just("huge"), st.integers(0, 63), SIZES),
    st.tuples(st.just("replace"), st.integers(0, 63), NUMBERS),
)
LOBBY_A, LOBBY_B, GAME_A, GAME_B = range(4)  # the hostile connections of an example
CONN = st.sampled_from([LOBBY_A, LOBBY_B, GAME_A, GAME_B])
AIMED = st.sampled_from([-1, -2])  # the endpoint of the frame's command, connection A or B
INVALID_UTF8 = st.sampled_from([b"\xff", b"\xc3\x28", b'{"cmd": "\xed\xa0\x80"}', b"\xf8\x88"]) | (
    st.binary(min_size=1, max_size=64).filter(lambda b: not _is_utf8(b))
)
ACTION = st.one_of(
    st.tuples(st.just("json"), CONN, JSON),  # any JSON at all
    st.tuples(st.just("text"), CONN, st.text(max_size=200)),  # mostly not JSON
    # a real command, in whatever state the connection is; AIMED sends it to its endpoint
    st.tuples(st.just("valid"), CONN | AIMED, st.integers(0, 63)),
    st.tuples(
        st.just("mutated"),
        CONN | AIMED,
        st.tuples(st.integers(0, 63), st.lists(MUTATION, min_size=1, max_size=4)),
    ),
    st.tuples(st.just("binary"), CONN, st.binary(max_size=200) | st.just(b"x" * (HARD_LIMIT + 1))),
    st.tuples(st.just("not_utf8"), CONN, INVALID_UTF8),
    st.tuples(st.just("flood"), CONN, st.integers(1, 160)),
    st.tuples(st.just("reconnect"), CONN, st.booleans()),  # graceful close, or TCP dropped
)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def cmd(name: str, data: Any = None, msg_id: str = "f1") -> dict[str, Any]:
    return {"cmd": name, "msg_id": msg_id, "payload": {"data": data}}


def catalogue(hostile: Ticket, witness: Ticket) -> list[dict[str, Any]]:
    """One valid frame of every client command, aimed at the fuzzer's own room.

    The witness's seat appears only with a wrong token: its real token is never sent,
    so no frame here can take the seat of a player who is playing.
    """
    seat = {"room_id": hostile.room_id, "user_id": hostile.user_id, "token": hostile.token}
    answer = {"action": "answer", "reply_to": "3", "data": ["red-cross"], "last_card": False}
    return [
        cmd("GET_ROOMS", {}),
        cmd("CREATING_A_ROOM", {"user_name": "fuzzer"}),
        cmd("CANCEL_CREATE"),
        cmd(
            "CREATE_A_ROOM",
            {"room_name": "fz", "num_of_players": 3, "user_name": "fz", "computers": 1},
        ),
        cmd("JOIN_ROOM", {"room_id": hostile.room_id, "user_name": "intruder"}),
        cmd("GET_ROOMATES"),
        cmd("JOIN_GAME", {**seat, "last_msg_id": 0}),
        cmd(
            "JOIN_GAME",
            {
                "room_id": witness.room_id,
                "user_id": witness.user_id,
                "token": "not-the-token",
                "last_msg_id": 0,
            },
        ),
        {"cmd": "GAME_MESSAGE", "msg_id": "f2", "payload": answer},
        {
            "cmd": "GAME_MESSAGE",
            "msg_id": "f3",
            "payload": {"action": "answer", "reply_to": "1", "data": 0},
        },
        {"cmd": "GAME_MESSAGE", "msg_id": "f4", "payload": {"action": "leave"}},
        cmd("LEAVE"),
    ]


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _retyped(value: Any) -> Any:
    """The same content as another JSON type: what a sloppy client sends."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return float(value) if value % 2 else str(value)  # 3 -> 3.0: JSON's one number type
    if isinstance(value, float):
        return str(value)
    if isinstance(value, str):
        return int(value) if value.isdigit() else [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return 0


def _at(root: Any, path: tuple) -> Any:
    for step in path:
        root = root[step]
    return root


def mutate(frame: dict[str, Any], mutations: list[tuple[str, int, Any]]) -> Any:
    root: Any = copy.deepcopy(frame)
    for kind, pick, value in mutations:
        paths = _paths(root)
        if kind in ("replace", "retype", "huge"):  # mostly aimed at the values themselves
            leaves = [p for p in paths if not isinstance(_at(root, p), dict | list)]
            paths = leaves + paths[:1] if leaves else paths
        path = paths[pick % len(paths)]
        parent = root
        for step in path[:-1]:
            parent = parent[step]
        current = parent[path[-1]] if path else root
        if kind == "add":
            key, item = value
            if isinstance(current, dict):
                current[key] = item
            elif isinstance(current, list):
                current.append(item)
            continue
        if kind == "delete":
            if path:
                del parent[path[-1]]
            continue
        if kind == "replace":
            new = value
        elif kind == "retype":
            new = _retyped(current)
        else:  # huge
            new = "x" * value
        if path:
            parent[path[-1]] = new
        else:
            root = new
    return root


def text_frame_of_raw_bytes(payload: bytes) -> bytes:
    """A masked client text frame carrying bytes that need not be UTF-8 (RFC 6455 §5.2)."""
    mask = b"\x1f\x2e\x3d\x4c"
    size = len(payload)
    if size < 126:
        header = bytes([0x81, 0x80 | size])
    elif size < 2**16:
        header = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


# -- the server and its witnesses -----------------------------------------------------


def make_store(kind: str) -> Any:
    return MemoryStore() if kind == "memory" else SqliteStore(":memory:")


@asynccontextmanager
async def live_server(store_kind: str, **overrides: Any) -> AsyncIterator[Server]:
    """A server of this example's own (see ``tables.running_server``), fuzz settings."""
    store = make_store(store_kind)
    try:
        async with running_server(store, **{**FUZZ_CONFIG, **overrides}) as server:
            yield server
    finally:
        store.close()


def assert_no_error_logged(caplog) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, "\n".join(
        f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in errors[:3]
    )


WITNESSES = 2  # people in the witness room


async def witness_game(url: str, nursery: trio.Nursery, finished: list) -> list[Ticket]:
    """A room of two people and a computer that plays to the end while the example
    misbehaves next door; each person's game-over message is appended to ``finished``."""
    tickets = await fill_room(url, 3, computers=1, name="witness")

    async def play(ticket: Ticket, seed: int) -> None:
        async with GameClient.connect(url, ticket) as client:
            finished.append(await play_with_bot(client, seed=seed))

    for seed, ticket in enumerate(tickets):
        nursery.start_soon(play, ticket, seed)
    return tickets


async def settle(predicate: Callable[[], bool], what: str) -> None:
    """Let the server run until ``predicate`` holds (no sleeping on the clock)."""
    try:
        with trio.fail_after(HUNG):
            while not predicate():
                await trio.testing.wait_all_tasks_blocked(cushion=0.001)
    except trio.TooSlowError:
        raise AssertionError(f"the server never reached: {what}") from None


def assert_conserved(server) -> None:
    for room in list(server.lobby.rooms.values()):
        assert is_conserved(room.game), f"room {room.room_id} lost or made cards"


async def assert_server_answers(server) -> None:
    async with LobbyClient.connect(server.url) as lobby:
        reply = await lobby.request("GET_ROOMS")
    assert reply["cmd"] == "GET_ROOMS_REP"


def assert_registries_empty(server) -> None:
    lobby = server.lobby
    assert not lobby.connections and not lobby.watchers and not lobby.creations
    for room in lobby.rooms.values():
        assert all(p.connection is None for p in room.players), room.room_id


# -- hostile connections ----------------------------------------------------------------


class Hostile:
    """A connection that misbehaves; when the server closes it, the next action reopens it.

    A reader drains it all the while: every message must follow the server schema.
    """

    def __init__(self, url: str, nursery: trio.Nursery) -> None:
        self.url = url
        self.nursery = nursery
        self.ws: WebSocketConnection | None = None
        self.close_codes: list[int | None] = []

    async def open(self) -> WebSocketConnection:
        if self.ws is None or self.ws.closed is not None:
            self.ws = await connect_websocket_url(self.nursery, self.url)
            self.nursery.start_soon(self._drain, self.ws)
        return self.ws

    async def _drain(self, ws: WebSocketConnection) -> None:
        try:
            while True:
                message = json.loads(await ws.get_message())
                errors = list(SERVER_VALIDATOR.iter_errors(message))
                assert not errors, f"{json.dumps(message)[:300]}: {errors[0].message}"
        except ConnectionClosed as closed:
            self.close_codes.append(closed.reason.code)

    async def send(self, frame: str | bytes) -> None:
        ws = await self.open()
        with suppress(ConnectionClosed):
            await ws.send_message(frame)

    async def send_raw(self, data: bytes) -> None:
        """Bytes straight onto the TCP stream (trio-websocket will not send bad UTF-8)."""
        ws = await self.open()
        try:
            async with ws._stream_lock:
                await ws._stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    async def drop(self, graceful: bool) -> None:
        if self.ws is not None:
            if graceful:
                await self.ws.aclose()
            else:  # the TCP connection goes without a close frame
                await self.ws._stream.aclose()
            self.ws = None

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.aclose()


async def run_action(action: tuple, conns: list[Hostile], frames: list[dict[str, Any]]) -> None:
    kind, which, arg = action
    if which < 0:  # aimed: a lobby command goes to a /lobby connection, a game one to /game
        index = arg if kind == "valid" else arg[0]
        lobby = frames[index % len(frames)]["cmd"] in LOBBY_COMMANDS
        which = (LOBBY_A if lobby else GAME_A) + (which == -2)
    conn = conns[which]
    if kind == "json":
        await conn.send(json.dumps(arg))
    elif kind == "text":
        await conn.send(arg)
    elif kind == "valid":
        await conn.send(json.dumps(frames[arg % len(frames)]))
    elif kind == "mutated":
        index, mutations = arg
        frame = mutate(frames[index % len(frames)], mutations)
        await conn.send(json.dumps(frame))
    elif kind == "binary":
        await conn.send(arg)
    elif kind == "not_utf8":
        await conn.send_raw(text_frame_of_raw_bytes(arg))
    elif kind == "flood":
        frame = json.dumps(cmd("GET_ROOMS", {}))
        for _ in range(arg):
            await conn.send(frame)
    elif kind == "reconnect":
        await conn.drop(graceful=arg)


# -- the fuzzers ------------------------------------------------------------------------


STORES = pytest.mark.parametrize("store_kind", ["memory", "sqlite"])


@STORES
@fuzz_settings(short_run=5)
@given(actions=st.lists(ACTION, min_size=1, max_size=16))
async def test_hostile_frames_change_nothing_and_disturb_no_other_room(store_kind, caplog, actions):
    caplog.clear()
    async with live_server(store_kind) as server:
        finished: list = []
        async with trio.open_nursery() as nursery:
            witnesses = await witness_game(server.url, nursery, finished)
            async with LobbyClient.connect(server.url) as lobby:
                hostile = await lobby.create_room("fuzz", 3, "fuzzer")
            frames = catalogue(hostile, witnesses[0])
            paths = ["/lobby", "/lobby", "/game", "/game"]
            conns = [Hostile(server.url + path, nursery) for path in paths]
            for action in actions:
                await run_action(action, conns, frames)
                assert_conserved(server)
            for conn in conns:
                await conn.close()
            await settle(lambda: len(finished) == WITNESSES, "the witness game ends")
        await assert_server_answers(server)
        assert [m["payload"]["data"]["event"] for m in finished] == ["game_over"] * WITNESSES
        assert_conserved(server)
        await settle(lambda: not server.lobby.connections, "every connection is gone")
        assert_registries_empty(server)
    assert_no_error_logged(caplog)


DROP_KINDS = ["graceful", "abrupt", "answered_graceful", "answered_abrupt", "replay", "junk"]
#: Frames a player may send on its own connection mid-game; each must be refused.
JUNK = [
    b"\x00binary",  # binary_frame
    "{not json",  # bad_json
    json.dumps(cmd("LEAVE")),  # not_leaving: nobody asked to leave
    json.dumps(cmd("JOIN_GAME", {"room_id": "r", "user_id": "u", "token": "t"})),  # not_now
    json.dumps(cmd("GET_ROOMS", {})),  # wrong_endpoint
    # an answer to a question that is not pending (no_question / stale_answer, numbered)
    json.dumps(
        {
            "cmd": "GAME_MESSAGE",
            "msg_id": "{id}",
            "payload": {"action": "answer", "reply_to": "999999", "data": []},
        }
    ),
]


def is_view(data: Any) -> bool:
    return isinstance(data, dict) and {"hand", "players", "top_card"} <= data.keys()


async def flaky_player(
    url: str, ticket: Ticket, plan: dict[int, str], seed: int, server, log: list
) -> dict[str, Any]:
    """A bot on its own minimal client that drops its connection as planned and resumes.

    A drop happens before an answer (the question is still pending: the player
    answers it on the new connection, once ``JOIN_GAME_REP`` says the seat is back;
    ``replay`` resumes from just before the question instead, to be asked it again)
    or just after one (the server reads the answer before the close, so the
    acknowledgement comes in the replay). ``junk`` sends a frame the server must
    refuse instead of dropping. Every numbered id each connection receives is
    logged, exactly as sent.
    """
    bot = make_bot("greedy", random.Random(seed))
    ids = count(1)  # the client's msg ids: fresh across connections, as the protocol asks
    question: dict[str, Any] | None = None
    resume_from = 0

    async def send(ws: WebSocketConnection, command: str, payload: dict[str, Any]) -> None:
        frame = {"cmd": command, "msg_id": f"c{next(ids)}", "payload": payload}
        await ws.send_message(json.dumps(frame))

    async def answer(ws: WebSocketConnection, asked: dict[str, Any]) -> None:
        decision = bot.decide(question_of(asked), bot_view(asked["payload"]["data"]))
        await send(
            ws,
            "GAME_MESSAGE",
            {
                "action": "answer",
                "reply_to": asked["msg_id"],
                "data": decision.data,
                "last_card": decision.last_card,
            },
        )

    while True:
        # Room for every message the server may send before a drop: trio-websocket's
        # default queue holds one, and a reader blocked on a full queue never reads the
        # server's answering close frame, so a graceful close waited its 60 s
        # disconnect_timeout (since the server writes frames in the room's task, several
        # arrive before the client closes: the test stalled about one run in four).
        async with open_websocket_url(url + "/game", message_queue_size=10_000) as ws:
            stream: list[int] = []
            log.append((ticket.user_id, resume_from, stream))
            hello = {
                "room_id": ticket.room_id,
                "user_id": ticket.user_id,
                "token": ticket.token,
                "last_msg_id": resume_from,
            }
            await send(ws, "JOIN_GAME", {"data": hello})
            joined, refusals_due, how = False, 0, None
            while how is None:
                if joined and question is not None:
                    await answer(ws, question)
                    question = None
                message = json.loads(await ws.get_message())
                errors = list(SERVER_VALIDATOR.iter_errors(message))
                assert not errors, f"{json.dumps(message)[:300]}: {errors[0].message}"
                if message["msg_id"] == "0" and message["cmd"] == "GET_ROOMATES_REP":
                    continue  # a roommates tick while the room fills: outside the stream
                if message["msg_id"] == "0":  # a refusal outside the stream: only for junk
                    assert message["cmd"] == "ERROR" and refusals_due > 0, message
                    refusals_due -= 1
                    continue
                number = int(message["msg_id"])
                stream.append(number)
                data = message["payload"]["data"]
                if is_view(data):
                    asks = message["payload"]["flag"] == "USER_INPUT_CONTINUE"
                    question = message if asks else None
                    if data["event"] == "game_over":
                        return message
                joined = joined or message["cmd"] == "JOIN_GAME_REP"
                how = plan.pop(number, None)
                if how == "junk":
                    junk = JUNK[number % len(JUNK)]
                    refusals_due += "{id}" not in str(junk)
                    if isinstance(junk, str):
                        junk = junk.replace("{id}", f"j{next(ids)}")
                    await ws.send_message(junk)
                    how = None
                elif how and how.startswith("answered") and joined and question is not None:
                    await answer(ws, question)
                    question = None
            assert_conserved(server)
            if how.endswith("abrupt"):
                await ws._stream.aclose()  # TCP gone without a close frame
            resume_from = stream[-1]
            if how == "replay" and question is not None:
                resume_from = int(question["msg_id"]) - 1
                question = None  # it comes again


PLANS = st.dictionaries(st.integers(1, 120), st.sampled_from(DROP_KINDS), max_size=8)


@STORES
@fuzz_settings(short_run=4)
@given(plans=st.tuples(PLANS, PLANS), seed=st.integers(0, 2**16))
async def test_players_who_drop_and_resume_lose_nothing(store_kind, caplog, plans, seed):
    caplog.clear()
    async with live_server(store_kind) as server:
        finished: list = []
        log: list = []
        results: dict[str, dict[str, Any]] = {}
        async with trio.open_nursery() as nursery:
            await witness_game(server.url, nursery, finished)
            tickets = await fill_room(server.url, 3, computers=1, name="flaky")

            async def play(index: int) -> None:
                ticket = tickets[index]
                results[ticket.user_id] = await flaky_player(
                    server.url, ticket, dict(plans[index]), seed + index, server, log
                )

            with trio.fail_after(HUNG):
                async with trio.open_nursery() as players:
                    for index in range(len(tickets)):
                        players.start_soon(play, index)
            await settle(lambda: len(finished) == WITNESSES, "the witness game ends")
        room = server.lobby.rooms[tickets[0].room_id]
        assert room.game.state == "finished" and is_conserved(room.game)
        winners = {m["payload"]["data"]["result"]["winner"] for m in results.values()}
        assert len(winners) == 1
        for ticket in tickets:
            # every connection got exactly the ids after the one it presented, none twice
            streams = [(start, ids) for user, start, ids in log if user == ticket.user_id]
            for start, ids in streams:
                expected = list(range(start + 1, start + 1 + len(ids)))
                wrong = next(
                    (
                        i
                        for i, pair in enumerate(zip(ids, expected, strict=True))
                        if pair[0] != pair[1]
                    ),
                    None,
                )
                assert wrong is None, f"resumed after {start}: {ids[max(0, wrong - 3) : wrong + 3]}"
            # and together they are everything the server recorded for the seat, up to
            # game over (a drop just before it may leave a JOIN_GAME_REP unread after it)
            seat = next(p.seat for p in room.players if p.user_id == ticket.user_id)
            stored = await server.lobby.store.messages_after(room.room_id, seat, 0)
            over = int(results[ticket.user_id]["msg_id"])
            assert stored[over - 1] == results[ticket.user_id]
            assert {n for _, ids in streams for n in ids} == set(range(1, over + 1))
            assert all(m["cmd"] == "JOIN_GAME_REP" for m in stored[over:])
        await assert_server_answers(server)
        await settle(lambda: not server.lobby.connections, "every connection is gone")
        assert_registries_empty(server)
    assert_no_error_logged(caplog)


# -- memory ---------------------------------------------------------------------------

CONFTEST = Path(__file__).with_name("conftest.py")


class _KeepNothing(list):
    def append(self, item: Any) -> None:
        pass


@pytest.fixture
def clients_keep_nothing(monkeypatch) -> None:
    """conftest keeps every message a test client receives (``SEEN``): not the server's."""
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) == str(CONFTEST):
            monkeypatch.setattr(module, "SEEN", _KeepNothing())


async def churn_once(server, hostile: Ticket, number: int, nursery: trio.Nursery) -> None:
    """Connections that come, misbehave a little, and go: nothing of them may stay."""
    async with LobbyClient.connect(server.url) as lobby:
        await lobby.creating(f"c{number}")  # a creation the disconnect abandons
        await lobby.get_rooms()
    async with LobbyClient.connect(server.url) as lobby:
        with pytest.raises(ConnectionClosed):  # not UTF-8: the server closes (1007)
            await lobby.ws._stream.send_all(text_frame_of_raw_bytes(b"\xff\xfe"))
            await lobby.get_rooms()
    wrong = Ticket(hostile.room_id, hostile.user_id, "wrong")
    async with GameClient.connect(server.url, wrong) as game:
        assert (await game.receive())["payload"]["data"]["code"] == "bad_token"
        await game.ws.send_message(b"\x00")
        assert (await game.receive())["payload"]["data"]["code"] == "binary_frame"
    ws = await connect_websocket_url(nursery, server.url + "/game")
    await ws._stream.aclose()  # TCP gone without a close frame


def traced_after_settling() -> int:
    # trio forgets a deadline lazily (when it would have expired, or in a batch past a
    # thousand): the stale ones the test's own clients leave (60 s connect and close
    # timeouts) are not the server's, and would count as growth until the batch comes.
    trio._core._run.GLOBAL_RUN_CONTEXT.runner.deadlines._prune()
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


@pytest.mark.usefixtures("clients_keep_nothing")
async def test_connection_churn_leaves_nothing_behind(start_server, caplog):
    server = await start_server(**FUZZ_CONFIG)
    async with LobbyClient.connect(server.url) as lobby:
        hostile = await lobby.create_room("churn", 3, "fuzzer")
    warm_up = max(10, CYCLES // 3)
    tracemalloc.start()  # from the start: a late start counts caches that fill as growth
    try:
        async with trio.open_nursery() as nursery:
            for number in range(warm_up):
                await churn_once(server, hostile, number, nursery)
            await settle(lambda: not server.lobby.connections, "every connection is gone")
            before = traced_after_settling()
            for number in range(warm_up, warm_up + CYCLES):
                await churn_once(server, hostile, number, nursery)
            await settle(lambda: not server.lobby.connections, "every connection is gone")
            after = traced_after_settling()
    finally:
        tracemalloc.stop()
    assert_registries_empty(server)
    # What a connection leaves behind if it leaks is tens of KB a cycle; the allowance is
    # for caches and dicts that resize (about 10 KB whatever the number of cycles).
    grown = after - before
    assert grown < 16 * 1024 + 256 * CYCLES, f"{grown} bytes in {CYCLES} cycles"
    assert_no_error_logged(caplog)


def closed(server, room_id: str) -> bool:
    return room_id not in server.lobby.rooms


async def play_one_game(server, number: int) -> str:
    [ticket] = await fill_room(server.url, 2, computers=1, name=f"g{number}")
    async with GameClient.connect(server.url, ticket) as client:
        await play_with_bot(client, seed=number)
    return ticket.room_id


@pytest.mark.parametrize(
    "store_kind",
    [
        "memory",
        "sqlite",
    ],
)
@pytest.mark.usefixtures("clients_keep_nothing")
async def test_a_closed_room_leaves_nothing_in_memory(start_server, store_kind):
    store = make_store(store_kind)
    server = await start_server(store, **{**FUZZ_CONFIG, "finished_linger": 0})
    games = 3
    tracemalloc.start()
    try:
        for number in range(games + 1):
            room = await play_one_game(server, number)
            await settle(partial(closed, server, room), "the finished room closes")
            if number == 0:  # the first game warms every cache up
                before = traced_after_settling()
        after = traced_after_settling()
    finally:
        tracemalloc.stop()
        store.close()
    # a finished game's messages take 50-100 KB; its room must be forgotten entirely
    assert (after - before) / games < 20 * 1024, f"{(after - before) / games:.0f} bytes a game"


# -- server bugs the fuzzers found, now fixed: regression tests ---------------------------------


async def refused_or_answered(ws: WebSocketConnection) -> dict[str, Any]:
    """The server's first reply; a closed connection fails the test with its close code."""
    try:
        with trio.fail_after(HUNG):
            return json.loads(await ws.get_message())
    except ConnectionClosed as closed:
        raise AssertionError(f"the server closed the connection: {closed.reason}") from None


@pytest.mark.parametrize(
    "data",
    [
        {"room_name": "f", "num_of_players": 3.0, "user_name": "b"},
        {"room_name": "f", "num_of_players": 2, "user_name": "b", "computers": 1.0},
    ],
)
async def test_a_room_size_written_as_a_float_is_refused_not_fatal(start_server, caplog, data):
    server = await start_server()
    async with open_websocket_url(server.url + "/lobby") as ws:
        await ws.send_message(json.dumps(cmd("CREATE_A_ROOM", data)))
        reply = await refused_or_answered(ws)
    assert reply["cmd"] in ("ERROR", "CREATE_A_ROOM_REP")
    await assert_server_answers(server)
    assert_no_error_logged(caplog)


@pytest.mark.parametrize(("store_kind", "last_msg_id"), [("memory", 0.0), ("sqlite", 2**63)])
async def test_a_strange_last_msg_id_does_not_crash_the_room(
    start_server, caplog, store_kind, last_msg_id
):
    store = make_store(store_kind)
    server = await start_server(store, **FUZZ_CONFIG)
    [ticket] = await fill_room(server.url, 2, computers=1, name="r")
    hello = {
        "room_id": ticket.room_id,
        "user_id": ticket.user_id,
        "token": ticket.token,
        "last_msg_id": last_msg_id,
    }
    async with open_websocket_url(server.url + "/game") as ws:
        await ws.send_message(json.dumps(cmd("JOIN_GAME", hello)))
        reply = await refused_or_answered(ws)
    assert reply["cmd"] in ("ERROR", "JOIN_GAME_REP", "GAME_MESSAGE_REP")
    assert ticket.room_id in server.lobby.rooms
    assert_no_error_logged(caplog)
    store.close()


# Found while building the resuming player above (a new connection's session began in
# 'waiting' and refused the answer with not_now); Session.rejoin fixes it.
async def test_a_resumed_player_can_answer_the_question_it_had_seen(start_server):
    server = await start_server(**FUZZ_CONFIG)
    [ticket] = await fill_room(server.url, 2, computers=1, name="r")
    async with GameClient.connect(server.url, ticket) as client:
        while client.question is None:  # who plays first? (seat 0 is asked)
            await client.receive()
        question = client.question
    async with GameClient.connect(server.url, ticket, last_msg_id=client.last_msg_id) as again:
        while (await again.receive())["cmd"] != "JOIN_GAME_REP":
            pass
        again._ids = count(100)  # fresh client msg ids, as the protocol asks
        again.question = question
        await again.answer(0)
        with trio.fail_after(HUNG):
            reply = await again.receive()
    assert reply["msg_id"] != "0", reply["payload"]  # refused outside the stream: not_now
    assert reply["cmd"] == "GAME_MESSAGE_REP"
