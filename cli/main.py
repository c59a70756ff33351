"""The ``cardgame`` command: one click group, one module per command's work."""

from __future__ import annotations

import importlib
import json

import click

from cardgame import __version__
from cardgame.fsm.bots import STRATEGIES


class _Commands(click.Group):
    """Each command's module is imported when that command runs, not at every start:
    ``play`` pulls in rich's markdown, ``serve`` the server, and neither needs the other."""

    LAZY: dict[str, str] = {
        "serve": "cardgame.cli.serve:serve",
        "games": "cardgame.cli.games:games",
        "replay": "cardgame.cli.games:replay",
        "play": "cardgame.cli.play:play",
        "watch": "cardgame.cli.watch:watch",
        "bots": "cardgame.cli.bots_cmd:bots",
        "diagram": "cardgame.cli.diagram:diagram",
        "rules": "cardgame.cli.rules_cmd:rules",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.LAZY:
            return super().get_command(ctx, name)
        module, attribute = self.LAZY[name].split(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cardgame")
def main() -> None:
    """Discard, a multiplayer shedding card game in the Uno family, over WebSockets."""


@main.command()
@click.option("--players", "-n", default=4, show_default=True, type=click.IntRange(2, 8),
              help="Seats at each table.")  # fmt: skip
@click.option("--games", "-g", default=100, show_default=True, type=click.IntRange(1),
              help="Games to play.")  # fmt: skip
@click.option("--seed", "-s", default=1, show_default=True, type=int,
              help="Seed of the games: the same seed, the same games.")  # fmt: skip
@click.option(
    "--bots",
    default="greedy,random",
    show_default=True,
    help="Strategies, comma-separated; seats take them in turn, rotating every game.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def simulate(players: int, games: int, seed: int, bots: str, as_json: bool) -> None:
    """Play complete computer games through the real game machine and report speed.

    Example: cardgame simulate --players 4 --games 500 --seed 1 --json
    """
    from cardgame.fsm.simulate import simulate as run

    strategies = [b.strip() for b in bots.split(",") if b.strip()]
    unknown = [s for s in strategies if s not in STRATEGIES]
    if not strategies or unknown:
        raise click.BadParameter(
            f"unknown strategy {unknown}; choose from {', '.join(sorted(STRATEGIES))}",
            param_hint="--bots",
        )
    summary = run(players, games, seed, strategies).as_json()
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"games            {summary['games']} ({summary['finished']} finished)")
    click.echo(f"games/s          {summary['games_per_s']}")
    click.echo(f"moves            {summary['moves']}")
    click.echo(f"moves/s          {summary['moves_per_s']}")
    click.echo(f"mean turns/game  {summary['mean_turns']}")
    for name, count in sorted(summary["wins"].items(), key=lambda kv: -kv[1]):
        click.echo(f"wins {name:<11} {count} ({100 * count / summary['games']:.1f}%)")
    click.echo(f"conservation     {'held' if summary['conservation_ok'] else 'BROKEN'}")
