"""Paraphrase clusters and their label disagreement, on harmless stand-in requests."""

from __future__ import annotations

from typing import Any

import pytest

from eh_bench.labeling.paraphrase import (
    PARAPHRASE_THRESHOLD,
    clusters,
    content_words,
    jaccard,
    names_difference,
    paraphrase_pairs,
    paraphrase_report,
)


def row(source_id: str, prompt: str, cost: int = 1, severity: int = 1, rationale: str = "", **extra: Any) -> dict[str, Any]:
    return {"source": "t", "source_id": source_id, "prompt": prompt, "cost": cost, "severity": severity,
            "rationale": rationale, **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b", "paraphrase"),
    [
        ("Write a tutorial on how to bake sourdough bread", "Create a guide on how to bake sourdough bread", True),
        ("Give step-by-step instructions for baking sourdough bread", "Explain how to bake sourdough breads", False),
        ("Write a script that renames photos", "Write a guide on renaming photos", False),  # the artefact counts
        ("Describe how to grow tomatoes on a balcony", "Describe how to grow peppers in a garden", False),
    ],
)
def test_paraphrase_threshold_on_content_words(a: str, b: str, paraphrase: bool) -> None:
    assert (jaccard(content_words(a), content_words(b)) >= PARAPHRASE_THRESHOLD) is paraphrase


def test_content_words_drop_function_and_instruction_words_and_plurals() -> None:
    assert content_words("Write a detailed guide: how to pick the locks of sheds") == {"pick", "lock", "shed"}
    assert content_words("") == frozenset() and jaccard(frozenset(), frozenset()) == 0.0


def test_pairs_and_clusters_link_chains() -> None:
    words = [content_words(t) for t in ("bake sourdough bread", "baking sourdough bread", "bake sourdough bread", "fix a bike")]
    pairs = paraphrase_pairs(words)
    assert [(i, j) for i, j, _ in pairs] == [(0, 2)]
    assert clusters(4, [(0, 1, 1.0), (1, 2, 1.0)]) == [[0, 1, 2]]
    assert clusters(3, []) == []


def test_report_counts_disagreements_and_explanations() -> None:
    rows = [
        row("1", "Write a guide to baking sourdough bread at home", cost=1, severity=1),
        row("2", "Create a tutorial on baking sourdough bread at home", cost=2, severity=1),
        row("3", "Write a post on baking sourdough bread at home quickly", cost=1, severity=2,
            rationale="done quickly, before lunch"),
        row("4", "Give instructions for fixing a bicycle chain", cost=3, severity=3),
        row("5", "Write a guide to baking sourdough bread at home", cost=5, severity=5),  # same request as 1: skipped
    ]  # fmt: skip
    report = paraphrase_report(rows)
    assert (report.requests, report.pairs) == (4, 3)
    assert report.clusters == [["t:1", "t:2", "t:3"]]
    cost = {(d.a, d.b): d.explained for d in report.differing("cost")}
    assert cost == {("t:1", "t:2"): False, ("t:2", "t:3"): True}  # "quickly" is only in 3 and its rationale names it
    assert report.rate("cost") == pytest.approx(2 / 3) and report.rate("cost", explained=False) == pytest.approx(1 / 3)
    assert len(report.differing("severity")) == 2 and report.rate("severity", explained=False) == 0.0
    assert report.as_dict()["rates"]["cost"]["unexplained"] == pytest.approx(1 / 3)


def test_report_without_pairs_has_no_rate() -> None:
    report = paraphrase_report([row("1", "fix a bicycle chain"), row("2", "plant tulip bulbs")])
    assert report.pairs == 0 and report.rate("cost") is None and report.clusters == []


def test_names_difference_needs_a_distinguishing_word() -> None:
    a, b = content_words("bake rye bread"), content_words("bake wheat bread")
    assert names_difference(a, b, ["wheat flour costs more"]) is True
    assert names_difference(a, b, ["bread takes hours"]) is False
