"""Real Chromium on the web client of a real ``cardgame serve``.

The server is the command a host runs, as a subprocess on a free loopback port with its
own SQLite file (its start-up line names the port). The browser is Debian's chromium
driven by Playwright's sync API (``executable_path``: Playwright's own browser download
is never used). Each :class:`Player` is one page in its own browser context (its own
storage, as two people on two browsers), and records every console error, page error,
request and WebSocket frame the page sends and receives; it plays through the page alone, with
clicks and keys, never through the protocol.

Every wait is one of Playwright's (an element appearing, a function of the page
becoming true), bounded by :data:`WAIT_MS`: generous, since the tests share two cores
with everything else, and never a bare sleep.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CARDGAME = str(Path(sys.executable).parent / "cardgame")
#: One wait for the page (ms): a move, a page load, a server's answer.
WAIT_MS = 60_000
#: Seconds for the server to print its start-up line, and to stop.
SERVER_S = 60
#: The questions a page can be asked (``data-question`` on ``#table``).
KINDS = ("first_player", "turn", "request", "drop", "vote")
#: Moves a test may make before its game is declared endless.
MOVES = 600
ASKED = "#table[data-question]:not([hidden]), #result:not([hidden])"
#: Tab presses to reach a control, at most.
TABS = 80
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


class Server:
    """``cardgame serve --port 0 --db FILE`` as a subprocess; its output is kept."""

    def __init__(self, db: Path, *options: str) -> None:
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.proc = subprocess.Popen(
            [CARDGAME, "serve", "--port", "0", "--db", str(db), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(SERVER_S):
            self.stop()
            raise AssertionError(f"the server did not start: {self.lines}")
        found = re.search(r"play in a browser: (http://[\d.]+:\d+)/", self.lines[0])
        assert found, self.lines
        self.url = found.group(1)

    def _read(self) -> None:
        """Every line the server prints (read, so that its pipe never fills)."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._ready.set()
        self._ready.set()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(SERVER_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(SERVER_S)
        self._reader.join(SERVER_S)


@dataclass
class Player:
    """One person at one browser: a page in a context of its own."""

    page: Page
    name: str
    origin: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    asked: dict[str, int] = field(default_factory=dict)

    def watch(self) -> None:
        page = self.page
        page.set_default_timeout(WAIT_MS)
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("websocket", self._socket)

    def _socket(self, socket: Any) -> None:
        self.requests.append(socket.url)
        socket.on("framesent", lambda payload: self.sent.append(json.loads(payload)))
        socket.on("framereceived", lambda payload: self.received.append(json.loads(payload)))

    # -- the lobby ----------------------------------------------------------------

    def open(self) -> None:
        """The page, and the player's name typed in."""
        self.page.goto(self.origin + "/")
        self.page.locator("#lobby").wait_for()
        self.page.fill("#name", self.name)

    def create(self, room: str, players: int, computers: int, seconds: int | None = None):
        """Create a room with the form (announced to the lobby when it opens)."""
        page = self.page
        page.click("#new-room")
        page.fill("#room-name", room)
        page.select_option("#players", str(players))
        page.select_option("#computers", str(computers))
        if seconds is not None:
            page.select_option("#turn-seconds", str(seconds))
        page.click("#create")

    # -- the table ----------------------------------------------------------------

    def question(self) -> str | None:
        """Wait for the next question; None once the game is over for this page."""
        self.wait_asked()
        return self.asked_now()

    def wait_asked(self) -> None:
        """Until a question is shown, or the game's end."""
        self.page.locator(ASKED).first.wait_for()

    def hand(self) -> list[tuple[str, bool]]:
        """The hand as drawn: each card's text and whether it is marked as matching."""
        return self.page.eval_on_selector_all(
            "#hand .card",
            "cards => cards.map(c => [c.dataset.card, c.classList.contains('match')])",
        )

    def answer(self, kind: str, prefer: Any = (), vote: str = "yes") -> None:
        """Answer the question shown as a person would (``prefer``: see :meth:`turn`,
        or a function giving it anew each turn)."""
        page = self.page
        if kind == "turn":
            self.turn(prefer() if callable(prefer) else prefer)
        elif kind == "drop":
            count = int(re.search(r"Drop (\d+)", page.inner_text("#question")).group(1))
            for card in page.locator("#hand .card.match").all()[:count]:
                card.click()
            page.click("#drop")
        elif kind == "vote":
            page.click(f"#options button[data-option={vote}]")
        else:  # first_player, request: the first option
            page.locator("#options button").first.click()

    def turn(self, prefer: tuple[str, ...] = ()) -> None:
        """Play what ``prefer`` names first (a sign, or ``combination``), else the first
        matching card, else draw with the key d; announce the last card when it is."""
        page = self.page
        hand = self.hand()
        play = self.choose(hand, prefer)
        if not play:
            page.keyboard.press("d")
            return
        left = len(hand) - len(play)
        if left == 1 or (left <= 3 and any(hand[i][0].endswith("--") for i in play)):
            page.check("#last-card")  # the last card, or it may be once the drop is made
        for index in play:
            page.locator("#hand .card").nth(index).click()
        page.click("#play")

    def choose(self, hand: list[tuple[str, bool]], prefer: tuple[str, ...]) -> list[int]:
        """Indexes of the cards to play, as the page's own rules see the table."""
        return self.page.evaluate(
            """async (prefer) => {
              const rules = await import('/rules.js');
              const view = window.cardgame.view;
              const hand = view.hand;
              const sign = (i) => hand[i].slice(hand[i].indexOf('-') + 1);
              const valid = (cards) => rules.isValidPlay(view, cards.map((i) => hand[i]));
              const single = [...hand.keys()].filter((i) => valid([i]));
              for (const s of prefer) {
                if (s === 'combination') {
                  for (const i of hand.keys()) for (const j of hand.keys()) {
                    if (i !== j && valid([i, j])) return [i, j];
                  }
                }
                const found = single.find((i) => sign(i) === s);
                if (found !== undefined) return [found];
              }
              return single.length ? [single[0]] : [];
            }""",
            list(prefer),
        )

    def play_to_the_end(self, prefer: Any = (), until: Any = None) -> str:
        """Answer every question until the game is over (or ``until(self)`` is true);
        the result's title."""
        for _ in range(MOVES):
            if until is not None and until(self):
                return ""
            kind = self.question()
            if kind is None:
                return self.page.inner_text("#result-title")
            self.answer(kind, prefer)
        raise AssertionError(f"{self.name}: no end after {MOVES} moves")

    def shown(self) -> str | None:
        """The question shown this moment, if any (no wait)."""
        if self.over_now() or self.page.locator("#table").is_hidden():
            return None
        kind = self.page.get_attribute("#table", "data-question")
        assert kind is None or kind in KINDS, kind
        return kind

    def asked_now(self) -> str | None:
        """The question shown this moment, counted in ``asked``."""
        kind = self.shown()
        if kind is not None:
            self.asked[kind] = self.asked.get(kind, 0) + 1
        return kind

    def over_now(self) -> bool:
        return self.page.locator("#result").is_visible()

    def view(self) -> dict[str, Any] | None:
        """The table as this page was last told it (window.cardgame.view)."""
        return self.page.evaluate("() => window.cardgame.view")

    def wait_for_news(self, seen: int) -> None:
        """Until this page has taken more than ``seen`` numbered messages, or is over."""
        self.page.wait_for_function(
            "seen => window.cardgame.taken.length > seen"
            " || !document.getElementById('result').hidden",
            arg=seen,
        )

    # -- the keyboard alone --------------------------------------------------------

    def tab_to(self, selector: str) -> None:
        """Press Tab until the element focused matches ``selector``."""
        for _ in range(TABS):
            if self.page.evaluate("s => document.activeElement.matches(s)", selector):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"{TABS} Tabs never reached {selector}")

    def key_answer(self, kind: str) -> None:
        """Answer the question with Tab, Space, Enter and the key d only."""
        keys = self.page.keyboard
        if kind == "turn":
            hand = self.hand()
            play = self.choose(hand, ())
            if not play:
                keys.press("d")
                return
            self.tab_to(f"#hand .card[data-index='{play[0]}']")
            keys.press("Space")
            if len(hand) == 2:
                self.tab_to("#last-card")
                keys.press("Space")
            self.tab_to("#play")
            keys.press("Enter")
        elif kind == "drop":
            count = int(re.search(r"Drop (\d+)", self.page.inner_text("#question")).group(1))
            for index in self.page.eval_on_selector_all(
                "#hand .card.match", "cards => cards.map(c => c.dataset.index)"
            )[:count]:
                self.tab_to(f"#hand .card[data-index='{index}']")
                keys.press("Space")
            self.tab_to("#drop")
            keys.press("Enter")
        else:
            self.tab_to("#options button")
            keys.press("Enter")

    def taken(self) -> list[int]:
        """The numbered msg_ids this page load took from the game (window.cardgame)."""
        return self.page.evaluate("() => window.cardgame.taken")

    def log(self) -> list[str]:
        return self.page.eval_on_selector_all("#log li", "items => items.map(i => i.textContent)")

    def check(self) -> None:
        """No console error, no page error, no request to any other host."""
        assert not self.errors, f"{self.name}: {self.errors}"
        host = self.origin.removeprefix("http://")
        for url in self.requests:
            assert re.match(rf"(http|ws)://{re.escape(host)}/", url), url


def play_together(players: list[Player], until: Any = None) -> None:
    """Several people at one table, each answering on their own page, until the game is
    over for all of them (or ``until()`` is true). Whom to wait for is the table's
    clock as the first page still playing was told it: a person is waited on until
    their page asks them; a computer's move shows as a new message."""
    playing = list(players)
    for _ in range(MOVES * len(players)):
        if until is not None and until():
            return
        moved = False
        for player in list(playing):
            if until is not None and until():
                return
            kind = player.asked_now()
            if kind is not None:
                player.answer(kind)
                moved = True
            elif player.over_now():
                playing.remove(player)
        if not playing:
            return
        if moved:
            continue
        first = playing[0]
        seen = len(first.taken())
        view = first.view() or {}
        clock = view.get("clock") or {}
        names = {view["players"][s]["name"] for s in clock.get("seats", [])}
        awaited = [p for p in playing if p.name in names]
        if awaited:
            awaited[0].wait_asked()
        else:
            first.wait_for_news(seen)
    raise AssertionError(f"no end after {MOVES * len(players)} rounds")


class Web:
    """A server (started with :meth:`start`) and the people at their browsers."""

    def __init__(self, browser: Browser, tmp: Path) -> None:
        self.browser = browser
        self.tmp = tmp
        self.server: Server | None = None
        self.options: tuple[str, ...] = ()
        self.players: list[Player] = []
        self._contexts: list[Any] = []

    def start(self, *options: str) -> str:
        """``cardgame serve`` with these options; its http:// origin."""
        self.options = options
        self.server = Server(self.tmp / "cardgame.db", *options)
        return self.server.url

    def restart(self, between: Any = None) -> None:
        """The server stopped (SIGTERM), ``between()`` run, and the server started again
        on the same file with the same options (give it a ``--port`` to come back on)."""
        assert self.server is not None
        self.server.stop()
        if between is not None:
            between()
        self.server = Server(self.tmp / "cardgame.db", *self.options)

    def player(self, name: str, viewport: dict[str, int] | None = None) -> Player:
        assert self.server is not None, "start the server first"
        context = self.browser.new_context(viewport=viewport or DESKTOP)
        self._contexts.append(context)
        player = Player(context.new_page(), name, self.server.url)
        player.watch()
        self.players.append(player)
        return player

    def close(self) -> None:
        for context in self._contexts:
            context.close()
        if self.server is not None:
            self.server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for a test module (each player has a context of its own).
    Module scope: each test module imports the fixture, and one Playwright runs at a time."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def web(chromium: Browser, tmp_path: Path) -> Iterator[Web]:
    """Servers and pages for one test; at its end every page is checked: no console
    error, no page error, nothing asked of another host."""
    web = Web(chromium, tmp_path)
    try:
        yield web
        for player in web.players:
            player.check()
    finally:
        web.close()
