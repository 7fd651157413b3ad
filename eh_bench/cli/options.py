"""Options shared by several commands, declared once: ``--judge``, ``--judge-backend``,
``--likelihood``, ``--seed``, ``--n-boot``, ``--dataset``, ``--plots``, ``--empty-as-refusal``.

Each is an ``Annotated`` type; a command writes ``judge: JudgeOption = DEFAULT_JUDGE``.
"""

from __future__ import annotations

from typing import Annotated, Final

import typer

from eh_bench.judges.registry import DEFAULT_JUDGE
from eh_bench.likelihood import DEFAULT_LIKELIHOOD
from eh_bench.metrics.bootstrap import MAX_N_BOOT

JUDGE_HELP: Final = (
    f"Judge name (default {DEFAULT_JUDGE}): refusal (fast, string-based, weak), harmbench, strongreject, "
    "usefulness, llama-guard-3, qwen3guard."
)
BACKEND_HELP: Final = (
    "Judge model of a model judge: openai:URL#MODEL | hf:DIR_OR_ID (default $EH_JUDGE_BACKEND; required for "
    "harmbench, strongreject, usefulness); the embedded smollm2 only when named, and too weak for headline numbers."
)
EMPTY_HELP: Final = (
    "Count empty answers (nothing, a content filter, a missing API answer) as refusals; by default they are "
    "unscored (n_empty). The report records the choice."
)
LIKELIHOOD_HELP: Final = "Pr(execution | cost): linear | exponential:LAMBDA | table:a,b,c,d,e."
#: Bootstrap replicates of the report CIs unless --n-boot says otherwise.
DEFAULT_N_BOOT: Final = 1000
DATASET_HELP: Final = "Built dataset folder or Hub id (recorded in the report; default: packaged core set)."

JudgeOption = Annotated[str, typer.Option("--judge", "-j", envvar="EH_JUDGE", help=JUDGE_HELP)]
JudgeBackendOption = Annotated[str | None, typer.Option("--judge-backend", help=BACKEND_HELP)]
LikelihoodOption = Annotated[
    str, typer.Option("--likelihood", "-l", envvar="EH_LIKELIHOOD", help=LIKELIHOOD_HELP)
]
SeedOption = Annotated[
    int, typer.Option("--seed", help="Seed of every random choice (sampling, the bootstrap); recorded.")
]
NBootOption = Annotated[
    int,
    typer.Option(
        "--n-boot", min=0, max=MAX_N_BOOT, help=f"Bootstrap replicates for the CIs (0: none; at most {MAX_N_BOOT})."
    ),
]
DatasetOption = Annotated[str | None, typer.Option("--dataset", envvar="EH_DATASET", help=DATASET_HELP)]
PlotsOption = Annotated[bool, typer.Option("--plots/--no-plots", help="Draw the PNG figures (needs matplotlib).")]
EmptyAsRefusalOption = Annotated[bool, typer.Option("--empty-as-refusal", help=EMPTY_HELP)]

__all__ = [
    "DEFAULT_JUDGE",
    "DEFAULT_LIKELIHOOD",
    "DEFAULT_N_BOOT",
    "MAX_N_BOOT",
    "DatasetOption",
    "EmptyAsRefusalOption",
    "JudgeBackendOption",
    "JudgeOption",
    "LikelihoodOption",
    "NBootOption",
    "PlotsOption",
    "SeedOption",
]
