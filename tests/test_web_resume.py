"""A reload mid-game resumes exactly where the game was: the page keeps its seat, token
and last msg_id in the browser's storage, joins again with that id and resends an
answer the server never applied (specs/protocol.md, "Resuming").

``window.cardgame.taken`` lists every numbered /game msg_id the tab took, across its
reloads (kept in the tab's sessionStorage), so the test sees the whole stream: exactly
1..n, nothing lost, nothing taken twice.
"""

from __future__ import annotations

from browser import chromium, web  # noqa: F401  (fixtures)


def join_games(player) -> list[dict]:
    return [frame["payload"]["data"] for frame in player.sent if frame["cmd"] == "JOIN_GAME"]


def test_a_reload_mid_game_loses_and_repeats_nothing(web):  # noqa: F811
    web.start()
    ada = web.player("ada")
    ada.open()
    ada.create("kitchen", players=2, computers=1)
    ada.play_to_the_end(until=lambda p: p.asked.get("turn", 0) >= 3)

    # 1. reloaded while a turn waits for ada: the same question, the same hand
    assert ada.question() == "turn"
    hand, asked = ada.hand(), ada.page.inner_text("#question")
    last = ada.taken()[-1]
    ada.page.reload()
    assert ada.question() == "turn"
    assert ada.hand() == hand and ada.page.inner_text("#question") == asked
    assert join_games(ada)[-1]["last_msg_id"] == last
    assert ada.taken() == list(range(1, len(ada.taken()) + 1))

    # 2. reloaded the moment an answer left: sent again if the server never had it,
    # applied once either way
    for _ in range(3):
        kind = ada.question()
        if kind is None:
            break
        ada.answer(kind)
        ada.page.reload()
    title = ada.play_to_the_end()
    assert title.endswith("won the game."), title

    ids = ada.taken()
    assert ids == list(range(1, len(ids) + 1)), ids
    assert len(join_games(ada)) >= 3
    # the story is told once: no line of the log repeats a message's words twice in a row
    # that the game said once (the begin, the end)
    log = ada.log()
    assert sum(line.startswith("The game begins.") for line in log) == 1
    assert sum(line.endswith("Game over.") for line in log) == 1
