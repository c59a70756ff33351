"""Several server processes on one PostgreSQL database are one service.

Two or three servers, each with its own ``PgStore`` (its own process id, connections
and LISTEN), share a throwaway database: the lobby of any lists every one's rooms
and creations and pushes reach every one's watchers (Scenario A across processes);
players who came in through different processes play one game, sent by ``moved`` to
the process that runs it. ``test_pg_failover.py`` kills real processes.
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack

import psycopg
import pytest
import trio
from test_cli_play import Player, console, output
from test_restart import RECONNECT
from test_web_http import fetch, get
from trio_websocket import ConnectionClosed

from cardgame.cli import terminal
from cardgame.cli.lines import ScriptedLines
from cardgame.cli.terminal import TerminalClient
from cardgame.net.client import GameClient, LobbyClient, ServerError, Ticket, play_with_bot
from cardgame.net.config import ServerConfig
from cardgame.net.server import Server, serve
from cardgame.net.store import open_store

from tables import event_of, free_port, play_on


async def start_processes(nursery: trio.Nursery, stack: AsyncExitStack, url: str, n: int):
    servers: list[Server] = []
    for _ in range(n):
        store = open_store(url)
        stack.callback(store.close)
        config = ServerConfig(host="127.0.0.1", port=0)
        servers.append(await nursery.start(serve, config, store))
    return servers


async def next_push(lobby: LobbyClient, cmd: str) -> dict:
    while (push := await lobby.next_push())["cmd"] != cmd:
        pass
    return push


async def test_scenario_a_across_processes(pg_url):
    async with AsyncExitStack() as stack, trio.open_nursery() as nursery:
        a, b = await start_processes(nursery, stack, pg_url, 2)
        with trio.fail_after(30):
            async with LobbyClient.connect(b.url) as watcher, LobbyClient.connect(a.url) as ada:
                await watcher.get_rooms()  # connected and watching
                creation = await ada.creating("ada")
                seen = await next_push(watcher, "ROOM_BEING_CREATED")
                assert seen["payload"]["data"] == creation
                rooms, creations = await watcher.get_rooms()
                assert rooms == [] and creations == [creation]

                ticket = await ada.create_room("kitchen", 3, "ada", computers=1)
                created = await next_push(watcher, "ROOM_CREATED")
                assert created["payload"]["data"]["creation_id"] == creation["creation_id"]
                assert created["payload"]["data"]["room"]["room_id"] == ticket.room_id
                rooms, creations = await watcher.get_rooms()
                assert [r["room_id"] for r in rooms] == [ticket.room_id] and creations == []

                # Joined through b, which sends the join to a (moved), where the room is.
                joined = await watcher.join_room(ticket.room_id, "bob")
                assert joined.room_id == ticket.room_id
                updated = await next_push(watcher, "ROOM_UPDATED")
                assert updated["payload"]["data"]["players"] == ["ada", "bob", "computer-1"]
                rooms, _ = await ada.get_rooms()
                assert rooms == []  # full: listed nowhere

                # An abandoned creation disappears on every process.
                async with LobbyClient.connect(a.url) as cleo:
                    await watcher.creating("bob")
                    gone = await cleo.creating("cleo")
                    await cleo.cancel_create()
                    abandoned = await next_push(watcher, "ROOM_ABANDONED")
                    assert abandoned["payload"]["data"] == gone
                    _, creations = await cleo.get_rooms()
                    assert [c["user_name"] for c in creations] == ["bob"]
        nursery.cancel_scope.cancel()


async def test_players_who_came_in_through_three_processes_play_one_game(pg_url):
    async with AsyncExitStack() as stack, trio.open_nursery() as nursery:
        servers = await start_processes(nursery, stack, pg_url, 3)
        with trio.fail_after(60):
            async with LobbyClient.connect(servers[0].url) as lobby:
                tickets = [await lobby.create_room("hall", 3, "p0")]
            for seat in (1, 2):
                async with LobbyClient.connect(servers[seat].url) as lobby:
                    tickets.append(await lobby.join_room(tickets[0].room_id, f"p{seat}"))
            results = {}

            async def player(seat: int) -> None:
                # Each seat's game connection starts at the process it came in through.
                async with GameClient.connect(servers[seat].url, tickets[seat]) as client:
                    results[seat] = (await play_on(client, seed=seat), client)

            async with trio.open_nursery() as players:
                for seat in range(3):
                    players.start_soon(player, seat)
        finals = {seat: event_of(result) for seat, (result, _) in results.items()}
        assert finals == {0: "game_over", 1: "game_over", 2: "game_over"}
        for seat, (_, client) in results.items():
            ids = [int(m["msg_id"]) for m in client.received]
            assert ids == list(range(1, len(ids) + 1)) and client.duplicates == 0
            assert client.moved == (0 if seat == 0 else 1)
        assert tickets[0].room_id in servers[0].lobby.rooms
        assert all(tickets[0].room_id not in s.lobby.rooms for s in servers[1:])
        nursery.cancel_scope.cancel()


def socket_from_page(page: str, socket: str) -> str:
    """In Chromium: open ``page``, then a WebSocket from it to ``socket``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            tab = browser.new_page()
            tab.goto(page)
            return tab.evaluate(
                """url => new Promise(done => {
                    try {
                        const ws = new WebSocket(url);
                        ws.onopen = () => { ws.close(); done("open"); };
                        ws.onerror = () => done("refused");
                    } catch (err) { done("refused"); }
                })""",
                socket,
            )
        finally:
            browser.close()


async def test_a_page_from_one_process_may_connect_to_the_others_at_their_public_url(pg_url):
    """The web page comes from the process a player first reached; the room may run in
    another, at another host name (``--public-url``), where ``moved`` sends the page:
    the page's policy lets it connect there (Chromium enforces it), and to nowhere else."""
    async with AsyncExitStack() as stack, trio.open_nursery() as nursery:
        port = free_port()
        there = f"ws://localhost:{port}"  # another name for this machine than the page's
        store = open_store(pg_url)
        stack.callback(store.close)
        config = ServerConfig(host="127.0.0.1", port=port, public_url=there)
        await nursery.start(serve, config, store)
        [here] = await start_processes(nursery, stack, pg_url, 1)
        _, headers, _ = await fetch(here.port, get("/"))
        policy = headers["content-security-policy"]
        assert there in policy.split("connect-src ", 1)[1].split(";", 1)[0].split()
        page = f"http://127.0.0.1:{here.port}/"
        opened = await trio.to_thread.run_sync(socket_from_page, page, f"{there}/lobby")
        assert opened == "open"
        # a server listening there too, but no process of the service: the policy bars it
        stranger = await nursery.start(serve, ServerConfig(host="127.0.0.1", port=0))
        elsewhere = f"ws://localhost:{stranger.port}/lobby"
        refused = await trio.to_thread.run_sync(socket_from_page, page, elsewhere)
        assert refused == "refused"
        nursery.cancel_scope.cancel()


async def test_an_unknown_room_is_unknown_on_every_process(pg_url):
    async with AsyncExitStack() as stack, trio.open_nursery() as nursery:
        _, b = await start_processes(nursery, stack, pg_url, 2)
        async with LobbyClient.connect(b.url) as lobby:
            try:
                await lobby.join_room("nope", "ada")
            except ServerError as refusal:
                assert refusal.code == "unknown_room"
            else:
                raise AssertionError("joined a room that does not exist")
        nursery.cancel_scope.cancel()


async def test_the_terminal_client_waits_on_one_process_for_a_room_created_on_another(
    pg_url, monkeypatch
):
    """Scenario A in ``cardgame play``: ada's terminal is on b, bob creates on a; she
    waits, is pushed the room, joins it (moved to a) and plays it to the end there: her
    game connection, opened on b, follows ``moved`` to a."""
    games: list[GameClient] = []

    class Recorded(GameClient):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            games.append(self)

    monkeypatch.setattr(terminal, "GameClient", Recorded)
    async with AsyncExitStack() as stack, trio.open_nursery() as nursery:
        a, b = await start_processes(nursery, stack, pg_url, 2)
        player = Player({"menu": ["1"], "scenario_a": ["1"], "name": ["ada"]})
        client = TerminalClient(b.url, ScriptedLines(player), console())
        creating = trio.Event()

        async def bob() -> None:
            async with LobbyClient.connect(a.url) as lobby, LobbyClient.connect(b.url) as look:
                await look.get_rooms()  # watching b
                await lobby.creating("bob")
                # b lists the creation once it has been pushed there (a writes it first).
                await next_push(look, "ROOM_BEING_CREATED")
                creating.set()
                await player.seen("wait_room").wait()  # ada is waiting: now create it
                ticket = await lobby.create_room("bobs table", 2, "bob")
            async with GameClient.connect(a.url, ticket) as game:
                await play_with_bot(game, "greedy", 3)

        with trio.fail_after(30):
            async with trio.open_nursery() as players:
                players.start_soon(bob)
                await creating.wait()
                await client.run()
        text = output(client)
        assert "bob is creating a room" in text
        assert "bob created bobs table: joining it." in text
        [final] = client.results
        assert [p["name"] for p in final["payload"]["data"]["players"]] == ["bob", "ada"]
        assert final["payload"]["data"]["result"]["reason"] == "won"
        [game] = games
        assert game.home == [b.url] and game.url == a.url + "/game" and game.moved == 1
        nursery.cancel_scope.cancel()


async def test_the_database_dropping_every_connection_mid_game_loses_nothing(pg_url):
    """Every connection of both processes is ended by the database mid-game (as a
    restart or a failover of PostgreSQL does): each process connects again, the game
    completes with nothing lost or twice, and lobby pushes cross processes again."""
    async with AsyncExitStack() as stack, trio.open_nursery() as nursery:
        a, b = await start_processes(nursery, stack, pg_url, 2)
        received = 0
        halfway = trio.Event()
        results = {}
        with trio.fail_after(60):
            async with LobbyClient.connect(a.url) as lobby:
                tickets = [await lobby.create_room("hall", 3, "p0", computers=1)]
            async with LobbyClient.connect(b.url) as lobby:
                tickets.append(await lobby.join_room(tickets[0].room_id, "p1"))

            async def player(seat: int) -> None:
                nonlocal received
                async with GameClient.connect(a.url, tickets[seat]) as client:
                    original = client.receive

                    async def counting() -> dict:
                        nonlocal received
                        message = await original()
                        received += 1
                        if received >= 15:
                            halfway.set()
                        return message

                    client.receive = counting  # type: ignore[method-assign]
                    results[seat] = (await play_on(client, seed=seat), client)

            with psycopg.connect(pg_url, autocommit=True) as db:
                async with trio.open_nursery() as players:
                    for seat in range(2):
                        players.start_soon(player, seat)
                    await halfway.wait()
                    ended = db.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    ).fetchone()
                    assert ended[0] >= 2 * 2  # each process's own, and its listener
                for seat, (final, client) in results.items():
                    assert event_of(final) == "game_over"
                    ids = [int(m["msg_id"]) for m in client.received]
                    assert ids == list(range(1, len(ids) + 1)) and client.duplicates == 0
                    stored = db.execute(
                        "SELECT body FROM messages WHERE room_id = %s AND seat = %s "
                        "ORDER BY msg_id",
                        (tickets[0].room_id, seat),
                    ).fetchall()
                    assert [json.loads(body) for (body,) in stored] == client.received
                # Both listeners are back (each a backend whose last statement was LISTEN)
                while db.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%%' "
                    "AND datname = current_database()"
                ).fetchone() != (2,):
                    await trio.sleep(0.05)
            async with LobbyClient.connect(b.url) as watcher, LobbyClient.connect(a.url) as ada:
                await watcher.get_rooms()
                creation = await ada.creating("ada")
                assert (await next_push(watcher, "ROOM_BEING_CREATED"))["payload"][
                    "data"
                ] == creation
        nursery.cancel_scope.cancel()


async def test_while_the_database_is_away_commands_are_refused_and_a_game_waits(pg_cluster, pg_url):
    """The database refuses every connection for a while (as while it restarts): the
    lobby answers ``storage_unavailable`` and stays open, a ``JOIN_GAME`` that needs the
    database is refused and closed with 1013 (try again later), a game holds its move;
    once the database is back all goes on, with nothing lost."""
    name = psycopg.conninfo.conninfo_to_dict(pg_url)["dbname"]
    async with AsyncExitStack() as stack, trio.open_nursery() as nursery:
        [a] = await start_processes(nursery, stack, pg_url, 1)
        with trio.fail_after(60), psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
            async with LobbyClient.connect(a.url) as lobby:
                ticket = await lobby.create_room("hall", 2, "p0", computers=1)
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
                with pytest.raises(ServerError) as refused:
                    await lobby.get_rooms()
                assert refused.value.code == "storage_unavailable"

                elsewhere = Ticket("0badc0de", ticket.user_id, ticket.token)
                async with GameClient.connect(a.url, elsewhere) as lost:
                    refusal = await lost.receive()
                    assert refusal["payload"]["data"]["code"] == "storage_unavailable"
                    with pytest.raises(ConnectionClosed) as closed:
                        await lost.receive()
                    assert closed.value.reason.code == 1013

                async with GameClient.connect(a.url, ticket, backoff=RECONNECT) as client:
                    while not any(
                        e["payload"]["data"]["code"] == "storage_unavailable" for e in client.errors
                    ):
                        await client.receive()  # the game's first write is held
                    admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
                    final = await play_on(client)
                assert event_of(final) == "game_over"
                ids = [int(m["msg_id"]) for m in client.received]
                assert ids == list(range(1, len(ids) + 1)) and client.duplicates == 0
                await lobby.get_rooms()  # the same lobby connection, answered again
        nursery.cancel_scope.cancel()
