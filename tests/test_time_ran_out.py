"""The clock's event in the pure game: what each question's expiry does, and what a
late answer gets. No clock here: the room decides when; the game decides what."""

from __future__ import annotations

import pytest

from cardgame.fsm.cards import cards
from cardgame.fsm.game import (
    AWAITING_CARDS,
    AWAITING_OPTION,
    CHOOSING_FIRST,
    FINISHED,
    LEAVE_IDLE,
    PAUSED,
    Q_DROP,
    Q_REQUEST,
    Q_TURN,
    Q_VOTE,
    TURN,
    VOTING,
    W_LEAVE,
    Game,
    ProtocolError,
)
from cardgame.fsm.scenario import market_top, scenario
from cardgame.fsm.simulate import is_conserved
from cardgame.fsm.snapshot import from_snapshot, to_snapshot

HANDS = {"ada": "red-? red-- blue-cup green-cup", "bob": "green-cross blue-1", "cy": "yellow-cup"}


def prompts(out: list) -> set[str]:
    return {m["payload"]["prompt"] for _, m in out}


def test_a_turn_run_out_draws_for_the_player_and_everyone_is_told_why():
    game = scenario(HANDS, top="red-cross", market="blue-square")
    asked = game.questions[0].msg_id
    out = game.expire()
    assert game.state == TURN and game.table.current == 1
    assert [c.text for c in game.seats[0].hand][-1] == "blue-square"
    told = [m["payload"]["prompt"] for s, m in out if s in (1, 2)]
    assert told and all("ada ran out of time; a card was drawn for them." in p for p in told)
    assert game.idle == [1, 0, 0] and game.expired == {0: asked}
    assert is_conserved(game)


def test_a_turn_run_out_under_a_penalty_takes_the_penalty():
    game = scenario(HANDS, top="red-2", pile="blue-2", penalty=4, current=1)
    out = game.expire()
    assert len(game.seats[1].hand) == 2 + 4 and game.table.penalty == 0
    assert any("bob ran out of time and took the penalty: 4 card(s)." in p for p in prompts(out))


def test_a_request_run_out_is_the_computer_players_choice():
    game = scenario(HANDS, top="red-cross")
    game.play(0, cards("red-?"))
    assert game.state == AWAITING_OPTION
    out = game.expire()
    # ada holds red, blue, green: one each after the ?; the colour held most is the first
    assert game.state == TURN and game.table.request in ("red", "blue", "green")
    assert game.table.current == 1 and game.idle[0] == 1
    said = f"ada ran out of time; the computer asked for {game.table.request}."
    assert any(said in p for p in prompts(out))


def test_a_drop_run_out_drops_the_normal_cards_held_least():
    game = scenario({"ada": "red-- blue-cup green-cup green-cross", "bob": "blue-1"},
                    top="red-cross")  # fmt: skip
    game.play(0, cards("red--"))
    assert game.state == AWAITING_CARDS and game.questions[0].count == 1
    out = game.expire()
    assert game.state == TURN and [c.text for c in game.seats[0].hand] == [
        "green-cup",
        "green-cross",
    ]
    assert any("ada ran out of time; the computer dropped blue-cup." in p for p in prompts(out))


def test_a_drop_run_out_that_empties_the_hand_finishes_the_game():
    game = scenario({"ada": "red-- blue-cup", "bob": "blue-1"}, top="red-cross")
    game.play(0, cards("red--"))
    game.expire()
    assert game.state == FINISHED and game.result["winner"] == 0


def test_the_first_player_run_out_is_random_from_the_games_own_seed():
    def first(seed: int) -> tuple[int, list]:
        game = Game(3, seed=seed)
        for name in HANDS:
            game.join(name)
        assert game.state == CHOOSING_FIRST
        out = game.expire()
        assert game.state == TURN
        return game.table.current, out

    assert {first(seed)[0] for seed in range(30)} == {0, 1, 2}
    assert first(7) == first(7)  # the same seed: the same game, so replay is exact
    current, out = first(7)
    name = list(HANDS)[current]
    said = f"ada did not choose in time; {name} plays first, chosen at random."
    assert any(said in p for p in prompts(out))


def test_a_vote_run_out_counts_every_vote_not_cast_as_yes():
    game = scenario(HANDS, top="red-cross")
    game.request_leave(1)
    game.leave(1)
    game.vote(0, "yes")
    assert game.state == VOTING and list(game.questions) == [2]
    out = game.expire()
    assert game.state == TURN and game.seats[1].computer
    assert any("a vote not cast counts as yes" in p for p in prompts(out))


def test_a_leave_not_confirmed_in_time_is_a_leave_and_the_others_vote():
    game = scenario(HANDS, top="red-cross")
    game.request_leave(1)
    assert game.awaited().kind == W_LEAVE and game.awaited().seats == (1,)
    out = game.expire()
    assert game.state == VOTING and 1 in game.empty_seats
    assert dict(out)[1]["cmd"] == "LEAVE_REP"
    assert "did not come in time" in dict(out)[1]["payload"]["prompt"]
    with pytest.raises(ProtocolError) as refused:
        game.leave(1)
    assert refused.value.code == "too_late"


def test_two_leavers_each_have_their_own_wait():
    game = scenario(HANDS, top="red-cross")
    game.request_leave(1)
    first = game.awaited()
    game.request_leave(2)
    assert game.awaited() == first  # the second leaver does not restart the first's wait
    game.expire()
    assert game.state == PAUSED and game.awaited().seats == (2,)
    assert game.awaited().serial != first.serial
    game.expire()
    assert game.state == VOTING and list(game.questions) == [0]


def test_the_last_leaver_run_out_with_no_human_left_ends_the_game():
    game = scenario({"ada": "red-cup", "bob": "blue-1"}, top="red-cross", computers=("bob",))
    game.request_leave(0)
    game.expire()
    assert game.state == FINISHED and game.result["reason"] == "no_humans"


def test_a_late_answer_is_too_late_and_changes_nothing():
    game = scenario(HANDS, top="red-cross")
    late = game.questions[0].msg_id
    game.expire()
    before = to_snapshot(game)
    with pytest.raises(ProtocolError) as refused:
        game.answer(0, late, ["blue-cup"])
    assert refused.value.code == "too_late"
    assert to_snapshot(game) == before


def test_an_answer_to_a_question_never_asked_is_not_too_late():
    game = scenario(HANDS, top="red-cross")
    game.expire()
    with pytest.raises(ProtocolError) as refused:
        game.answer(0, "999", [])
    assert refused.value.code == "no_question"


def test_idle_counts_turns_in_a_row_and_an_answer_resets_it():
    market = "green-square green-triangle green-circle green-cup green-cross"
    game = scenario({"ada": "red-cup blue-cup", "bob": "yellow-1"}, top="red-cross", market=market)
    game.expire()  # ada
    game.expire()  # bob
    game.expire()  # ada
    assert game.idle == [2, 1]
    game.answer(1, game.questions[1].msg_id, [])  # bob draws himself
    assert game.idle == [2, 0]
    game.expire()
    assert game.idle == [3, 0]
    out = game.request_leave(0, LEAVE_IDLE)
    said = "ada let the clock run out 3 turns in a row and is treated as having left"
    assert any(said in p for p in prompts(out))


def test_awaited_names_the_wait_and_a_new_question_is_a_new_wait():
    game = scenario(HANDS, top="red-cross")
    turn = game.awaited()
    assert turn.kind == Q_TURN and turn.seats == (0,)
    game.play(0, cards("red-?"))
    request = game.awaited()
    assert request.kind == Q_REQUEST and request.serial != turn.serial
    game.name_request(0, "green")
    assert game.awaited().seats == (1,) and game.awaited().serial != request.serial
    game.request_leave(2)
    game.leave(2)
    vote = game.awaited()
    assert vote.kind == Q_VOTE and vote.seats == (0, 1)
    game.vote(0, "yes")
    assert game.awaited().seats == (1,) and game.awaited().serial == vote.serial


def test_a_drop_question_is_awaited_as_a_drop():
    game = scenario(HANDS, top="red-cross")
    game.play(0, cards("red--"))
    assert game.awaited().kind == Q_DROP


def test_idle_and_expired_survive_a_snapshot():
    game = scenario(HANDS, top="red-cross")
    late = game.questions[0].msg_id
    game.expire()
    restored = from_snapshot(to_snapshot(game))
    assert restored.idle == [1, 0, 0]
    with pytest.raises(ProtocolError) as refused:
        restored.answer(0, late, [])
    assert refused.value.code == "too_late"


def test_nothing_is_awaited_before_the_deal_or_after_the_end():
    game = Game(2, seed=1)
    game.join("ada")
    assert game.awaited() is None
    done = scenario({"ada": "red-cup", "bob": "blue-1"}, top="red-cross")
    done.play(0, cards("red-cup"))
    assert done.awaited() is None


def test_market_top_is_what_a_run_out_draws():
    game = scenario(HANDS, top="red-cross", market="yellow-square blue-cross")
    expected = market_top(game, 1)
    game.expire()
    assert [c.text for c in game.seats[0].hand][-1:] == expected
