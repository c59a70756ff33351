"""The game machine's table, exhaustively: every state × every event.

A legal call lands in one of the destinations the table gives for its outcomes; an
illegal one raises ``not_now`` and leaves the whole game — snapshot and state — unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from test_same_games import mixed_game

from cardgame.fsm import game as game_module
from cardgame.fsm import leaving, machine
from cardgame.fsm.cards import cards
from cardgame.fsm.game import (
    AWAITING_CARDS,
    AWAITING_OPTION,
    CHOOSING_FIRST,
    FINISHED,
    GAME_STATES,
    GAME_TRANSITIONS,
    IN_PLAY,
    LEGAL_CALLS,
    OUTCOMES,
    PAUSED,
    TURN,
    VOTING,
    WAITING,
    Game,
    ProtocolError,
)
from cardgame.fsm.scenario import scenario
from cardgame.fsm.snapshot import to_snapshot

HANDS = {"ada": "red-? red-- blue-cup green-cup", "bob": "green-cross blue-1", "cy": "yellow-cup"}


def in_waiting() -> Game:
    game = Game(3, seed=1)
    game.join("ada")
    return game


def in_choosing_first() -> Game:
    game = Game(3, seed=1)
    for name in HANDS:
        game.join(name)
    return game


def in_turn() -> Game:
    return scenario(HANDS, top="red-cross")


def in_awaiting_option() -> Game:
    game = in_turn()
    game.play(0, cards("red-?"))
    return game


def in_awaiting_cards() -> Game:
    game = in_turn()
    game.play(0, cards("red--"))
    return game


def in_paused() -> Game:
    game = in_turn()
    game.request_leave(1)
    return game


def in_voting() -> Game:
    game = in_paused()
    game.leave(1)
    return game


def in_finished() -> Game:
    game = scenario({"ada": "red-cup", "bob": "green-cross"}, top="red-cross")
    game.play(0, cards("red-cup"))
    return game


MAKERS: dict[str, Callable[[], Game]] = {
    WAITING: in_waiting,
    CHOOSING_FIRST: in_choosing_first,
    TURN: in_turn,
    AWAITING_OPTION: in_awaiting_option,
    AWAITING_CARDS: in_awaiting_cards,
    PAUSED: in_paused,
    VOTING: in_voting,
    FINISHED: in_finished,
}

# Each public event, the game's call it is (OUTCOMES), and a call that is right whenever legal.
EVENTS: dict[str, tuple[str, Callable[[Game], object]]] = {
    "join": ("player_joined", lambda g: g.join("eve")),
    "choose_first": ("first_player_chosen", lambda g: g.choose_first(0, 1)),
    "play": ("cards_played", lambda g: g.play(0, cards("blue-cup"))),
    "draw": ("card_drawn", lambda g: g.draw(0)),
    "name_request": ("request_named", lambda g: g.name_request(0, "green")),
    "drop": ("cards_dropped", lambda g: g.drop(0, cards("blue-cup"))),
    "request_leave": ("leave_requested", lambda g: g.request_leave(0)),
    "leave": ("player_left", lambda g: g.leave(1)),
    "vote": ("vote_cast", lambda g: g.vote(0, "yes")),
    "time_ran_out": ("time_ran_out", lambda g: g.expire()),
}


# The clock's event changes nothing itself: the game makes the absent player's move.
CLOCK_MAKES = {CHOOSING_FIRST: "first_player_chosen", TURN: "card_drawn",
               AWAITING_OPTION: "request_named", AWAITING_CARDS: "cards_dropped",
               PAUSED: "player_left", VOTING: "vote_cast"}  # fmt: skip


def destinations(call: str, state: str) -> set[str]:
    """Where the table's rows for the call's outcomes lead from ``state`` (None: it stays)."""
    if call == "time_ran_out":
        return destinations(CLOCK_MAKES[state], state)
    return {
        state if dest is None else dest
        for event, source, dest in GAME_TRANSITIONS
        if event in OUTCOMES[call]
        and (state == source or (isinstance(source, list) and state in source))
    }


def test_every_state_has_a_maker_and_every_event_a_call():
    assert set(MAKERS) == set(GAME_STATES)
    assert {t for t, _ in EVENTS.values()} == set(OUTCOMES)
    events = [event for event, _, _ in GAME_TRANSITIONS]
    assert set().union(*OUTCOMES.values()) == set(events)
    assert sum(len(o) for o in OUTCOMES.values()) == len(set(events))  # each outcome one call


@pytest.mark.parametrize("state", GAME_STATES)
@pytest.mark.parametrize("event", list(EVENTS))
def test_state_by_event(state, event):
    game = MAKERS[state]()
    assert game.state == state
    trigger, call = EVENTS[event]
    before = to_snapshot(game)
    if trigger in LEGAL_CALLS[state]:
        call(game)
        assert game.state in destinations(trigger, state)
    else:
        with pytest.raises(ProtocolError) as refused:
            call(game)
        assert refused.value.code == "not_now"
        assert state.replace("_", " ") in refused.value.sentence
        assert to_snapshot(game) == before


def test_every_row_of_the_table_is_taken(monkeypatch):
    """No row is dead: each (event, state) of the table is taken by some game, through
    ``take`` (time_ran_out's rows change nothing, so the clock's move takes another)."""
    taken = set()

    def recording(model, event):
        taken.add((event, model.state))
        machine.take(model, event)

    monkeypatch.setattr(game_module, "take", recording)
    monkeypatch.setattr(leaving, "take", recording)
    for seed in range(40):
        mixed_game(seed, 2 + seed % 5)
    for state in [*IN_PLAY, PAUSED, VOTING]:
        MAKERS[state]().request_leave(0)
    two_leaving = in_turn()
    two_leaving.request_leave(1)
    two_leaving.request_leave(2)
    two_leaving.leave(1)  # another leaver still to confirm
    for paused_in in (in_awaiting_option, in_awaiting_cards):
        asking = paused_in()
        asking.request_leave(2)
        asking.leave(2)
        asking.vote(0, "yes")
        asking.vote(1, "yes")  # back to the question the leave interrupted
        assert asking.state in (AWAITING_OPTION, AWAITING_CARDS)
    rows = {(event, state) for (event, state) in machine.ROWS if event != "time_ran_out"}
    assert rows - taken == set()
    assert taken <= rows


# -- Scenario B in the game ----------------------------------------------------------


def test_leave_pauses_discards_questions_and_sends_each_their_own_state():
    game = in_turn()
    out = game.request_leave(1)
    assert game.state == PAUSED and game.questions == {}
    assert sorted(s for s, _ in out) == [0, 1, 2]
    for seat, message in out:
        assert message["payload"]["data"]["event"] == "paused"
        assert message["payload"]["data"]["hand"] == [c.text for c in game.seats[seat].hand]


def test_leave_rep_to_the_leaver_and_create_a_computer_to_the_others():
    game = in_paused()
    out = game.leave(1)
    assert game.state == VOTING
    by_seat = {s: m for s, m in out}
    assert by_seat[1]["cmd"] == "LEAVE_REP"
    for voter in (0, 2):
        assert by_seat[voter]["cmd"] == "CREATE_A_COMPUTER"
        assert by_seat[voter]["payload"]["next_cmd"] == "PICK_OPTION"
        assert by_seat[voter]["payload"]["extra_data"] == ["yes", "no"]


def test_all_yes_a_computer_takes_the_seat_and_the_game_resumes_where_it_was():
    game = in_voting()
    game.vote(0, "yes")
    assert game.state == VOTING
    out = game.vote(2, "yes")
    assert game.state == TURN and game.seats[1].computer
    assert game.questions[0].kind == "turn"  # the discarded turn question, asked anew
    assert any(s == 0 and m["payload"]["flag"] == "USER_INPUT_CONTINUE" for s, m in out)


def test_resume_in_the_middle_of_a_question_asks_it_again():
    game = in_awaiting_cards()
    game.request_leave(2)
    game.leave(2)
    game.vote(0, "yes")
    game.vote(1, "yes")
    assert game.state == AWAITING_CARDS and game.questions[0].kind == "drop"
    game.drop(0, cards("blue-cup"))
    assert game.state == TURN and game.table.current == 1


def test_one_no_ends_the_game_with_a_result():
    game = in_voting()
    out = game.vote(2, "no")
    assert game.state == FINISHED and game.result["reason"] == "vote_failed"
    assert all(m["payload"]["data"]["event"] == "game_over" for _, m in out)


def test_a_second_leave_during_the_vote_follows_the_same_steps():
    game = in_voting()
    game.vote(0, "yes")
    game.request_leave(2)
    assert game.state == PAUSED and game.votes == {}
    out = game.leave(2)
    assert game.state == VOTING
    assert [s for s, m in out if m["cmd"] == "CREATE_A_COMPUTER"] == [0]
    game.vote(0, "yes")
    assert game.state == TURN and game.seats[1].computer and game.seats[2].computer


def test_no_human_left_ends_the_game():
    game = scenario(
        {"ada": "red-cup blue-cup", "bob": "green-cross"}, top="red-cross", computers=("bob",)
    )
    game.request_leave(0)
    game.leave(0)
    assert game.state == FINISHED and game.result["reason"] == "no_humans"


def test_only_a_leaver_may_send_leave_and_computers_cannot_leave():
    game = scenario(
        {"ada": "red-cup blue-cup", "bob": "green-cross"}, top="red-cross", computers=("bob",)
    )
    with pytest.raises(ProtocolError, match="not a human"):
        game.request_leave(1)
    game2 = in_paused()
    with pytest.raises(ProtocolError) as refused:
        game2.leave(0)
    assert refused.value.code == "not_leaving"
