"""Watching a room from the web page: the lobby offers the rooms one may watch (kept
current from its pushes), and a spectator's page shows the public table and the story
to the game's end, resumes after a reload with no message lost or repeated, and never
shows (nor receives) a card of anybody's hand."""

from __future__ import annotations

from browser import chromium, web  # noqa: F401  (fixtures)

#: The public messages the spectator's page was sent, from every connection it made.
NUMBERED = "GAME_MESSAGE_REP", "CHAT_REP"


def keys(value: object) -> set[str]:
    """Every key of every object in a frame, however deep."""
    if isinstance(value, dict):
        return set(value).union(*(keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value))
    return set()


def test_a_spectator_watches_from_the_lobby_to_the_end_across_a_reload(web):  # noqa: F811
    web.start()
    eve, cy, ada = web.player("eve"), web.player("cy"), web.player("ada")
    eve.open()
    cy.open()
    cy.page.click("#new-room")
    cy.page.fill("#room-name", "attic")
    cy.page.select_option("#players", "3")
    cy.page.select_option("#spectators", "none")
    cy.page.click("#create")
    cy.page.locator("#room:not([hidden])").wait_for()
    ada.open()
    ada.create("porch", players=2, computers=1)  # begins at once: a computer sits
    ada.question()

    # the lobby's pushes bring the room in; the room closed to spectators is not offered
    watch = eve.page.get_by_role("button", name="Watch “porch”")
    watch.wait_for()
    eve.page.get_by_role("button", name="Join “attic”").wait_for()
    assert eve.page.get_by_role("button", name="Watch “attic”").count() == 0
    assert "attic" not in eve.page.inner_text("#watchable")
    eve.tab_to("#watchable button")
    eve.page.keyboard.press("Enter")
    eve.page.locator("#table:not([hidden])").wait_for()
    assert eve.page.inner_text("#watch-title") == "Watching “porch”"
    assert eve.page.locator("#seats li").count() == 2
    eve.page.locator("#clock:not([hidden])", has_text="ada").wait_for()  # ada is asked

    # the spectator may chat here (the room's default), and the players read it
    eve.page.fill("#chat-text", "go ada")
    eve.page.click("#say")
    eve.page.locator("#log li.chat", has_text="eve (watching): go ada").wait_for()

    # some moves, then a reload in the middle of the game
    ada.play_to_the_end(until=lambda _: len(eve.taken()) >= 8)
    before = eve.taken()
    assert not ada.over_now(), "the game ended before the reload"
    eve.page.reload()
    eve.page.locator("#table:not([hidden])").wait_for()
    assert eve.page.inner_text("#watch-title") == "Watching “porch”"
    assert eve.taken()[: len(before)] == before

    title = ada.play_to_the_end()
    eve.page.locator("#result:not([hidden])").wait_for()
    assert eve.page.inner_text("#result-title") == title
    assert eve.page.locator("#table").is_visible()
    assert "The game is over." in eve.page.inner_text("#question")

    # every public message exactly once, in order, across both page loads
    taken = eve.taken()
    assert taken == list(range(1, len(taken) + 1))
    assert eve.page.evaluate("() => window.cardgame.repeated") == []
    numbered = [int(f["msg_id"]) for f in eve.received if f["cmd"] in NUMBERED]
    assert numbered == taken
    watches = [f["payload"]["data"] for f in eve.sent if f["cmd"] == "WATCH"]
    assert [w["last_msg_id"] for w in watches] == [0, before[-1]]
    assert all(w["user_name"] == "eve" for w in watches)

    # never a hand, a question or a pick notice: not on the page, not on the wire
    for frame in eve.received:  # the lobby's frames too
        assert not keys(frame) & {"hand", "question", "you", "count"}, frame
        if frame["cmd"] in NUMBERED:
            assert frame["payload"]["flag"] is None, frame
            assert frame["payload"]["extra_data"] is None, frame
    assert eve.page.locator("#hand .card").count() == 0
    assert eve.page.locator("#actions").is_hidden()
    page_text = eve.page.inner_text("body")
    assert "You picked" not in page_text  # ada's notices of what she drew
    assert "Your turn" not in page_text

    # back to the lobby: watching no more, also after a reload
    eve.tab_to("#watch-back")
    eve.page.keyboard.press("Enter")
    eve.page.locator("#lobby:not([hidden])").wait_for()
    assert eve.page.locator("#table").is_hidden()
    eve.page.reload()
    eve.page.locator("#lobby:not([hidden])").wait_for()
    assert eve.page.locator("#watch-bar").is_hidden()


def test_a_room_without_spectator_chat_is_watched_without_it(web):  # noqa: F811
    web.start()
    ada, eve = web.player("ada"), web.player("eve")
    ada.open()
    ada.page.click("#new-room")
    ada.page.fill("#room-name", "den")
    ada.page.select_option("#players", "2")
    ada.page.select_option("#computers", "1")
    ada.page.select_option("#spectators", "watch")
    ada.page.click("#create")
    ada.question()
    eve.open()
    eve.page.get_by_role("button", name="Watch “den”").click()
    eve.page.locator("#chat-note", has_text="takes no chat from spectators").wait_for()
    assert eve.page.locator("#chat-form").is_hidden()
    [hello] = [f for f in eve.received if f["cmd"] == "WATCH_REP"]
    assert hello["payload"]["data"]["chat"] is False
    # watching from the start: the story so far is told, the table is shown
    eve.page.locator("#table:not([hidden])").wait_for()
    assert eve.taken() == list(range(1, len(eve.taken()) + 1))
