"""`cardgame simulate` plays real games through the machine and reports honestly."""

import json

from click.testing import CliRunner

from cardgame.cli.main import main


def run_simulate(*args: str) -> dict:
    result = CliRunner().invoke(main, ["simulate", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_simulate_reports_finished_games_and_conservation():
    summary = run_simulate("--players", "4", "--games", "50", "--seed", "1")
    assert summary["games"] == 50
    assert summary["finished"] == 50
    assert summary["conservation_ok"] is True
    assert summary["moves"] > 50
    assert sum(summary["wins"].values()) == 50


def test_simulate_same_seed_same_games():
    a = run_simulate("--players", "3", "--games", "20", "--seed", "7")
    b = run_simulate("--players", "3", "--games", "20", "--seed", "7")
    assert (a["moves"], a["wins"]) == (b["moves"], b["wins"])


def test_greedy_beats_random_two_players():
    summary = run_simulate(
        "--players", "2", "--games", "1000", "--seed", "3", "--bots", "greedy,random"
    )
    assert summary["wins"]["greedy"] >= 600


def test_unknown_strategy_is_refused():
    result = CliRunner().invoke(main, ["simulate", "--bots", "clever"])
    assert result.exit_code != 0
    assert "unknown strategy" in result.output
