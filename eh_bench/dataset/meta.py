"""Metadata of a build, computed from its rows: config table, source table, card variables, manifest.

Pure functions over the build's rows and join reports; :mod:`eh_bench.dataset.build` writes the results.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from eh_bench import __version__
from eh_bench.dataset.card import PAPER_CITATION, PLOT_PATH, front_matter
from eh_bench.dataset.configs import CONFIGS, DATASET_NAME, DATASET_VERSION, DEDUP_ORDER, DEFAULT_CONFIG
from eh_bench.dataset.core import CORE_LICENSE
from eh_bench.dataset.labels import JoinReport
from eh_bench.dataset.schema import features_yaml
from eh_bench.dataset.stats import config_summary, fmt
from eh_bench.rubric import COST_ANCHORS, COST_FACTORS, HARM_CATEGORIES, RUBRIC_VERSION, SEVERITY_ANCHORS
from eh_bench.sources import ADAPTERS, HARMFUL_SOURCES, LoadedSource, Row


def licenses_of(rows: list[Row]) -> list[str]:
    """Licence ids of the sources the rows come from, sorted."""
    found = {CORE_LICENSE if r.source.startswith("core") else ADAPTERS.get(r.source).license for r in rows}
    return sorted(found)


def configs_metadata(
    config_rows: dict[str, list[Row]],
    stats_rows: dict[str, list[dict[str, Any]]],
    sizes: dict[str, dict[str, int]],
) -> list[dict[str, Any]]:
    """Per built config: data file, rows, licences, sources, description, means and sizes (card order)."""
    metas = []
    for name in sorted(config_rows, key=list(CONFIGS).index):
        summary = config_summary(stats_rows[name])
        metas.append(
            {
                "name": name,
                "path": CONFIGS[name].data_file,
                "rows": len(config_rows[name]),
                "licenses": licenses_of(config_rows[name]),
                "license": ", ".join(licenses_of(config_rows[name])),
                "sources": sorted({r.source for r in config_rows[name]}, key=list(DEDUP_ORDER).index),
                "description": CONFIGS[name].description,
                "mean_cost": fmt(summary["mean_cost"]),
                "mean_severity": fmt(summary["mean_severity"]),
                **sizes[name],
            }
        )
    return metas


def source_table(
    loaded: dict[str, LoadedSource], joins: dict[str, JoinReport], config_rows_n: dict[str, int]
) -> list[dict[str, Any]]:
    """One row per source file: provenance, hash check and label coverage (card table and manifest)."""
    table = []
    for name, src in loaded.items():
        join = joins[name]
        spec = src.adapter.file
        table.append(
            {
                "name": name,
                "title": src.adapter.title,
                "homepage": src.adapter.homepage,
                "relpath": spec.relpath,
                "url": spec.url,
                "revision": spec.revision,
                "sha256": src.file.sha256,
                "sha256_pinned": spec.sha256,
                "sha256_matches": src.file.matches,
                "license": src.adapter.license,
                "rows": join.rows,
                "labelled": join.labelled,
                "unlabelled": len(join.unlabelled),
                "mismatched": len(join.mismatched),
                "in_config": config_rows_n.get(name, 0),
            }
        )
    return table


def card_context(
    configs_meta: list[dict[str, Any]],
    stats_rows: dict[str, list[dict[str, Any]]],
    source_stats: dict[str, dict[str, Any]],
    loaded: dict[str, LoadedSource],
    joins: dict[str, JoinReport],
    skipped: dict[str, str],
    repo_id: str,
    with_plot: bool,
) -> dict[str, Any]:
    """The variables of ``data_cards/dataset_card.md.j2``."""
    matrix_config = DEFAULT_CONFIG if DEFAULT_CONFIG in stats_rows else next(iter(stats_rows), DEFAULT_CONFIG)
    main = config_summary(stats_rows.get(matrix_config, []))
    all_rows = [r for rows in stats_rows.values() for r in rows]
    citations = [PAPER_CITATION, *dict.fromkeys(src.adapter.citation for src in loaded.values())]
    return {
        "front_matter": front_matter(configs_meta, features_yaml(), DEFAULT_CONFIG),
        "version": DATASET_VERSION,
        "rubric_version": RUBRIC_VERSION,
        "eh_bench_version": __version__,
        "repo_id": repo_id,
        "configs": configs_meta,
        "skipped": skipped,
        "harmful_order": list(HARMFUL_SOURCES),
        "cost_anchors": COST_ANCHORS,
        "severity_anchors": SEVERITY_ANCHORS,
        "cost_factors": COST_FACTORS,
        "harm_categories": HARM_CATEGORIES,
        "annotators": dict(Counter(str(r["annotator"]) for r in {r["id"]: r for r in all_rows}.values()).most_common()),
        "by_source": [
            {"name": name, **stats, "mean_cost": fmt(stats["mean_cost"]), "mean_severity": fmt(stats["mean_severity"])}
            for name, stats in source_stats.items()
        ],
        "plot_path": PLOT_PATH if with_plot else None,
        "matrix_config": matrix_config,
        "matrix_rows": main["n"],
        "matrix": main["cost_severity"],
        "categories": main["harm_categories"],
        "sources": source_table(loaded, joins, {s["name"]: s["rows"] for s in configs_meta}),
        "citations": citations,
    }


def manifest_metadata(
    configs_meta: list[dict[str, Any]],
    loaded: dict[str, LoadedSource],
    joins: dict[str, JoinReport],
    skipped: dict[str, str],
    label_meta: dict[str, dict[str, Any]],
    core_meta: dict[str, dict[str, Any]],
    repo_id: str,
) -> dict[str, Any]:
    """``MANIFEST.json`` content apart from the file hashes."""
    sources = {}
    for row in source_table(loaded, joins, {c["name"]: c["rows"] for c in configs_meta}):
        name = row["name"]
        join = joins[name]
        sources[name] = {
            **{k: row[k] for k in ("relpath", "url", "revision", "sha256", "sha256_pinned", "sha256_matches", "license")},
            "rows": join.rows,
            "labelled": join.labelled,
            "label_mismatches": join.mismatched,
            "orphan_labels": join.orphans,
        }
    return {
        "name": DATASET_NAME,
        "version": DATASET_VERSION,
        "rubric_version": RUBRIC_VERSION,
        "eh_bench_version": __version__,
        "repo_id": repo_id,
        "default_config": DEFAULT_CONFIG,
        "configs": {
            c["name"]: {k: c[k] for k in ("path", "rows", "licenses", "sources")} for c in configs_meta
        },
        "skipped_configs": skipped,
        "sources": sources,
        "labels": label_meta,
        "core": core_meta,
        "unlabelled": {name: join.unlabelled for name, join in joins.items() if join.unlabelled},
        "unlabelled_counts": {name: len(join.unlabelled) for name, join in joins.items()},
    }
