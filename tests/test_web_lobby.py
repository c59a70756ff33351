"""The lobby in the page: names checked as the server checks them (and the server's
reason shown when it refuses), the open rooms kept current by the server's pushes."""

from __future__ import annotations

from browser import chromium, web  # noqa: F401  (fixtures)


def lobby_frames(player) -> list[str]:
    return [f["cmd"] for f in player.sent if f["cmd"] not in ("GET_ROOMS",)]


def test_names_are_checked_and_the_servers_reason_is_shown(web):  # noqa: F811
    web.start()
    ada, bob, carl = web.player("ada"), web.player("аda"), web.player("carl")  # Cyrillic а
    for player in (ada, bob, carl):
        player.open()
    # a name the server keeps for its computers: refused by the page, nothing sent
    ada.page.fill("#name", "computer-2")
    ada.page.click("#new-room")
    error = ada.page.locator("#name-error")
    assert "kept for the game's own marks" in error.inner_text()
    assert ada.page.locator("#create-form").is_hidden()
    assert lobby_frames(ada) == []
    ada.page.fill("#name", "ada")
    assert error.is_hidden()
    ada.create("kitchen", players=3, computers=1)
    ada.page.locator("#room").wait_for()
    # the room appears in the others' lists by itself
    for player in (bob, carl):
        player.page.locator(
            "#rooms li", has_text="“kitchen”: ada, 1 computer player(s); 1 seat(s) free"
        ).wait_for()
    # "аda" in Cyrillic looks like ada: the server refuses, and the page says why
    bob.page.get_by_role("button", name="Join “kitchen”").click()
    refusal = bob.page.locator("#name-error", has_text="The server refused:")
    refusal.wait_for()
    assert "is already called ada" in refusal.inner_text()
    assert bob.page.locator("#lobby").is_visible()
    bob.page.fill("#name", "bob")
    bob.page.get_by_role("button", name="Join “kitchen”").click()
    bob.page.locator("#table").wait_for()
    # the room is full: it leaves carl's list by itself
    carl.page.locator("#rooms li").wait_for(state="detached")
    assert carl.page.locator("#rooms-empty").is_visible()
