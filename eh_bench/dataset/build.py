"""Build the Hub-ready dataset folder: sources + label files + the project's prompts -> Parquet + card.

Output layout::

    DIR/README.md                               card with Hub front matter (configs, gating, licences)
    DIR/<config>/test-00000-of-00001.parquet    one file per config, split ``test``
    DIR/plots/cost_by_source.png                cost distribution per source
    DIR/MANIFEST.json                           version, provenance, SHA-256 of every file

Only labelled rows enter a config; unlabelled rows are counted and listed in the manifest. The build
writes into a staging folder beside the output and moves it in at the end, so a failed build never
leaves a half-written dataset behind; a rebuild replaces only the files the earlier build wrote
(:mod:`eh_bench.dataset.output`).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eh_bench.dataset.card import PLOT_PATH, plot_cost_by_source, render_card
from eh_bench.dataset.configs import CONFIGS, DEDUP_ORDER, DEFAULT_REPO_ID
from eh_bench.dataset.core import core_path, read_core
from eh_bench.dataset.labels import JoinReport, join_labels, label_path, read_label_file
from eh_bench.dataset.manifest import write_manifest
from eh_bench.dataset.meta import card_context, configs_metadata, manifest_metadata
from eh_bench.dataset.output import check_target, clean_stale_staging, place, staging
from eh_bench.dataset.schema import mark_duplicates, write_parquet
from eh_bench.dataset.stats import by_source
from eh_bench.errors import InputError, MissingDependencyError
from eh_bench.sources import PUBLIC_SOURCES, LoadedSource, Row, load_source
from eh_bench.sources.fetch import file_sha256

if TYPE_CHECKING:
    import httpx


@dataclass
class BuildReport:
    """What a build produced: rows per config, skipped configs, label joins and changed sources."""

    out: Path
    configs: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    joins: dict[str, JoinReport] = field(default_factory=dict)
    changed_sources: list[str] = field(default_factory=list)
    seconds: float = 0.0


def build_dataset(
    out: Path | str,
    *,
    sources_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    labels_dir: Path | str | None = None,
    data_dir: Path | str | None = None,
    download: bool = True,
    allow_changed_sources: bool = False,
    plot: bool = True,
    repo_id: str = DEFAULT_REPO_ID,
    client: httpx.Client | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuildReport:
    """Build every config into ``out`` (replacing a previous build there).

    Args:
        out: output folder; must be absent, empty (hidden entries such as ``.git`` allowed), or a
            previous build (it has a ``MANIFEST.json``); only the previous build's files are replaced.
        sources_dir: local benchmark folder (default ``$EH_SOURCES_DIR``).
        cache_dir: download cache (default ``$EH_CACHE_DIR`` or ``~/.cache/eh-bench/sources``).
        labels_dir: folder of ``<source>.csv`` label files (default: the packaged ``eh_bench/labels``).
        data_dir: folder of ``core.jsonl`` / ``core_benign.jsonl`` (default: the packaged ``eh_bench/data``).
        download: download missing benchmark files (HTTPS / Hub) into the cache.
        allow_changed_sources: build from files whose SHA-256 differs from the pinned value.
        plot: draw ``plots/cost_by_source.png`` (needs matplotlib).
        repo_id: Hub id named in the card's examples and the manifest.
        client: ``httpx.Client`` for HTTPS downloads.
        progress: called with a short message at each step.

    Raises:
        SourceError: a benchmark file is missing, changed or malformed.
        LabelError: a label file is malformed (``file:line:field``).
        InputError: ``out`` holds something that is not a previous build.
        OutputError: ``out`` is a file or cannot be written (checked before any source is read).
        MissingDependencyError: ``plot`` is set and matplotlib is not installed.
    """
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    if plot and importlib.util.find_spec("matplotlib") is None:
        raise MissingDependencyError(
            "the cost plot needs matplotlib, which is not installed: pip install 'eh-bench[leaderboard]', "
            "or build without it (--no-plot / plot=False)"
        )
    target = Path(out)
    check_target(target)
    clean_stale_staging(target)
    report = BuildReport(out=target)

    labelled: dict[str, list[Row]] = {}
    loaded: dict[str, LoadedSource] = {}
    label_meta: dict[str, dict[str, Any]] = {}
    for name in PUBLIC_SOURCES:
        say(f"source {name}")
        src = load_source(
            name,
            sources_dir=sources_dir,
            cache_dir=cache_dir,
            download=download,
            allow_changed_sources=allow_changed_sources,
            client=client,
        )
        loaded[name] = src
        if not src.file.matches:
            report.changed_sources.append(name)
        path = label_path(name, labels_dir)
        records = read_label_file(path, name) if path.is_file() else {}
        rows, join = join_labels(src.rows, records, name)
        if path.is_file():
            join.label_file = path.name
            label_meta[name] = {"file": f"labels/{path.name}", "sha256": file_sha256(path), "rows": len(records)}
        report.joins[name] = join
        labelled[name] = [r for r in rows if r.labelled]

    core_meta: dict[str, dict[str, Any]] = {}
    for benign, name in ((False, "core"), (True, "core_benign")):
        try:
            labelled[name] = read_core(benign, data_dir)
            core_meta[name] = {"file": f"data/{name}.jsonl", "sha256": file_sha256(core_path(benign, data_dir))}
        except InputError as exc:
            if core_path(benign, data_dir).is_file():
                raise
            labelled[name] = []
            report.skipped[name] = str(exc)

    ordered = mark_duplicates([row for name in DEDUP_ORDER for row in labelled.get(name, [])])
    by_name: dict[str, list[Row]] = {}
    for row in ordered:
        by_name.setdefault(row.source, []).append(row)

    config_rows: dict[str, list[Row]] = {}
    for spec in CONFIGS.values():
        rows = [r for s in spec.sources for r in by_name.get(s, [])]
        if spec.distinct:
            rows = [r for r in rows if r.duplicate_of is None]
        if rows:
            config_rows[spec.name] = rows
        else:
            report.skipped.setdefault(spec.name, "no labelled rows (add a label file under eh_bench/labels/)")

    with staging(target) as tmp:
        stage = tmp / "build"
        stage.mkdir()
        sizes: dict[str, dict[str, int]] = {}
        for name, rows in config_rows.items():
            say(f"config {name}: {len(rows)} rows")
            data_file = stage / CONFIGS[name].data_file
            report.configs[name], num_bytes = write_parquet(rows, data_file)
            sizes[name] = {"num_bytes": num_bytes, "download_size": data_file.stat().st_size}
        stats_rows = {name: [r.as_dict() for r in rows] for name, rows in config_rows.items()}
        source_stats = by_source([r.as_dict() for r in ordered])
        if plot and source_stats:
            say("plot")
            plot_cost_by_source(source_stats, stage / PLOT_PATH)
        configs_meta = configs_metadata(config_rows, stats_rows, sizes)
        say("card")
        with_plot = plot and bool(source_stats)
        context = card_context(
            configs_meta, stats_rows, source_stats, loaded, report.joins, report.skipped, repo_id, with_plot
        )
        (stage / "README.md").write_text(render_card(context), encoding="utf-8")
        meta = manifest_metadata(configs_meta, loaded, report.joins, report.skipped, label_meta, core_meta, repo_id)
        write_manifest(stage, meta)
        place(stage, target)
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["BuildReport", "build_dataset"]
