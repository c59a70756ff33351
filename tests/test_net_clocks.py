"""The clock on every question, over the network, in virtual time (MockClock).

A real server on a loopback port, real clients; nobody sleeps on the wall clock: the
clock fixture jumps virtual time whenever everything waits, so a 20 s question runs out
at once, and the tests read how long it took from ``trio.current_time()``.
"""

from __future__ import annotations

import pytest
import trio

from cardgame.fsm.cards import parse_card
from cardgame.fsm.game import CHOOSING_FIRST, TURN
from cardgame.fsm.simulate import is_conserved
from cardgame.net.client import GameClient

from tables import event_of, fill_room, play_on

SECONDS = 20
LIMIT = 120  # virtual seconds any test here may take before it is a failure


async def until(client: GameClient, predicate) -> dict:
    while not predicate(message := await client.receive()):
        pass
    return message


def asked(kind: str):
    return lambda m: (m["payload"].get("flag") == "USER_INPUT_CONTINUE"
                      and m["payload"]["data"].get("question") == kind)  # fmt: skip


def prompt_has(text: str):
    return lambda m: text in m["payload"]["prompt"]


def plant(game, seat: int, texts: list[str]) -> None:
    """Give ``seat`` these cards before the first turn, swapped with cards of its own
    hand for others from the market, so the 120 cards stay 120."""
    table = game.table
    hand = table.seats[seat].hand
    for text in texts:
        card = parse_card(text)
        if card in hand:
            continue
        where = next(pile for pile in [table.market] + [s.hand for s in table.seats]
                     if card in pile and pile is not hand)  # fmt: skip
        given = next(c for c in hand if not c.special and c.text not in texts)
        where[where.index(card)] = given
        hand[hand.index(given)] = card
    assert is_conserved(game)


async def test_a_turn_run_out_draws_for_the_player_and_everyone_is_told(start_server, clock):
    server = await start_server(turn_seconds=SECONDS, idle_turns=0)
    a, b = await fill_room(server.url, 2)
    with trio.fail_after(LIMIT):
        async with (
            GameClient.connect(server.url, a) as ada,
            GameClient.connect(server.url, b) as bob,
        ):
            await until(ada, asked("first_player"))
            begun = await until(bob, lambda m: event_of(m) == "game_begin")
            assert "p0 chooses who plays first" in begun["payload"]["prompt"]
            assert begun["payload"]["data"]["clock"]["waiting_for"] == "first_player"
            await ada.answer(0)
            turn = await until(ada, asked("turn"))
            data = turn["payload"]["data"]
            assert data["seconds"] == SECONDS and data["seconds_left"] == SECONDS
            held = len(data["hand"])
            started = trio.current_time()
            told = await until(bob, prompt_has("p0 ran out of time; a card was drawn for them."))
            assert trio.current_time() - started == pytest.approx(SECONDS, abs=0.5)
            assert told["payload"]["data"]["players"][0]["cards"] == held + 1
            assert told["payload"]["data"]["clock"]["waiting_for"] == "turn"
            assert told["payload"]["data"]["clock"]["seats"] == [1]
            mine = await until(ada, prompt_has("p0 ran out of time"))
            assert len(mine["payload"]["data"]["hand"]) == held + 1


async def test_a_late_answer_is_too_late_changes_nothing_and_a_witness_room_finishes(
    start_server, clock
):
    server = await start_server(turn_seconds=SECONDS, idle_turns=0)
    [a] = await fill_room(server.url, 2, computers=1)  # the witness: its own room
    c, d = await fill_room(server.url, 2, name="late")
    witness: dict = {}
    with trio.fail_after(LIMIT):
        async with trio.open_nursery() as nursery:

            async def play_witness() -> None:
                async with GameClient.connect(server.url, a) as w:
                    witness["final"] = await play_on(w, seed=4)

            nursery.start_soon(play_witness)
            async with (
                GameClient.connect(server.url, c) as cy,
                GameClient.connect(server.url, d) as dan,
            ):
                await until(cy, asked("first_player"))
                await cy.answer(0)
                turn = await until(cy, asked("turn"))
                await until(dan, prompt_has("p0 ran out of time"))
                await until(cy, prompt_has("p0 ran out of time"))
                room = server.lobby.rooms[c.room_id]
                cards_before = [len(s.hand) for s in room.game.seats]
                card = turn["payload"]["data"]["hand"][0]
                cy.question = turn  # answer the question whose time ran out
                await cy.answer([card])
                refusal = await until(cy, lambda m: m["cmd"] == "ERROR")
                assert refusal["payload"]["data"]["code"] == "too_late"
                assert "time ran out" in refusal["payload"]["prompt"]
                assert [len(s.hand) for s in room.game.seats] == cards_before
                assert room.game.state == TURN and room.game.table.current == 1
    assert witness["final"]["payload"]["data"]["result"]["reason"] == "won"


async def test_the_first_player_run_out_is_random_and_the_others_are_told(start_server, clock):
    server = await start_server(turn_seconds=SECONDS, idle_turns=0)
    a, b = await fill_room(server.url, 2)
    with trio.fail_after(LIMIT):
        async with (
            GameClient.connect(server.url, a) as ada,
            GameClient.connect(server.url, b) as bob,
        ):
            await until(ada, asked("first_player"))
            started = trio.current_time()
            told = await until(bob, prompt_has("p0 did not choose in time"))
            assert trio.current_time() - started == pytest.approx(SECONDS, abs=0.5)
            assert "chosen at random" in told["payload"]["prompt"]
            assert server.lobby.rooms[a.room_id].game.state == TURN


async def test_a_request_run_out_is_the_computer_players_choice(start_server, clock):
    server = await start_server(turn_seconds=SECONDS, idle_turns=0)
    a, b = await fill_room(server.url, 2)
    with trio.fail_after(LIMIT):
        async with (
            GameClient.connect(server.url, a) as ada,
            GameClient.connect(server.url, b) as bob,
        ):
            await until(ada, asked("first_player"))
            game = server.lobby.rooms[a.room_id].game
            assert game.state == CHOOSING_FIRST and game.table.penalty == 0
            ask = f"{game.table.top_card.colour}-?"
            plant(game, 0, [ask])
            await ada.answer(0)
            await until(ada, asked("turn"))
            await ada.answer([ask])
            await until(ada, asked("request"))
            started = trio.current_time()
            told = await until(bob, prompt_has("p0 ran out of time; the computer asked for"))
            assert trio.current_time() - started == pytest.approx(SECONDS, abs=0.5)
            assert game.table.request is not None
            assert told["payload"]["data"]["request"] == game.table.request
            assert game.table.current == 1


async def test_a_drop_run_out_is_the_computer_players_choice(start_server, clock):
    server = await start_server(turn_seconds=SECONDS, idle_turns=0)
    a, b = await fill_room(server.url, 2)
    with trio.fail_after(LIMIT):
        async with (
            GameClient.connect(server.url, a) as ada,
            GameClient.connect(server.url, b) as bob,
        ):
            await until(ada, asked("first_player"))
            game = server.lobby.rooms[a.room_id].game
            drop = f"{game.table.top_card.colour}--"
            plant(game, 0, [drop])
            await ada.answer(0)
            await until(ada, asked("turn"))
            await ada.answer([drop])
            question = await until(ada, asked("drop"))
            assert question["payload"]["data"]["seconds"] == SECONDS
            held = len(question["payload"]["data"]["hand"])
            started = trio.current_time()
            told = await until(bob, prompt_has("p0 ran out of time; the computer dropped"))
            assert trio.current_time() - started == pytest.approx(SECONDS, abs=0.5)
            assert told["payload"]["data"]["players"][0]["cards"] == held - 1
            assert is_conserved(game)


async def test_a_vote_has_its_own_clock_and_a_vote_not_cast_counts_yes(start_server, clock):
    server = await start_server(turn_seconds=SECONDS, idle_turns=0)
    a, b, c = await fill_room(server.url, 3)
    with trio.fail_after(LIMIT):
        async with (
            GameClient.connect(server.url, a) as ada,
            GameClient.connect(server.url, b) as bob,
            GameClient.connect(server.url, c) as cy,
        ):
            await until(ada, asked("first_player"))
            await ada.answer(0)
            await until(bob, lambda m: event_of(m) == "turn")
            await bob.request_leave()
            await until(bob, lambda m: event_of(m) == "paused")
            await bob.leave()
            vote = await until(ada, lambda m: m["cmd"] == "CREATE_A_COMPUTER")
            assert vote["payload"]["data"]["seconds"] == SECONDS
            assert vote["payload"]["data"]["clock"]["seats"] == [0, 2]
            started = trio.current_time()
            await trio.sleep(5)
            await ada.answer("yes")  # one vote in: the vote's clock goes on, not anew
            resumed = await until(cy, lambda m: event_of(m) == "resumed")
            assert trio.current_time() - started == pytest.approx(SECONDS, abs=0.5)
            assert "a vote not cast counts as yes" in resumed["payload"]["prompt"]
            assert server.lobby.rooms[a.room_id].game.seats[1].computer


async def test_a_leave_request_without_leave_is_a_leave_when_its_clock_runs_out(
    start_server, clock
):
    server = await start_server(turn_seconds=SECONDS, idle_turns=0)
    a, b, c = await fill_room(server.url, 3)
    with trio.fail_after(LIMIT):
        async with (
            GameClient.connect(server.url, a) as ada,
            GameClient.connect(server.url, b) as bob,
            GameClient.connect(server.url, c),
        ):
            await until(ada, asked("first_player"))
            await ada.answer(0)
            await until(bob, lambda m: event_of(m) == "turn")
            await bob.request_leave()
            paused = await until(bob, lambda m: event_of(m) == "paused")
            assert paused["payload"]["data"]["clock"]["waiting_for"] == "leave"
            started = trio.current_time()
            # bob never sends LEAVE
            vote = await until(ada, lambda m: m["cmd"] == "CREATE_A_COMPUTER")
            assert trio.current_time() - started == pytest.approx(SECONDS, abs=0.5)
            assert "p1 left" in vote["payload"]["prompt"]
            gone = await until(bob, lambda m: m["cmd"] == "LEAVE_REP")
            assert "did not come in time" in gone["payload"]["prompt"]
            assert bob.over
            room = server.lobby.rooms[a.room_id]
            assert room.players[1].connection is None


async def test_a_resuming_player_is_told_the_seconds_left(start_server, clock):
    server = await start_server(turn_seconds=SECONDS, idle_turns=0, grace_period=100)
    a, b = await fill_room(server.url, 2)
    with trio.fail_after(LIMIT):
        async with GameClient.connect(server.url, b) as bob:
            async with GameClient.connect(server.url, a) as ada:
                await until(ada, asked("first_player"))
                await ada.answer(0)
                await until(ada, asked("turn"))
                started = trio.current_time()
            await trio.sleep(7)
            async with GameClient.connect(server.url, a, last_msg_id=ada.last_msg_id) as back:
                joined = await until(back, lambda m: m["cmd"] == "JOIN_GAME_REP")
                data = joined["payload"]["data"]
                assert data["seconds"] == SECONDS
                elapsed = trio.current_time() - started
                assert data["seconds_left"] == pytest.approx(SECONDS - elapsed, abs=0.2)
                assert data["clock"]["seats"] == [0]
            await until(bob, prompt_has("p0 ran out of time"))


async def test_a_room_chooses_its_own_seconds_within_bounds(start_server, clock):
    from cardgame.net.client import LobbyClient, ServerError

    server = await start_server(turn_seconds=SECONDS, idle_turns=0)
    with trio.fail_after(LIMIT):
        async with LobbyClient.connect(server.url) as lobby:
            with pytest.raises(ServerError) as refused:
                await lobby.create_room("quick", 2, "ada", computers=1, turn_seconds=3)
            assert refused.value.code == "bad_message"
            ticket = await lobby.create_room("slow", 2, "ada", computers=1, turn_seconds=90)
        assert server.lobby.rooms[ticket.room_id].turn_seconds == 90
        async with GameClient.connect(server.url, ticket) as ada:
            question = await until(ada, asked("first_player"))
            assert question["payload"]["data"]["seconds"] == 90
            started = trio.current_time()
            await until(ada, prompt_has("did not choose in time"))
            assert trio.current_time() - started == pytest.approx(90, abs=0.5)


async def test_idle_turns_in_a_row_are_a_leave_and_the_others_vote(start_server, clock):
    server = await start_server(turn_seconds=SECONDS, idle_turns=2)
    a, b, c = await fill_room(server.url, 3)
    finals: dict = {}
    with trio.fail_after(LIMIT * 10):
        async with GameClient.connect(server.url, a) as ada, trio.open_nursery() as nursery:

            async def play(ticket, seed: int) -> None:
                async with GameClient.connect(server.url, ticket) as client:
                    finals[seed] = (await play_on(client, seed=seed), client)

            nursery.start_soon(play, b, 1)
            nursery.start_soon(play, c, 2)
            # ada never answers: the first player at random, then her turns run out
            paused = await until(ada, lambda m: event_of(m) == "paused")
            said = "p0 let the clock run out 2 turns in a row and is treated as having left"
            assert said in paused["payload"]["prompt"]
            gone = await until(ada, lambda m: m["cmd"] == "LEAVE_REP")
            assert gone["payload"]["data"]["event"] == "left"
    room = server.lobby.rooms[a.room_id]
    assert room.game.seats[0].computer and room.players[0].connection is None
    for final, client in finals.values():
        assert final["payload"]["data"]["result"]["reason"] == "won"
        votes = [m for m in client.received if m["cmd"] == "CREATE_A_COMPUTER"]
        assert len(votes) == 1 and "p0 left" in votes[0]["payload"]["prompt"]
    ran_out = [m for m in ada.received if "p0 ran out of time" in m["payload"]["prompt"]]
    assert len(ran_out) == 2
