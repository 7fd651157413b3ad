"""The ``eh-bench`` command: a thin layer; every sub-command calls the library and prints with rich.

Each sub-command group lives in its own module below and registers itself on :data:`app` when
imported here. Heavy libraries are imported inside the commands, so ``eh-bench --help`` stays fast.
"""

from __future__ import annotations

import sys

import typer

from eh_bench.cli._app import app, console, err_console

# Sub-command modules: importing one registers its commands on `app`.
from eh_bench.cli import core as _core  # noqa: E402,F401  (rubric, likelihood, summarize)

__all__ = ["app", "console", "err_console", "main"]


def main() -> None:
    """Console-script entry point: run the app; EHBenchError becomes a one-line message, exit 2."""
    from eh_bench.errors import EHBenchError

    try:
        app(standalone_mode=False)
    except EHBenchError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
