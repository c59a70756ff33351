"""``cardgame rules``: the rules of Discard, written for players, rendered in the terminal.

Two texts ship inside the package, so an installed ``cardgame`` shows the rules of the
engine it runs, not whatever a checkout holds: ``HOW_TO_PLAY.md`` for players (what
``cardgame rules`` and ``r`` in a game show), and ``RULES.md``, the reference the
engine in ``fsm/`` follows, with every decision taken (``cardgame rules --reference``).
"""

from __future__ import annotations

from importlib.resources import files

import click
from rich.console import Console
from rich.markdown import Markdown


def rules_text() -> str:
    """The engine's reference rules, as Markdown."""
    return files("cardgame").joinpath("RULES.md").read_text(encoding="utf-8")


def player_rules_text() -> str:
    """The rules for players, as Markdown."""
    return files("cardgame").joinpath("HOW_TO_PLAY.md").read_text(encoding="utf-8")


@click.command()
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the Markdown source.")
@click.option(
    "--reference",
    is_flag=True,
    help="The engine's reference instead: every rule and decision the server enforces.",
)
def rules(as_markdown: bool, reference: bool) -> None:
    """Show the rules of Discard.

    Example: cardgame rules
    """
    text = rules_text() if reference else player_rules_text()
    if as_markdown:
        click.echo(text, nl=False)
        return
    # Console() looks up sys.stdout when it writes, so click's runner captures it too.
    Console().print(Markdown(text))
