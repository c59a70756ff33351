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

import psycopg
import trio
from test_restart import RECONNECT, free_port, start_serve

from cardgame.net.client import GameClient, LobbyClient

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
