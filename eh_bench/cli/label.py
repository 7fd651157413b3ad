"""``eh-bench label``: the LLM labeller (``label INPUT ...``) and label agreement (``label agree A B``).

Both forms live under one ``label`` group: when the first argument is not a sub-command name, the
group runs its default command (``run``), so ``eh-bench label x.jsonl ...`` is ``eh-bench label run x.jsonl ...``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.columns import Columns
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from eh_bench.cli._app import app, console, err_console
from eh_bench.labeling import labeller as labeling

DEFAULT_COMMAND: Final = "run"
#: Default for ``--max-unlabelled``: above this share of unlabelled rows the command exits 1.
DEFAULT_MAX_UNLABELLED: Final = 0.5
#: How many distinct reasons the run summary lists.
TOP_REASONS: Final = 5

HELP: Final = (
    "Label requests with an LLM, or measure agreement between two label sets.\n\n"
    "[bold]eh-bench label INPUT --backend SPEC --out OUT.csv [--votes N] [--limit N][/]: label every row of "
    "INPUT (CSV / JSONL / JSON / parquet rows with prompt and id, or source + source_id) on the rubric's "
    "scales; the same as [bold]eh-bench label run INPUT ...[/] (options: eh-bench label run --help).\n\n"
    "[bold]eh-bench label agree A.csv B.csv [--json][/]: quadratic-weighted kappa, exact and within-one "
    "agreement and confusion matrices per scale, joined on prompt_sha256.\n\n"
    "Example: eh-bench label new.jsonl --backend openai:http://127.0.0.1:8000/v1#labeller --out new_labels.csv --votes 3"
)


class DefaultCommandGroup(TyperGroup):
    """A group that runs :data:`DEFAULT_COMMAND` when the first argument names no sub-command.

    ``label --help`` (and ``label`` alone) still show the group's help. An input file literally named
    like a sub-command (``agree``) must be written as a path (``./agree``).
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's vendored click.Context
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


label_app = typer.Typer(
    cls=DefaultCommandGroup, help=HELP, no_args_is_help=True, rich_markup_mode="rich", add_completion=False
)
app.add_typer(label_app, name="label")


@label_app.command(DEFAULT_COMMAND)
def run(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="Rows to label: .csv, .jsonl, .json or .parquet.")
    ],
    backend: Annotated[
        str,
        typer.Option(
            "--backend", "-b", envvar="EH_LABEL_BACKEND", help="smollm2 | hf:DIR_OR_ID | openai:URL#MODEL"
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output CSV (label-file columns + status, reason).")
    ],
    votes: Annotated[
        int, typer.Option("--votes", min=1, help="Votes per request (majority per field; use an odd number).")
    ] = labeling.DEFAULT_VOTES,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Label only the first N rows.")] = None,
    max_retries: Annotated[
        int, typer.Option("--max-retries", min=0, help="Retries of a malformed answer.")
    ] = labeling.DEFAULT_MAX_RETRIES,
    temperature: Annotated[
        float, typer.Option("--temperature", help="Sampling temperature of votes 2..N.")
    ] = labeling.DEFAULT_VOTE_TEMPERATURE,
    max_new_tokens: Annotated[
        int,
        typer.Option(
            "--max-new-tokens", min=1, envvar="EH_LABEL_MAX_NEW_TOKENS", help="Token budget of one answer."
        ),
    ] = labeling.DEFAULT_MAX_NEW_TOKENS,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Requests sent to the backend together.")
    ] = labeling.DEFAULT_CHUNK_SIZE,
    max_unlabelled: Annotated[
        float,
        typer.Option(
            "--max-unlabelled",
            min=0.0,
            max=1.0,
            help="Exit 1 (after writing OUT) when more than this share of rows stays unlabelled.",
        ),
    ] = DEFAULT_MAX_UNLABELLED,
) -> None:
    """Label INPUT's requests with an LLM: rubric prompt -> strict JSON parse -> majority of N votes.

    Malformed answers are retried, then the row is written as unlabelled with the reason (never
    guessed). The output has one row per input row; annotator is "llm:SPEC". Rows are saved to
    OUT.partial as they are made and OUT is written (atomically) only at the end, so an existing OUT is
    never truncated, and the same command after an interruption resumes where it stopped.

    Example: eh-bench label requests.jsonl --backend smollm2 --out labels.csv --votes 3 --limit 10
    """
    from eh_bench.atomic import check_output_file
    from eh_bench.backends import get_backend
    from eh_bench.backends.base import check_generation_args
    from eh_bench.labeling.io import read_requests
    from eh_bench.labeling.journal import Journal

    check_output_file(out)
    check_generation_args(max_new_tokens, temperature)
    requests = read_requests(input_path, limit=limit)
    chat = get_backend(backend)
    annotator = labeling.annotator_for(chat)
    journal = Journal(out, annotator)
    todo = journal.todo(requests)
    if len(todo) < len(requests):
        err_console.print(
            f"resuming: {len(requests) - len(todo)} of {len(requests)} rows already labelled in {journal.path}",
            highlight=False,
        )
    with Progress(
        TextColumn("labelling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console
    ) as progress:
        task = progress.add_task("label", total=len(requests), completed=len(requests) - len(todo))
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start : start + chunk_size]
            outcomes = labeling.label_requests(
                chunk, chat, votes=votes, max_retries=max_retries, temperature=temperature,
                max_new_tokens=max_new_tokens, chunk_size=chunk_size,
            )  # fmt: skip
            journal.append(outcomes)
            progress.advance(task, len(chunk))
    rows = journal.finish(requests)
    unlabelled = [r for r in rows if r["status"] != "labelled"]
    table = Table(title=f"{out}: {len(rows)} rows labelled by {annotator}")
    table.add_column("status")
    table.add_column("rows", justify="right")
    table.add_row("labelled", str(len(rows) - len(unlabelled)))
    table.add_row("unlabelled", str(len(unlabelled)))
    console.print(table)
    if unlabelled:
        reasons = Table(title="why rows stayed unlabelled (most common)")
        reasons.add_column("rows", justify="right")
        reasons.add_column("reason", overflow="fold")
        for reason, count in Counter(r["reason"] for r in unlabelled).most_common(TOP_REASONS):
            reasons.add_row(str(count), reason)
        console.print(reasons)
    share = len(unlabelled) / len(rows) if rows else 0.0
    if share > max_unlabelled:
        err_console.print(
            f"[bold red]error:[/] {share:.0%} of rows are unlabelled, over --max-unlabelled {max_unlabelled:.0%}; "
            f"{out} was written (see its reason column)"
        )
        raise typer.Exit(1)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


@label_app.command("agree")
def agree(
    a: Annotated[Path, typer.Argument(help="Label set A: a label CSV or a folder of them.")],
    b: Annotated[Path, typer.Argument(help="Label set B: a label CSV or a folder of them.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Agreement of two label sets joined on prompt_sha256: kappa, exact, within-one, confusion matrices.

    Example: eh-bench label agree eh_bench/labels llm_labels.csv
    """
    from eh_bench.errors import InputError
    from eh_bench.labeling.agreement import agreement
    from eh_bench.labeling.io import read_label_rows

    rows_a, rows_b = read_label_rows(a), read_label_rows(b)
    report = agreement(rows_a, rows_b, names=(f"A ({a})", f"B ({b})"))
    if report.matched == 0:
        raise InputError(
            f"no request is in both label sets (joined on prompt_sha256): A ({a}) has {len(rows_a)} rows, "
            f"B ({b}) has {len(rows_b)}; compare label sets of the same requests"
        )
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
        return
    console.print(
        f"joined on prompt_sha256: {report.matched} pairs; {report.only_a} rows only in A ({a}), "
        f"{report.only_b} only in B ({b}); harm_category exact agreement {_fmt(report.category_exact)} "
        f"(n={report.category_n})"
    )
    table = Table(title="agreement per scale (quadratic-weighted kappa: 1 perfect, 0 chance)")
    for column in ("scale", "n", "kappa", "exact", "within one"):
        table.add_column(column, justify="left" if column == "scale" else "right")
    for s in report.scales:
        table.add_row(s.scale, str(s.n), _fmt(s.kappa), _fmt(s.exact), _fmt(s.within_one))
    console.print(table)
    matrices = []
    for s in report.scales:
        matrix = Table(title=f"{s.scale} (rows A, columns B)")
        matrix.add_column("A\\B", justify="right")
        for level in range(1, len(s.confusion) + 1):
            matrix.add_column(str(level), justify="right")
        for level, row in enumerate(s.confusion, start=1):
            matrix.add_row(str(level), *map(str, row))
        matrices.append(matrix)
    console.print(Columns(matrices))
