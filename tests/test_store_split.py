"""The store interface stands on its own: nothing above it names an implementation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cardgame.net.memory_store import MemoryStore
from cardgame.net.sqlite_store import SqliteStore
from cardgame.net.store import open_store

ROOT = Path(__file__).resolve().parent.parent
# pg_registry and leases are the PostgreSQL store's own (the shared registry, the leases).
IMPLEMENTATIONS = {"memory_store", "sqlite_store", "pg_store", "pg_registry", "leases"}
# Every module of the server and the command line but the implementations themselves.
ABOVE_THE_STORE = sorted(
    p for p in [*ROOT.glob("net/*.py"), *ROOT.glob("cli/*.py")] if p.stem not in IMPLEMENTATIONS
)


def imported_modules(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.rsplit(".", 1)[-1])
        elif isinstance(node, ast.Import):
            names.update(alias.name.rsplit(".", 1)[-1] for alias in node.names)
    return names


@pytest.mark.parametrize("path", ABOVE_THE_STORE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_module_above_the_store_names_an_implementation(path):
    # store.py itself picks one in open_store, inside the function: never at import.
    named = imported_modules(path, top_level_only=path.name == "store.py")
    assert not named & IMPLEMENTATIONS


def test_open_store_picks_the_implementation_from_db(tmp_path):
    assert isinstance(open_store(None), MemoryStore)
    store = open_store(str(tmp_path / "g.db"))
    try:
        assert isinstance(store, SqliteStore)
    finally:
        store.close()
