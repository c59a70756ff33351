"""The page on a phone-sized screen, played with the keyboard alone: Tab to a control,
Space or Enter to press it, d to draw. Nothing is asked of any other host (every page
of every test is checked so at its end, tests/browser.py)."""

from __future__ import annotations

from browser import MOVES, PHONE, chromium, web  # noqa: F401  (fixtures)


def fits(page) -> None:
    """Nothing wider than the screen: no sideways scrolling, every control on it."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    for box in page.eval_on_selector_all(
        "button:not([hidden]), select, input",
        "nodes => nodes.filter(n => n.offsetParent).map(n => n.getBoundingClientRect().right)",
    ):
        assert box <= PHONE["width"], box


def test_a_phone_sized_page_played_with_the_keyboard_alone(web, tmp_path):  # noqa: F811
    web.start()
    ada = web.player("ada", viewport=PHONE)
    page, keys = ada.page, ada.page.keyboard
    page.goto(ada.origin + "/")
    page.locator("#lobby").wait_for()
    fits(page)
    ada.tab_to("#name")
    keys.type("ada")
    ada.tab_to("#new-room")
    keys.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "room-name"
    keys.type("pocket")
    ada.tab_to("#computers")
    keys.press("ArrowDown")  # 2 players, of them 1 computer
    assert page.input_value("#computers") == "1"
    fits(page)
    ada.tab_to("#create")
    keys.press("Enter")
    for move in range(MOVES):
        kind = ada.question()
        if kind is None:
            break
        if move == 3:
            fits(page)
            page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        ada.key_answer(kind)
    title = page.inner_text("#result-title")
    assert title.endswith("won the game."), title
    assert ada.asked["first_player"] == 1 and ada.asked["turn"] > 1
    assert ada.requests and ada.taken() == list(range(1, len(ada.taken()) + 1))
