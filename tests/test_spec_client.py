"""A client written only from ``specs/`` (protocol.md, schema/, asyncapi.yaml,
rules-decisions.md) and RULES.md plays whole games against a real server.

It uses nothing of the project but the ``server`` fixture: plain ``trio_websocket``
and ``json``. Every server message is checked against the envelope the spec promises,
the numbering of server ids, and the player's own hand is tracked as a ledger of what
the client played and was told it picked.

Where the spec left the client guessing, the guess is marked here:
- a question is recognised by ``flag`` USER_INPUT_CONTINUE (protocol.md "Questions"),
  although Scenario B step 7 says a re-asked question comes with ``GAME_CONTINUE``;
- ``next_cmd`` of a pick notice is not relied on for the count (a penalty of 3 or 4
  cards has no PICK_n of its own): the picked cards are ``extra_data``;
- the ``hand`` of a pick notice is taken to be the hand after the pick;
- a special card taken from my hand by a ``-``/``?`` or ``-``/``->`` combination comes
  with no structured notice, so a special may leave the hand unexplained;
- ``last_card`` is sent on the play and on the drop owed by it (which answer carries
  it is not said), whenever the play could leave one card;
- after ``game_over`` the server keeps ``/game`` open: the client closes it.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from typing import Any

import trio
from trio_websocket import ConnectionClosed, open_websocket_url

COLOURS = ("red", "blue", "green", "yellow")
SHAPES = ("cross", "square", "triangle", "circle", "cup")
SYMBOLS = ("1", "2", "->", "?", "-")
CARD = re.compile(r"^(red|blue|green|yellow)-(cross|square|triangle|circle|cup|1|2|->|\?|-)$")
PAYLOAD_KEYS = {"prompt", "data", "return_type", "flag", "next_cmd", "extra_data"}
FLAGS = {None, "USER_INPUT_CONTINUE", "GAME_CONTINUE"}
NEXT_CMDS = {None, "PICK_OPTION", "PICK_CARDS", "PICK_ONE", "PICK_TWO"}
RETURN_TYPES = {None, "INT", "STR", "LIST"}
VIEW_KEYS = {
    "top_card",
    "hand",
    "you",
    "turn",
    "players",
    "penalty",
    "request",
    "market",
    "state",
    "event",
}
VIEW_CMDS = {"GAME_MESSAGE_REP", "CREATE_A_COMPUTER", "LEAVE_REP"}
# protocol.md, "Questions": question -> (next_cmd, return_type)
QUESTIONS = {
    "first_player": ("PICK_OPTION", "INT"),
    "turn": ("PICK_CARDS", "LIST"),
    "request": ("PICK_OPTION", "STR"),
    "drop": ("PICK_CARDS", "LIST"),
    "vote": ("PICK_OPTION", "STR"),
}
SEND_INTERVAL = 0.06  # protocol.md: 20 messages a second, bursts of 40


def colour(card: str) -> str:
    return card.split("-", 1)[0]


def sign(card: str) -> str:
    return card.split("-", 1)[1]


def is_special(card: str) -> bool:
    return sign(card) in SYMBOLS


class Conn:
    """One WebSocket connection: fresh client ids, envelope and numbering checks."""

    def __init__(self, ws: Any, endpoint: str) -> None:
        self.ws = ws
        self.endpoint = endpoint
        self.prefix = f"{endpoint[0]}{random.randrange(16**6):06x}-"
        self.count = 0
        self.last_id = 0  # server ids are 1, 2, 3... with no gap
        self.last_sent: str | None = None
        self.last_send_time = -1.0
        self.log: list[dict[str, Any]] = []
        self.unpacked: list[dict[str, Any]] = []  # pushes a LOBBY_CHANGED carried

    async def send(self, cmd: str, payload: dict[str, Any]) -> str:
        self.count += 1
        msg_id = f"{self.prefix}{self.count}"
        await self._send_text(json.dumps({"cmd": cmd, "msg_id": msg_id, "payload": payload}))
        return msg_id

    async def _send_text(self, text: str) -> None:
        wait = self.last_send_time + SEND_INTERVAL - trio.current_time()
        if wait > 0:
            await trio.sleep(wait)
        self.last_send_time = trio.current_time()
        self.last_sent = text
        await self.ws.send_message(text)

    async def recv(self) -> dict[str, Any]:
        while True:
            text = await self.ws.get_message()
            assert isinstance(text, str), "the spec promises text frames"
            msg = json.loads(text)
            check_envelope(msg)
            self.log.append(msg)
            if msg["msg_id"] == "0" and msg["cmd"] == "GET_ROOMATES_REP":
                continue  # a roommates tick while the room fills: outside the stream
            if msg["msg_id"] == "0":
                # outside the numbered stream: a refusal that never reached the game
                assert msg["cmd"] == "ERROR", msg
                if msg["payload"]["data"]["code"] == "rate_limited" and self.last_sent:
                    await trio.sleep(0.5)
                    await self._send_text(self.last_sent)  # same client id: applied once
                    continue
                return msg
            number = int(msg["msg_id"])
            assert number == self.last_id + 1, (
                f"{self.endpoint}: server id {number} after {self.last_id}: {msg}"
            )
            self.last_id = number
            return msg

    async def expect(self, cmd: str) -> dict[str, Any]:
        """The next message named ``cmd``; lobby pushes in between are allowed. A
        ``LOBBY_CHANGED`` carries several pushes (``data``: each one's cmd, prompt, data)."""
        while True:
            msg = self.unpacked.pop(0) if self.unpacked else await self.recv()
            if msg["cmd"] == "LOBBY_CHANGED":
                self.unpacked += [{"cmd": item["cmd"], "payload": item}
                                  for item in msg["payload"]["data"]]  # fmt: skip
                continue
            if msg["cmd"] == cmd:
                return msg
            assert msg["cmd"] in {
                "ROOM_BEING_CREATED",
                "ROOM_CREATED",
                "ROOM_ABANDONED",
                "ROOM_UPDATED",
                "GET_ROOMATES_REP",
            }, f"waiting for {cmd}, got {msg}"


def check_envelope(msg: Any) -> None:
    """protocol.md, "Messages": {cmd, msg_id, payload} with six payload keys."""
    assert isinstance(msg, dict), msg
    assert set(msg) == {"cmd", "msg_id", "payload"}, msg
    assert isinstance(msg["cmd"], str) and msg["cmd"], msg
    assert isinstance(msg["msg_id"], str) and msg["msg_id"].isdigit(), msg
    payload = msg["payload"]
    assert isinstance(payload, dict) and set(payload) == PAYLOAD_KEYS, msg
    assert isinstance(payload["prompt"], str), msg
    assert payload["flag"] in FLAGS, msg
    assert payload["next_cmd"] in NEXT_CMDS, msg
    assert payload["return_type"] in RETURN_TYPES, msg
    if msg["cmd"] == "ERROR":
        assert set(payload["data"]) == {"code", "cmd"}, msg
    if msg["cmd"] in VIEW_CMDS:
        data = payload["data"]
        assert isinstance(data, dict) and "top_card" in data, msg
        if data.get("event") in {"picked", "away", "back"}:
            return
        assert set(data) >= VIEW_KEYS, f"view lacks {VIEW_KEYS - set(data)}: {msg}"
        assert data["top_card"] is None or CARD.match(data["top_card"]), msg
        assert all(CARD.match(card) for card in data["hand"]), msg
        assert data["players"][data["you"]]["cards"] == len(data["hand"]), msg


class Ledger:
    """My hand as I was told it, explained by what I played and what I picked."""

    def __init__(self) -> None:
        self.hand: Counter[str] | None = None
        self.added: Counter[str] = Counter()  # announced in pick notices, not yet seen
        self.removed: Counter[str] = Counter()  # sent in answers, not yet seen gone
        self.taken: list[str] = []  # specials that left without my doing (a take)
        self.uncertain: Counter[str] = Counter()  # sent just before a pause

    def observe(self, hand: list[str], where: Any) -> None:
        new = Counter(hand)
        if self.hand is None:
            self.hand = new
            return
        for card, n in (new - self.hand).items():
            assert self.added[card] >= n, f"{card} appeared without a pick notice: {where}"
            self.added[card] -= n
        for card, n in (self.hand - new).items():
            mine = min(n, self.removed[card])
            self.removed[card] -= mine
            maybe = min(n - mine, self.uncertain[card])
            self.uncertain[card] -= maybe
            mine += maybe
            if n - mine:
                assert is_special(card), f"{card} left my hand unexplained: {where}"
                self.taken += [card] * (n - mine)
        self.hand = new
        self.added, self.removed, self.uncertain = +self.added, +self.removed, +self.uncertain

    def settle(self, where: Any) -> None:
        """At my next question every play was applied and every pick reflected."""
        common = self.added & self.removed  # picked the same face I had played
        self.added -= common
        self.removed -= common
        self.uncertain.clear()
        assert not self.added, f"picked {dict(self.added)} but never saw them: {where}"
        assert not self.removed, f"my play {dict(self.removed)} was not applied: {where}"


def choose_play(hand: list[str], top: str, penalty: int, request: str | None) -> list[str]:
    """RULES.md: one matching card, or [] to draw / take the penalty."""
    if penalty:
        return next(([c] for c in hand if sign(c) == sign(top)), [])  # stack, or take it
    for card in hand:
        if request:
            ok = request in (colour(card), sign(card)) or sign(card) == "?"
        else:
            ok = colour(card) == colour(top) or sign(card) == sign(top)
        if ok:
            return [card]
    return []


class Player:
    def __init__(self, url: str, ticket: dict[str, Any], *, leave: bool = False) -> None:
        self.url = url
        self.ticket = ticket
        self.leave = leave
        self.ledger = Ledger()
        self.you: int | None = None
        self.view: dict[str, Any] | None = None
        self.result: dict[str, Any] | None = None
        self.paused_seen = False
        self.voted = False
        self.resumed_flags: list[Any] = []
        self.whys: list[tuple[str, str, int]] = []
        self.picks = 0
        self.plays = 0
        self.close_code: int | None = None

    async def run(self) -> None:
        async with open_websocket_url(self.url + "/game") as ws:
            conn = Conn(ws, "game")
            self.conn = conn
            await conn.send("JOIN_GAME", {"data": self.ticket})
            while self.result is None:
                try:
                    msg = await conn.recv()
                except ConnectionClosed as closed:
                    self.close_code = closed.reason.code
                    assert self.leave, f"closed during the game: {closed.reason}"
                    return
                await self.handle(conn, msg)

    async def handle(self, conn: Conn, msg: dict[str, Any]) -> None:
        cmd, payload = msg["cmd"], msg["payload"]
        data = payload["data"]
        if cmd == "ERROR":
            # an answer racing with a pause is refused (its question was discarded)
            refused = {"stale_answer", "no_question", "not_now"}
            assert self.paused_seen and data["code"] in refused, msg
            return
        if cmd in {"JOIN_GAME_REP", "GET_ROOMATES_REP"}:
            assert data["room_id"] == self.ticket["room_id"], msg
            assert self.you in (None, data["you"]), msg
            self.you = data["you"]
            return
        assert cmd in VIEW_CMDS, msg
        event = data["event"]
        if event in {"away", "back"}:
            return
        if event == "picked":
            # a pick notice: nothing to answer, the cards are in extra_data
            assert payload["next_cmd"] in {"PICK_ONE", "PICK_TWO"}, msg
            assert payload["return_type"] is None, msg
            picked = payload["extra_data"]
            assert isinstance(picked, list) and all(CARD.match(c) for c in picked), msg
            self.whys.append((payload["next_cmd"], data["why"], len(picked)))
            self.picks += len(picked)
            self.ledger.added.update(picked)
            self.ledger.observe(data["hand"], msg)
            return
        self.view = data
        assert self.you in (None, data["you"]), msg
        self.you = data["you"]
        self.ledger.observe(data["hand"], msg)
        if event == "paused":
            self.paused_seen = True
            # an answer still in flight may be refused (an ERROR that does not say
            # which message it refuses): whether it was applied, the hand will tell
            self.ledger.uncertain += self.ledger.removed
            self.ledger.removed.clear()
            if self.leave:
                await conn.send("LEAVE", {})
            return
        if event == "left":
            assert cmd == "LEAVE_REP" and self.leave, msg
            return
        if event == "resumed":
            self.resumed_flags.append(payload["flag"])
        if event == "game_over":
            self.result = data["result"]
            return
        if event == "game_begin" and self.leave:
            await conn.send("GAME_MESSAGE", {"action": "leave"})
            return
        question = data.get("question")
        is_question = payload["flag"] == "USER_INPUT_CONTINUE" or (
            question is not None and payload["return_type"] is not None
        )
        if not is_question or self.leave:
            assert question is None or self.leave, f"a question without its flag: {msg}"
            return
        assert payload["flag"] == "USER_INPUT_CONTINUE", f"question flag: {msg}"
        assert (payload["next_cmd"], payload["return_type"]) == QUESTIONS[question], msg
        answer = self.answer(question, data, payload["extra_data"], msg)
        await conn.send("GAME_MESSAGE", {"action": "answer", "reply_to": msg["msg_id"], **answer})

    def answer(
        self, question: str, data: dict[str, Any], options: Any, msg: dict[str, Any]
    ) -> dict[str, Any]:
        hand = data["hand"]
        if question == "first_player":
            seats = [o["seat"] if isinstance(o, dict) else int(o) for o in options]
            assert self.you in seats, msg
            return {"data": self.you}
        if question == "vote":
            assert msg["cmd"] == "CREATE_A_COMPUTER" and "yes" in options, msg
            self.voted = True
            return {"data": "yes"}
        if question == "request":
            assert set(options) == set(COLOURS) | set(SHAPES), msg
            held = Counter(colour(c) for c in hand if not is_special(c))
            return {"data": held.most_common(1)[0][0] if held else options[0]}
        if question == "drop":
            count = data["count"]
            assert Counter(options) <= Counter(hand), msg
            assert all(not is_special(c) for c in options), msg
            cards = options[:count]
            self.ledger.removed.update(cards)
            return {"data": cards, "last_card": len(hand) - len(cards) == 1}
        assert question == "turn", msg
        self.ledger.settle(msg)
        assert data["turn"] == self.you, msg
        assert Counter(options) == Counter(hand), f"extra_data is not my hand: {msg}"
        cards = choose_play(hand, data["top_card"], data["penalty"], data["request"])
        self.ledger.removed.update(cards)
        self.plays += bool(cards)
        # the check is at the end of the whole play (a `-` may still owe a drop)
        return {"data": cards, "last_card": bool(cards) and len(hand) - len(cards) <= 2}

    def check_result(self) -> None:
        result, view = self.result, self.view
        assert result is not None and view is not None
        assert result["reason"] == "won", result
        winner = result["winner"]
        assert isinstance(winner, int), result
        ranking = result["ranking"]
        assert [r["seat"] for r in ranking].count(winner) == 1, result
        assert ranking[0]["seat"] == winner and ranking[0]["cards"] == 0, result
        assert sorted(r["seat"] for r in ranking) == list(range(len(view["players"]))), result
        assert [r["cards"] for r in ranking] == sorted(r["cards"] for r in ranking), result
        for r in ranking:
            assert view["players"][r["seat"]]["cards"] == r["cards"], (r, view)
        mine = next(r for r in ranking if r["seat"] == self.you)
        assert mine["cards"] == len(view["hand"]) == sum(self.ledger.hand.values()), result
        assert (winner == self.you) == (view["hand"] == []), result


async def lobby_call(conn: Conn, cmd: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    await conn.send(cmd, {} if data is None else {"data": data})
    reply = await conn.expect(cmd + "_REP")
    return reply["payload"]["data"]


async def test_one_person_against_a_computer_plays_to_the_end(server):
    with trio.fail_after(60):
        async with open_websocket_url(server.url + "/lobby") as ws:
            lobby = Conn(ws, "lobby")
            rooms = await lobby_call(lobby, "GET_ROOMS")
            assert isinstance(rooms, list)
            ticket = await lobby_call(
                lobby,
                "CREATE_A_ROOM",
                {"room_name": "spec", "num_of_players": 2, "user_name": "ada", "computers": 1},
            )
            assert set(ticket) == {"room_id", "user_id", "token"}
        ada = Player(server.url, ticket)
        await ada.run()
    ada.check_result()
    assert ada.you == 0
    assert [p["computer"] for p in ada.view["players"]] == [False, True]


async def test_two_persons_each_from_their_lobby_play_to_the_end(server):
    with trio.fail_after(60):
        async with (
            open_websocket_url(server.url + "/lobby") as ws_a,
            open_websocket_url(server.url + "/lobby") as ws_b,
        ):
            lobby_a, lobby_b = Conn(ws_a, "lobby"), Conn(ws_b, "lobby")
            await lobby_call(lobby_b, "GET_ROOMS")  # bob is in the lobby
            creating = await lobby_call(lobby_a, "CREATING_A_ROOM", {"user_name": "ada"})
            pushed = await lobby_b.expect("ROOM_BEING_CREATED")
            assert pushed["payload"]["data"] == creating
            ticket_a = await lobby_call(
                lobby_a,
                "CREATE_A_ROOM",
                {"room_name": "spec2", "num_of_players": 2, "user_name": "ada"},
            )
            created = (await lobby_b.expect("ROOM_CREATED"))["payload"]["data"]
            assert created["creation_id"] == creating["creation_id"]
            room = created["room"]
            assert room["room_id"] == ticket_a["room_id"]
            assert room["players"] == ["ada"] and room["seats_left"] == 1
            ticket_b = await lobby_call(
                lobby_b, "JOIN_ROOM", {"room_id": room["room_id"], "user_name": "bob"}
            )
            assert ticket_b["room_id"] == room["room_id"]
            updated = (await lobby_a.expect("ROOM_UPDATED"))["payload"]["data"]
            assert updated["seats_left"] == 0 and updated["players"] == ["ada", "bob"]
            roommates = await lobby_call(lobby_a, "GET_ROOMATES")
            assert [p["name"] for p in roommates["players"]] == ["ada", "bob"]
        ada, bob = Player(server.url, ticket_a), Player(server.url, ticket_b)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ada.run)
            nursery.start_soon(bob.run)
    ada.check_result()
    bob.check_result()
    assert (ada.you, bob.you) == (0, 1)
    assert ada.result == bob.result
    # each saw the other's count only, and the counts agree at the end
    assert ada.view["players"] == bob.view["players"]


async def test_a_person_leaves_the_other_votes_yes_and_plays_on(server):
    with trio.fail_after(60):
        async with (
            open_websocket_url(server.url + "/lobby") as ws_a,
            open_websocket_url(server.url + "/lobby") as ws_b,
        ):
            lobby_a, lobby_b = Conn(ws_a, "lobby"), Conn(ws_b, "lobby")
            ticket_a = await lobby_call(
                lobby_a,
                "CREATE_A_ROOM",
                {"room_name": "spec3", "num_of_players": 3, "user_name": "ada", "computers": 1},
            )
            ticket_b = await lobby_call(
                lobby_b, "JOIN_ROOM", {"room_id": ticket_a["room_id"], "user_name": "bob"}
            )
        ada, bob = Player(server.url, ticket_a), Player(server.url, ticket_b, leave=True)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ada.run)
            nursery.start_soon(bob.run)
    assert bob.close_code == 1000, bob.close_code
    assert bob.view["event"] == "left"
    assert ada.paused_seen and ada.voted
    ada.check_result()
    assert [p["computer"] for p in ada.view["players"]] == [False, True, True]
