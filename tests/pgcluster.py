"""A throwaway PostgreSQL cluster in a temporary directory, for tests and benchmarks.

Never the machine's own cluster: ``initdb`` makes a new one in a fresh directory, and
it listens only on a unix socket inside that directory, so nothing else on the
machine (another helper's cluster, the system's) can see it or be touched by it.
PostgreSQL refuses to run as root; as root the cluster runs as the unprivileged
``postgres`` user Debian's package creates (or ``nobody``), and trusts local
connections from anyone on the machine to its private socket.

Used by ``tests/conftest.py`` (one cluster per test run, one database per test) and by
``bench/server_load.py --postgres``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from itertools import count
from pathlib import Path

#: The port only names the socket file (``.s.PGSQL.<port>``): nothing listens on TCP.
PORT = 5432
SUPERUSER = "cardgame"


def pg_bin() -> Path | None:
    """Debian's PostgreSQL programs (the newest installed), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


def _runner() -> list[str]:
    """How to run the server's programs: as ourselves, or (root) as an unprivileged user."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    raise RuntimeError("running as root with no postgres or nobody user to run PostgreSQL as")


class Cluster:
    """A started cluster; :meth:`new_database` gives each test a database of its own."""

    def __init__(self) -> None:
        bin_dir = pg_bin()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (bash .ci/system-deps installs it)")
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="cardgame-pg-"))
        self.data = self.dir / "data"
        self._numbers = count(1)
        runner = _runner()
        if runner:
            user = pwd.getpwnam(runner[2])
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        os.chmod(self.dir, 0o755)  # the socket inside must be reachable by the test process
        self._run(runner, "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "-E", "UTF8", "--no-sync")  # fmt: skip
        options = (
            f"-k {self.dir} -p {PORT} -c listen_addresses='' -c fsync=off "
            "-c max_connections=200 -c unix_socket_permissions=0777"
        )
        self._run(runner, "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"),
                  "-o", options, "-w", "-t", "60", "start")  # fmt: skip
        self._runner = runner

    def _run(self, runner: list[str], program: str, *args: str) -> None:
        subprocess.run([*runner, str(self.bin / program), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=self.dir)  # fmt: skip

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL for ``cardgame serve --db``."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.dir}&port={PORT}"

    def new_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(self._runner, "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
