"""Agreement statistics: kappa against scikit-learn, hand-computed cases, the prompt_sha256 join."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sklearn.metrics import cohen_kappa_score

from eh_bench.errors import LabelError
from eh_bench.labeling import agreement as ag


@pytest.mark.parametrize("seed", range(20))
def test_kappa_matches_sklearn_quadratic_on_random_data(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(2, 200)
    a = [rng.randint(1, 5) for _ in range(n)]
    # B agrees with A most of the time, otherwise random: kappas across the whole range
    b = [x if rng.random() < rng.random() else rng.randint(1, 5) for x in a]
    if len(set(a)) == 1 and len(set(b)) == 1:
        pytest.fail("degenerate draw; pick another seed")
    expected = cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5])
    assert ag.quadratic_kappa(a, b) == pytest.approx(expected, abs=1e-12)


def test_identical_sets_have_kappa_one_and_full_agreement() -> None:
    a = [1, 2, 3, 4, 5, 3, 2]
    assert ag.quadratic_kappa(a, a) == pytest.approx(1.0)
    assert ag.exact_agreement(a, a) == 1.0 and ag.within_one_agreement(a, a) == 1.0


def test_hand_computed_small_case() -> None:
    # a = [1, 2, 3], b = [1, 3, 2] on levels 1-3; w = (i-j)^2 / 4
    # observed weighted disagreement: two off-by-one pairs -> 2 * 1/4 = 0.5
    # marginals (1, 1, 1) each, E_ij = 1/3: sum w * E = (1/3) * (0 + 1/4 + 1 + 1/4 + 0 + 1/4 + 1 + 1/4 + 0) = 1
    # kappa = 1 - 0.5 / 1 = 0.5
    assert ag.quadratic_kappa([1, 2, 3], [1, 3, 2], levels=(1, 2, 3)) == pytest.approx(0.5)
    assert ag.exact_agreement([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)
    assert ag.within_one_agreement([1, 2, 5], [1, 3, 2]) == pytest.approx(2 / 3)


def test_complete_reversal_is_minus_one() -> None:
    assert ag.quadratic_kappa([1, 5], [5, 1]) == pytest.approx(-1.0)


def test_undefined_cases_are_none_not_zero() -> None:
    assert ag.quadratic_kappa([], []) is None
    assert ag.exact_agreement([], []) is None and ag.within_one_agreement([], []) is None
    assert ag.quadratic_kappa([3, 3], [3, 3]) is None  # one level only: chance agreement is total


def test_confusion_matrix_is_5x5_rows_a_columns_b() -> None:
    m = ag.confusion_matrix([1, 1, 2, 5], [1, 2, 2, 4])
    assert len(m) == 5 and all(len(r) == 5 for r in m)
    assert m[0][0] == 1 and m[0][1] == 1 and m[1][1] == 1 and m[4][3] == 1
    assert sum(map(sum, m)) == 4
    with pytest.raises(ValueError, match="differ in length"):
        ag.confusion_matrix([1], [1, 2])


def row(source_id: str, sha: str, cost: Any = 1, severity: Any = 1, **more: Any) -> dict[str, Any]:
    base = {
        "source": "demo",
        "source_id": source_id,
        "prompt_sha256": sha,
        "cost": cost,
        "severity": severity,
    }
    base.update({f: 1 for f in ("expertise", "equipment", "time", "legality")}, harm_category="none")
    base.update(more)
    return base


def test_join_on_sha_counts_unmatched_and_pairs_repeated_hashes_by_id() -> None:
    a = [row("1", "x"), row("2", "y"), row("c1", "dup"), row("c2", "dup"), row("9", "only-a")]
    b = [row("other-id", "x"), row("c2", "dup"), row("c1", "dup"), row("c3", "dup"), row("8", "only-b")]
    join = ag.join_on_sha(a, b)
    pairs = {(ra["source_id"], rb["source_id"]) for ra, rb in join.pairs}
    assert pairs == {("1", "other-id"), ("c1", "c1"), ("c2", "c2")}
    assert (join.only_a, join.only_b) == (2, 2)


def test_report_per_scale_skips_unlabelled_pairs() -> None:
    a = [row("1", "s1", 1, 2), row("2", "s2", 2, 3), row("3", "s3", 4, 4), row("4", "s4", 3, 3)]
    b = [
        row("1", "s1", 1, 2),
        row("2", "s2", 3, 3),
        row("3", "s3", "", ""),
        row("4", "s4", 3, 5, harm_category="privacy"),
    ]
    report = ag.agreement(a, b)
    assert (report.matched, report.only_a, report.only_b) == (4, 0, 0)
    by = {s.scale: s for s in report.scales}
    assert [s.scale for s in report.scales] == list(ag.SCALES)
    assert by["cost"].n == 3 and by["cost"].exact == pytest.approx(2 / 3) and by["cost"].within_one == 1.0
    assert by["cost"].kappa == pytest.approx(cohen_kappa_score([1, 2, 3], [1, 3, 3], weights="quadratic"))
    assert by["severity"].confusion[2][2] == 1 and by["severity"].confusion[2][4] == 1
    assert by["expertise"].n == 4 and by["expertise"].kappa is None  # everyone said 1
    assert report.category_n == 4 and report.category_exact == pytest.approx(3 / 4)
    data = report.as_dict()
    assert data["scales"][0]["scale"] == "cost" and data["matched"] == 4


def test_out_of_range_level_is_an_error_naming_the_row() -> None:
    with pytest.raises(LabelError, match=r"B demo:1: cost is 7"):
        ag.agreement([row("1", "s")], [row("1", "s", cost=7)])
