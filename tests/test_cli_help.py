"""Every command explains itself: ``--help`` with an example, and ``--version``."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from cardgame import __version__
from cardgame.cli.main import main

COMMANDS = main.list_commands(click.Context(main))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert f"Example: cardgame {command}" in " ".join(result.output.split())


def test_the_commands_a_user_is_promised_exist():
    expected = {"serve", "play", "bots", "simulate", "diagram", "rules", "games", "replay"}
    assert expected <= set(COMMANDS)
    for name in COMMANDS:  # each lazily named command really is there
        assert main.get_command(click.Context(main), name).name == name


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_says_what_it_does(command):
    """An option without help text leaves a host guessing (``--port`` once had none)."""
    cmd = main.get_command(click.Context(main), command)
    silent = [p.name for p in cmd.params if isinstance(p, click.Option) and not p.help]
    assert silent == []
