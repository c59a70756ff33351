"""The database file at start-up: is it writable, and is it ours alone?

One server per database. Two servers on one file would each restore and run the
same rooms (a split brain: histories diverge, then the second write of a message id
fails). So the server takes an exclusive lock before it reads anything, and a second
server on the same file is refused, naming the first one's pid.

The lock is ``flock`` on a file beside the database (``cardgame.db.lock``), not
SQLite's own ``locking_mode=EXCLUSIVE``: SQLite's exclusive mode would also shut
out ``cardgame games`` and ``cardgame replay``, which read the file while the server
runs, and a separate lock file never interferes with the POSIX locks SQLite takes on
the database itself. The kernel releases a ``flock`` when its process dies (even by
``kill -9``), so a crashed server never leaves a stale lock; the lock file itself
stays, harmless, and is reused.

Whether the file and its directory are writable is found by trying (opening the file
for writing, creating a file in the directory), not by reading permission bits: that
is the only answer that is right for root, ACLs and read-only mounts alike.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

from .store import StoreError


def check_writable(path: Path) -> None:
    """Say exactly what stands in the way of writing ``path`` and its journal."""
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"cannot create the directory {directory}: {err.strerror}") from None
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as err:
        raise StoreError(
            f"the directory {directory} is not writable ({err.strerror}): the server keeps "
            f"{path.name}-wal and {path.name}-shm beside the database; choose another --db "
            "or make the directory writable"
        ) from None
    if path.exists():
        try:
            os.close(os.open(path, os.O_RDWR))
        except OSError as err:
            raise StoreError(f"{path} is not writable ({err.strerror})") from None


class ServerLock:
    """An exclusive ``flock`` on ``<db>.lock``, held for the server's lifetime."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(path.name + ".lock")
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(self._fd)
            raise StoreError(
                f"another cardgame server (pid {holder}) is using {path}; "
                "stop it first, or give this one another --db"
            ) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = -1
