"""What the table is told: every effect of a play is said, and a punishment gives its
true reason (issue 11, items 6, 8 and 12)."""

from __future__ import annotations

import pytest

from cardgame.fsm.cards import cards
from cardgame.fsm.game import LEAVE_DROPPED
from cardgame.fsm.scenario import scenario


def told(out, seat: int) -> str:
    """The sentences one seat was told, in order."""
    return " | ".join(m["payload"]["prompt"] for s, m in out if s == seat)


def why_picked(out, seat: int) -> str:
    [notice] = [
        m["payload"]["data"]["why"]
        for s, m in out
        if s == seat and m["payload"]["next_cmd"] in ("PICK_ONE", "PICK_TWO")
    ]
    return notice


@pytest.mark.parametrize(
    ("hands", "top", "played", "why"),
    [
        ("yellow-triangle green-triangle red-cup", "red-triangle", "yellow-triangle green-triangle",
         "wrong card: yellow-triangle green-triangle is no combination: only two special cards "
         "combine"),
        ("red-1 blue-2 red-cup", "red-cross", "red-1 blue-2",
         "wrong card: red-1 blue-2 is no combination"),
        ("blue-cup green-cup", "red-cross", "blue-cup", "wrong card: blue-cup does not match "
         "red-cross"),
    ],
)  # fmt: skip
def test_a_wrong_card_gives_the_true_reason(hands, top, played, why):
    game = scenario({"ada": hands, "bob": "green-cross"}, top=top)
    assert why_picked(game.play(0, cards(played)), 0) == why


def test_a_wrong_card_under_a_request_or_a_penalty_names_them():
    game = scenario({"ada": "blue-cup red-cup", "bob": "green-cross"}, top="red-cross",
                    request="yellow")  # fmt: skip
    assert why_picked(game.play(0, cards("blue-cup")), 0) == (
        "wrong card: blue-cup is not the yellow that was asked for, nor a ? card"
    )


def test_everyone_else_picking_is_told_to_everyone():
    game = scenario(
        {"ada": "red-? blue-1 red-cup", "bob": "green-cup", "cy": "blue-cup"}, top="red-cross"
    )
    out = game.play(0, cards("red-? blue-1"))
    assert "Everyone else picks 1." in told(out, 1) and "Everyone else picks 1." in told(out, 0)


@pytest.mark.parametrize(
    ("hands", "said"),
    [
        ({"ada": "red--> red-cup", "bob": "green-cup", "cy": "blue-cup"}, "bob is skipped."),
        ({"ada": "red--> red-cup", "bob": "green-cup"}, "bob is skipped: ada plays again."),
        ({"ada": "red-? blue--> red-cup", "bob": "green-cup", "cy": "blue-cup"},
         "Everyone else is skipped: ada plays again."),
    ],
)  # fmt: skip
def test_who_was_skipped_is_told(hands, said):
    game = scenario(hands, top="red-cross")
    played = "red-? blue-->" if "red-?" in hands["ada"] else "red-->"
    out = game.play(0, cards(played), last_card=True)
    assert said in told(out, 1)


def test_a_successful_last_card_announcement_is_told_to_everyone():
    game = scenario({"ada": "red-cup blue-cup", "bob": "green-cross"}, top="red-cross")
    out = game.play(0, cards("red-cup"), last_card=True)
    assert "ada announces the last card." in told(out, 1)
    game = scenario({"ada": "red-cup blue-cup", "bob": "green-cross"}, top="red-cross",
                    market="yellow-cup")  # fmt: skip
    out = game.play(0, cards("red-cup"))
    assert "announces" not in told(out, 1) and "did not announce" in told(out, 1)


def test_a_dropped_player_whose_grace_ran_out_is_not_said_to_be_leaving():
    game = scenario({"ada": "red-cup blue-cup", "bob": "green-cross", "cy": "blue-cross"},
                    top="red-cross")  # fmt: skip
    out = game.request_leave(1, LEAVE_DROPPED)
    assert "bob lost the connection and did not come back; the game is paused." in told(out, 0)
    assert "leaving" not in told(out, 0)
