"""A room's clocks: one deadline on whatever the game awaits, one per reserved seat.

Rule 1: time is read here, with ``trio.current_time()``, and nowhere in ``fsm/``: so
``MockClock`` drives every clock in the tests, and a game replays without one.
Rule 2: a clock never touches the game. When it runs out it posts an event to the
room's inbox, naming the wait it was started for; the room task checks that the game
still awaits exactly that (``Awaited.serial``) before it applies ``Game.expire``, so
an answer that arrived first always wins.

The game's clock is one task in the room's nursery, asleep until the current wait's
deadline; each seat's is a task in its own cancel scope, which a connection cancels. The
room's nursery ending cancels them all, so no clock outlives its room.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

import trio

from cardgame.fsm.game import Awaited, ProtocolError

Post = Callable[..., Awaitable[None]]


class GameClock:
    """The deadline of the wait the game is in: a turn, a request, a drop, the first
    player, a vote, a LEAVE. Every wait gets ``seconds``; a new wait starts afresh.

    One task for the room's whole life, asleep in a cancel scope whose deadline is the
    current wait's: a new wait moves the deadline (no task started and another
    cancelled on every move, which cost more than the rest of a move's scheduling)."""

    def __init__(self, nursery: trio.Nursery, post: Post, seconds: float) -> None:
        self._post = post
        self.seconds = seconds
        self.awaited: Awaited | None = None
        self.deadline = 0.0
        self._armed: Awaited | None = None  # the wait the clock runs out for
        self._scope = trio.CancelScope()
        nursery.start_soon(self._run)

    def follow(self, awaited: Awaited | None) -> None:
        """After every event: keep the deadline if the wait is the same, else start anew."""
        if awaited is not None and self.awaited is not None and same_wait(awaited, self.awaited):
            self.awaited = awaited  # the same vote with fewer ballots to come
            return
        self.stop()
        self.awaited = awaited
        if awaited is None:
            return
        self.deadline = trio.current_time() + self.seconds
        self._armed = awaited
        self._scope.deadline = self.deadline

    def stop(self) -> None:
        self._armed = None
        self._scope.deadline = math.inf
        self.awaited = None

    def seconds_left(self) -> float | None:
        """What is left of the current wait, in whole tenths; None when nothing is awaited."""
        if self.awaited is None:
            return None
        return round(max(0.0, self.deadline - trio.current_time()), 1)

    def stamp(self, data: dict[str, Any]) -> None:
        """Put the clock in a view: whose wait, how long it allows, how long is left."""
        awaited = self.awaited
        if awaited is None:
            data["clock"] = None
            return
        data["clock"] = {
            "waiting_for": awaited.kind,
            "seats": list(awaited.seats),
            "seconds": self.seconds,
            "seconds_left": self.seconds_left(),
        }

    async def _run(self) -> None:
        while True:
            deadline = self.deadline if self._armed is not None else math.inf
            with trio.CancelScope(deadline=deadline) as self._scope:
                await trio.sleep_forever()
            # A new wait may have begun between the deadline and this task's turn: it
            # runs out only at its own deadline.
            if self._armed is not None and trio.current_time() >= self.deadline:
                awaited, self._armed = self._armed, None
                with suppress(ProtocolError):  # the room closed meanwhile: nothing to tell
                    await self._post("time_ran_out", awaited)


def same_wait(a: Awaited, b: Awaited) -> bool:
    return a.kind == b.kind and a.serial == b.serial


class SeatClocks:
    """A reserved seat must connect to ``/game`` within ``seconds`` or it is freed."""

    def __init__(self, nursery: trio.Nursery, post: Post, seconds: float) -> None:
        self._nursery = nursery
        self._post = post
        self.seconds = seconds
        self._scopes: dict[str, trio.CancelScope] = {}

    def start(self, user_id: str) -> None:
        self.cancel(user_id)
        scope = self._scopes[user_id] = trio.CancelScope()
        self._nursery.start_soon(self._run_out, scope, trio.current_time() + self.seconds, user_id)

    def cancel(self, user_id: str) -> None:
        scope = self._scopes.pop(user_id, None)
        if scope is not None:
            scope.cancel()

    def cancel_all(self) -> None:
        for user_id in list(self._scopes):
            self.cancel(user_id)

    def running(self, user_id: str) -> bool:
        return user_id in self._scopes

    async def _run_out(self, scope: trio.CancelScope, deadline: float, user_id: str) -> None:
        with scope:
            await trio.sleep_until(deadline)
            if self._scopes.get(user_id) is scope:
                del self._scopes[user_id]
                with suppress(ProtocolError):
                    await self._post("seat_wait_over", user_id)
