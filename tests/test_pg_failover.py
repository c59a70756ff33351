"""kill -9 of one of three ``cardgame serve`` processes on one PostgreSQL database,
mid-game, under load: its rooms go on in the other two.

Rooms are created through each process and joined through the other two, so every
game has players who came in through different processes. Each player's client starts
at the address it came in through (then the others, as a name resolving to all three
would give). Once its leases have run out, the dead process's rooms are claimed by
the live ones and restored from the database; the players' clients reconnect, are
sent on (``moved``), and every game completes with every player's ids exactly 1..n.
That no two processes ever ran one room shows in what each player received: exactly
what the database committed for their seat, message for message.
"""

from __future__ import annotations

import json
import signal

import psycopg
import trio
from test_restart import RECONNECT, free_port, start_serve

from cardgame.net.client import GameClient, LobbyClient, Ticket

from tables import event_of, play_on

ROOMS = 6
LEASE = "2"


async def test_kill_9_of_a_process_mid_game_its_rooms_go_on_in_the_others(pg_url):
    urls = [f"ws://127.0.0.1:{free_port()}" for _ in range(3)]
    results: dict = {}
    received = 0
    halfway = trio.Event()
    with trio.fail_after(240):
        async with trio.open_nursery() as nursery:
            processes = []
            for url in urls:
                port = url.rsplit(":", 1)[1]
                process, _ = await start_serve(nursery, pg_url, int(port), "--lease", LEASE)
                processes.append(process)
            rooms = []  # per room: [(ticket, the index of the process it came in through)]
            for number in range(ROOMS):
                creator = number % 3
                async with LobbyClient.connect(urls[creator]) as lobby:
                    seats = [(await lobby.create_room(f"t{number}", 4, "p0", computers=1),
                              creator)]  # fmt: skip
                for seat in (1, 2):
                    via = (creator + seat) % 3
                    async with LobbyClient.connect(urls[via]) as lobby:
                        ticket = await lobby.join_room(seats[0][0].room_id, f"p{seat}")
                    seats.append((ticket, via))
                rooms.append(seats)

            async def player(key: tuple[int, int], ticket, via: int) -> None:
                home = [urls[via], *(u for u in urls if u != urls[via])]
                async with GameClient.connect(home, ticket, backoff=RECONNECT,
                                              seed=hash(key)) as client:  # fmt: skip
                    original = client.receive

                    async def counting() -> dict:
                        nonlocal received
                        message = await original()
                        received += 1
                        if received >= 20 * ROOMS:
                            halfway.set()
                        return message

                    client.receive = counting  # type: ignore[method-assign]
                    results[key] = (await play_on(client, seed=key[1]), client)

            async with trio.open_nursery() as players:
                for number, seats in enumerate(rooms):
                    for seat, (ticket, via) in enumerate(seats):
                        players.start_soon(player, (number, seat), ticket, via)
                await halfway.wait()
                processes[0].kill()  # SIGKILL: no goodbye, its leases simply stop
                await processes[0].wait()
            for process in processes[1:]:
                process.terminate()
                await process.wait()

    with psycopg.connect(pg_url) as db:
        for number, seats in enumerate(rooms):
            room_id = seats[0][0].room_id
            finals = [results[number, seat][0]["payload"]["data"]["result"] for seat in range(3)]
            assert all(f == finals[0] for f in finals) and finals[0]["reason"] == "won"
            for seat in range(3):
                client = results[number, seat][1]
                ids = [int(m["msg_id"]) for m in client.received]
                assert ids == list(range(1, len(ids) + 1)), f"{number, seat}: {ids}"
                assert client.duplicates == 0
                assert event_of(client.received[-1]) == "game_over"
                stored = db.execute(
                    "SELECT body FROM messages WHERE room_id = %s AND seat = %s ORDER BY msg_id",
                    (room_id, seat),
                ).fetchall()
                assert [json.loads(body) for (body,) in stored] == client.received
    moved = [c.moved for _, c in results.values()]
    reconnected = [c.reconnects for _, c in results.values()]
    assert sum(m > 0 for m in moved) >= 2 * ROOMS  # the joiners were sent to the owner
    assert sum(r > 0 for r in reconnected) >= 3  # the dead process's players came back


async def test_a_frozen_process_that_wakes_after_its_lease_ran_out_runs_nothing(pg_url):
    """Split brain, tried: process A is frozen (SIGSTOP) mid-game with its players'
    answers on their way to it; the lease of one of its rooms runs out and B takes the
    room over. A wakes (SIGCONT) still holding the room in memory and those answers in
    its sockets: every write it tries for that room is refused, it closes the room's
    connections and its players are sent to B. Nobody is told anything twice or
    anything that was not committed; A's other room and a room on B finish meanwhile."""
    urls = [f"ws://127.0.0.1:{free_port()}" for _ in range(2)]
    a, b = 0, 1
    results: dict = {}
    received = {"moving": 0}
    halfway = trio.Event()
    with trio.fail_after(180):
        async with trio.open_nursery() as nursery:
            processes, logs = [], []
            for url in urls:
                process, lines = await start_serve(nursery, pg_url, int(url.rsplit(":", 1)[1]))
                processes.append(process)
                logs.append(lines)
            try:
                rooms = {}  # name: [(ticket, the process its player came in through)]
                for name, home in (("moving", a), ("staying", a), ("elsewhere", b)):
                    async with LobbyClient.connect(urls[home]) as lobby:
                        seats = [(await lobby.create_room(name, 3, "p0"), home)]
                    for seat in (1, 2):
                        via = (home + seat) % 2
                        async with LobbyClient.connect(urls[via]) as lobby:
                            seats.append((await lobby.join_room(seats[0][0].room_id,
                                                                f"p{seat}"), via))  # fmt: skip
                    rooms[name] = seats

                async def player(name: str, seat: int, ticket, via: int) -> None:
                    async with GameClient.connect(urls[via], ticket, backoff=RECONNECT,
                                                  seed=seat) as client:  # fmt: skip
                        if name == "moving":
                            original = client.receive

                            async def counting() -> dict:
                                message = await original()
                                received["moving"] += 1
                                if received["moving"] >= 20:
                                    halfway.set()
                                return message

                            client.receive = counting  # type: ignore[method-assign]
                        results[name, seat] = (await play_on(client, seed=seat), client)

                moving = rooms["moving"][0][0]
                with psycopg.connect(pg_url, autocommit=True) as db:
                    async with trio.open_nursery() as players:
                        for name, seats in rooms.items():
                            for seat, (ticket, via) in enumerate(seats):
                                players.start_soon(player, name, seat, ticket, via)
                        await halfway.wait()
                        processes[a].send_signal(signal.SIGSTOP)
                        # A may be frozen inside a write, holding the room's row lock:
                        # the database ends that transaction (idle: after --lease / 3),
                        # or B does (in the middle of a pipeline: once A's own lease has
                        # run out); until then this waits for the lock, in a thread.
                        owner_a = await trio.to_thread.run_sync(
                            expire_lease, pg_url, moving.room_id, abandon_on_cancel=True
                        )
                        # A JOIN_GAME on B finds the room's lease run out and B claims
                        # it before answering (here, a wrong token: refused, no seat).
                        forged = Ticket(moving.room_id, moving.user_id, "not the token")
                        async with GameClient.connect(urls[b], forged) as probe:
                            refusal = await probe.receive()
                            assert refusal["payload"]["data"]["code"] == "bad_token"
                        [(owner_b,)] = db.execute(
                            "SELECT owner FROM rooms WHERE room_id = %s", (moving.room_id,)
                        ).fetchall()
                        assert owner_b is not None and owner_b != owner_a
                        processes[a].send_signal(signal.SIGCONT)
                    stored = {
                        (name, seat): [json.loads(body) for (body,) in db.execute(
                            "SELECT body FROM messages WHERE room_id = %s AND seat = %s "
                            "ORDER BY msg_id", (seats[0][0].room_id, seat))]
                        for name, seats in rooms.items() for seat in range(3)
                    }  # fmt: skip
            finally:
                for process in processes:
                    process.kill()
                    await process.wait()

    for (name, seat), (final, client) in results.items():
        assert final["payload"]["data"]["result"]["reason"] == "won", (name, seat)
        ids = [int(m["msg_id"]) for m in client.received]
        assert ids == list(range(1, len(ids) + 1)), f"{name, seat}: {ids}"
        assert client.duplicates == 0
        assert stored[name, seat] == client.received  # what was committed, nothing else
    for name in rooms:
        finals = [results[name, seat][0]["payload"]["data"]["result"] for seat in range(3)]
        assert all(f == finals[0] for f in finals)
    room_id = moving.room_id
    assert any(room_id in line and "another process runs it now" in line for line in logs[a])
    assert any(f"room {room_id} taken over by this process" in line for line in logs[b])
    assert not any("another process runs it now" in line for line in logs[b])
    # A frozen in the middle of a write (its statements sent, not their end) wakes to
    # find that B ended that transaction: the write is said to have failed, is held and
    # tried again, and the fence refuses it. Nothing else fails anywhere.
    for where, log in enumerate(logs):
        for line in log:
            assert "Traceback" not in line, log
            if "failed" in line:
                assert where == a and "server closed the connection" in line, log
    other = rooms["elsewhere"][0][0].room_id  # B's own room never changed hands
    assert not any(other in line and "taken over" in line for log in logs for line in log)
    came_back = [results["moving", seat][1] for seat in range(3)]
    assert all(c.reconnects > 0 and c.moved > 0 for c in came_back)  # A closed; sent to B


def expire_lease(url: str, room_id: str) -> str:
    """The room's lease runs out now; the process that held it. On a connection of its
    own: were the lock never granted, the test fails instead of hanging on closing a
    connection that this thread is still using."""
    with psycopg.connect(url, autocommit=True) as db, db.transaction():
        [(owner,)] = db.execute(
            "SELECT owner FROM rooms WHERE room_id = %s FOR NO KEY UPDATE", (room_id,)
        ).fetchall()
        db.execute(
            "UPDATE rooms SET lease_until = clock_timestamp() - interval '1 second' "
            "WHERE room_id = %s",
            (room_id,),
        )
    return owner
