"""A probe run as a report folder: ``report.json`` (the report schema), ``probes.json`` (leaderboard rows)
and ``report.md``.

report.json is an eh-bench report (``report_version`` 1, ``kind: "probes"``) with no evaluation tasks:
its ``model``, ``dataset``, ``judge`` and ``likelihood`` sections let ``eh-bench submit build EVAL_DIR
PROBE_DIR`` join it to an evaluation of the same model (an entry joins reports of one dataset, judge and
likelihood model, so the judge and likelihood named by ``--judge`` / ``--likelihood`` are recorded even
when contrast labels did not consult the judge: ``labels.source`` says which). The ``probes`` section
holds every number; probes.json holds the rows the leaderboard's Probes tab draws. No prompt or response
text is written: items are identified by id and sha256 only.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from eh_bench import __version__
from eh_bench.probes.run import ProbeRun
from eh_bench.probes.stats import Estimate

KIND: Final = "probes"
REPORT_VERSION: Final = 1
REPORT_JSON: Final = "report.json"
REPORT_MD: Final = "report.md"
PROBES_JSON: Final = "probes.json"
ITEMS_JSON: Final = "items.json"
METHOD_LABELS: Final = {"logistic": "logistic", "mean_difference": "difference-in-means"}
DECODE_METHOD: Final = "ridge (ordinal level)"


def _judge_record(run: ProbeRun) -> dict[str, Any]:
    from eh_bench.judges.registry import get_judge, judge_metadata

    s = run.settings
    meta = run.labels.settings.get("judge") or judge_metadata(get_judge(s.judge, s.judge_backend))
    return {**meta, "used_for_labels": run.labels.source == "behaviour"}


def label_source(run: ProbeRun) -> str:
    """``contrast:core_benign`` or ``behaviour:<judge id>``: how the refusal labels were made."""
    if run.labels.source == "contrast":
        return f"contrast:{run.settings.contrast}"
    return f"behaviour:{(run.labels.settings.get('judge') or {}).get('id', run.settings.judge)}"


def _counts(run: ProbeRun) -> dict[str, Any]:
    harmful = [i for i in run.items if i.harmful]
    return {
        "n_items": len(run.items), "n_harmful": len(harmful), "n_benign": len(run.items) - len(harmful),
        "by_severity": {str(k): sum(i.severity == k for i in harmful) for k in range(1, 6)},
        "by_cost": {str(k): sum(i.cost == k for i in harmful) for k in range(1, 6)},
    }


def probes_section(run: ProbeRun) -> dict[str, Any]:
    """Every number of the run (see the module docstring)."""
    return {
        "settings": run.settings.record(),
        "label_source": label_source(run),
        "labels": run.labels.as_dict(),
        "counts": _counts(run),
        "extraction": run.extraction,
        "refusal": run.refusal.as_dict() if run.refusal else None,
        "levels": [layer.as_dict() for layer in run.levels],
        "decode": {"severity": run.severity.as_dict() if run.severity else None,
                   "cost": run.cost.as_dict() if run.cost else None},
        "summary": run.summary,
        "unscored": run.unscored,
    }


def build_probe_report(run: ProbeRun, plots: list[str] | None = None) -> dict[str, Any]:
    """The report.json dict of a probe run."""
    from eh_bench.likelihood import get_likelihood
    from eh_bench.report.document import dataset_record

    s = run.settings
    configs = [s.config] + ([s.contrast] if run.labels.source == "contrast" and s.contrast else [])
    return {
        "report_version": REPORT_VERSION,
        "kind": KIND,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "eh_bench_version": __version__,
        "model": run.model,
        "dataset": dataset_record(s.dataset, None, configs),
        "judge": _judge_record(run),
        "likelihood": {**get_likelihood(s.likelihood).to_dict(), "used": False},
        "seed": s.seed,
        "n_boot": s.n_boot,
        "tasks": {},
        "group": None,
        "benign": None,
        "files": {"samples": [], "plots": list(plots or []), "probes": PROBES_JSON, "items": ITEMS_JSON},
        "probes": probes_section(run),
    }


def _accuracy(estimate: Estimate) -> dict[str, float | None]:
    values = estimate.as_dict()
    return {"accuracy": values["value"], "ci_low": values["ci_low"], "ci_high": values["ci_high"]}


def _layer_rows(run: ProbeRun, method: str) -> list[dict[str, Any]]:
    assert run.refusal is not None
    rows = []
    for layer in run.refusal.layers:
        scores = getattr(layer, method)
        rows.append({"layer": layer.layer, **_accuracy(scores.accuracy), "auroc": scores.auroc.as_dict()["value"]})
    return rows


def probe_rows(run: ProbeRun) -> list[dict[str, Any]]:
    """The leaderboard rows (``entry["probes"]``): the refusal probe by method, then decoded levels."""
    s = run.settings
    common = {"label_source": label_source(run), "config": s.config, "pool": s.pool}
    rows: list[dict[str, Any]] = []
    if run.refusal is not None:
        final = run.levels[-1] if run.levels else None
        for method, label in METHOD_LABELS.items():
            row: dict[str, Any] = {"target": "refusal", "method": label, "n": run.refusal.n, **common,
                                   "accuracy_by_layer": _layer_rows(run, method)}
            if method == "logistic" and final is not None:
                row.update(score_by_severity=final.scores("severity"), score_by_cost=final.scores("cost"),
                           score_layer=final.layer)
            rows.append(row)
    for target in (run.severity, run.cost):
        if target is None:
            continue
        main = "within_strata" if target.strata else "spearman"
        layers = [{"layer": i, **_accuracy(stats["accuracy"].estimate),
                   "spearman": stats[main].estimate.as_dict()["value"],
                   "beyond_text": stats["beyond_text"].estimate.as_dict()["value"]}
                  for i, stats in enumerate(target.layers)]
        rows.append({"target": target.target, "method": DECODE_METHOD, "n": target.n, **common,
                     "accuracy_by_layer": layers})
    if rows and run.summary.get("line"):
        rows[0]["summary"] = run.summary["line"]
    return rows


def save_probe_report(run: ProbeRun, out_dir: Path, *, plots: bool = True) -> tuple[dict[str, Any], dict[str, Path]]:
    """Draw the figures, then write report.json, probes.json, items.json (ids, hashes, levels, labels:
    no text) and report.md together. Returns the report dict and the paths by file name."""
    from eh_bench.atomic import write_all
    from eh_bench.probes.markdown import render_probe_markdown

    report = build_probe_report(run)
    if plots:
        from eh_bench.probes.plots import plot_probe_report

        report["files"]["plots"] = [p.name for p in plot_probe_report(report, out_dir)]
    items = [{**item.public(), "label": label} for item, label in zip(run.items, run.labels.values, strict=True)]
    paths = {name: out_dir / name for name in (REPORT_JSON, PROBES_JSON, ITEMS_JSON, REPORT_MD)}

    def dump(data: Any) -> str:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    write_all({paths[REPORT_JSON]: dump(report), paths[PROBES_JSON]: dump(probe_rows(run)),
               paths[ITEMS_JSON]: dump(items), paths[REPORT_MD]: render_probe_markdown(report)})
    return report, paths
