"""``eh-bench import``: published model responses -> report folders (then ``eh-bench submit build``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.markup import escape
from rich.table import Table

from eh_bench.cli._app import app, console
from eh_bench.cli.options import (
    DEFAULT_LIKELIHOOD,
    DEFAULT_N_BOOT,
    JudgeBackendOption,
    LikelihoodOption,
    NBootOption,
    PlotsOption,
    SeedOption,
)

if TYPE_CHECKING:
    from eh_bench.importers import ImportOptions, ImportResult

import_app = typer.Typer(
    help=(
        "Import published model responses with their verdicts into report folders (no generation): "
        "JailbreakBench artifacts, Do-Not-Answer's human-labelled responses, or your own file.\n\n"
        "Example: eh-bench import jbb-artifacts --out runs/jbb && eh-bench submit build runs/jbb/PAIR/vicuna-13b-v1.5"
    ),
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")

MAX_SHOWN_UNMATCHED: Final = 20
OutOption = Annotated[Path, typer.Option("--out", "-o", help="Folder to write the report folder(s) into.")]
SourcesOption = Annotated[
    Path | None,
    typer.Option("--source", help="Folder of the benchmark files (EH_SOURCES_DIR layout; default $EH_SOURCES_DIR, "
                 "then the cache, then the pinned download)."),
]  # fmt: skip
LabelsOption = Annotated[
    Path | None, typer.Option("--labels-dir", help="Label files to join (default: the ones shipped with eh-bench).")
]
DownloadOption = Annotated[
    bool, typer.Option("--download/--no-download", help="Download pinned files that are not found locally.")
]
ChangedOption = Annotated[
    bool, typer.Option("--allow-changed-sources", help="Accept files whose SHA-256 differs from the pin (recorded).")
]
MaxUnscoredOption = Annotated[
    float | None, typer.Option("--max-unscored", help="Fail when more than this fraction is unscored (default 0.10).")
]


def _options(
    source: Path | None, labels_dir: Path | None, download: bool, allow_changed: bool, likelihood: str,
    n_boot: int, seed: int, max_unscored: float | None, plots: bool, source_file: Path | None = None,
) -> ImportOptions:
    from eh_bench.importers import ImportOptions

    return ImportOptions(
        sources_dir=source, source_file=source_file, labels_dir=labels_dir, download=download,
        allow_changed_sources=allow_changed, likelihood=likelihood, n_boot=n_boot, seed=seed,
        max_unscored=max_unscored, plots=plots,
    )  # fmt: skip


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def print_results(results: list[ImportResult], title: str, out: Path) -> None:
    """One line per imported report: model, method, n, ASR (and the published rate), Expected Harm."""
    table = Table(title=title, pad_edge=False)
    for column in ("model", "method", "n", "unscored", "ASR", "published ASR", "Expected Harm", "folder"):
        table.add_column(column, justify="right" if column not in ("model", "method", "folder") else "left")
    for result in results:
        s = result.summary
        task = next(iter(result.report["tasks"].values()))
        table.add_row(
            escape(result.model_id), escape(result.method), str(s.get("n", 0)), str(task["n_unscored"]),
            _f(s.get("asr")), _f(result.published_asr), _f(s.get("expected_harm")), escape(_relative(result.folder, out)),
        )  # fmt: skip
    console.print(table)
    console.print(
        f"{len(results)} report folder(s) under {escape(str(out))}; next: eh-bench submit build FOLDER --out entry.json",
        highlight=False,
    )


def _relative(folder: Path, out: Path) -> str:
    try:
        return str(folder.relative_to(out)) or "."
    except ValueError:
        return str(folder)


@import_app.command("jbb-artifacts")
def jbb_artifacts(
    out: OutOption,
    source: SourcesOption = None,
    labels_dir: LabelsOption = None,
    download: DownloadOption = True,
    allow_changed_sources: ChangedOption = False,
    likelihood: LikelihoodOption = DEFAULT_LIKELIHOOD,
    n_boot: NBootOption = DEFAULT_N_BOOT,
    seed: SeedOption = 0,
    max_unscored: MaxUnscoredOption = None,
    plots: PlotsOption = True,
) -> None:
    """The JailbreakBench attack artifacts: one report per (attack, target model) in OUT/<attack>/<model>.

    The artifact's `jailbroken` verdict is the judge (recorded as `jailbreakbench` at the artifacts'
    commit); rows are matched on the JBB index with the behaviour name checked; a null response is an
    attack failure, so each ASR equals the artifact's published attack_success_rate.

    Example: EH_SOURCES_DIR=../shared/sources eh-bench import jbb-artifacts --out runs/jbb
    """
    from eh_bench.importers import import_jbb_artifacts

    opts = _options(source, labels_dir, download, allow_changed_sources, likelihood, n_boot, seed, max_unscored, plots)
    print_results(import_jbb_artifacts(out, opts), "JailbreakBench artifacts (judge: jailbreakbench)", out)


@import_app.command("donotanswer")
def donotanswer(
    out: OutOption,
    source: Annotated[
        Path | None, typer.Option("--source", help="The do_not_answer_data.csv file (default: resolved like the sources).")
    ] = None,
    labels_dir: LabelsOption = None,
    download: DownloadOption = True,
    allow_changed_sources: ChangedOption = False,
    likelihood: LikelihoodOption = DEFAULT_LIKELIHOOD,
    n_boot: NBootOption = DEFAULT_N_BOOT,
    seed: SeedOption = 0,
    max_unscored: MaxUnscoredOption = None,
    plots: PlotsOption = True,
) -> None:
    """Do-Not-Answer's six models with human labels: one report per model in OUT/<model>.

    Success is the human `harmful` label (judge `human-annotation`), so each ASR is the model's human
    harmful rate; the action class (0-5) is kept per row in verdicts.jsonl. CC BY-NC-SA 4.0 data.

    Example: eh-bench import donotanswer --out runs/dna
    """
    from eh_bench.importers import import_donotanswer

    opts = _options(None, labels_dir, download, allow_changed_sources, likelihood, n_boot, seed, max_unscored, plots,
                    source_file=source)  # fmt: skip
    print_results(import_donotanswer(out, opts), "Do-Not-Answer (judge: human-annotation)", out)


@import_app.command("responses")
def responses(
    file: Annotated[Path, typer.Argument(help="JSONL, CSV, parquet or JSON rows: request_id/id or prompt, response[, verdict].")],
    config: Annotated[str, typer.Option("--config", help="Dataset config the requests belong to (jbb, harmbench, core, ...).")],
    model_id: Annotated[str, typer.Option("--model-id", help="The model that wrote the responses.")],
    out: OutOption,
    judge: Annotated[
        str | None, typer.Option("--judge", "-j", help="Judge for a file without a verdict column (default refusal).")
    ] = None,
    judge_backend: JudgeBackendOption = None,
    verdicts_by: Annotated[
        str | None, typer.Option("--verdicts-by", help="Who made the file's verdicts (the judge id recorded).")
    ] = None,
    model_revision: Annotated[str, typer.Option("--model-revision", help="Commit sha or version of the model.")] = "unrecorded",
    model_type: Annotated[str, typer.Option("--model-type", help="pretrained, instruction-tuned, api, ...")] = "unknown",
    method: Annotated[str, typer.Option("--method", help="How the requests were sent: direct, or an attack name.")] = "direct",
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Built dataset folder or Hub id (default: sources + shipped labels).")
    ] = None,
    source: SourcesOption = None,
    labels_dir: LabelsOption = None,
    download: DownloadOption = True,
    allow_changed_sources: ChangedOption = False,
    likelihood: LikelihoodOption = DEFAULT_LIKELIHOOD,
    n_boot: NBootOption = DEFAULT_N_BOOT,
    seed: SeedOption = 0,
    max_unscored: MaxUnscoredOption = None,
    plots: PlotsOption = True,
) -> None:
    """Your own responses (from another harness, API logs): one report folder.

    Rows name their request by dataset id (`jbb:12`, or `12` for a one-source config) or by its exact
    text; unmatched rows are listed with their row numbers. With a `verdict` column (0/1) those verdicts
    are the judge; without one, --judge scores the responses.

    Example: eh-bench import responses my.jsonl --config jbb --model-id org/model --judge harmbench --judge-backend openai:URL#judge --out runs/mine
    """
    from eh_bench.importers import import_responses

    opts = _options(source, labels_dir, download, allow_changed_sources, likelihood, n_boot, seed, max_unscored, plots)
    result = import_responses(
        file, config, model_id, out, opts, judge=judge, judge_backend=judge_backend, dataset=dataset,
        model_revision=model_revision, model_type=model_type, method=method, verdicts_by=verdicts_by,
    )  # fmt: skip
    print_results([result], f"{file.name} (judge: {result.report['judge']['id']})", out)
    unmatched = result.report["responses"]["unmatched"]
    if unmatched:
        shown = ", ".join(f"row {u['row']} ({escape(str(u['request']))})" for u in unmatched[:MAX_SHOWN_UNMATCHED])
        more = result.report["responses"]["n_unmatched"] - min(len(unmatched), MAX_SHOWN_UNMATCHED)
        console.print(
            f"[yellow]{result.report['responses']['n_unmatched']} row(s) match no request of {escape(config)} "
            f"(unscored):[/] {shown}" + (f" and {more} more" if more > 0 else ""), highlight=False,
        )
