"""``eh-bench dataset build|validate|stats|publish|realworld``: the Hub dataset, from sources to upload."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from eh_bench.cli._app import app, console, err_console
from eh_bench.dataset.configs import DEFAULT_REPO_ID
from eh_bench.dataset.publish import Gating

dataset_app = typer.Typer(
    help="Build, check, inspect and publish the labelled dataset.\n\nExample: eh-bench dataset build --out out/ds",
    no_args_is_help=True,
)
app.add_typer(dataset_app, name="dataset")


@dataset_app.command()
def build(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder (new, empty, or a previous build).")
    ],
    sources_dir: Annotated[
        Path | None,
        typer.Option("--sources-dir", envvar="EH_SOURCES_DIR", help="Local folder with the benchmark files."),
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", envvar="EH_CACHE_DIR", help="Download cache folder.")
    ] = None,
    labels_dir: Annotated[
        Path | None, typer.Option("--labels-dir", help="Label files folder (default: the packaged labels).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Folder of core.jsonl / core_benign.jsonl (default: packaged)."),
    ] = None,
    download: Annotated[
        bool, typer.Option("--download/--no-download", help="Download missing benchmark files.")
    ] = True,
    allow_changed_sources: Annotated[
        bool,
        typer.Option(
            "--allow-changed-sources", help="Build from files whose sha256 differs from the pinned one."
        ),
    ] = False,
    plot: Annotated[
        bool, typer.Option("--plot/--no-plot", help="Draw plots/cost_by_source.png (needs matplotlib).")
    ] = True,
    repo_id: Annotated[
        str, typer.Option("--repo-id", envvar="EH_DATASET_REPO", help="Hub id named in the card.")
    ] = DEFAULT_REPO_ID,
) -> None:
    """Join sources, label files and the project's prompts into a Hub-ready folder.

    Example: EH_SOURCES_DIR=../shared/sources eh-bench dataset build --out /tmp/ds
    """
    from eh_bench.dataset.build import build_dataset

    with console.status("building the dataset") as status:
        report = build_dataset(
            out,
            sources_dir=sources_dir,
            cache_dir=cache_dir,
            labels_dir=labels_dir,
            data_dir=data_dir,
            download=download,
            allow_changed_sources=allow_changed_sources,
            plot=plot,
            repo_id=repo_id,
            progress=lambda msg: status.update(f"building the dataset: {msg}"),
        )
    coverage = Table(title="sources")
    for col in ("source", "rows", "labelled", "unlabelled", "hash mismatches", "orphan labels"):
        coverage.add_column(col, justify="left" if col == "source" else "right")
    for name, join in report.joins.items():
        coverage.add_row(
            name, str(join.rows), str(join.labelled), str(len(join.unlabelled)), str(len(join.mismatched)),
            str(len(join.orphans)),
        )  # fmt: skip
    console.print(coverage)
    configs = Table(title=f"configs written to {report.out}")
    configs.add_column("config")
    configs.add_column("rows", justify="right")
    for name, n in report.configs.items():
        configs.add_row(name, str(n))
    console.print(configs)
    for name, reason in report.skipped.items():
        err_console.print(f"[yellow]skipped config {name}:[/] {reason}", highlight=False)
    for name, join in report.joins.items():
        for bad in join.mismatched:
            err_console.print(
                f"[yellow]label left out:[/] {bad['where']}: prompt_sha256 {bad['label_prompt_sha256']} "
                f"no longer matches {name}:{bad['source_id']} ({bad['source_prompt_sha256']})",
                highlight=False,
            )
    if report.changed_sources:
        err_console.print(f"[yellow]built from changed source files:[/] {', '.join(report.changed_sources)}")
    console.print(f"built in {report.seconds:.1f}s")


@dataset_app.command()
def validate(path: Annotated[Path, typer.Argument(help="A built dataset folder.")]) -> None:
    """Check schema, label ranges, prompt hashes, duplicates, card and manifest of a build.

    Example: eh-bench dataset validate /tmp/ds
    """
    from eh_bench.dataset.validate import validate_dataset

    result = validate_dataset(path)
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    for error in result.errors:
        err_console.print(f"[red]error:[/] {error}", highlight=False, soft_wrap=True)
    total = sum(result.rows_checked.values())
    if not result.ok:
        err_console.print(f"[bold red]invalid:[/] {len(result.errors)} errors in {path}")
        raise typer.Exit(1)
    console.print(
        f"[green]valid:[/] {path}: {len(result.rows_checked)} configs, {total} rows, "
        f"{len(result.warnings)} warnings"
    )


@dataset_app.command()
def stats(
    path: Annotated[Path, typer.Argument(help="A built dataset folder.")],
    config: Annotated[
        str, typer.Option("--config", "-c", help="Config for the cost x severity table.")
    ] = "all",
) -> None:
    """Print the dataset card's tables (rows, means, cost x severity) computed from the Parquet files.

    Example: eh-bench dataset stats /tmp/ds --config core
    """
    from eh_bench.dataset.configs import CONFIGS, DEDUP_ORDER
    from eh_bench.dataset.manifest import read_manifest
    from eh_bench.dataset.schema import read_parquet
    from eh_bench.dataset.stats import by_source, config_summary, fmt
    from eh_bench.errors import ConfigError, InputError

    manifest = read_manifest(path)
    built: dict[str, Any] = manifest.get("configs") or {}
    if not isinstance(built, dict) or not all(isinstance(m, dict) and "path" in m for m in built.values()):
        raise InputError(f"{path}/MANIFEST.json: 'configs' is not an object of configs; rebuild the dataset")
    if config not in built:
        names = ", ".join(sorted(built, key=list(CONFIGS).index))
        raise ConfigError(f"config {config!r} is not in {path}; built: {names}")
    rows = {name: read_parquet(path / meta["path"]) for name, meta in built.items()}
    head = Table(
        title=f"{manifest.get('name')} {manifest.get('version')} (rubric v{manifest.get('rubric_version')})"
    )
    for col in ("config", "rows", "mean cost", "mean severity", "licence"):
        head.add_column(col, justify="right" if col in ("rows", "mean cost", "mean severity") else "left")
    for name in sorted(rows, key=list(CONFIGS).index):
        summary = config_summary(rows[name])
        head.add_row(
            name, str(summary["n"]), fmt(summary["mean_cost"]), fmt(summary["mean_severity"]),
            ", ".join(built[name].get("licenses", [])),
        )  # fmt: skip
    console.print(head)
    union = {r["id"]: r for name, items in rows.items() if not CONFIGS[name].distinct for r in items}
    per_source = Table(title="per source (cost histogram)")
    for col in ("source", "rows", "mean cost", "mean severity", "c1", "c2", "c3", "c4", "c5"):
        per_source.add_column(col, justify="left" if col == "source" else "right")
    ordered = sorted(union.values(), key=lambda r: DEDUP_ORDER.index(r["source"]))
    for name, s in by_source(ordered).items():
        per_source.add_row(
            name, str(s["n"]), fmt(s["mean_cost"]), fmt(s["mean_severity"]),
            *(str(n) for n in s["cost_histogram"].values()),
        )  # fmt: skip
    console.print(per_source)
    matrix = Table(title=f"cost x severity ({config})")
    matrix.add_column("cost \\ severity", justify="right")
    for level in range(1, 6):
        matrix.add_column(str(level), justify="right")
    for level, counts in enumerate(config_summary(rows[config])["cost_severity"], start=1):
        matrix.add_row(str(level), *(str(n) for n in counts))
    console.print(matrix)
    unlabelled = manifest.get("unlabelled_counts") or {}
    if any(unlabelled.values()):
        console.print(
            "unlabelled rows (not in any config): "
            + ", ".join(f"{k} {v}" for k, v in unlabelled.items() if v)
        )


@dataset_app.command()
def publish(
    path: Annotated[Path, typer.Argument(help="A built dataset folder.")],
    repo_id: Annotated[str, typer.Option("--repo-id", envvar="EH_DATASET_REPO", help="ORG/NAME on the Hub.")],
    private: Annotated[bool, typer.Option("--private", help="Create the repository private.")] = False,
    gated: Annotated[
        Gating, typer.Option("--gated", help="auto | manual: how access requests are approved.")
    ] = "auto",
    token: Annotated[
        str | None, typer.Option("--token", envvar="HF_TOKEN", help="Hub token (default: saved login).")
    ] = None,
) -> None:
    """Upload a validated build to the Hub in one commit and turn gating on.

    Example: eh-bench dataset publish /tmp/ds --repo-id my-org/eh-bench --gated auto
    """
    from eh_bench.dataset.publish import publish_dataset

    with console.status(f"uploading to {repo_id}"):
        result = publish_dataset(path, repo_id, private=private, gated=gated, token=token)
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    console.print(
        f"published {len(result.files)} files to {result.repo_url} (gated: {result.gated}) {result.commit_url}"
    )


@dataset_app.command()
def realworld(
    name: Annotated[str, typer.Argument(help="wildchat | lmsys")],
    source: Annotated[
        str, typer.Option("--input", "-i", help="Parquet/JSON-lines file or folder, or a Hub dataset id.")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="JSON-lines file of canonical rows (input of eh-bench label).")
    ],
    language: Annotated[
        str | None, typer.Option("--language", help="Keep one language only (e.g. English).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Stop after this many rows.")] = None,
    revision: Annotated[
        str | None, typer.Option("--revision", help="Hub revision when --input is a Hub id.")
    ] = None,
    dedupe: Annotated[
        bool, typer.Option("--dedupe/--no-dedupe", help="Emit each distinct prompt once.")
    ] = True,
) -> None:
    """Stream a real-world chat log and keep first-turn prompts its moderation fields flag as toxic.

    Example: eh-bench dataset realworld lmsys --input lmsys/lmsys-chat-1m --out lmsys_toxic.jsonl --limit 1000
    """
    from eh_bench.atomic import check_output_file
    from eh_bench.sources import REALWORLD
    from eh_bench.sources.realworld import extract, iter_records, write_jsonl

    check_output_file(out)
    adapter = REALWORLD.get(name)
    records = iter_records(source, columns=adapter.columns, revision=revision)
    with console.status(f"streaming {source}"):
        count = write_jsonl(extract(adapter, records, language=language, dedupe=dedupe, limit=limit), out)
    console.print(f"wrote {count} flagged first-turn prompts to {out}")
