"""The server's settings, with the defaults a host gets from ``cardgame serve``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8888
    #: Seconds between roommate lists sent to a connected player while the room fills.
    roommates_interval: float = 4.0
    #: Seconds each question allows (turn, request, drop, first player, vote) and a leaver
    #: has to send LEAVE, in a room created without its own ``turn_seconds``; 0: no clock
    #: (``cardgame play --computers``: nobody waits on the one person playing).
    turn_seconds: float = 45.0
    #: Turns in a row a player may let the clock run out before they are treated as
    #: having left (the others vote on a computer); 0: never.
    idle_turns: int = 3
    #: Seconds a reserved seat may go without connecting to /game before it is freed.
    seat_wait: float = 120.0
    #: Seconds a dropped player's seat is held before it counts as a leave.
    grace_period: float = 60.0
    #: Frames longer than this (in characters) are refused with ``too_large``.
    max_frame: int = 64 * 1024
    #: Beyond this the transport closes the connection (1009) without reading the frame
    #: further: what an unfinished message can make the server hold.
    hard_frame_limit: int = 80 * 1024
    #: Connections open at once (handshakes included); more are answered 503. Lowered at
    #: start to what the descriptor limit allows.
    max_connections: int = 2048
    #: Connections open at once from one client address.
    max_connections_per_address: int = 64
    #: Seconds a new connection has to send its whole HTTP request head (slowloris).
    handshake_timeout: float = 5.0
    #: Seconds a ``/lobby`` connection may go without sending a message.
    lobby_idle_timeout: float = 300.0
    #: Seconds a fragmented message has to arrive whole.
    fragment_timeout: float = 10.0
    #: Token bucket per connection: sustained messages (and pings) per second, and burst.
    rate: float = 20.0
    burst: float = 40.0
    #: Refusals in a row for flooding before the connection is closed (1008).
    flood_close_after: int = 50
    #: Rooms open at once, overall and created from one client address.
    max_rooms: int = 1000
    max_rooms_per_address: int = 100
    #: Token bucket per client address for creating rooms: rooms per second, and burst.
    room_rate: float = 1.0
    room_burst: float = 60.0
    #: Token bucket per person for chat lines (players and spectators): lines per second,
    #: and burst.
    chat_rate: float = 0.5
    chat_burst: float = 5.0
    #: Spectators at once, in one room and overall.
    max_spectators_per_room: int = 50
    max_spectators: int = 1000
    #: Seconds between two pushes to lobby watchers: a burst of changes is one frame.
    lobby_push_interval: float = 0.25
    #: Push frames a second to every lobby watcher together: with more watchers than
    #: this allows at ``lobby_push_interval``, each is pushed less often (a frame costs
    #: the server a write per watcher, whatever it says).
    lobby_push_frames: float = 1000.0
    #: Bytes a slow connection may have queued before it is dropped (it can resume).
    outbox_bytes: int = 1024 * 1024
    #: Seconds a connection being closed has to take what is queued for it and answer
    #: the close frame; then its TCP connection is reset (a client that never reads).
    close_timeout: float = 5.0
    #: Seconds a room that has not filled may go without anybody connected before it
    #: is closed (so the lobby does not fill with rooms nobody will come back to).
    abandoned_after: float = 600.0
    #: Seconds a finished room stays reachable for late reconnections.
    finished_linger: float = 60.0
    #: Longest wait, in seconds, between retries of a write the storage refused.
    storage_retry: float = 2.0
    #: Several processes on one PostgreSQL database: seconds a room's lease lasts
    #: (renewed every third of it); a dead process's rooms go on elsewhere after it.
    lease_seconds: float = 10.0
    #: The ws:// address clients reach this process at (sent with ``moved``); empty:
    #: ws://host:port.
    public_url: str = ""
