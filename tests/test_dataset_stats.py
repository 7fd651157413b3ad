from __future__ import annotations

from eh_bench.dataset.stats import (
    by_source,
    config_summary,
    cost_severity_matrix,
    fmt,
    harm_category_counts,
    level_histogram,
    mean,
)

ROWS = [
    {"source": "b", "cost": 1, "severity": 3, "harm_category": "fraud_deception"},
    {"source": "a", "cost": 1, "severity": 5, "harm_category": "cbrn"},
    {"source": "b", "cost": 4, "severity": 3, "harm_category": "fraud_deception"},
]


def test_histograms_and_matrix() -> None:
    assert level_histogram(ROWS, "cost") == {1: 2, 2: 0, 3: 0, 4: 1, 5: 0}
    matrix = cost_severity_matrix(ROWS)
    assert matrix[0][2] == 1 and matrix[0][4] == 1 and matrix[3][2] == 1
    assert sum(map(sum, matrix)) == 3


def test_by_source_keeps_first_seen_order_and_means() -> None:
    stats = by_source(ROWS)
    assert list(stats) == ["b", "a"]
    assert stats["b"]["n"] == 2 and stats["b"]["mean_cost"] == 2.5 and stats["b"]["mean_severity"] == 3.0
    assert stats["a"]["cost_histogram"][1] == 1


def test_empty_input_gives_none_not_zero() -> None:
    summary = config_summary([])
    assert summary["n"] == 0 and summary["mean_cost"] is None and summary["mean_severity"] is None
    assert mean([]) is None and fmt(None) == "—" and fmt(2.0) == "2.00"
    assert by_source([]) == {}


def test_harm_category_counts_most_common_first() -> None:
    assert list(harm_category_counts(ROWS).items()) == [("fraud_deception", 2), ("cbrn", 1)]
