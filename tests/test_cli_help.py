"""Every command explains itself: ``--help`` with an example, and ``--version``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cardgame import __version__
from cardgame.cli.main import main


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert f"Example: cardgame {command}" in " ".join(result.output.split())


def test_the_commands_a_user_is_promised_exist():
    expected = {"serve", "play", "bots", "simulate", "diagram", "rules", "games", "replay"}
    assert expected <= set(main.commands)


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
