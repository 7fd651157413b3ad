"""Tables computed from built rows: the dataset card and ``eh-bench dataset stats`` print the same numbers.

Every function is pure and takes rows as mappings with the canonical columns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eh_bench.rubric import LEVELS

Rows = Sequence[Mapping[str, Any]]


def level_histogram(rows: Rows, column: str) -> dict[int, int]:
    """Count of rows at each level 1-5 of ``column`` (every level present, zeros included).

    >>> level_histogram([{"cost": 1}, {"cost": 1}, {"cost": 4}], "cost")
    {1: 2, 2: 0, 3: 0, 4: 1, 5: 0}
    """
    counts = Counter(int(row[column]) for row in rows)
    return {level: counts.get(level, 0) for level in LEVELS}


def cost_severity_matrix(rows: Rows) -> list[list[int]]:
    """5x5 counts: ``matrix[c - 1][s - 1]`` = rows with cost ``c`` and severity ``s``."""
    matrix = [[0] * len(LEVELS) for _ in LEVELS]
    for row in rows:
        matrix[int(row["cost"]) - 1][int(row["severity"]) - 1] += 1
    return matrix


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean, or None for no values (never 0).

    >>> mean([]) is None
    True
    """
    items = list(values)
    return sum(items) / len(items) if items else None


def by_source(rows: Rows) -> dict[str, dict[str, Any]]:
    """Per source: row count, mean cost, mean severity and the cost histogram (sources in first-seen order)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row["source"]), []).append(row)
    return {
        source: {
            "n": len(items),
            "mean_cost": mean(float(r["cost"]) for r in items),
            "mean_severity": mean(float(r["severity"]) for r in items),
            "cost_histogram": level_histogram(items, "cost"),
        }
        for source, items in groups.items()
    }


def harm_category_counts(rows: Rows) -> dict[str, int]:
    """Rows per shared harm category, most frequent first."""
    return dict(Counter(str(row["harm_category"]) for row in rows).most_common())


def config_summary(rows: Rows) -> dict[str, Any]:
    """The numbers shown for one config: n, means, histograms, cost x severity matrix, categories."""
    return {
        "n": len(rows),
        "mean_cost": mean(float(r["cost"]) for r in rows),
        "mean_severity": mean(float(r["severity"]) for r in rows),
        "cost_histogram": level_histogram(rows, "cost"),
        "severity_histogram": level_histogram(rows, "severity"),
        "cost_severity": cost_severity_matrix(rows),
        "harm_categories": harm_category_counts(rows),
    }


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for a table, or an em dash for None.

    >>> fmt(1.234), fmt(None)
    ('1.23', '—')
    """
    return "—" if value is None else f"{value:.{digits}f}"
