"""A newcomer at the page plays a whole game against computer players, in real Chromium
against a real ``cardgame serve`` (tests/browser.py)."""

from __future__ import annotations

from browser import chromium, web  # noqa: F401  (fixtures)


def test_a_newcomer_plays_a_whole_game_against_computers(web):  # noqa: F811
    web.start()
    ada = web.player("ada")
    ada.open()
    ada.create("kitchen", players=3, computers=2, seconds=60)
    title = ada.play_to_the_end()
    assert title.endswith("won the game."), title
    assert ada.asked["first_player"] == 1 and ada.asked["turn"] > 1
    ids = ada.taken()
    assert ids == list(range(1, len(ids) + 1))
    log = ada.log()
    assert log[0].startswith("The game begins.")
    assert log[-1].endswith("wins! Game over."), log[-1]
