"""`cardgame rules` shows the packaged rules, and the packaged rules are the project's."""

import re
from pathlib import Path

from click.testing import CliRunner

from cardgame.cli.main import main
from cardgame.cli.rules_cmd import player_rules_text, rules_text

REPO = Path(__file__).resolve().parents[1]
SHARED_RULES = REPO.parent / "shared" / "RULES.md"
TITLE = "# Discard — the rules this server enforces"


def headings(markdown: str) -> list[str]:
    return re.findall(r"^#{1,6} (.+)$", markdown, re.MULTILINE)


def test_packaged_rules_are_there_with_their_title():
    text = rules_text()
    assert text.splitlines()[0] == TITLE
    assert len(headings(text)) > 5


def test_packaged_rules_equal_the_shared_rules_when_beside_the_repo():
    if SHARED_RULES.exists():  # a checkout without ../shared has only the packaged copy
        assert rules_text() == SHARED_RULES.read_text(encoding="utf-8"), (
            f"cardgame/RULES.md differs from {SHARED_RULES}: copy it over"
        )


def test_rules_prints_every_heading_of_the_players_rules():
    result = CliRunner().invoke(main, ["rules"])
    assert result.exit_code == 0, result.output
    for heading in headings(player_rules_text()):
        assert heading.replace("**", "").replace("`", "") in result.output
    assert "# " not in result.output, "rendered, not the Markdown source"


def test_rules_markdown_prints_the_source():
    result = CliRunner().invoke(main, ["rules", "--markdown"])
    assert result.exit_code == 0, result.output
    assert result.output == player_rules_text()
    result = CliRunner().invoke(main, ["rules", "--reference", "--markdown"])
    assert result.output == rules_text()


def test_the_players_rules_speak_to_players():
    """No engine words: the reference (RULES.md) keeps those."""
    text = player_rules_text()
    for word in ("fsm", "PICK_OPTION", "PICK_CARDS", "extra_data", "DESIGN.md", "engine",
                 "decided", "protocol", "next_cmd"):  # fmt: skip
        assert word not in text, word
    assert text.splitlines()[0] == "# How to play Discard"
