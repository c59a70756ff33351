"""``cardgame diagram``: the state machines, drawn from the tables the code runs.

Rule 1: nothing here describes a machine. Each diagram is read from a table in
``fsm/`` (``SESSION_TRANSITIONS``, ``GAME_TRANSITIONS``) through transitions'
``GraphMachine``, so a committed diagram differs from the code only when nobody
regenerated it, and ``tests/test_diagram.py`` says so.

Rule 2: the text is deterministic (the tables' order, no timestamps, no current
state highlighted), so the diagrams can be committed and diffed. Mermaid and DOT
need no program; SVG runs Graphviz's ``dot`` on the DOT text.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import click
from transitions.extensions.diagrams import GraphMachine

from cardgame.fsm import session
from cardgame.fsm.machine import GAME_STATES, GAME_TRANSITIONS, WAITING

REGENERATE: Final = "cardgame diagram all --out specs/diagrams --embed specs/protocol.md"


@dataclass(frozen=True)
class Table:
    """One machine as the code declares it: its states, its initial state and its rows."""

    title: str
    states: Sequence[str]
    initial: str
    transitions: Sequence[tuple[str, str | list[str], str | None]]


TABLES: Final[dict[str, Table]] = {
    "session": Table(
        "Client session (SESSION_TRANSITIONS in fsm/session.py)",
        session.SESSION_STATES,
        session.LOBBY,
        session.SESSION_TRANSITIONS,
    ),
    "game": Table(
        "Game (GAME_TRANSITIONS in fsm/machine.py)",
        GAME_STATES,
        WAITING,
        GAME_TRANSITIONS,
    ),
}

#: Each format's file extension.
FORMATS: Final = {"mermaid": "mmd", "dot": "dot", "svg": "svg"}

INSTALL_GRAPHVIZ: Final = (
    "--format svg needs Graphviz's `dot` program, and it is not on PATH. Install Graphviz "
    "(Debian/Ubuntu: sudo apt install graphviz; macOS: brew install graphviz; others: "
    "https://graphviz.org/download/), or use --format mermaid or --format dot, which need "
    "nothing else."
)


def graph_machine(name: str) -> GraphMachine:
    """Build the machine the way ``fsm/`` does, minus callbacks: only the shape is drawn."""
    table = TABLES[name]
    machine = GraphMachine(
        model=None,
        states=list(table.states),
        initial=table.initial,
        auto_transitions=False,
        graph_engine="mermaid",
        # transitions writes the title bare between the front matter's fences.
        title=f"title: {table.title}",
    )
    for trigger, source, dest in table.transitions:
        machine.add_transition(trigger, source, dest)
    return machine


def mermaid(name: str) -> str:
    """Mermaid ``stateDiagram-v2`` text, as transitions draws it (renders on GitHub as is)."""
    machine = graph_machine(name)
    # A fresh graph, not a model's: no state is styled as the current one.
    text = machine.graph_cls(machine).get_graph().draw(None)
    lines = [line.rstrip() for line in text.splitlines()]
    at = lines.index("stateDiagram-v2") + 1
    lines.insert(at, f"  %% generated from the table the code runs; regenerate: {REGENERATE}")
    return "\n".join(lines) + "\n"


def edges(name: str) -> list[tuple[str, str, list[str]]]:
    """(source, dest, labels) per arrow, grouped and ordered as the mermaid engine does."""
    grouped: dict[str, dict[str, list[str]]] = {}
    for row in graph_machine(name).markup["transitions"]:
        internal = "dest" not in row
        dest = row["source"] if internal else row["dest"]
        label = row["trigger"] + (" [internal]" if internal else "")
        grouped.setdefault(row["source"], {}).setdefault(dest, []).append(label)
    return [(src, dst, labels) for src, dests in grouped.items() for dst, labels in dests.items()]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(name: str) -> str:
    """Graphviz DOT text, written here so that DOT needs no Python package."""
    table = TABLES[name]
    lines = [
        f"// generated from the table the code runs: cardgame diagram {name} --format dot",
        f"digraph {name} {{",
        f"  graph [label={_quote(table.title)}, labelloc=t, rankdir=LR];",
        '  node [shape=rectangle, style="rounded,filled", fillcolor=white, color=black];',
        '  "__initial__" [shape=point, label=""];',
    ]
    lines += [f"  {_quote(state)};" for state in table.states]
    lines.append(f'  "__initial__" -> {_quote(table.initial)};')
    for src, dst, labels in edges(name):
        label = _quote("\n".join(labels)).replace("\n", "\\n")
        lines.append(f"  {_quote(src)} -> {_quote(dst)} [label={label}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def find_dot() -> str:
    """The ``dot`` program's path, or a refusal that says how to install it."""
    path = shutil.which("dot")
    if path is None:
        raise click.ClickException(INSTALL_GRAPHVIZ)
    return path


def svg(name: str) -> str:
    """SVG by Graphviz's ``dot`` (the one format that needs a program)."""
    done = subprocess.run(
        [find_dot(), "-Tsvg"], input=dot(name), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise click.ClickException(f"dot -Tsvg failed for {name}: {done.stderr.strip()}")
    return done.stdout


RENDER: Final = {"mermaid": mermaid, "dot": dot, "svg": svg}

_MERMAID_BLOCK: Final = re.compile(r"^```mermaid\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def embed_diagrams(markdown: str, names: Sequence[str]) -> str:
    """Replace each machine's ```mermaid block (found by its title) with the current one."""
    for name in names:
        fresh = mermaid(name)
        front = "\n".join(fresh.splitlines()[:3])
        found = [m for m in _MERMAID_BLOCK.finditer(markdown) if m.group(1).startswith(front)]
        if not found:
            raise click.ClickException(
                f"no ```mermaid block for the {name} diagram (title {TABLES[name].title!r}); "
                f"paste one in first: cardgame diagram {name}"
            )
        for match in reversed(found):
            markdown = markdown[: match.start(1)] + fresh + markdown[match.end(1) :]
    return markdown


@click.command()
@click.argument(
    "machine", type=click.Choice([*TABLES, "all"]), default="all", metavar="[session|game|all]"
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="mermaid",
    show_default=True,
    help="Mermaid (for Markdown), Graphviz DOT, or SVG drawn by dot.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write DIR/<machine>.mmd (.dot, .svg) instead of printing.",
)
@click.option(
    "--embed",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    multiple=True,
    help="Also refresh the machines' ```mermaid blocks in this Markdown file (repeatable).",
)
def diagram(machine: str, fmt: str, out: Path | None, embed: tuple[Path, ...]) -> None:
    """Draw the session and game state machines from the tables the code runs.

    Mermaid and DOT need nothing; SVG needs Graphviz's dot.

    Example: cardgame diagram all --out specs/diagrams --embed specs/protocol.md
    """
    names = list(TABLES) if machine == "all" else [machine]
    if embed and fmt != "mermaid":
        raise click.UsageError("--embed writes mermaid blocks: leave --format as mermaid")
    if fmt == "svg" and out is None and len(names) > 1:
        raise click.UsageError("--format svg draws one file per machine: give --out DIR")
    if fmt == "svg":
        find_dot()  # refuse before writing anything
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            path = out / f"{name}.{FORMATS[fmt]}"
            path.write_text(RENDER[fmt](name), encoding="utf-8")
            click.echo(f"wrote {path}")
    for path in embed:
        text = embed_diagrams(path.read_text(encoding="utf-8"), names)
        path.write_text(text, encoding="utf-8")
        click.echo(f"updated {path}")
    if out is None and not embed:
        click.echo("\n".join(RENDER[fmt](name) for name in names), nl=False)
