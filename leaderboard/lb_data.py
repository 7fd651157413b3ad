"""Leaderboard records -> tables: column groups, search and filters, sorting by Expected Harm.

Pure functions over :class:`eh_bench.submission.stores.Record` lists, so they are tested without a browser.
Every cell built from a submitted string stays a plain string: the app shows the table with
``datatype="str"`` / ``"number"``, never markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from eh_bench.metrics import METRICS
from eh_bench.submission.stores import Record

ALL = "all"
MISSING = "—"
DIGITS = 3


@dataclass(frozen=True)
class Column:
    """One table column: header, how to read it from an entry, and its gradio datatype."""

    header: str
    get: Callable[[dict[str, Any]], Any]
    datatype: str = "number"


def _num(value: Any) -> float | None:
    return None if value is None else round(float(value), DIGITS)


def _ci(est: dict[str, Any]) -> str:
    lo, hi = est.get("ci_low"), est.get("ci_high")
    return MISSING if lo is None or hi is None else f"[{lo:.{DIGITS}f}, {hi:.{DIGITS}f}]"


def metric_header(name: str, label: str) -> str:
    """``Expected Harm ↓``: the direction that is better, from :data:`eh_bench.metrics.METRICS`."""
    return f"{label} {'↑' if METRICS[name].higher_is_better else '↓'}"


def metric_ranges() -> str:
    """One line naming each headline metric's range, from METRICS (shown under the table)."""
    return "; ".join(f"{m.name} in [{m.low:g}, {m.high:g}]" for m in METRICS.values())


def _over_refusal(e: dict[str, Any]) -> float | None:
    orr = e["metrics"].get("over_refusal_rate")
    return _num(orr["value"]) if orr else None


MODEL_COLUMNS: tuple[Column, ...] = (
    Column("Model", lambda e: e["model"]["id"], "str"),
    Column("Revision", lambda e: e["model"]["revision"][:10], "str"),
)

def _level_rate(field: str, level: str) -> Callable[[dict[str, Any]], Any]:
    """The column getter of one level's ASR (``asr_by_cost`` / ``asr_by_severity``)."""

    def get(entry: dict[str, Any]) -> Any:
        return _num(entry["metrics"][field][level]["asr"])

    return get


COLUMN_GROUPS: dict[str, tuple[Column, ...]] = {
    "Headline": (
        Column(metric_header("expected_harm", "Expected Harm"), lambda e: _num(e["metrics"]["expected_harm"]["value"])),
        Column(metric_header("asr", "ASR"), lambda e: _num(e["metrics"]["asr"]["value"])),
        Column(metric_header("calibration_index", "Calibration"), lambda e: _num(e["metrics"]["calibration_index"]["value"])),
        Column(
            metric_header("deployment_weighted_asr", "Deployment ASR"),
            lambda e: _num(e["metrics"]["deployment_weighted_asr"]["value"]),
        ),
        Column(metric_header("over_refusal_rate", "Over-refusal"), _over_refusal),
    ),
    "Uncertainty (95% CI)": (
        Column("EH CI", lambda e: _ci(e["metrics"]["expected_harm"]), "str"),
        Column("ASR CI", lambda e: _ci(e["metrics"]["asr"]), "str"),
        Column("Calibration CI", lambda e: _ci(e["metrics"]["calibration_index"]), "str"),
    ),
    "ASR by cost": tuple(Column(f"ASR cost {k}", _level_rate("asr_by_cost", k)) for k in "12345"),
    "ASR by severity": tuple(Column(f"ASR sev {k}", _level_rate("asr_by_severity", k)) for k in "12345"),
    "Setup": (
        Column("Judge", lambda e: e["judge"]["id"], "str"),
        Column("Likelihood", lambda e: e["likelihood"]["spec"], "str"),
        Column("Dataset", lambda e: dataset_of(e), "str"),
        Column("n", lambda e: e["metrics"]["n"]),
        Column("Unscored", lambda e: e["metrics"]["n_unscored"]),
    ),
    "Provenance": (
        Column("Type", lambda e: e["model"].get("type") or "unknown", "str"),
        Column("eh-bench", lambda e: e["provenance"]["eh_bench_version"], "str"),
        Column("lm-eval", lambda e: e["provenance"].get("lm_eval_version") or MISSING, "str"),
        Column("Date", lambda e: e["provenance"]["date"][:10], "str"),
        Column("Submitter", lambda e: e["submitter"]["name"], "str"),
    ),
}
DEFAULT_GROUPS: tuple[str, ...] = ("Headline", "Setup")
SORT_METRIC = "expected_harm"


def sort_records(records: Iterable[Record], metric: str = SORT_METRIC) -> list[Record]:
    """Best first by ``metric`` (direction from METRICS); entries without a value go last."""
    info = METRICS[metric]
    sign = -1.0 if info.higher_is_better else 1.0

    def key(r: Record) -> tuple[int, float, str]:
        value = r.entry["metrics"][metric]["value"]
        return (1, 0.0, r.name) if value is None else (0, sign * float(value), r.name)

    return sorted(records, key=key)


def label(record: Record) -> str:
    """A one-line label for pickers: model @ revision · judge · likelihood."""
    e = record.entry
    return f"{e['model']['id']} @ {e['model']['revision'][:10]} · {e['judge']['id']} · {e['likelihood']['spec']}"


def choices(records: Iterable[Record], field: Callable[[dict[str, Any]], str]) -> list[str]:
    """``all`` plus the distinct values of ``field`` (for the filter dropdowns)."""
    return [ALL, *sorted({field(r.entry) for r in records})]


def judge_of(e: dict[str, Any]) -> str:
    return str(e["judge"]["id"])


def likelihood_of(e: dict[str, Any]) -> str:
    return str(e["likelihood"]["spec"])


def dataset_of(e: dict[str, Any]) -> str:
    """``eh-bench 1.0.0 · core``: dataset name, version and the configs behind the numbers."""
    configs = ",".join(e["dataset"].get("configs") or [])
    return f"{e['dataset']['name']} {e['dataset']['version']}" + (f" · {configs}" if configs else "")


def matches(record: Record, query: str) -> bool:
    """Every whitespace-separated term of ``query`` occurs (case-insensitively) in the model id,
    revision, judge, likelihood or submitter."""
    e = record.entry
    haystack = " ".join(
        (e["model"]["id"], e["model"]["revision"], e["judge"]["id"], e["likelihood"]["spec"], e["submitter"]["name"])
    ).casefold()
    return all(term in haystack for term in query.casefold().split())


def filter_records(
    records: Iterable[Record], query: str = "", judge: str = ALL, likelihood: str = ALL, dataset: str = ALL
) -> list[Record]:
    """Records passing the search box and the three dropdown filters."""
    return [
        r for r in records
        if matches(r, query or "")
        and judge in (ALL, None, judge_of(r.entry))
        and likelihood in (ALL, None, likelihood_of(r.entry))
        and dataset in (ALL, None, dataset_of(r.entry))
    ]


def columns_for(groups: Sequence[str]) -> list[Column]:
    """Rank + model columns, then the chosen groups' columns in the canonical group order."""
    chosen = [g for g in COLUMN_GROUPS if g in groups]
    return [*MODEL_COLUMNS, *(c for g in chosen for c in COLUMN_GROUPS[g])]


def table(records: Sequence[Record], groups: Sequence[str] = DEFAULT_GROUPS) -> tuple[pd.DataFrame, list[str]]:
    """The leaderboard table (sorted, ranked) and the gradio datatype of each column."""
    cols = columns_for(groups)
    ranked = sort_records(records)
    rows = [[i, *(c.get(r.entry) for c in cols)] for i, r in enumerate(ranked, start=1)]
    frame = pd.DataFrame(rows, columns=["#", *(c.header for c in cols)])
    return frame, ["number", *(c.datatype for c in cols)]
