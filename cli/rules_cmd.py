"""``cardgame rules``: the rules this server enforces, rendered in the terminal.

The text is the ``RULES.md`` shipped inside the package, so an installed
``cardgame`` shows the rules of the engine it runs, not whatever a checkout holds.
"""

from __future__ import annotations

from importlib.resources import files

import click
from rich.console import Console
from rich.markdown import Markdown


def rules_text() -> str:
    """The packaged rules, as Markdown."""
    return files("cardgame").joinpath("RULES.md").read_text(encoding="utf-8")


@click.command()
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the Markdown source.")
def rules(as_markdown: bool) -> None:
    """Show the rules of Discard, as this server enforces them.

    Example: cardgame rules
    """
    text = rules_text()
    if as_markdown:
        click.echo(text, nl=False)
        return
    # Console() looks up sys.stdout when it writes, so click's runner captures it too.
    Console().print(Markdown(text))
