"""``cardgame serve``: run the server until SIGINT or SIGTERM."""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
from pathlib import Path

import click
import trio

from cardgame.net.config import ServerConfig
from cardgame.net.store import Store, StoreError, shown
from cardgame.net.store import open_store as _open_store


def default_db() -> Path:
    """The user's data directory (XDG), where the embedded SQLite file lives by default."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "cardgame" / "cardgame.db"


def local_db() -> Path:
    """Where ``cardgame play --computers`` keeps its games (``cardgame games`` reads it)."""
    return default_db().with_name("local.db")


def open_store(db: str, readonly: bool = False) -> Store:
    """The store ``--db`` names (``:memory:`` keeps nothing); a database not ours is refused."""
    try:
        return _open_store(db, readonly=readonly)
    except StoreError as err:
        raise click.ClickException(str(err)) from None


def check_address(host: str, port: int) -> None:
    """Refuse, in one line, an address we cannot listen on: before the database is
    opened (and created), so a port in use leaves no file behind."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in infos:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as trio does
                probe.bind(address)
    except OSError as err:
        raise click.ClickException(_cannot_listen(host, port, err)) from None


def _cannot_listen(host: str, port: int, err: OSError) -> str:
    why = os.strerror(err.errno).lower() if err.errno else str(err)
    hint = " (is another server running? choose another --port)" if port else ""
    return f"cannot listen on {host}:{port}: {why}{hint}"


#: The cyclic collector's thresholds while serving (Python's are 700, 10, 10). A move
#: allocates thousands of short-lived objects that reference counting frees, so at 700
#: the youngest generation was collected several times a move and a full collection,
#: pausing every room for tens of milliseconds, came about once a second.
GC_THRESHOLDS = (20_000, 20, 20)


def tune_gc() -> None:
    """What exists once the server has started (modules, schemas, restored games) is
    moved out of the collector's sight for good (``gc.freeze``): no collection scans it
    again; and collections come less often (:data:`GC_THRESHOLDS`)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def run_server(config: ServerConfig, store: Store, db: str) -> None:
    from cardgame.net.server import serve

    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve, config, store)
        tune_gc()
        click.echo(
            f"cardgame listening on ws://{config.host}:{server.port} (/lobby, /game); "
            f"play in a browser: http://{config.host}:{server.port}/"
        )
        click.echo(f"database: {shown(db)}")
        for room in server.restored:
            players = ", ".join(p.name for p in room.players)
            click.echo(f'restored room {room.room_id} "{room.name}" ({room.game.state}): {players}')
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                click.echo(
                    f"{signal.Signals(signum).name}: closing connections (1001) and stopping"
                )
                await server.shutdown()
                break


#: The limits a host may change: each a ServerConfig field, its default shown in --help.
LIMITS = (
    ("max_connections", "Connections open at once (handshakes too); more get 503."),
    ("max_connections_per_address", "Connections open at once from one address."),
    ("handshake_timeout", "Seconds a new connection has to send its request."),
    ("lobby_idle_timeout", "Seconds a /lobby connection may send nothing."),
    ("fragment_timeout", "Seconds a fragmented message has to arrive whole."),
    ("max_frame", "Longest message (characters); longer ones get too_large."),
    ("hard_frame_limit", "Longest message read at all; beyond, close 1009."),
    ("rate", "Messages (and pings) per second a connection may send."),
    ("burst", "Messages (and pings) a connection may send at once."),
    ("outbox_bytes", "Bytes queued for a client that does not read; beyond, 1013."),
    ("close_timeout", "Seconds a closing connection has to read what is queued; then reset."),
    ("max_rooms", "Rooms open at once."),
    ("max_rooms_per_address", "Rooms open at once created from one address."),
    ("room_rate", "Rooms per second one address may create (sustained)."),
    ("room_burst", "Rooms one address may create at once."),
    ("lobby_push_interval", "Seconds between lobby pushes (a burst is one frame)."),
    ("chat_rate", "Chat lines per second one person may send (sustained)."),
    ("chat_burst", "Chat lines one person may send at once."),
    ("max_spectators_per_room", "Spectators watching one room at once."),
    ("max_spectators", "Spectators watching at once, over every room."),
    ("lobby_push_frames", "Push frames a second to all lobby watchers together."),
)


def limit_options(command):
    """One option per entry of LIMITS, with ServerConfig's default and type."""
    defaults = ServerConfig()
    for name, text in reversed(LIMITS):
        default = getattr(defaults, name)
        option = click.option(f"--{name.replace('_', '-')}", name, default=default,
                              show_default=True, type=type(default), help=text)  # fmt: skip
        command = option(command)
    return command


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8888,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port, printed at start).",
)
@click.option("--db", default=None,
              help="SQLite file (default: user data dir); :memory: keeps nothing; "
                   "postgresql://… a database several processes share.")  # fmt: skip
@click.option("--public-url", default="",
              help="ws:// address clients reach this process at, for the other processes "
                   "to send them to  [default: ws://HOST:PORT].")  # fmt: skip
@click.option("--lease", default=10.0, show_default=True, type=click.FloatRange(min=0.3),
              help="With postgresql://: seconds a room's lease lasts; a dead process's "
                   "rooms go on elsewhere after it.")  # fmt: skip
@click.option("--roommates-interval", default=4.0, show_default=True, type=float,
              help="Seconds between roommate lists while a room fills.")  # fmt: skip
@click.option("--turn-seconds", default=45.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds each question allows (a turn, a request, a drop, the first "
                   "player, a vote; a leaver's LEAVE), unless the room chose its own; when "
                   "they run out the game goes on (a card is drawn for the player…).")  # fmt: skip
@click.option("--idle-turns", default=3, show_default=True, type=click.IntRange(min=0),
              help="Turns in a row a player may let run out before they are treated as "
                   "having left and the others vote on a computer (0: never).")  # fmt: skip
@click.option("--seat-wait", default=120.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds a reserved seat may go without connecting to the game before "
                   "it is freed for somebody else.")  # fmt: skip
@click.option("--grace-period", default=60.0, show_default=True, type=float,
              help="Seconds a dropped player's seat is held.")  # fmt: skip
@limit_options
@click.option("-v", "--verbose", is_flag=True, help="Debug logs.")
def serve(
    host: str,
    port: int,
    db: str | None,
    roommates_interval: float,
    turn_seconds: float,
    idle_turns: int,
    seat_wait: float,
    grace_period: float,
    public_url: str,
    lease: float,
    verbose: bool,
    **limits: float,
) -> None:
    """Run the Discard server: ws://HOST:PORT/lobby and /game, and the web client at
    http://HOST:PORT/ (open it in a browser to play).

    Example: cardgame serve --host 0.0.0.0 --port 8888
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    # transitions logs every state change at INFO: only with -v.
    logging.getLogger("transitions").setLevel(logging.DEBUG if verbose else logging.WARNING)
    if not verbose:
        logging.getLogger("trio-websocket").setLevel(logging.WARNING)
    config = ServerConfig(
        host=host,
        port=port,
        roommates_interval=roommates_interval,
        turn_seconds=turn_seconds,
        idle_turns=idle_turns,
        seat_wait=seat_wait,
        grace_period=grace_period,
        public_url=public_url.rstrip("/"),
        lease_seconds=lease,
        **limits,
    )
    check_address(host, port)
    db = db or str(default_db())
    store = open_store(db)
    try:
        trio.run(run_server, config, store, db)
    except BaseException as raised:  # the address taken between the check and the listen
        error = raised
        while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
            error = error.exceptions[0]
        if isinstance(error, OSError):
            raise click.ClickException(_cannot_listen(host, port, error)) from None
        raise
    finally:
        store.close()
