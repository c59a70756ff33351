"""The game screen: one seat's game connection, shown and answered line by line.

Every message is printed in the table's words; a question shows the table, the hand
(``*`` marks what may be played or dropped) and a help line saying exactly what the
prompt expects. The socket and the keyboard are raced, so a message that arrives
while the player is typing is shown without losing the line.

Every question has a clock on the server: the prompt shows the seconds left when it
is printed (``[38 s] Your move:``; printed again after a chat line, say, it counts
what is left then), a warning comes 10 s before the end, and when it
runs out the server's words say what happened ("ada ran out of time; …"). The
countdown is the server's ``seconds_left`` from the moment the question arrived, on
this process's own clock, never a clock of the client's guessing.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any

import trio
from rich.text import Text

from cardgame.fsm import rules
from cardgame.fsm.bots import bot_view
from cardgame.fsm.cards import DROP, parse_card
from cardgame.fsm.game import (
    Q_DROP,
    Q_FIRST_PLAYER,
    Q_REQUEST,
    Q_TURN,
    Q_VOTE,
    QUESTION_PROMPTS,
    USER_INPUT_CONTINUE,
)
from cardgame.fsm.session import WAITING, Session
from cardgame.net.client import GameClient

from . import render
from .answers import parse_answer
from .left_games import save_left_game
from .lines import Ask

if TYPE_CHECKING:
    from .terminal import TerminalClient

Message = dict[str, Any]

# The prompt for each question kind: short, the help line under the hand explains it.
PROMPTS: dict[str, str] = {
    Q_TURN: "Your move:",
    Q_DROP: "Cards to drop:",
    Q_REQUEST: "Colour or shape:",
    Q_FIRST_PLAYER: "Player number:",
    Q_VOTE: "Computer player (y/n)?",
}

#: Seconds before a question's time runs out when the player is warned.
WARNING_SECONDS = 10


class GameScreen:
    """One game connection: show every message, answer questions, leave on request."""

    def __init__(self, client: TerminalClient, game: GameClient, session: Session) -> None:
        self.client = client
        self.game = game
        self.session = session
        self.backlog: deque[Message] = deque()
        self.leaving = False
        self.deadline: float | None = None  # when the pending question's time runs out
        self.shown_left = 0  # whole seconds left when the prompt was printed
        self.warned = False

    async def next_message(self) -> Message:
        message = self.backlog.popleft() if self.backlog else await self.game.receive()
        self.session.observe(message, you_are_leaving=self.leaving)
        self.follow_clock(message)
        return message

    async def run(self) -> str:
        client, game = self.client, self.game
        while True:
            outcome = self.show(await self.next_message())
            if outcome is not None:
                return outcome
            while not self.backlog:
                question = game.question
                ask = self.ask_for(question)
                line, message = await client.race(ask, self.receive_or_warn)
                if message is not None:
                    self.backlog.append(message)
                if line is None:
                    continue
                if question is not None and game.question is not question:
                    client.say("That question is no longer asked; your line was ignored.")
                    continue
                outcome = await self.on_line(ask, question, line)
                if outcome is not None:
                    return outcome
                if question is not None and game.question is None:
                    break  # answered: the server's reply comes next

    async def receive_or_warn(self) -> Message | None:
        """The next message; or None once the warning that time is running out is shown
        (so the question is asked again, its prompt saying so)."""
        if self.game.question is not None and self.deadline is not None and not self.warned:
            with trio.move_on_at(self.deadline - WARNING_SECONDS):
                return await self.game.receive()
            self.warned, self.shown_left = True, WARNING_SECONDS
            self.client.say(f"{WARNING_SECONDS} seconds left to answer.", style="bold yellow")
            return None
        return await self.game.receive()

    def follow_clock(self, message: Message) -> None:
        """A question (or, on resuming, JOIN_GAME_REP) says how long is left: from now."""
        data = message["payload"].get("data")
        if not isinstance(data, dict) or data.get("seconds_left") is None:
            return
        if message["cmd"] != "JOIN_GAME_REP" and message["payload"].get("flag") != (
            USER_INPUT_CONTINUE
        ):
            return
        left = data["seconds_left"]
        self.deadline = trio.current_time() + left
        self.shown_left = math.ceil(left)
        self.warned = left <= WARNING_SECONDS

    def timed(self, prompt: str) -> str:
        """The prompt with the seconds left: counted again whenever the prompt is printed
        afresh (after a chat line, the rules, a refused line), kept while it stays on
        the screen (so it is not printed twice)."""
        if self.deadline is None:
            return prompt
        if not self.client.prompt_on_screen:
            left = self.deadline - trio.current_time()
            self.shown_left = max(0, math.ceil(left))
        return f"[{self.shown_left} s] {prompt}"

    def ask_for(self, question: Message | None) -> Ask:
        ran_out = self.deadline is not None and trio.current_time() >= self.deadline
        if question is None or ran_out:  # after the time: the server's words come next
            return Ask("wait", view=self.game.view, optional=True)
        data = question["payload"]["data"]
        kind = data["question"]
        return Ask(
            kind,
            self.timed(PROMPTS.get(kind, ">")),
            view=data,
            options=question["payload"].get("extra_data") or [],
            count=data.get("count", 0),
        )

    async def on_line(self, ask: Ask, question: Message | None, line: str) -> str | None:
        client = self.client
        reply = parse_answer(ask, line)
        if reply.error:
            client.say(reply.error, style="yellow")
            return None
        if reply.command == "rules":
            client.show_rules()
            if question is not None:
                self.show_question(question)  # the hand again, below the rules
            return None
        if reply.command == "say":
            await self.game.chat(reply.data)
            return None
        if reply.command == "leave":
            if not await self.confirm_leave():
                return None
            return await self.leave()
        assert question is not None
        if ask.kind == Q_TURN and not await self.confirm_play(ask, reply.data):
            self.show_question(question)
            return None
        if self.game.question is not question:
            client.say("That question is no longer asked; your line was ignored.")
            return None
        await self.game.answer(reply.data, reply.last_card)
        return None

    async def confirm_leave(self) -> bool:
        """``q`` leaves for good (the seat goes to a vote): asked once more."""
        if self.session.state == WAITING:
            prompt = "Leave the room before the game begins? (y/n)"
        else:
            prompt = "Leave the game? The others vote on a computer taking your seat. (y/n)"
        yes = {"y": "leaves", "n": "stays"}
        return await self.client.choose(prompt, yes, "confirm_leave") == "y"

    async def confirm_play(self, ask: Ask, played: list[str]) -> bool:
        """A play the client can tell is wrong costs two cards: warn, and ask."""
        if not played:
            return True
        view = bot_view(ask.view or {})
        chosen = tuple(parse_card(t) for t in played)
        if chosen in rules.legal_plays(view.hand, view.top_card, view.request, view.penalty_symbol):
            return True
        penalty = (ask.view or {}).get("penalty", 0)
        why = rules.why_wrong(chosen, view.top_card, view.request, penalty, view.penalty_symbol)
        glyphs = self.client.glyphs
        warning = render.sentence(
            f"Wrong card: {why}. Played anyway, it costs you 2 cards.", glyphs
        )
        self.client.say(Text.assemble(warning, style="yellow"))
        choices = {"y": "plays it anyway", "n": "chooses again"}
        return await self.client.choose("Play it anyway? (y/n)", choices, "confirm_play") == "y"

    # -- showing messages -------------------------------------------------------------------

    def show(self, message: Message) -> str | None:
        """Print one message; "over" or "left" when the game has ended for this player."""
        client, glyphs = self.client, self.client.glyphs
        cmd, payload = message["cmd"], message["payload"]
        data = payload.get("data")
        if cmd == "ERROR":
            refused = render.sentence(f"The server refused: {payload.get('prompt')}", glyphs)
            client.say(Text.assemble(refused, style="red"))
            if self.game.question is not None:  # refused, still pending: asked again
                self.show_question(self.game.question)
            return None
        if cmd in ("JOIN_GAME_REP", "GET_ROOMATES_REP"):
            line = render.roommates(data)
            if line.plain != client._shown_roommates and self.session.state == WAITING:
                client._shown_roommates = line.plain
                client.say(line)
            return None
        if cmd == "LEAVE_REP":
            return "left"
        if cmd == "CHAT_REP":
            client.say(render.chat_line(data))
            return None
        if not isinstance(data, dict):
            client.say(render.sentence(payload.get("prompt") or "", glyphs))
            return None
        event = data.get("event")
        if event == "picked":
            client.say(render.picked(message, glyphs))
            return None
        prompt = payload.get("prompt") or ""
        # The server's question sentence is for any client; the help line says it for this one.
        asked = QUESTION_PROMPTS.get(data.get("question"))
        if asked and prompt.endswith(asked):
            prompt = prompt.removesuffix(asked).rstrip()
        style = "bold" if event in ("game_begin", "paused", "resumed", "game_over") else ""
        client.say(Text.assemble(render.sentence(prompt, glyphs), style=style))
        if event == "game_over":
            client.results.append(message)
            client.say(render.result(data))
            return "over"
        if payload.get("flag") == USER_INPUT_CONTINUE:
            self.show_question(message)
        elif event in ("game_begin", "resumed"):
            client.say(render.table(data, glyphs), render.hand(data, glyphs))
        return None

    def show_question(self, message: Message) -> None:
        client, glyphs = self.client, self.client.glyphs
        data = message["payload"]["data"]
        ask = self.ask_for(message)
        client.say(Text(""), render.table(data, glyphs))
        if ask.kind == Q_TURN:
            client.say(render.hand(data, glyphs, marked=render.playable(data)))
        elif ask.kind == Q_DROP:
            normals = {t for t in data["hand"] if not parse_card(t).special}
            client.say(render.hand(data, glyphs, marked=normals))
        elif ask.kind == Q_REQUEST:
            listed = "  ".join(f"{n} {o}" for n, o in enumerate(ask.options, start=1))
            client.say(render.hand(data, glyphs), Text(listed))
        else:
            client.say(render.hand(data, glyphs))
        client.say(Text(self.help(ask), style="cyan"))

    def help(self, ask: Ask) -> str:
        """Exactly what the prompt expects."""
        view = ask.view or {}
        if ask.kind == Q_TURN:
            if view.get("penalty"):
                symbol = bot_view(view).penalty_symbol
                them = "it" if view["penalty"] == 1 else "them"
                text = (
                    f"You must pick {view['penalty']}: type `d` to take {them}, or the number "
                    f"of a {render.SYMBOL_NAMES[symbol]} card to pass {them} on."
                )
            else:
                text = (
                    "Type card numbers: `3`, or `3 5` for a combination; `d` to draw; "
                    "add `!` to announce your last card (`3!`)."
                )
                if view.get("request"):
                    text += f" {render.requested(view['request'])}, or draw."
            hand = view.get("hand", [])
            drops = any(parse_card(t).sign == DROP for t in hand)
            if len(hand) in (2, 3) or (drops and len(hand) <= 5):
                text += (
                    "\nLast card: if your play leaves you one card, add `!` (like `1!`), "
                    "or you pick 1."
                )
            text += (
                "\n* marks the cards that match. `/say …` talks to the room, `r` shows "
                "the rules, `q` leaves the game."
            )
            return text
        if ask.kind == Q_DROP:
            count = ask.count
            return (
                f"Drop {count} normal card{'s' if count != 1 else ''} (marked *): type "
                f"{'its number, like `2`' if count == 1 else f'{count} numbers, like `2 4`'}."
            )
        if ask.kind == Q_REQUEST:
            return "Name a colour or a shape for the next player: type its number or its name."
        if ask.kind == Q_FIRST_PLAYER:
            players = view.get("players", [])
            listed = ", ".join(f"{n} {p['name']}" for n, p in enumerate(players, start=1))
            return f"Who plays first? Type a player's number ({listed})."
        if ask.kind == Q_VOTE:
            return (
                "Should a computer player take the empty seat? Type `y` or `n` "
                "(`n` ends the game; `q` to leave too)."
            )
        return "Type `r` for the rules or `q` to leave."

    # -- leaving (Scenario B) ---------------------------------------------------------------

    async def leave(self) -> str | None:
        """Ask to leave, save the paused state, send LEAVE, wait for LEAVE_REP."""
        client, game = self.client, self.game
        if self.session.state == WAITING:
            client.say("You left the room before the game began.")
            return "left"
        await game.request_leave()
        self.leaving = True
        while True:
            message = await self.next_message()
            data = message["payload"].get("data")
            event = data.get("event") if isinstance(data, dict) else None
            if message["cmd"] == "ERROR":
                self.leaving = False
                self.show(message)
                return None
            if event == "paused":
                break
            outcome = self.show(message)
            if outcome is not None:
                return outcome
        client.say(render.sentence(message["payload"].get("prompt") or "", client.glyphs))
        path = save_left_game(game.ticket, client.name, message)
        client.saved = path
        await game.leave()
        while True:
            message = await self.next_message()
            if message["cmd"] in ("LEAVE_REP", "ERROR"):
                break
        if message["cmd"] == "ERROR":
            client.say(f"The server refused: {message['payload'].get('prompt')}", style="red")
        client.say("You left the game.", style="bold")
        client.say(
            "Your last view of it (your hand and the table when it paused) is kept for you to "
            f"look back at; nothing reads it back: {path}"
        )
        return "left"
