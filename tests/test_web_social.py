"""Chat and spectators in the browser: a line typed on one page reaches the other page
of the room, a spectator's line too, and both tables count who watches."""

from __future__ import annotations

from browser import chromium, play_together, web  # noqa: F401  (fixtures)

#: A spectator from a third page, on the public protocol: it watches with a name and
#: says one line once the server has let it in.
WATCH_AND_SAY = """([roomId, text]) => new Promise((resolve) => {
  const ws = new WebSocket(location.origin.replace("http", "ws") + "/game");
  ws.onopen = () => ws.send(JSON.stringify({cmd: "WATCH", msg_id: "w1",
    payload: {data: {room_id: roomId, user_name: "eve"}}}));
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.cmd === "WATCH_REP") {
      ws.send(JSON.stringify({cmd: "CHAT", msg_id: "w2", payload: {data: {text}}}));
      resolve(message.payload.data.watching);
    }
  };
  window.spectator = ws;
})"""


def test_chat_between_two_pages_and_a_spectator_counted_on_both(web):  # noqa: F811
    web.start()
    ada, bob = web.player("ada"), web.player("bob")
    ada.open()
    bob.open()
    ada.create("porch", players=3, computers=1)
    bob.page.get_by_role("button", name="Join “porch”").click()
    for player in (ada, bob):
        player.page.locator("#table").wait_for()
    ada.page.fill("#chat-text", "good luck, bob")
    ada.page.click("#say")
    for player in (ada, bob):
        player.page.locator("#log li.chat", has_text="ada: good luck, bob").wait_for()
    assert ada.page.input_value("#chat-text") == ""
    [said] = [f for f in ada.sent if f["cmd"] == "CHAT"]
    assert said["payload"] == {"data": {"text": "good luck, bob"}}
    room_id = ada.page.evaluate("() => JSON.parse(localStorage.getItem('cardgame.seat'))")
    room_id = room_id["ticket"]["room_id"] if room_id else None
    eve = web.player("eve")
    eve.page.goto(eve.origin + "/")
    assert eve.page.evaluate(WATCH_AND_SAY, [room_id, "hello from the gallery"]) == 1
    for player in (ada, bob):
        player.page.locator("#log li.chat", has_text="eve (watching): hello from the gallery"
                            ).wait_for()  # fmt: skip
    # the next view of the table says one watches
    play_together([ada, bob], until=lambda: ada.page.inner_text("#watching") == "1")
    assert ada.page.inner_text("#watching") == "1"
    assert not [e for e in ada.errors + bob.errors]
