"""One test per rule of RULES.md, each set up card by card with ``scenario``."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from cardgame.fsm import rules
from cardgame.fsm.cards import DECK_SIZE, FULL_DECK, CardError, cards, new_deck, parse_card
from cardgame.fsm.game import (
    AWAITING_CARDS,
    AWAITING_OPTION,
    CHOOSING_FIRST,
    FINISHED,
    TURN,
    Game,
    ProtocolError,
)
from cardgame.fsm.scenario import market_top, scenario
from cardgame.fsm.simulate import is_conserved
from cardgame.fsm.snapshot import to_snapshot


def hand(game: Game, seat: int) -> list[str]:
    return [c.text for c in game.seats[seat].hand]


def picks(messages, seat: int) -> list[dict]:
    """The pick notices (PICK_ONE / PICK_TWO) a seat received."""
    return [
        m["payload"]
        for s, m in messages
        if s == seat and m["payload"]["next_cmd"] in ("PICK_ONE", "PICK_TWO")
    ]


def question(game: Game, seat: int) -> str | None:
    q = game.questions.get(seat)
    return None if q is None else q.kind


@pytest.fixture(autouse=True)
def conserved_afterwards():
    """Every scenario ends with the 120 cards where they belong."""
    games: list[Game] = []
    original = Game.__init__

    def tracking(self, *args, **kwargs):
        original(self, *args, **kwargs)
        games.append(self)

    Game.__init__ = tracking
    try:
        yield
    finally:
        Game.__init__ = original
    assert all(is_conserved(g) for g in games if len(g.seats) == g.size)


# -- cards ------------------------------------------------------------------------------


def test_deck_has_120_cards_100_normal_20_special():
    deck = new_deck()
    assert len(deck) == DECK_SIZE == 120
    assert sum(not c.special for c in deck) == 100
    assert sum(c.special for c in deck) == 20
    assert all(n == 5 for c, n in FULL_DECK.items() if not c.special)
    assert all(n == 1 for c, n in FULL_DECK.items() if c.special)


@pytest.mark.parametrize("text", ["red-cross", "blue-?", "green-->", "yellow-1", "red--"])
def test_card_text_round_trips(text):
    assert parse_card(text).text == text
    assert parse_card(text) is parse_card(text)


@pytest.mark.parametrize("text", ["purple-cross", "red", "red-star", "", "RED-CROSS", 3, None])
def test_anything_else_is_not_a_card(text):
    with pytest.raises(CardError):
        parse_card(text)


# -- set-up -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("players", "size"), [(2, 8), (3, 6), (4, 5), (5, 5), (6, 5), (7, 5), (8, 4)]
)
def test_deal_sizes(players, size):
    game = Game(players, seed=players)
    for seat in range(players):
        game.join(f"p{seat}")
    assert [len(s.hand) for s in game.seats] == [size] * players
    assert game.state == CHOOSING_FIRST and is_conserved(game)


class NoShuffle(random.Random):
    def shuffle(self, x):  # noqa: D102 - keep the market in the order the test set
        return None


def test_first_normal_card_starts_the_pile_and_passed_specials_stay_in_order():
    # bottom ... top: the 16 cards on top are dealt, then green-? and red-1 are passed over
    market = cards("yellow-cross yellow-cup green-circle red-1 green-?") + cards("blue-cup " * 16)
    table = rules.Table(seats=[rules.Seat("a"), rules.Seat("b")], market=market, rng=NoShuffle())
    rules.deal(table)
    assert [c.text for c in table.play_pile] == ["green-circle"]
    assert [c.text for c in table.market] == ["yellow-cross", "yellow-cup", "red-1", "green-?"]


def test_creator_chooses_the_first_player_with_an_integer():
    game = Game(3, seed=1)
    for name in ("ada", "bob", "cy"):
        _, out = game.join(name)
    [asked] = [m for s, m in out if s == 0]
    assert asked["payload"]["next_cmd"] == "PICK_OPTION"
    assert asked["payload"]["return_type"] == "INT"
    assert asked["payload"]["extra_data"] == [0, 1, 2]
    assert all(m["payload"]["next_cmd"] is None for s, m in out if s != 0)
    game.answer(0, asked["msg_id"], 2)
    assert game.state == TURN and game.table.current == 2 and question(game, 2) == "turn"


def test_without_a_choice_the_first_player_is_random():
    firsts = set()
    for seed in range(30):
        game = Game(3, seed=seed)
        for name in ("ada", "bob", "cy"):
            game.join(name)
        game.expire()
        firsts.add(game.table.current)
    assert firsts == {0, 1, 2}


# -- matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("played", "top", "matches"),
    [
        ("red-cup", "red-cross", True),  # colour
        ("blue-cross", "red-cross", True),  # shape, both normal
        ("blue-?", "red-?", True),  # symbol, both special
        ("blue-1", "red-cross", False),
        ("blue-cup", "red-cross", False),
        ("blue-cross", "red-?", False),
        ("red-?", "red-cross", True),  # colour matches across kinds
    ],
)
def test_matching(played, top, matches):
    assert rules.satisfies(parse_card(played), parse_card(top), None) is matches


def test_a_matching_card_is_played_and_the_turn_moves_on():
    game = scenario({"ada": "red-cup blue-cup", "bob": "green-cup"}, top="red-cross")
    game.play(0, cards("red-cup"), last_card=True)
    assert hand(game, 0) == ["blue-cup"]
    assert game.table.top_card.text == "red-cup"
    assert game.table.current == 1 and question(game, 1) == "turn"


# -- specials alone -------------------------------------------------------------------


def test_pick_one_the_next_player_picks_one_and_loses_the_turn():
    game = scenario(
        {"ada": "red-1 red-cup", "bob": "green-cup blue-cup", "cy": "green-cross"},
        top="red-cross",
        market="yellow-cup",
    )
    game.play(0, cards("red-1"), last_card=True)
    assert game.table.penalty == 1 and game.table.current == 1
    out = game.draw(1)
    assert hand(game, 1) == ["green-cup", "blue-cup", "yellow-cup"]
    assert picks(out, 1)[0]["next_cmd"] == "PICK_ONE" and picks(out, 1)[0]["extra_data"] == [
        "yellow-cup"
    ]
    assert game.table.penalty == 0 and game.table.current == 2


def test_pick_two_the_next_player_picks_two():
    game = scenario(
        {"ada": "red-2 red-cup", "bob": "green-cup"},
        top="red-cross",
        market="yellow-cup blue-cross",
    )
    game.play(0, cards("red-2"), last_card=True)
    out = game.draw(1)
    assert picks(out, 1)[0]["next_cmd"] == "PICK_TWO"
    assert picks(out, 1)[0]["extra_data"] == ["yellow-cup", "blue-cross"]
    assert game.table.current == 0


def test_stacking_ones_across_three_players():
    game = scenario(
        {"ada": "red-1 red-cup", "bob": "blue-1 blue-cup", "cy": "green-cup"},
        top="red-cross",
        market="yellow-cup yellow-cross blue-circle",
    )
    game.play(0, cards("red-1"), last_card=True)
    game.play(1, cards("blue-1"), last_card=True)  # any colour stacks
    assert game.table.penalty == 2 and game.table.current == 2
    out = game.draw(2)
    assert picks(out, 2)[0]["extra_data"] == ["yellow-cup", "yellow-cross"]
    assert game.table.current == 0 and game.table.penalty == 0


def test_stacking_twos_adds_two_each():
    game = scenario(
        {"ada": "red-2 red-cup", "bob": "blue-2 blue-cup", "cy": "green-cup"}, top="red-cross"
    )
    game.play(0, cards("red-2"))
    game.play(1, cards("blue-2"))
    assert game.table.penalty == 4
    game.draw(2)
    assert len(hand(game, 2)) == 5


def test_one_and_two_do_not_stack():
    game = scenario(
        {"ada": "red-1 red-cup", "bob": "red-2 blue-cup", "cy": "green-cup"}, top="red-cross"
    )
    game.play(0, cards("red-1"))
    out = game.play(1, cards("red-2"))
    # a wrong card: back to hand, picks 2, and the penalty pending too (decided)
    assert hand(game, 1)[:2] == ["red-2", "blue-cup"] and len(hand(game, 1)) == 2 + 2 + 1
    assert [p["next_cmd"] for p in picks(out, 1)] == ["PICK_TWO", "PICK_ONE"]
    assert game.table.penalty == 0 and game.table.current == 2


def test_only_a_stacking_card_is_allowed_while_a_penalty_is_pending():
    game = scenario(
        {"ada": "red-1 red-cup", "bob": "red-cup blue-cup", "cy": "green-cup"}, top="red-cross"
    )
    game.play(0, cards("red-1"))
    game.play(1, cards("red-cup"))  # matches the colour, but a penalty is pending
    assert len(hand(game, 1)) == 2 + 2 + 1 and game.table.top_card.text == "red-1"


def test_skip_the_next_player_loses_their_turn():
    game = scenario(
        {"ada": "red--> red-cup", "bob": "green-cup", "cy": "blue-cup"}, top="red-cross"
    )
    game.play(0, cards("red-->"))
    assert game.table.current == 2


def test_skip_with_two_players_comes_back():
    game = scenario({"ada": "red--> red-cup", "bob": "green-cup"}, top="red-cross")
    game.play(0, cards("red-->"))
    assert game.table.current == 0 and question(game, 0) == "turn"


def test_ask_the_player_names_a_colour_or_shape():
    game = scenario({"ada": "red-? red-cup", "bob": "green-cup blue-cross"}, top="red-cross")
    out = game.play(0, cards("red-?"), last_card=True)
    assert game.state == AWAITING_OPTION
    [asked] = [m for s, m in out if s == 0]
    assert (
        asked["payload"]["next_cmd"] == "PICK_OPTION" and asked["payload"]["return_type"] == "STR"
    )
    assert asked["payload"]["flag"] == "USER_INPUT_CONTINUE"
    assert set(asked["payload"]["extra_data"]) == set(rules.REQUEST_OPTIONS)
    out = game.answer(0, asked["msg_id"], "green")
    assert game.table.request == "green" and game.table.current == 1
    assert all(m["payload"]["data"]["request"] == "green" for _, m in out)


def test_a_request_holds_until_satisfied():
    game = scenario(
        {"ada": "red-cup", "bob": "red-circle blue-cup", "cy": "green-cup blue-1"},
        top="red-?",
        request="green",
    )
    game.play(0, cards("red-cup"))  # matches the red top, but not the request: wrong card
    assert len(hand(game, 0)) == 3 and game.table.request == "green"
    game.draw(1)  # unsatisfied, the request holds for the next player
    assert game.table.request == "green" and game.table.current == 2
    game.play(2, cards("green-cup"))  # satisfied
    assert game.table.request is None


def test_a_request_is_satisfied_by_shape():
    game = scenario(
        {"ada": "blue-circle red-cup", "bob": "green-cup"}, top="red-?", request="circle"
    )
    game.play(0, cards("blue-circle"))
    assert game.table.request is None and game.table.top_card.text == "blue-circle"


def test_another_ask_makes_a_new_request():
    game = scenario({"ada": "blue-? red-cup", "bob": "green-cup"}, top="red-?", request="green")
    game.play(0, cards("blue-?"))
    game.name_request(0, "cup")
    assert game.table.request == "cup"


def test_drop_the_player_drops_one_normal_card_of_their_choice():
    game = scenario(
        {"ada": "red-- blue-cup green-? yellow-circle", "bob": "green-cup"}, top="red-cross"
    )
    out = game.play(0, cards("red--"))
    assert game.state == AWAITING_CARDS
    [asked] = [m for s, m in out if s == 0]
    assert (
        asked["payload"]["next_cmd"] == "PICK_CARDS" and asked["payload"]["return_type"] == "LIST"
    )
    assert asked["payload"]["extra_data"] == ["blue-cup", "yellow-circle"]
    assert asked["payload"]["data"]["count"] == 1
    game.answer(0, asked["msg_id"], ["yellow-circle"])  # no match needed
    assert hand(game, 0) == ["blue-cup", "green-?"]
    assert game.table.top_card.text == "yellow-circle" and game.table.current == 1


def test_drop_with_no_normal_card_does_nothing_more():
    game = scenario({"ada": "red-- blue-? green-1", "bob": "green-cup"}, top="red-cross")
    game.play(0, cards("red--"))
    assert game.state == TURN and game.table.current == 1


def test_a_drop_must_be_normal_cards_the_player_holds():
    game = scenario({"ada": "red-- blue-cup green-?", "bob": "green-cup"}, top="red-cross")
    game.play(0, cards("red--"))
    before = to_snapshot(game)
    for bad, code in (
        (["green-?"], "bad_answer"),
        (["red-cup"], "not_in_hand"),
        (["blue-cup", "blue-cup"], "bad_answer"),
        ([], "bad_answer"),
    ):
        with pytest.raises(ProtocolError) as refused:
            game.drop(0, cards(bad))
        assert refused.value.code == code
        assert to_snapshot(game) == before


# -- combinations --------------------------------------------------------------------


@pytest.mark.parametrize(("combo", "picked"), [("red-? blue-1", 1), ("red-? blue-2", 2)])
def test_ask_then_pick_everyone_else_picks_and_the_player_plays_again(combo, picked):
    game = scenario(
        {"ada": f"{combo} red-cup", "bob": "green-cup", "cy": "blue-cup"}, top="red-cross"
    )
    out = game.play(0, cards(combo), last_card=True)
    assert len(hand(game, 1)) == 1 + picked and len(hand(game, 2)) == 1 + picked
    assert picks(out, 1)[0]["next_cmd"] == ("PICK_ONE" if picked == 1 else "PICK_TWO")
    assert picks(out, 0) == []
    assert game.table.current == 0 and question(game, 0) == "turn"
    assert game.table.penalty == 0 and game.table.request is None  # not stackable, no request


@pytest.mark.parametrize("combo", ["red-? blue-->", "red--> blue-?"])
def test_ask_and_skip_everyone_is_skipped(combo):
    game = scenario(
        {"ada": f"{combo} red-cup", "bob": "green-cup", "cy": "blue-cup"}, top="red-cross"
    )
    game.play(0, cards(combo))
    assert game.table.current == 0 and len(hand(game, 1)) == 1


@pytest.mark.parametrize(
    ("combo", "owed"), [("red-- blue-1", 1), ("red-- blue-2", 2), ("red-- blue--", 2)]
)
def test_drop_combinations_drop_extra_normal_cards(combo, owed):
    game = scenario(
        {"ada": f"{combo} red-cup blue-cup green-cup", "bob": "green-cross"}, top="red-cross"
    )
    game.play(0, cards(combo), last_card=True)
    assert game.questions[0].kind == "drop" and game.questions[0].count == owed
    game.drop(0, cards("red-cup blue-cup")[:owed])
    assert len(hand(game, 0)) == 3 - owed and game.table.current == 1


def test_drop_combination_with_fewer_normal_cards_drops_what_there_is():
    game = scenario({"ada": "red-- blue-2 red-cup yellow-?", "bob": "green-cross"}, top="red-cross")
    game.play(0, cards("red-- blue-2"))
    assert game.questions[0].count == 1


@pytest.mark.parametrize("combo", ["red-- blue-?", "red-? blue--"])
def test_drop_and_ask_take_a_special_from_the_first_holder_after_you(combo):
    game = scenario(
        {
            "ada": f"{combo} red-cup",
            "bob": "green-cup",
            "cy": "yellow-2 blue-cup",
            "dee": "green-1",
        },
        top="red-cross",
    )
    game.play(0, cards(combo))
    assert hand(game, 2) == ["blue-cup"] and hand(game, 3) == ["green-1"]
    assert [c.text for c in game.table.play_pile[-2:]] == ["yellow-2", cards(combo)[1].text]
    assert game.table.current == 1


def test_drop_and_ask_with_nobody_holding_a_special_drops_one():
    game = scenario({"ada": "red-- blue-? red-cup", "bob": "green-cup"}, top="red-cross")
    game.play(0, cards("red-- blue-?"))
    assert game.questions[0].kind == "drop" and game.questions[0].count == 1


@pytest.mark.parametrize("combo", ["red-- blue-->", "red--> blue--"])
def test_drop_and_skip_take_a_special_from_the_next_player_only(combo):
    game = scenario(
        {"ada": f"{combo} red-cup", "bob": "green-cup", "cy": "yellow-2"}, top="red-cross"
    )
    game.play(0, cards(combo))
    assert hand(game, 2) == ["yellow-2"]  # cy is not the next player
    assert game.questions[0].kind == "drop"  # bob held none: drop one instead


def test_drop_and_skip_take_from_the_next_player():
    game = scenario({"ada": "red-- blue--> red-cup", "bob": "green-1 green-cup"}, top="red-cross")
    game.play(0, cards("red-- blue-->"))
    assert hand(game, 1) == ["green-cup"]
    assert game.table.play_pile[-2].text == "green-1"


@pytest.mark.parametrize(
    "pair", ["red-1 blue-2", "red-? red-cup", "red-cup red-cross", "red-2 blue-?"]
)
def test_a_pair_not_in_the_table_is_a_wrong_card(pair):
    game = scenario({"ada": f"{pair} green-cup", "bob": "green-cross"}, top="red-cross")
    out = game.play(0, cards(pair))
    assert hand(game, 0)[:3] == [*pair.split(), "green-cup"] and len(hand(game, 0)) == 5
    assert picks(out, 0)[0]["next_cmd"] == "PICK_TWO"
    assert game.table.current == 1


def test_a_combination_first_card_must_match():
    game = scenario({"ada": "blue-? blue-1 green-cup", "bob": "green-cross"}, top="red-cross")
    game.play(0, cards("blue-? blue-1"))
    assert len(hand(game, 0)) == 5 and game.table.top_card.text == "red-cross"


def test_a_combination_first_card_must_satisfy_a_pending_request():
    game = scenario(
        {"ada": "red-? blue-1 green-cup", "bob": "green-cross"}, top="red-cross", request="yellow"
    )
    game.play(0, cards("red-? blue-1"))  # ? satisfies any request: accepted
    assert len(hand(game, 1)) == 2
    # it makes no request of its own, so the pending one still holds (decided)
    assert game.table.request == "yellow" and game.table.current == 0
    game = scenario(
        {"ada": "yellow-cup red-? blue-1 green-cup", "bob": "green-cross"},
        top="red-cross",
        request="yellow",
    )
    game.play(0, cards("yellow-cup"))  # a card satisfying it clears it
    assert game.table.request is None
    game = scenario(
        {"ada": "red-- blue-1 green-cup", "bob": "green-cross"}, top="red-cross", request="yellow"
    )
    game.play(0, cards("red-- blue-1"))
    assert len(hand(game, 0)) == 5  # red-- does not satisfy yellow: wrong card


# -- punishments ------------------------------------------------------------------------


def test_wrong_card_back_to_hand_pick_two_turn_over():
    game = scenario(
        {"ada": "blue-cup green-cup", "bob": "green-cross"},
        top="red-cross",
        market="yellow-cup yellow-cross",
    )
    out = game.play(0, cards("blue-cup"))
    assert hand(game, 0) == ["blue-cup", "green-cup", "yellow-cup", "yellow-cross"]
    [notice] = picks(out, 0)
    assert notice["next_cmd"] == "PICK_TWO" and notice["return_type"] is None
    assert notice["extra_data"] == ["yellow-cup", "yellow-cross"]
    assert game.table.current == 1 and game.table.top_card.text == "red-cross"
    others = [m for s, m in out if s == 1]
    assert all("blue-cup" not in str(m) for m in others)  # the tried card is not shown


def test_last_card_without_announcement_picks_one():
    game = scenario(
        {"ada": "red-cup blue-cup", "bob": "green-cross"}, top="red-cross", market="yellow-cup"
    )
    out = game.play(0, cards("red-cup"))
    assert hand(game, 0) == ["blue-cup", "yellow-cup"]
    assert picks(out, 0)[0]["next_cmd"] == "PICK_ONE"


def test_last_card_announced_picks_nothing():
    game = scenario({"ada": "red-cup blue-cup", "bob": "green-cross"}, top="red-cross")
    out = game.play(0, cards("red-cup"), last_card=True)
    assert hand(game, 0) == ["blue-cup"] and picks(out, 0) == []


def test_last_card_is_checked_after_the_drop_completes_the_play():
    game = scenario({"ada": "red-- blue-cup green-cup", "bob": "green-cross"}, top="red-cross")
    game.play(0, cards("red--"))  # two left: no check yet
    out = game.drop(0, cards("blue-cup"))  # one left, not announced with the play
    assert picks(out, 0)[0]["next_cmd"] == "PICK_ONE" and len(hand(game, 0)) == 2


def test_last_card_of_a_combination_that_plays_again_is_checked_before_the_extra_turn():
    game = scenario(
        {"ada": "red-? blue-1 green-cup", "bob": "green-cross"},
        top="red-cross",
        market="yellow-cup yellow-cross",
    )
    out = game.play(0, cards("red-? blue-1"))  # one card left, not announced
    assert picks(out, 0)[0]["next_cmd"] == "PICK_ONE"
    assert len(hand(game, 0)) == 2 and game.table.current == 0  # then plays again
    game = scenario({"ada": "red-? blue-1 green-cup", "bob": "green-cross"}, top="red-cross")
    out = game.play(0, cards("red-? blue-1"), last_card=True)
    assert picks(out, 0) == [] and hand(game, 0) == ["green-cup"] and game.table.current == 0


def test_announcing_when_more_cards_remain_changes_nothing():
    game = scenario({"ada": "red-cup blue-cup green-cup", "bob": "green-cross"}, top="red-cross")
    out = game.play(0, cards("red-cup"), last_card=True)
    assert picks(out, 0) == [] and len(hand(game, 0)) == 2


# -- the market -----------------------------------------------------------------------


def test_empty_market_is_reshuffled_from_the_play_pile_but_its_top():
    game = scenario(
        {"ada": "red-cup", "bob": "green-cross"}, top="red-cross", pile="blue-cup green-cup"
    )
    others = game.table.market
    game.table.seats[1].hand.extend(others)  # everything else is in bob's hand
    game.table.market = []
    game.draw(0)
    assert game.table.top_card.text == "red-cross" and game.table.play_pile == [
        parse_card("red-cross")
    ]
    assert sorted(hand(game, 0)[1:] + [c.text for c in game.table.market]) == [
        "blue-cup",
        "green-cup",
    ]


def test_both_exhausted_a_draw_takes_what_there_is():
    game = scenario({"ada": "red-cup", "bob": "green-cross"}, top="red-cross")
    game.table.seats[1].hand.extend(game.table.market)
    game.table.market = []
    out = game.draw(0)
    assert hand(game, 0) == ["red-cup"] and picks(out, 0)[0]["extra_data"] == []
    assert game.table.current == 1


def test_market_top_helper_reads_the_named_market():
    game = scenario(
        {"ada": "red-cup", "bob": "green-cross"}, top="red-cross", market="blue-1 blue-2"
    )
    assert market_top(game, 2) == ["blue-1", "blue-2"]


# -- the end ---------------------------------------------------------------------------


def test_the_last_card_wins_and_the_others_are_ranked_by_cards_held():
    game = scenario(
        {"ada": "red-cup", "bob": "green-cross blue-cup", "cy": "blue-circle"}, top="red-cross"
    )
    out = game.play(0, cards("red-cup"), last_card=True)
    assert game.state == FINISHED
    result = game.result
    assert result["winner"] == 0 and result["reason"] == "won"
    assert [r["name"] for r in result["ranking"]] == ["ada", "cy", "bob"]
    assert all(m["payload"]["data"]["event"] == "game_over" for _, m in out)


def test_winning_on_a_combination():
    game = scenario(
        {"ada": "red-? blue-1", "bob": "green-cross", "cy": "blue-cup"}, top="red-cross"
    )
    game.play(0, cards("red-? blue-1"))
    assert game.state == FINISHED and game.result["winner"] == 0


def test_winning_on_an_ask_asks_nothing():
    game = scenario({"ada": "red-?", "bob": "green-cross"}, top="red-cross")
    game.play(0, cards("red-?"))
    assert game.state == FINISHED and not game.questions


# -- protocol errors are not punishments ---------------------------------------------


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (lambda g: g.play(1, cards("green-cross")), "not_your_turn"),
        (lambda g: g.draw(1), "not_your_turn"),
        (lambda g: g.play(0, cards("yellow-cup")), "not_in_hand"),
        (lambda g: g.play(0, cards("red-cup red-cup")), "not_in_hand"),
        (lambda g: g.play(0, []), "bad_play"),
        (lambda g: g.play(0, cards("red-cup blue-cup red-cup")), "bad_play"),
        (lambda g: g.answer(1, "1", []), "no_question"),
        (lambda g: g.answer(0, "999", []), "stale_answer"),
        (lambda g: g.answer(0, g.questions[0].msg_id, ["nonsense"]), "bad_card"),
        (lambda g: g.answer(0, g.questions[0].msg_id, "red-cup"), "bad_answer"),
        (lambda g: g.name_request(0, "red"), "not_now"),
        (lambda g: g.choose_first(0, 1), "not_now"),
        (lambda g: g.leave(0), "not_now"),
        (lambda g: g.vote(0, "yes"), "not_now"),
        (lambda g: g.join("eve"), "not_now"),
    ],
)
def test_protocol_errors_change_nothing(event, code):
    game = scenario({"ada": "red-cup blue-cup", "bob": "green-cross"}, top="red-cross")
    before = to_snapshot(game)
    with pytest.raises(ProtocolError) as refused:
        event(game)
    assert refused.value.code == code and refused.value.sentence
    assert to_snapshot(game) == before


def test_scenario_refuses_more_copies_than_the_deck_holds():
    with pytest.raises(ValueError):
        scenario({"ada": "red-? red-?", "bob": "green-cross"}, top="red-cross")


def test_scenario_conserves_the_deck():
    game = scenario({"ada": "red-? blue-1", "bob": "green-cross"}, top="red-cross", market="blue-2")
    assert (
        Counter(game.table.market)
        + Counter(game.table.play_pile)
        + Counter(game.seats[0].hand)
        + Counter(game.seats[1].hand)
        == FULL_DECK
    )
