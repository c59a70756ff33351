"""Properties over random games: conservation, termination, hidden information, determinism;
any mix of answers and clocks running out keeps them."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cardgame.fsm.bots import BotView, make_bot
from cardgame.fsm.cards import FACES, parse_card
from cardgame.fsm.game import FINISHED, PAUSED, VOTING, W_LEAVE, Game, ProtocolError, Question
from cardgame.fsm.simulate import is_conserved

CARD_TEXT = re.compile(
    r"(?:red|blue|green|yellow)-(?:cross|square|triangle|circle|cup|1|2|->|\?|-)"
)
MOVE_BOUND = 5_000
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

strategies = st.lists(st.sampled_from(["greedy", "random"]), min_size=2, max_size=8)


def bot_game(names: list[str], seed: int) -> tuple[Game, dict]:
    game = Game(len(names), seed=seed)
    bots = {}
    for seat, strategy in enumerate(names):
        bots[seat] = make_bot(strategy, random.Random(seed + seat))
        game.join(f"{strategy}{seat}")  # persons, so messages are made
    return game, bots


def step(game: Game, bots: dict) -> list:
    seat = next(iter(game.questions))
    question = game.questions[seat]
    answer = bots[seat].decide(question, BotView.of(game, seat))
    return game.answer(seat, question.msg_id, answer.data, answer.last_card)


def leaks(game: Game, seat: int, message: dict, shown: Counter | None = None) -> set[str]:
    """Cards named in a message that the receiver may not know: held only by others.

    ``shown``: cards that went onto the pile during the event, public even if a
    reshuffle has since put them back in the market and a pick into a hand.
    """
    public = Counter(game.table.play_pile) + Counter(game.seats[seat].hand) + (shown or Counter())
    named = {parse_card(t) for t in CARD_TEXT.findall(json.dumps(message))}
    others = Counter()
    for other, s in enumerate(game.seats):
        if other != seat:
            others.update(s.hand)
    return {c.text for c in named if others[c] and not public[c]}


@SETTINGS
@given(names=strategies, seed=st.integers(0, 2**32 - 1))
def test_conserved_after_every_event_and_every_game_ends(names, seed):
    game, bots = bot_game(names, seed)
    assert is_conserved(game)
    for _ in range(MOVE_BOUND):
        if game.state == FINISHED:
            break
        step(game, bots)
        assert is_conserved(game)
    assert game.state == FINISHED
    assert game.result["ranking"][0]["cards"] == 0


@SETTINGS
@given(names=strategies, seed=st.integers(0, 2**32 - 1))
def test_no_message_names_a_card_only_another_player_holds(names, seed):
    game, bots = bot_game(names, seed)
    while game.state != FINISHED:
        for seat, message in step(game, bots):
            assert not leaks(game, seat, message), (seat, message)
            data = message["payload"]["data"]
            if isinstance(data, dict) and "hand" in data:
                assert data["hand"] == [c.text for c in game.seats[seat].hand]


@settings(max_examples=25, deadline=None)
@given(names=strategies, seed=st.integers(0, 2**32 - 1))
def test_same_seed_same_game(names, seed):
    def play() -> list:
        game, bots = bot_game(names, seed)
        log = []
        while game.state != FINISHED:
            log.extend(step(game, bots))
        return log

    assert play() == play()


def step_or_expire(game: Game, bots: dict, rng: random.Random, rate: float) -> list:
    """A bot's answer, or (with probability ``rate``) the clock running out instead."""
    if rng.random() < rate:
        return game.expire()
    return step(game, bots)


def hands(game: Game) -> list[Counter]:
    return [Counter(s.hand) for s in game.seats]


#: Moves tried in a game where clocks run out: such a game need not end (every question
#: run out is a card drawn), so here the invariants are checked along the way instead.
MIX_BOUND = 600


@SETTINGS
@given(names=strategies, seed=st.integers(0, 2**32 - 1), rate=st.floats(0, 1))
def test_any_mix_of_answers_and_expiries_conserves_and_hides(names, seed, rate):
    game, bots = bot_game(names, seed)
    mix = random.Random(seed)
    for _ in range(MIX_BOUND):
        if game.state == FINISHED:
            break
        before = hands(game)
        out = step_or_expire(game, bots, mix, rate)
        shown = sum((b - a for b, a in zip(before, hands(game), strict=True)), Counter())
        for seat, message in out:
            assert not leaks(game, seat, message, shown), (seat, message)
            data = message["payload"]["data"]
            if isinstance(data, dict) and "hand" in data:
                assert data["hand"] == [c.text for c in game.seats[seat].hand]
        assert is_conserved(game)
        assert game.state == FINISHED or game.awaited() is not None
    if game.state == FINISHED:
        assert game.result["ranking"][0]["cards"] == 0


@settings(max_examples=25, deadline=None)
@given(names=strategies, seed=st.integers(0, 2**32 - 1), rate=st.floats(0, 1))
def test_same_seed_same_expiries_same_game(names, seed, rate):
    def play() -> list:
        game, bots = bot_game(names, seed)
        mix, log = random.Random(seed), []
        for _ in range(MIX_BOUND):
            if game.state == FINISHED:
                break
            log.extend(step_or_expire(game, bots, mix, rate))
        return log

    assert play() == play()


def test_the_leak_check_can_fail():
    game, _ = bot_game(["greedy", "greedy"], 3)
    secret = game.seats[1].hand[0]
    if secret in game.seats[0].hand or secret in game.table.play_pile:
        secret = next(c for c in game.seats[1].hand if c not in game.seats[0].hand)
    assert leaks(game, 0, {"payload": {"prompt": f"bob holds {secret.text}"}}) == {secret.text}


class GameUnderFire(RuleBasedStateMachine):
    """Bots play; meanwhile anything may be attempted, legal or not, including leaves."""

    @initialize(players=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
    def start(self, players, seed):
        self.game = Game(players, seed=seed)
        self.bots = {}
        for seat in range(players):
            self.bots[seat] = make_bot("random", random.Random(seed + seat))
            self.game.join(f"p{seat}")  # humans, so that they can leave and vote

    @rule()
    def a_bot_answers(self):
        if self.game.questions:
            step(self.game, self.bots)

    @rule(
        seat=st.integers(0, 7),
        texts=st.lists(st.sampled_from(sorted(FACES)), max_size=3),
        reply=st.text(max_size=3),
        last=st.booleans(),
    )
    def anything_at_all(self, seat, texts, reply, last):
        before = json.dumps(self._snapshot())
        try:
            self.game.answer(seat, reply, texts, last)
        except ProtocolError:
            assert json.dumps(self._snapshot()) == before

    @rule(seat=st.integers(0, 4))
    def somebody_leaves(self, seat):
        game = self.game
        if seat >= len(game.seats):
            return
        try:
            game.request_leave(seat)
        except ProtocolError:
            return
        assert game.state == PAUSED
        game.leave(seat)

    @rule()
    def the_clock_runs_out(self):
        game = self.game
        if game.state == FINISHED:
            return
        awaited = game.awaited()
        asked = {s: q.msg_id for s, q in game.questions.items()}
        game.expire()
        if awaited.kind != W_LEAVE:  # the answer that comes now is too late
            seat = awaited.seats[0]
            if game.questions.get(seat, Question("", seat)).msg_id != asked[seat]:
                before = json.dumps(self._snapshot())
                with pytest.raises(ProtocolError) as refused:
                    game.answer(seat, asked[seat], [])
                assert refused.value.code == "too_late"
                assert json.dumps(self._snapshot()) == before

    @rule(yes=st.booleans())
    def a_vote(self, yes):
        if self.game.state == VOTING:
            voter = next(iter(self.game.questions))
            question = self.game.questions[voter]
            self.game.answer(voter, question.msg_id, "yes" if yes else "no")

    def _snapshot(self):
        from cardgame.fsm.snapshot import to_snapshot

        return to_snapshot(self.game)

    @invariant()
    def cards_are_conserved(self):
        assert is_conserved(self.game)

    @invariant()
    def someone_is_always_asked_unless_over_or_paused(self):
        if self.game.state not in (FINISHED, PAUSED):
            assert self.game.questions


GameUnderFire.TestCase.settings = settings(max_examples=40, stateful_step_count=60, deadline=None)
test_game_under_fire = GameUnderFire.TestCase
