"""Shared fixtures: a real server on a loopback port, and clients that check every message.

Every message a test client receives is validated against ``SERVER_SCHEMA`` with
``jsonschema`` (an implementation independent of the server's own validator).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from trio.testing import MockClock

from cardgame.net import client as client_module
from cardgame.net.config import ServerConfig
from cardgame.net.memory_store import MemoryStore
from cardgame.net.protocol import SERVER_SCHEMA
from cardgame.net.server import Server, serve

from pgcluster import Cluster

SERVER_VALIDATOR = jsonschema.Draft202012Validator(SERVER_SCHEMA)
SEEN: list[dict[str, Any]] = []


@pytest.fixture(autouse=True)
def validate_every_server_message(monkeypatch):
    """Wrap the client library's receive: every server frame must follow the schema."""
    original = client_module._Endpoint._next

    async def checked(self) -> dict[str, Any]:
        message = await original(self)
        errors = list(SERVER_VALIDATOR.iter_errors(message))
        assert not errors, f"{json.dumps(message)[:400]} breaks the schema: {errors[0].message}"
        SEEN.append(message)
        return message

    monkeypatch.setattr(client_module._Endpoint, "_next", checked)


@pytest.fixture
def clock() -> MockClock:
    """Virtual time that jumps only when the whole run has been idle a while.

    A threshold of a few real milliseconds keeps loopback I/O in flight from
    being mistaken for idleness.
    """
    return MockClock(autojump_threshold=0.02)


StartServer = Callable[..., Any]


@pytest.fixture
def start_server(nursery) -> StartServer:
    """``await start_server(**config)`` → a running :class:`Server` on a free port."""

    async def start(store: Any = None, **overrides: Any) -> Server:
        config = ServerConfig(host="127.0.0.1", port=0, **overrides)
        return await nursery.start(serve, config, store or MemoryStore())

    return start


@pytest.fixture
async def server(start_server) -> Server:
    return await start_server()


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL cluster for the whole run (``tests/pgcluster.py``)."""
    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster) -> str:
    """A new, empty PostgreSQL database of this test's own: its ``postgresql://`` URL."""
    return pg_cluster.new_database()
