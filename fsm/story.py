"""The story of a move: what the whole table was told, in the table's own sentences.

A move's messages go one per seat; the sentences everybody shares (who played what,
whose turn it is) are the story a replay reads back, computers' moves included. Rule:
nothing private goes in — no pick notice (the cards a player picked), no refusal, no
reply meant for one player only — so the story can be logged with the move.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .messages import QUESTION_PROMPTS

#: Messages for one player only, never part of the shared story.
_PRIVATE_CMDS = frozenset({"ERROR", "JOIN_GAME_REP", "LEAVE_REP", "GET_ROOMATES_REP"})
_PRIVATE_EVENTS = frozenset({"picked", "away", "back"})


def told_to_all(messages: Iterable[tuple[int, dict[str, Any]]]) -> list[str]:
    """The shared sentences of one move, as one seat that saw all of them was told."""
    by_seat: dict[int, list[str]] = {}
    for seat, message in messages:
        payload = message["payload"]
        data = payload.get("data")
        event = data.get("event") if isinstance(data, dict) else None
        if message["cmd"] in _PRIVATE_CMDS or event in _PRIVATE_EVENTS:
            continue
        prompt = payload.get("prompt") or ""
        asked = QUESTION_PROMPTS.get(data.get("question")) if isinstance(data, dict) else None
        if asked and prompt.endswith(asked):  # the question is that seat's, not the story
            prompt = prompt.removesuffix(asked).rstrip()
        if prompt:
            by_seat.setdefault(seat, []).append(prompt)
    if not by_seat:
        return []
    return by_seat[max(by_seat, key=lambda seat: (len(by_seat[seat]), -seat))]
