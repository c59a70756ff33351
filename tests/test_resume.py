"""Nothing lost: dropped connections resume, a dropped player's seat is held a while.

A client that drops and comes back — with the client library's own reconnection —
ends up with exactly the messages of a client that never dropped: the server's
outbox for that seat, ids 1..n, nothing missing, nothing twice.
"""

from __future__ import annotations

import random

import trio
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cardgame.fsm.bots import make_bot
from cardgame.net.client import Backoff, GameClient, bot_view, question_of
from cardgame.net.sqlite_store import SqliteStore

from tables import event_of, fill_room, play_on, running_server

FAST = Backoff(first=0.01, cap=0.1, attempts=10)


def ids_of(client: GameClient) -> list[int]:
    return [int(m["msg_id"]) for m in client.received]


def without_joins(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m["cmd"] != "JOIN_GAME_REP"]


async def outbox(server, room_id: str, seat: int) -> list[dict]:
    return await server.lobby.store.messages_after(room_id, seat, 0)


@settings(max_examples=12, deadline=None)
@given(
    drops=st.lists(
        st.tuples(st.integers(1, 40), st.sampled_from(["after_receive", "before_answer"])),
        min_size=1,
        max_size=4,
        unique_by=lambda d: d[0],
    )
)
@example(drops=[(4, "after_receive"), (5, "after_receive"), (7, "after_receive")])
async def test_drops_at_any_point_lose_and_repeat_nothing(drops):
    """Drop after the k-th message, or between deciding an answer and sending it.

    An ``after_receive`` drop waits until the server has handled every frame sent on
    the connection, so the answer and the drop never race: the server always gets
    ahead, which is what a busy machine does at its worst. (It used to cost duplicates:
    three quick drops replayed an earlier connection's JOIN_GAME_REP, whose stale
    ``pending_question`` had the client send again an answer already applied.)
    """
    plan = dict(drops)
    with trio.fail_after(30):
        async with running_server() as server:
            [ticket] = await fill_room(server.url, 3, computers=2)
            client = await drop_and_play(server, ticket, plan, len(drops))
            never_dropped = await outbox(server, ticket.room_id, 0)
    assert event_of(client.received[-1]) == "game_over"
    # The same game messages as a client that never dropped; only the extra
    # JOIN_GAME_REPs of the reconnections differ (one may follow the game's end).
    assert without_joins(client.received) == without_joins(never_dropped)
    assert client.received == never_dropped[: len(client.received)]
    assert ids_of(client) == list(range(1, len(client.received) + 1))
    assert client.duplicates == 0
    assert client.reconnects >= len(drops) - len(plan)


def handled_frames(server, room_id: str) -> dict[str, trio.Event]:
    """An event per client msg_id, set once the room has handled that GAME_MESSAGE."""
    room = server.lobby.rooms[room_id]
    handled: dict[str, trio.Event] = {}
    original = room._on_game_message

    async def on_game_message(conn, message) -> None:
        try:
            await original(conn, message)
        finally:
            handled.setdefault(message["msg_id"], trio.Event()).set()

    room._on_game_message = on_game_message
    return handled


async def drop_and_play(server, ticket, plan: dict, seed: int) -> GameClient:
    handled = handled_frames(server, ticket.room_id)
    async with GameClient.connect(server.url, ticket, backoff=FAST) as client:
        original_receive, original_answer = client.receive, client.answer
        sent: list[str] = []  # answers sent on the connection now open

        async def receive() -> dict:
            reconnects = client.reconnects
            message = await original_receive()
            if client.reconnects != reconnects:
                sent.clear()  # a new connection: what went on the old one is its business
            if plan.get(len(client.received)) == "after_receive" and not client.over:
                del plan[len(client.received)]
                for msg_id in sent:  # the server gets ahead of the drop
                    await handled.setdefault(msg_id, trio.Event()).wait()
                await client.ws.aclose()  # the next read finds the connection gone
            return message

        async def answer(data, last_card=False) -> str:
            if plan.get(len(client.received)) == "before_answer":
                del plan[len(client.received)]
                await client.ws.aclose()  # the answer's send finds it gone
                return await original_answer(data, last_card)
            msg_id = await original_answer(data, last_card)
            sent.append(msg_id)
            return msg_id

        client.receive, client.answer = receive, answer  # type: ignore[method-assign]
        await play_on(client, seed=seed)
    return client


async def until(client: GameClient, predicate) -> dict:
    while not predicate(message := await client.receive()):
        pass
    return message


async def test_dropped_player_back_within_the_grace_period(start_server, clock):
    # the creator's first-player question runs out just after they are back
    server = await start_server(grace_period=60, turn_seconds=60, idle_turns=0)
    a, b = await fill_room(server.url, 3, computers=1)
    results: dict = {}

    async def other(ticket, task_status=trio.TASK_STATUS_IGNORED):
        async with GameClient.connect(server.url, ticket) as client:
            task_status.started(client)
            results["b"] = (await play_on(client, seed=2), client)

    async with trio.open_nursery() as nursery:
        await nursery.start(other, b)
        async with GameClient.connect(server.url, a) as first:
            await until(first, lambda m: event_of(m) == "game_begin")
        await trio.sleep(59)  # virtual time: a comes back inside the 60 s grace period
        async with GameClient.connect(server.url, a, last_msg_id=first.last_msg_id) as back:
            results["a"] = (await play_on(back, seed=1), back)
    (final_a, _), (final_b, client_b) = results["a"], results["b"]
    assert final_a["payload"]["data"]["result"] == final_b["payload"]["data"]["result"]
    assert final_a["payload"]["data"]["result"]["reason"] == "won"
    notices = [m["payload"]["data"] for m in client_b.received if event_of(m) in ("away", "back")]
    assert [(n["event"], n["name"]) for n in notices] == [("away", "p0"), ("back", "p0")]
    assert notices[0]["seconds"] == 60
    assert not any(m["cmd"] == "CREATE_A_COMPUTER" for m in client_b.received)
    room = server.lobby.rooms[a.room_id]
    assert not room.game.seats[0].computer


async def test_grace_period_expiry_counts_as_a_leave(start_server, clock):
    # no clock runs out first: the computer that takes the seat chooses the first player
    server = await start_server(grace_period=60, turn_seconds=1000)
    a, b = await fill_room(server.url, 3, computers=1)
    async with GameClient.connect(server.url, b) as client:
        async with GameClient.connect(server.url, a) as first:
            await until(first, lambda m: event_of(m) == "game_begin")
        start = trio.current_time()
        vote = await until(client, lambda m: m["cmd"] == "CREATE_A_COMPUTER")
        assert trio.current_time() - start >= 60  # not before the grace period is over
        final = await play_on(client, seed=3)  # votes yes on the question it already holds
    assert final["payload"]["data"]["result"]["reason"] == "won"
    assert "p0 left" in vote["payload"]["prompt"]
    assert server.lobby.rooms[a.room_id].game.seats[0].computer
    # Too late: the seat is a computer's now. What it missed is sent, then a refusal.
    async with GameClient.connect(server.url, a, last_msg_id=first.last_msg_id) as late:
        while (message := await late.receive())["cmd"] != "ERROR":
            pass
    assert message["payload"]["data"]["code"] == "not_playing" and late.over
    assert [m["cmd"] for m in late.received][-1] == "LEAVE_REP"
    assert int(late.received[0]["msg_id"]) == first.last_msg_id + 1


async def test_a_leave_request_and_a_leave_lost_with_their_connection_are_sent_again(server):
    a, b, c = await fill_room(server.url, 3)
    results: dict = {}
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:

            async def stay(ticket) -> None:
                async with GameClient.connect(server.url, ticket) as client:
                    results[ticket.user_id] = await play_on(client, seed=1)

            nursery.start_soon(stay, a)
            nursery.start_soon(stay, c)
            async with GameClient.connect(server.url, b, backoff=FAST) as leaver:
                await until(leaver, lambda m: event_of(m) == "game_begin")
                await leaver.ws.aclose()
                await leaver.request_leave()  # lost with the connection
                await until(leaver, lambda m: event_of(m) == "paused")
                await leaver.ws.aclose()
                await leaver.leave()  # lost too
                await until(leaver, lambda m: m["cmd"] == "LEAVE_REP")
    assert leaver.reconnects == 2 and leaver.over
    for final in results.values():
        assert final["payload"]["data"]["result"]["reason"] == "won"


async def test_a_second_client_for_a_seat_has_its_own_msg_ids(server):
    """Resuming by hand with a new client: its answers are never taken for repeats."""
    [ticket] = await fill_room(server.url, 2, computers=1)
    with trio.fail_after(30):
        async with GameClient.connect(server.url, ticket) as first:
            await until(first, lambda m: first.question is m)
            await play_on_until_answered(first, answers=3)
        async with GameClient.connect(server.url, ticket, last_msg_id=first.last_msg_id) as again:
            final = await play_on(again, seed=2)
    assert final["payload"]["data"]["result"]["reason"] == "won"
    assert again.duplicates == 0


async def play_on_until_answered(client: GameClient, answers: int) -> None:
    bot = make_bot("greedy", random.Random(0))
    for _ in range(answers):
        while client.question is None:
            await client.receive()
        decision = bot.decide(question_of(client.question), bot_view(client.view))
        await client.answer(decision.data, decision.last_card)


async def test_a_finished_game_replays_what_it_owes_after_a_restart(tmp_path):
    """The server stopped during the game's linger: the next one owes what it sent."""
    store = SqliteStore(tmp_path / "games.db")  # what the server keeps after a room closes
    with trio.fail_after(30):
        async with running_server(store, finished_linger=3600) as server:
            [ticket] = await fill_room(server.url, 2, computers=1)
            async with GameClient.connect(server.url, ticket) as client:
                await play_on(client, seed=4)
        async with running_server(store, finished_linger=3600) as again:
            assert ticket.room_id not in again.lobby.rooms  # finished: not restored
            async with GameClient.connect(again.url, ticket, last_msg_id=3) as late:
                while (message := await late.receive())["cmd"] != "ERROR":
                    pass
    assert message["payload"]["data"]["code"] == "game_finished" and late.over
    assert late.received == client.received[3:]
    store.close()
