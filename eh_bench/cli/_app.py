"""The root Typer app and the shared rich consoles."""

from __future__ import annotations

import typer
from rich.console import Console

from eh_bench import __version__

app = typer.Typer(
    name="eh-bench",
    help=(
        "Expected Harm benchmark: cost- and severity-labelled harmful requests, lm-eval tasks, "
        "Expected Harm / per-cost ASR scoring and leaderboard entries.\n\n"
        "Example: eh-bench summarize results.csv --likelihood exponential:0.5"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"eh-bench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Expected Harm benchmark."""
