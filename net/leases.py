"""Which process runs each room: leases in the database, renewed by their owner.

A room's row names its owner (a process id, new at every start) and when the lease
runs out, on the database's clock. The owner renews every lease it holds a third of
the way through; every write of the room is fenced by it (``pg_store.FENCE``). A
process that stops renewing (killed, frozen, cut off) loses its rooms when their
leases run out: a live process claims them (here, in the background, or at once
when a player's connection asks for one, :func:`take_over`) and restores each from
its last committed snapshot. A process that finds a lease of its own gone stops
running that room: its players reconnect and are sent to the new owner.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from cardgame.fsm.snapshot import SnapshotError

from .room import Room
from .store import StoredRoom, StoreError

if TYPE_CHECKING:
    from .lobby import Lobby
    from .pg_store import PgStore

log = logging.getLogger("cardgame.net")

#: Rooms one process claims in one pass: a dead process's rooms spread over the others.
CLAIM_BATCH = 50


async def keep_leases(
    store: PgStore, lobby: Lobby, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """Renew this process's leases, give up the rooms it lost, claim rooms nobody runs."""
    interval = store.lease_seconds / 3
    started = False
    while True:
        try:
            held = list(lobby.rooms)
            kept = await store.renew(held)
            for room_id in held:
                if room_id not in kept:
                    lose(lobby, room_id)
            start(lobby, await store.claim(limit=CLAIM_BATCH))
        except StoreError as err:  # the database is away: try again next time
            log.error("lease renewal failed: %s", err)
        if not started:
            task_status.started()
            started = True
        await trio.sleep(interval)


def lose(lobby: Lobby, room_id: str) -> None:
    room = lobby.rooms.get(room_id)
    if room is not None and not room.closing:
        log.warning("room %s: the lease ran out; another process runs it now", room_id)
        room.give_up()


def start(lobby: Lobby, stored_rooms: list[StoredRoom]) -> list[Room]:
    """Run here the rooms this process has just claimed, as they were last committed."""
    started = []
    for stored in stored_rooms:
        if stored.room_id in lobby.rooms:
            continue  # still closing here: the next claim takes it
        try:
            room = Room.restore(stored, lobby.store, lobby.config)
        except SnapshotError as err:
            log.error("room %s cannot be restored: %s", stored.room_id, err)
            continue
        log.info("room %s taken over by this process", stored.room_id)
        lobby.start_room(room)
        started.append(room)
    return started


async def take_over(store: PgStore, lobby: Lobby, room_id: str) -> Room | None:
    """The room, if its lease has run out and this process wins the claim."""
    started = start(lobby, await store.claim(room_id))
    return started[0] if started else None
