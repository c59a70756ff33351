"""A restored snapshot is the same game: same state, same future."""

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardgame.fsm.bots import BotView, make_bot
from cardgame.fsm.game import FINISHED, Game
from cardgame.fsm.snapshot import SnapshotError, from_snapshot, to_snapshot


def step(game: Game, bots: dict) -> list:
    """One bot answer to whichever question is pending."""
    seat = next(iter(game.questions))
    question = game.questions[seat]
    answer = bots[seat].decide(question, BotView.of(game, seat))
    return game.answer(seat, question.msg_id, answer.data, answer.last_card)


def bot_game(players: int, seed: int) -> Game:
    game = Game(players, seed=seed)
    for seat in range(players):
        game.join(f"p{seat}")  # persons, answered by bots below
    return game


def fresh_bots(players: int, seed: int) -> dict:
    return {s: make_bot("random", random.Random(seed * 10 + s)) for s in range(players)}


@settings(max_examples=40, deadline=None)
@given(
    players=st.integers(2, 8),
    seed=st.integers(0, 2**32 - 1),
    before=st.integers(0, 150),
)
def test_restored_game_continues_identically(players, seed, before):
    game = bot_game(players, seed)
    bots = fresh_bots(players, seed)
    for _ in range(before):
        if game.state == FINISHED:
            break
        step(game, bots)
    restored = from_snapshot(json.loads(json.dumps(to_snapshot(game))))
    assert to_snapshot(restored) == to_snapshot(game)
    assert restored.state == game.state
    bots_a, bots_b = fresh_bots(players, seed + 1), fresh_bots(players, seed + 1)
    for _ in range(100):
        if game.state == FINISHED:
            break
        assert step(game, bots_a) == step(restored, bots_b)
    assert restored.state == game.state


def test_finished_game_restores_finished():
    game = bot_game(2, 3)
    bots = fresh_bots(2, 3)
    while game.state != FINISHED:
        step(game, bots)
    restored = from_snapshot(to_snapshot(game))
    assert restored.state == FINISHED
    assert restored.result == game.result


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(version=99),
        lambda d: d.pop("market"),
        lambda d: d.update(market=["purple-cross"]),
        lambda d: d.update(rng="nonsense"),
    ],
)
def test_damaged_snapshot_is_refused(damage):
    data = to_snapshot(bot_game(2, 1))
    damage(data)
    with pytest.raises(SnapshotError):
        from_snapshot(data)


def test_not_a_snapshot_is_refused():
    with pytest.raises(SnapshotError):
        from_snapshot(["not", "a", "dict"])
