"""Two people on two browsers (two contexts: storage of their own) at one table with a
computer, through the pages alone: Scenario A (one waits for the room the other is
creating and is taken in when it exists), a whole game, and a leave with its vote."""

from __future__ import annotations

import re

from browser import chromium, play_together, web  # noqa: F401  (fixtures)


def test_scenario_a_then_two_pages_and_a_computer_play_to_the_end(web):  # noqa: F811
    web.start()
    ada, bob = web.player("ada"), web.player("bob")
    ada.open()
    bob.open()
    bob.page.click("#new-room")  # bob's form is open: the lobby is told he is creating
    wait = ada.page.get_by_role("button", name="Wait for bob’s room")
    wait.click()
    assert "you join it the moment it exists" in ada.page.inner_text("#waiting-for")
    bob.page.fill("#room-name", "attic")
    bob.page.select_option("#players", "3")
    bob.page.select_option("#computers", "1")
    bob.page.click("#create")
    # ada is taken in without a click: both are at the table once the computer sits
    for player in (ada, bob):
        player.page.locator("#table").wait_for()
    seats = ada.page.inner_text("#seats")
    assert "bob" in seats and "ada (you)" in seats and "computer-1 (computer)" in seats
    assert re.search(r"^(▶ )?bob: \d+ card", seats, re.M), seats  # no space before the colon
    play_together([ada, bob])
    titles = {p.page.inner_text("#result-title") for p in (ada, bob)}
    assert len(titles) == 1 and titles.pop().endswith("won the game.")
    for player in (ada, bob):
        ids = player.taken()
        assert ids == list(range(1, len(ids) + 1))
        assert player.asked["turn"] >= 1
    assert bob.asked["first_player"] == 1 and "first_player" not in ada.asked


def seated_pair(site):
    """ada's room of three with a computer, bob joined from his lobby's list."""
    site.start()
    ada, bob = site.player("ada"), site.player("bob")
    ada.open()
    bob.open()
    ada.create("porch", players=3, computers=1)
    # the room appears in bob's lobby by itself (a push), with its free seat
    join = bob.page.get_by_role("button", name="Join “porch”")
    join.click()
    for player in (ada, bob):
        player.page.locator("#table").wait_for()
    return ada, bob


def test_a_leave_is_confirmed_and_the_others_vote(web):  # noqa: F811
    ada, bob = seated_pair(web)
    # play until it is bob's turn, then bob thinks better of leaving, then leaves
    play_together([ada, bob], until=lambda: bob.shown() == "turn")
    bob.page.click("#leave")
    dialog = bob.page.get_by_role("alertdialog")
    assert "The others vote on a computer player" in dialog.inner_text()
    bob.page.click("#leave-no")
    assert dialog.is_hidden()
    assert not [f for f in bob.sent if f["payload"].get("action") == "leave"]
    bob.page.click("#leave")
    bob.page.click("#leave-yes")
    bob.page.locator("#result-title", has_text="You left the game.").wait_for()
    assert [f["cmd"] for f in bob.sent if f["cmd"] == "LEAVE"] == ["LEAVE"]
    # ada is asked to vote, and sees why
    assert ada.question() == "vote"
    assert "Should a computer player take the empty seat?" in ada.page.inner_text("#question")
    assert any("bob" in line and "leav" in line for line in ada.log()), ada.log()
    ada.answer("vote", vote="yes")
    # a computer plays bob's seat, under bob's name, and the game goes on to its end
    ada.page.locator("#seats li", has_text="bob (computer)").wait_for()
    title = ada.play_to_the_end()
    assert title.endswith("won the game."), title
    ids = ada.taken()
    assert ids == list(range(1, len(ids) + 1))


def test_a_vote_against_the_computer_ends_the_game(web):  # noqa: F811
    ada, bob = seated_pair(web)
    play_together([ada, bob], until=lambda: ada.shown() == "turn")
    ada.page.click("#leave")
    ada.page.click("#leave-yes")
    ada.page.locator("#result-title", has_text="You left the game.").wait_for()
    assert bob.question() == "vote"
    bob.answer("vote", vote="no")
    title = bob.page.locator("#result-title")
    title.filter(has_text="the vote for a computer player failed").wait_for()
    assert bob.question() is None
