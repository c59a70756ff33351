"""`cardgame diagram` draws the machines from the tables the code runs, and the committed
diagrams are what it draws now."""

import os
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardgame.cli.diagram import REGENERATE, TABLES, mermaid
from cardgame.cli.main import main

SPECS = Path(__file__).resolve().parents[1] / "specs"
MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["diagram", *args])
    assert result.exit_code == 0, result.output
    return result.output


def rows(name: str) -> list[tuple[str, str, str]]:
    """(trigger, source, dest) for every row of a table, sources spread, internal made explicit."""
    spread = []
    for trigger, source, dest in TABLES[name].transitions:
        for state in [source] if isinstance(source, str) else source:
            spread.append((trigger, state, state if dest is None else dest))
    return spread


def test_committed_diagrams_are_what_the_command_draws(tmp_path):
    run("all", "--out", str(tmp_path))
    for name in TABLES:
        committed = SPECS / "diagrams" / f"{name}.mmd"
        assert committed.exists(), f"{committed} is missing; regenerate: {REGENERATE}"
        assert committed.read_text() == (tmp_path / f"{name}.mmd").read_text(), (
            f"specs/diagrams/{name}.mmd is stale: the table changed. Regenerate: {REGENERATE}"
        )


@pytest.mark.parametrize("document", ["specs/protocol.md", "README.md"])
def test_documents_embed_the_committed_diagrams(document):
    blocks = MERMAID_BLOCK.findall((SPECS.parent / document).read_text())
    assert len(blocks) == len(TABLES), f"{document} should hold {len(TABLES)} diagrams"
    for name in TABLES:
        committed = (SPECS / "diagrams" / f"{name}.mmd").read_text()
        assert committed in blocks, (
            f"the {name} diagram in {document} differs from specs/diagrams/{name}.mmd. "
            f"Regenerate: {REGENERATE} --embed README.md"
        )


def test_stdout_holds_both_machines_in_order():
    out = run()
    assert out == mermaid("session") + "\n" + mermaid("game")
    assert run("game") == mermaid("game")


@pytest.mark.parametrize("name", list(TABLES))
def test_mermaid_names_every_state_trigger_and_row(name):
    text = run(name)
    table = TABLES[name]
    assert text.startswith(f"---\ntitle: {table.title}\n---\nstateDiagram-v2\n")
    for state in table.states:
        assert f'state "{state}" as {state}\n' in text
    assert f"[*] --> {table.initial}\n" in text
    arrows: dict[tuple[str, str], list[str]] = {}
    for src, dst, labels in re.findall(r"^  (\w+) --> (\w+): (.*)$", text, re.MULTILINE):
        arrows[src, dst] = [label.removesuffix(" [internal]") for label in labels.split(" | ")]
    for trigger, source, dest in rows(name):
        assert trigger in arrows.get((source, dest), []), f"{trigger}: {source} --> {dest}"
    assert sum(len(labels) for labels in arrows.values()) == len(rows(name))


def parse_dot(text: str) -> tuple[str, set[str], list[tuple[str, str, list[str]]]]:
    """A small structural check of DOT: header, balanced braces, nodes and edges."""
    lines = [line for line in text.splitlines() if not line.startswith("//")]
    header = re.fullmatch(r"digraph (\w+) \{", lines[0])
    assert header, f"not a digraph header: {lines[0]!r}"
    assert lines[-1] == "}"
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assert unquoted.count("{") == unquoted.count("}") == 1
    nodes, edges = set(), []
    for line in lines[1:-1]:
        assert line.endswith(";"), f"statement without ';': {line!r}"
        if edge := re.fullmatch(r'  "(\w+)" -> "(\w+)"(?: \[label="(.*)"\])?;', line):
            src, dst, label = edge.groups()
            edges.append((src, dst, label.split("\\n") if label else []))
        elif node := re.fullmatch(r'  "(\w+)"(?: \[.*\])?;', line):
            nodes.add(node.group(1))
        else:
            assert re.fullmatch(r"  (graph|node) \[.*\];", line), f"unexpected DOT: {line!r}"
    return header.group(1), nodes, edges


@pytest.mark.parametrize("name", list(TABLES))
def test_dot_is_a_digraph_of_every_row(name):
    graph, nodes, edges = parse_dot(run(name, "--format", "dot"))
    table = TABLES[name]
    assert graph == name
    assert nodes == {*table.states, "__initial__"}
    for src, dst, _ in edges:
        assert src in nodes and dst in nodes, f"edge {src} -> {dst} to an undeclared node"
    assert ("__initial__", table.initial, []) in edges
    labelled = {(src, dst): labels for src, dst, labels in edges if src != "__initial__"}
    for trigger, source, dest in rows(name):
        labels = [label.removesuffix(" [internal]") for label in labelled.get((source, dest), [])]
        assert trigger in labels, f"row {trigger}: {source} -> {dest} has no edge"
    assert sum(len(labels) for labels in labelled.values()) == len(rows(name))


def test_svg_without_dot_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no `dot` on it
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["diagram", "all", "--format", "svg", "--out", str(out)])
    assert result.exit_code != 0
    assert "`dot`" in result.output
    assert "apt install graphviz" in result.output
    assert "brew install graphviz" in result.output
    assert not out.exists(), "nothing is written when svg cannot be drawn"


def test_svg_runs_dot_on_the_dot_text(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\ncat > "$DOT_INPUT"\necho "<svg>$1</svg>"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")  # ours first
    monkeypatch.setenv("DOT_INPUT", str(tmp_path / "input.dot"))
    run("game", "--format", "svg", "--out", str(tmp_path / "out"))
    assert (tmp_path / "out" / "game.svg").read_text() == "<svg>-Tsvg</svg>\n"
    assert (tmp_path / "input.dot").read_text() == run("game", "--format", "dot")


def test_svg_of_both_machines_needs_a_directory():
    result = CliRunner().invoke(main, ["diagram", "all", "--format", "svg"])
    assert result.exit_code != 0
    assert "--out" in result.output


def test_embed_refreshes_a_stale_block_and_keeps_the_rest(tmp_path):
    stale = "\n".join(mermaid("game").splitlines()[:3]) + "\n  waiting --> nowhere\n"
    doc = tmp_path / "doc.md"
    doc.write_text(f"# Doc\n\n```mermaid\n{stale}```\n\nafter\n")
    run("game", "--embed", str(doc))
    assert doc.read_text() == f"# Doc\n\n```mermaid\n{mermaid('game')}```\n\nafter\n"


def test_embed_without_a_block_is_refused(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# Doc\n")
    result = CliRunner().invoke(main, ["diagram", "session", "--embed", str(doc)])
    assert result.exit_code != 0
    assert "no ```mermaid block for the session diagram" in result.output
    assert doc.read_text() == "# Doc\n"
