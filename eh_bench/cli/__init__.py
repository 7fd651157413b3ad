"""The ``eh-bench`` command: a thin layer; every sub-command calls the library and prints with rich.

Each sub-command group lives in its own module below and registers itself on :data:`app` when
imported here. Heavy libraries are imported inside the commands, so ``eh-bench --help`` stays fast.
"""

from __future__ import annotations

import sys

# Sub-command modules: importing one registers its commands on `app`.
from eh_bench.cli import attack as _attack  # noqa: F401  (attack run|table|train-guard)
from eh_bench.cli import core as _core  # noqa: F401  (rubric, likelihood, summarize)
from eh_bench.cli import dataset as _dataset  # noqa: F401  (dataset build|validate|stats|publish)
from eh_bench.cli import importing as _importing  # noqa: F401  (import jbb-artifacts|donotanswer|responses)
from eh_bench.cli import judge as _judge  # noqa: F401  (judge validate|train|run)
from eh_bench.cli import label as _label  # noqa: F401  (label INPUT, label agree A B)
from eh_bench.cli import model as _model  # noqa: F401  (model prepare, model path)
from eh_bench.cli import probe as _probe  # noqa: F401  (probe: linear probes on hidden states)
from eh_bench.cli import run as _run  # noqa: F401  (run, tasks-path)
from eh_bench.cli import score as _score  # noqa: F401  (score RUN_DIR)
from eh_bench.cli import submit as _submit  # noqa: F401  (submit build|validate|push|review|list)
from eh_bench.cli._app import app, console, err_console

__all__ = ["app", "console", "err_console", "main"]


def main() -> None:
    """Console-script entry point.

    Click (in standalone mode) prints usage errors and help with their own exit codes; an
    :class:`~eh_bench.errors.EHBenchError` from a command becomes a one-line message and exit 2.
    """
    from eh_bench.errors import EHBenchError

    try:
        app()
    except EHBenchError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
