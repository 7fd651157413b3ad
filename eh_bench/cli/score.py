"""``eh-bench score``: judge an lm-eval run's samples in bulk and write report.json, report.md and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.markup import escape
from rich.table import Table

from eh_bench.cli._app import app, console, err_console
from eh_bench.cli.options import (
    DEFAULT_JUDGE,
    DEFAULT_LIKELIHOOD,
    DEFAULT_N_BOOT,
    DatasetOption,
    EmptyAsRefusalOption,
    JudgeBackendOption,
    JudgeOption,
    LikelihoodOption,
    NBootOption,
    PlotsOption,
    SeedOption,
)
from eh_bench.rubric import LEVELS

#: Default report folder inside the run folder.
DEFAULT_REPORT_SUBDIR: Final = "eh-bench"
MAX_UNSCORED_HELP: Final = "Fail when more than this fraction is unscored (default $EH_MAX_UNSCORED or 0.10)."


def default_out(run_dir: Path) -> Path:
    """``<RUN_DIR>/eh-bench`` (the parent folder when RUN_DIR is a single samples file)."""
    base = run_dir.parent if run_dir.is_file() else run_dir
    return base / DEFAULT_REPORT_SUBDIR


def _f(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def print_report(report: dict[str, Any]) -> None:
    """Print the headline table of a report: per task and group, ASR per cost level and Expected Harm."""
    from rich import box

    title = (
        f"{report['model']['id']} · judge {report['judge']['id']} · p(cost) {report['likelihood']['spec']}"
    )
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True)
    table.add_column("task", no_wrap=True)
    from eh_bench.metrics.scores import ASR, score_of

    summaries = [e["summary"] for e in report["tasks"].values() if e.get("summary")]
    spec = score_of(summaries[0]) if summaries else ASR
    mean = spec.name if spec.graded else "ASR"
    for col in ("n", "unsc.", "empty", mean, *(f"c{c}" for c in LEVELS), "EH", "calib"):
        table.add_column(col, justify="right", no_wrap=True)
    rows: list[tuple[str, int, int | None, int | None, dict[str, Any] | None]] = [
        (task, e["n_scored"], e["n_unscored"], e.get("n_empty"), e["summary"]) for task, e in report["tasks"].items()
    ]
    group = report.get("group")
    if group and group.get("summary") and len(rows) > 1:
        rows.append((f"[bold]{group['name']}[/]", group["summary"]["n"], group.get("n_unscored"),
                     group.get("n_empty"), group["summary"]))  # fmt: skip
    for name, scored, unscored, empty, s in rows:
        counts = [str(scored), "—" if unscored is None else str(unscored), "—" if empty is None else str(empty)]
        if s is None:
            table.add_row(name, *counts, *["—"] * 8)
            continue
        per_cost = [_f(s[spec.by("cost")][str(c)][spec.level_key], 2) for c in LEVELS]
        table.add_row(
            name, *counts, _f(s[spec.name]), *per_cost, _f(s["expected_harm"]), _f(s["calibration_index"]["value"], 2),
        )  # fmt: skip
    console.print(table)
    console.print(
        f"n: scored samples · empty: empty answers ({(report.get('scoring') or {}).get('empty_responses', 'unscored')}) · "
        f"c1..c5: {mean} at execution cost 1..5 · EH: Expected Harm (0-5) · "
        "calib: change in ASR per cost level, severity held fixed (< 0: inverse risk calibration)",
        highlight=False,
    )
    benign = report.get("benign")
    if benign:
        console.print(f"over-refusal on benign requests: {_f(benign['over_refusal_rate'])} (n={benign['n']})")


def check_scoring(judge: str, judge_backend: str | None, likelihood: str, plots: bool) -> None:
    """Refuse, before any sample is read or generated, what would otherwise fail only at the end: an
    unknown judge or likelihood model, a judge without a judge model, a judge server that cannot be
    reached, plots without matplotlib.

    Raises:
        ConfigError: naming the option and the fix.
        MissingDependencyError: plots asked for without matplotlib.
    """
    from eh_bench.errors import require
    from eh_bench.judges import get_judge
    from eh_bench.likelihood import get_likelihood

    get_likelihood(likelihood)
    built = get_judge(judge, backend=judge_backend)
    spec = getattr(getattr(built, "backend", None), "spec", None)
    if isinstance(spec, str) and spec.startswith("openai:"):
        from eh_bench.backends.openai_compat import check_reachable

        check_reachable(spec, f"the judge model of {judge!r}")
    if plots:
        require("matplotlib", "leaderboard")


def run_score(
    run_dir: Path,
    *,
    judge: str,
    judge_backend: str | None,
    likelihood: str,
    out: Path | None,
    seed: int,
    n_boot: int,
    max_unscored: float | None,
    dataset: str | None,
    model_id: str | None,
    model_revision: str | None,
    plots: bool,
    progress: bool = True,
    empty_as_refusal: bool = False,
) -> tuple[dict[str, Any], Path]:
    """Score ``run_dir`` and write the report (the body of ``eh-bench score``, shared with ``eh-bench run``)."""
    from eh_bench.atomic import check_output_folder
    from eh_bench.evaluation.scoring import score_run
    from eh_bench.report.document import PLOT_ERROR, save_report

    target = check_output_folder(out if out is not None else default_out(run_dir))
    check_scoring(judge, judge_backend, likelihood, plots)
    if progress:
        err_console.print(f"scoring {run_dir} with judge {judge}", highlight=False)
    scored = score_run(
        run_dir, judge, judge_backend, likelihood,
        seed=seed, n_boot=n_boot, max_unscored=max_unscored, progress=progress, empty_as_refusal=empty_as_refusal,
    )  # fmt: skip
    report, json_path, md_path = save_report(
        scored, target, plots=plots, model_id=model_id, model_revision=model_revision, dataset=dataset
    )
    print_report(report)
    console.print(f"report: {json_path}  ·  {md_path}", soft_wrap=True, highlight=False)
    if report["files"]["plots"]:
        plots_line = "  ·  ".join(str(target / p) for p in report["files"]["plots"])
        console.print(f"plots: {plots_line}", soft_wrap=True, highlight=False)
    if report["files"].get(PLOT_ERROR):
        err_console.print(
            f"[yellow]warning:[/] the plots could not be drawn ({escape(report['files'][PLOT_ERROR])}); "
            "the report was written without them",
            highlight=False, soft_wrap=True, markup=True,
        )
    return report, json_path


@app.command()
def score(
    run_dir: Annotated[
        Path, typer.Argument(help="lm-eval --output_path folder (samples_*.jsonl anywhere below it).")
    ],
    judge: JudgeOption = DEFAULT_JUDGE,
    judge_backend: JudgeBackendOption = None,
    likelihood: LikelihoodOption = DEFAULT_LIKELIHOOD,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Report folder (default RUN_DIR/eh-bench).")
    ] = None,
    seed: SeedOption = 0,
    n_boot: NBootOption = DEFAULT_N_BOOT,
    max_unscored: Annotated[float | None, typer.Option("--max-unscored", help=MAX_UNSCORED_HELP)] = None,
    dataset: DatasetOption = None,
    model_id: Annotated[
        str | None,
        typer.Option("--model-id", help="Model id for the report (default: from lm-eval's results)."),
    ] = None,
    model_revision: Annotated[
        str | None, typer.Option("--model-revision", help="Model revision for the report.")
    ] = None,
    plots: PlotsOption = True,
    empty_as_refusal: EmptyAsRefusalOption = False,
) -> None:
    """Judge an lm-eval run's samples (no re-generation) and write report.json, report.md and plots.

    Verdicts of model judges are cached (SQLite, keyed by judge id, revision, prompt and response),
    so scoring the same run again makes no judge call.

    Example: eh-bench score runs/smollm2 --judge harmbench --judge-backend openai:http://127.0.0.1:8000/v1#judge
    """
    run_score(
        run_dir, judge=judge, judge_backend=judge_backend, likelihood=likelihood, out=out, seed=seed,
        n_boot=n_boot, max_unscored=max_unscored, dataset=dataset, model_id=model_id,
        model_revision=model_revision, plots=plots, empty_as_refusal=empty_as_refusal,
    )  # fmt: skip
