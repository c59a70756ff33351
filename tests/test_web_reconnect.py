"""A dropped connection: the server stops mid-game (SIGTERM closes every connection
with 1001) and starts again on the same SQLite file and port. The page says it is
reconnecting, comes back by itself (the spec's backoff) and carries on exactly where
the game was: the same question, the same hand, msg_ids 1..n with nothing lost or
taken twice."""

from __future__ import annotations

import re
import socket

from browser import chromium, web  # noqa: F401  (fixtures)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_page_reconnects_after_a_server_restart_and_carries_on(web):  # noqa: F811
    port = free_port()
    web.start("--port", str(port))
    ada = web.player("ada")
    ada.open()
    ada.create("kitchen", players=2, computers=1)
    ada.play_to_the_end(until=lambda p: p.asked.get("turn", 0) >= 3)
    assert ada.question() == "turn"
    hand = ada.hand()
    status = ada.page.locator("#status")

    def while_down() -> None:
        status.filter(has_text="reconnecting…").wait_for()
        assert ada.page.locator("body.reconnecting").count() == 1

    web.restart(between=while_down)
    status.wait_for(state="hidden")
    assert ada.question() == "turn"
    assert ada.hand() == hand
    title = ada.play_to_the_end()
    assert title.endswith("won the game."), title
    ids = ada.taken()
    assert ids == list(range(1, len(ids) + 1)), ids
    # while the server was away, the browser itself logged the attempts that failed:
    # those are the only console errors there may be
    refused = re.compile(rf"WebSocket connection to 'ws://127\.0\.0\.1:{port}/game' failed")
    ada.errors[:] = [e for e in ada.errors if not refused.search(e)]
