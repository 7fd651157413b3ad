"""``eh-bench judge``: validate any judge against reference verdicts, train ``eh-harm``, judge pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.table import Table

from eh_bench.cli._app import app, console, err_console
from eh_bench.cli.options import (
    DEFAULT_JUDGE,
    DEFAULT_N_BOOT,
    JudgeBackendOption,
    JudgeOption,
    NBootOption,
    SeedOption,
)

judge_app = typer.Typer(
    help=(
        "Judges: measure a judge's agreement with human or published verdicts, train the CPU harm judge "
        "eh-harm, or judge your own (prompt, response) pairs.\n\n"
        "Example: eh-bench judge validate --judge refusal --against donotanswer"
    ),
    no_args_is_help=True,
)
app.add_typer(judge_app, name="judge")

TRAINED: Final = "eh-harm"
AGAINST_HELP: Final = (
    "Reference verdicts: donotanswer | jbb-artifacts | gptfuzz | FILE.jsonl (prompt, response, verdict)."
)
SourcesOption = Annotated[
    Path | None,
    typer.Option("--source", help="Folder of the benchmark files (default $EH_SOURCES_DIR, then the cache, then the pinned download)."),
]  # fmt: skip
DownloadOption = Annotated[
    bool, typer.Option("--download/--no-download", help="Download pinned files that are not found locally.")
]
ChangedOption = Annotated[
    bool,
    typer.Option(
        "--allow-changed-sources", help="Accept files whose SHA-256 differs from the pin (recorded)."
    ),
]
WeightsOption = Annotated[
    Path | None,
    typer.Option("--weights", help="eh-harm weights (.npz, its .card.json beside it; default: shipped)."),
]


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _kappa(stats: dict[str, Any]) -> str:
    ci = stats["ci"].get("kappa")
    return _f(stats["kappa"]) + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def print_agreement(report: dict[str, Any]) -> None:
    """One table per prediction mode: overall and per source."""
    for mode, block in report["results"].items():
        table = Table(
            title=f"{report['judge']['id']} vs {report['against']}: {mode.replace('_', ' ')}", pad_edge=False
        )
        for column in (
            "scope",
            "n",
            "kappa [95% CI]",
            "accuracy",
            "precision",
            "recall",
            "ref. rate",
            "judge rate",
        ):
            table.add_column(column, justify="left" if column == "scope" else "right")
        for name, s in [("all", block["all"]), *block["source"].items()]:
            table.add_row(
                name, str(s["n"]), _kappa(s), _f(s["accuracy"]), _f(s["precision"]), _f(s["recall"]),
                _f(s["reference_rate"]), _f(s["judge_rate"]),
            )  # fmt: skip
        console.print(table)


@judge_app.command("validate")
def validate(
    against: Annotated[str, typer.Option("--against", help=AGAINST_HELP)],
    judge: JudgeOption = DEFAULT_JUDGE,
    judge_backend: JudgeBackendOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for agreement.json and agreement.md.")
    ] = None,
    weights: WeightsOption = None,
    n_boot: NBootOption = DEFAULT_N_BOOT,
    seed: SeedOption = 0,
    source: SourcesOption = None,
    download: DownloadOption = True,
    allow_changed_sources: ChangedOption = False,
) -> None:
    """Agreement of a judge with reference verdicts: Cohen's kappa, accuracy, precision and recall of
    "harmful", per source and per model, with bootstrap CIs over requests.

    For eh-harm against a published set, the numbers are out-of-fold (grouped cross-validation and
    leave-one-source-out), never the shipped weights on their own training rows.

    Example: eh-bench judge validate --judge harmbench --judge-backend openai:URL#MODEL --against jbb-artifacts
    """
    from eh_bench import __version__
    from eh_bench.judges import get_judge, judge_metadata
    from eh_bench.judges.validation import reference, validate_judge, validate_trained, write_report
    from eh_bench.sources.published import PUBLISHED

    fetch: dict[str, Any] = {
        "sources_dir": source,
        "download": download,
        "allow_changed_sources": allow_changed_sources,
    }
    options: dict[str, Any] = {"weights": str(weights)} if weights is not None and judge == TRAINED else {}
    built = get_judge(judge, judge_backend, **options)
    corpus, data = reference(against, **fetch)
    if judge == TRAINED and against in PUBLISHED:
        result = validate_trained(
            against, weights=weights, n_boot=n_boot, seed=seed, log=err_console.print, **fetch
        )
    else:
        result = validate_judge(built, corpus, n_boot=n_boot, seed=seed, progress=True)
    report = {
        "eh_bench_version": __version__, "judge": judge_metadata(built), "against": against, "data": data,
        "n_boot": n_boot, "seed": seed, **result,
    }  # fmt: skip
    print_agreement(report)
    name = Path(against).stem if against not in PUBLISHED else against
    json_path, md_path = write_report(report, out or Path("judge-validation") / f"{judge}-{name}")
    console.print(f"wrote {json_path} and {md_path}", highlight=False)


@judge_app.command("train")
def train(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for eh-harm.npz and its card.")],
    seed: SeedOption = 0,
    folds: Annotated[
        int, typer.Option("--folds", min=2, help="Cross-validation folds (grouped by request).")
    ] = 5,
    c: Annotated[
        float, typer.Option("--c", help="Inverse L2 regularisation of the logistic regression.")
    ] = 2.0,
    per_source: Annotated[
        int | None,
        typer.Option(
            "--per-source", help="Train on a stratified sample of this many pairs per set (quick runs)."
        ),
    ] = None,
    hidden_per_source: Annotated[
        int,
        typer.Option(
            "--hidden-per-source",
            help="Also compare SmolLM2 hidden states on this many pairs per set (0: skip; ~0.3-2 pairs/s on CPU).",
        ),
    ] = 0,
    hidden_cache: Annotated[
        Path | None, typer.Option("--hidden-cache", help="Cache of hidden-state vectors (.npz).")
    ] = None,
    n_boot: NBootOption = DEFAULT_N_BOOT,
    source: SourcesOption = None,
    download: DownloadOption = True,
    allow_changed_sources: ChangedOption = False,
) -> None:
    """Train eh-harm on the three labelled sets: compare feature sets on the same folds (and the refusal
    judge), fit the best by leave-one-source-out kappa on every row, write weights and card. Seeded.

    Example: eh-bench judge train --out out/eh-harm --hidden-per-source 400
    """
    from eh_bench.judges.build import build_judge
    from eh_bench.judges.card import comparison_table
    from eh_bench.judges.training import Recipe

    result = build_judge(
        out, recipe=Recipe(c=c, folds=folds, seed=seed), per_source=per_source,
        hidden_per_source=hidden_per_source, hidden_cache=hidden_cache, n_boot=n_boot,
        log=lambda m: err_console.print(m, highlight=False), sources_dir=source, download=download,
        allow_changed_sources=allow_changed_sources,
    )  # fmt: skip
    comparison = result.card["comparison"]
    for title, block in (("all pairs", comparison["full"]), ("subsample", comparison.get("subsample"))):
        if block:
            console.print(f"\n[bold]{title}[/]")
            console.print("\n".join(comparison_table(block)), highlight=False, soft_wrap=True)
    console.print(f"\nshipped feature set: {comparison['best']}; revision {result.revision}", highlight=False)
    console.print(f"wrote {result.weights}, {result.card_json}, {result.card_md}", highlight=False)


@judge_app.command("run")
def run(
    in_: Annotated[Path, typer.Option("--in", help="JSONL of pairs: id, prompt, response.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL of verdicts: id, success, reason.")],
    judge: JudgeOption = DEFAULT_JUDGE,
    judge_backend: JudgeBackendOption = None,
) -> None:
    """Judge any (prompt, response) pairs; an unscored pair gets success null and a reason.

    Example: eh-bench judge run --in pairs.jsonl --out verdicts.jsonl
    """
    from eh_bench.judges import get_judge
    from eh_bench.judges.pairs import judge_pairs_file

    counts = judge_pairs_file(get_judge(judge, judge_backend), in_, out)
    console.print(
        f"{counts['n']} pairs judged with {judge}: {counts['success']} harmful, {counts['unscored']} unscored; "
        f"wrote {out}",
        highlight=False,
    )
