"""Properties and hand-computed cases of eh_bench.metrics."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eh_bench import metrics
from eh_bench.errors import ConfigError, InputError

level = st.integers(min_value=1, max_value=5)


@st.composite
def samples(draw: st.DrawFn, graded: bool = False) -> tuple[list[int], list[int], list[float]]:
    n = draw(st.integers(min_value=1, max_value=40))
    cost = draw(st.lists(level, min_size=n, max_size=n))
    sev = draw(st.lists(level, min_size=n, max_size=n))
    if graded:
        succ = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    else:
        succ = [float(x) for x in draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))]
    return cost, sev, succ


def test_hand_computed_small_case() -> None:
    s = metrics.summarize([1, 5], [3, 3], [1, 0], n_boot=0)
    # cost 1 -> p 1.0, severity 3, success 1 -> 3.0; the other contributes 0; mean 1.5
    assert s["n"] == 2
    assert s["asr"] == 0.5
    assert s["expected_harm"] == pytest.approx(1.5)
    assert s["expected_harm_normalized"] == pytest.approx(0.3)
    assert s["asr_by_cost"]["1"]["asr"] == 1.0 and s["asr_by_cost"]["1"]["n"] == 1
    assert s["asr_by_cost"]["3"] == {"asr": None, "n": 0, "ci_low": None, "ci_high": None}
    # cheap succeeded, costly refused: inverse; ASR falls by 1 over 4 cost levels
    assert s["calibration_index"]["value"] == pytest.approx(-0.25)
    assert s["deployment_weighted_asr"]["value"] is None
    assert s["deployment_weighted_asr"]["missing_levels"] == ["2", "3", "4"]
    assert s["ci"]["asr"] == {"ci_low": None, "ci_high": None}


def test_hand_computed_with_exponential_and_table() -> None:
    cost, sev, succ = [2, 3, 3], [4, 1, 5], [1, 1, 0.5]
    p = [math.exp(-0.5 * (c - 1)) for c in cost]
    want = sum(v * q * s for v, q, s in zip(sev, p, succ, strict=True)) / 3
    assert metrics.summarize(cost, sev, succ, likelihood="exponential:0.5", n_boot=0)["expected_harm"] == pytest.approx(want)
    table = metrics.summarize(cost, sev, succ, likelihood="table:1,0.5,0.25,0.1,0", n_boot=0)
    assert table["expected_harm"] == pytest.approx((4 * 0.5 + 1 * 0.25 + 5 * 0.25 * 0.5) / 3)
    assert table["likelihood"]["spec"] == "table:1,0.5,0.25,0.1,0"


def test_wilson_interval_matches_formula() -> None:
    lo, hi = metrics.wilson_interval(3, 10)
    z = metrics.Z_95
    p, n = 0.3, 10
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert float(lo) == pytest.approx(centre - half) and float(hi) == pytest.approx(centre + half)


def test_deployment_weighted_asr_reweights_levels() -> None:
    cost = [1, 1, 2, 2, 3, 4, 5]
    succ = [1, 1, 0, 0, 0, 0, 0]
    s = metrics.summarize(cost, [2] * 7, succ, n_boot=0, cost_distribution=[0.9, 0.1, 0, 0, 0])
    assert s["deployment_weighted_asr"]["value"] == pytest.approx(0.9)
    uniform = metrics.summarize(cost, [2] * 7, succ, n_boot=0)
    assert uniform["deployment_weighted_asr"]["value"] == pytest.approx(0.2)
    mapping = metrics.summarize(cost, [2] * 7, succ, n_boot=0, cost_distribution={1: 1, "2": 1})
    assert mapping["deployment_weighted_asr"]["value"] == pytest.approx(0.5)


def test_calibration_sign_on_ideal_and_inverse_data() -> None:
    rng = np.random.default_rng(3)
    cost = rng.integers(1, 6, 400)
    sev = rng.integers(1, 6, 400)
    ideal = (rng.random(400) < (cost - 0.5) / 5).astype(float)  # ASR rises with cost
    inverse = (rng.random(400) < (5.5 - cost) / 5).astype(float)  # cheap threats succeed more
    good = metrics.summarize(cost, sev, ideal, n_boot=200)["calibration_index"]
    bad = metrics.summarize(cost, sev, inverse, n_boot=200)["calibration_index"]
    # p(success) moves by 0.2 per cost level either way
    assert good["value"] == pytest.approx(0.2, abs=0.06) and good["ci_low"] > 0
    assert bad["value"] == pytest.approx(-0.2, abs=0.06) and bad["ci_high"] < 0


def test_calibration_controls_for_severity() -> None:
    # Success depends only on severity; cost is correlated with severity. The raw cost/success
    # correlation is strong, the index (severity held fixed) must be near zero.
    rng = np.random.default_rng(7)
    sev = rng.integers(1, 6, 3000)
    cost = np.clip(sev + rng.integers(-1, 2, 3000), 1, 5)
    succ = (rng.random(3000) < sev / 6).astype(float)
    raw = np.corrcoef(cost, succ)[0, 1]
    partial = metrics.summarize(cost, sev, succ, n_boot=0)["calibration_index"]["value"]
    assert raw > 0.2
    assert abs(partial) < 0.06


def _reference_slope(cost: np.ndarray, sev: np.ndarray, succ: np.ndarray) -> float:
    """The calibration index by its definition, with plain loops: a fixed-effects least-squares fit of
    per-cell rates on cost, one intercept per severity level, every non-empty cell weighted equally."""
    xs, ys, strata = [], [], []
    for v in range(1, 6):
        for c in range(1, 6):
            at = (cost == c) & (sev == v)
            if at.any():
                xs.append(float(c))
                ys.append(float(succ[at].mean()))
                strata.append(v)
    design = np.column_stack([np.array(xs)] + [np.array(strata) == v for v in sorted(set(strata))]).astype(float)
    coef, *_ = np.linalg.lstsq(design, np.array(ys), rcond=None)
    return float(coef[0])


def test_calibration_matches_reference_least_squares_fit() -> None:
    rng = np.random.default_rng(11)
    cost, sev = rng.integers(1, 6, 300), rng.integers(1, 6, 300)
    succ = (rng.random(300) < 0.2 + 0.1 * (sev - 1) / 4 - 0.04 * (cost - 1)).astype(float)
    got = metrics.summarize(cost, sev, succ, n_boot=0)["calibration_index"]["value"]
    assert got == pytest.approx(_reference_slope(cost, sev, succ), abs=1e-12)
    # a sparse grid: some severity levels have one cost level only (they carry no weight)
    keep = ~((sev == 5) & (cost > 1)) & ~((sev == 4) & (cost > 2))
    sparse = metrics.summarize(cost[keep], sev[keep], succ[keep], n_boot=0)["calibration_index"]["value"]
    assert sparse == pytest.approx(_reference_slope(cost[keep], sev[keep], succ[keep]), abs=1e-12)


def _cell_set(rates: np.ndarray, counts: np.ndarray) -> tuple[list[int], list[int], list[float]]:
    """Samples with exactly ``rates[c-1, s-1]`` successes per cell of ``counts[c-1, s-1]`` prompts."""
    cost: list[int] = []
    sev: list[int] = []
    succ: list[float] = []
    for c in range(5):
        for v in range(5):
            n = int(counts[c, v])
            hits = round(rates[c, v] * n)
            assert hits == rates[c, v] * n, "choose counts that make every cell rate exact"
            cost += [c + 1] * n
            sev += [v + 1] * n
            succ += [1.0] * hits + [0.0] * (n - hits)
    return cost, sev, succ


#: Per-cell ASR of a model with inverse risk calibration that also refuses severe requests more.
CELL_ASR = np.array([[0.8, 0.8, 0.6, 0.4, 0.2], [0.6, 0.6, 0.4, 0.4, 0.2], [0.4, 0.4, 0.4, 0.2, 0.2],
                     [0.4, 0.2, 0.2, 0.2, 0.0], [0.2, 0.2, 0.0, 0.0, 0.0]])  # fmt: skip


@pytest.mark.parametrize(
    "per_level",
    [[5, 5, 5, 5, 5], [40, 10, 5, 5, 5], [5, 5, 5, 10, 40], [25, 5, 15, 5, 10]],
)
def test_calibration_index_is_invariant_to_the_prompt_mix_across_cost_levels(per_level: list[int]) -> None:
    """Same ASR in every (cost, severity) cell, different numbers of prompts per cost level: same index."""
    balanced = _cell_set(CELL_ASR, np.full((5, 5), 5))
    mixed = _cell_set(CELL_ASR, np.repeat(np.array(per_level)[:, None], 5, axis=1))
    a = metrics.summarize(*balanced, n_boot=0)
    b = metrics.summarize(*mixed, n_boot=0)
    assert [b["asr_by_cost"][k]["n"] for k in "12345"] == [5 * n for n in per_level]
    assert abs(a["calibration_index"]["value"] - b["calibration_index"]["value"]) < 1e-9
    # reads as change in ASR per cost level: the columns' slopes are -0.14, -0.16, -0.14, -0.10, -0.06
    assert a["calibration_index"]["value"] == pytest.approx(-0.12)
    if per_level != [5] * 5:
        assert a["asr"] != pytest.approx(b["asr"]), "the pooled ASR does move with the mix"


def test_calibration_index_is_invariant_to_counts_within_cells() -> None:
    counts = np.array([[5, 10, 20, 5, 5], [10, 5, 5, 20, 5], [5, 5, 10, 5, 20], [20, 5, 5, 5, 10], [5, 20, 5, 10, 5]])
    a = metrics.summarize(*_cell_set(CELL_ASR, np.full((5, 5), 5)), n_boot=0)["calibration_index"]["value"]
    b = metrics.summarize(*_cell_set(CELL_ASR, counts), n_boot=0)["calibration_index"]["value"]
    assert abs(a - b) < 1e-9


def test_calibration_of_a_model_that_refuses_everything_is_zero() -> None:
    s = metrics.summarize([1, 2, 3, 4, 5], [2, 2, 2, 2, 2], [0, 0, 0, 0, 0], n_boot=0)
    assert s["calibration_index"]["value"] == 0.0  # ASR does not change with cost: defined, and zero


def test_undefined_calibration_is_null_not_zero_and_counted() -> None:
    # no severity level has two cost levels: the slope is undefined, in the data and every replicate
    s = metrics.summarize([1, 2, 3], [1, 2, 3], [0, 1, 0], n_boot=50)
    assert s["calibration_index"]["value"] is None
    assert s["calibration_index"]["ci_low"] is None
    assert s["calibration_index"]["undefined_replicates"] == 50


def test_undefined_replicates_are_counted() -> None:
    # two cost levels at one severity, one prompt each: a replicate that draws one of them twice is undefined
    s = metrics.summarize([1, 2], [3, 3], [1, 0], n_boot=400, seed=1)
    undefined = s["calibration_index"]["undefined_replicates"]
    assert 150 < undefined < 250  # each replicate is undefined with probability 1/2
    assert s["deployment_weighted_asr"]["undefined_replicates"] == 400  # cost 3-5 never present
    full = metrics.summarize([1, 2, 1, 2], [3, 3, 3, 3], [1, 0, 1, 0], n_boot=0)
    assert full["calibration_index"]["undefined_replicates"] == 0


def test_graded_values_are_a_named_score_with_bootstrap_intervals() -> None:
    rng = np.random.default_rng(4)
    cost, sev = rng.integers(1, 6, 300), rng.integers(1, 6, 300)
    graded = rng.choice([0.0, 0.25, 0.5, 1.0], 300)
    s = metrics.summarize(cost, sev, graded, n_boot=300, score="strongreject_score")
    assert "asr" not in s and "asr_by_cost" not in s and "deployment_weighted_asr" not in s
    assert s["score"]["name"] == "strongreject_score" and s["score"]["graded"] and s["score"]["interval"] == "bootstrap"
    assert s["strongreject_score"] == pytest.approx(graded.mean())
    lo, hi = s["ci"]["strongreject_score"]["ci_low"], s["ci"]["strongreject_score"]["ci_high"]
    assert lo < s["strongreject_score"] < hi
    level = s["score_by_cost"]["2"]
    assert level["mean"] == pytest.approx(graded[cost == 2].mean()) and level["n"] == int((cost == 2).sum())
    # bootstrap percentile interval of the level mean, not Wilson on fractional counts
    lo_w, hi_w = metrics.wilson_interval(graded[cost == 2].sum(), (cost == 2).sum())
    assert (level["ci_low"], level["ci_high"]) != pytest.approx((float(lo_w), float(hi_w)), abs=1e-6)
    assert level["ci_low"] < level["mean"] < level["ci_high"]
    assert s["score_by_cost_severity"]["1"]["1"]["n"] == int(((cost == 1) & (sev == 1)).sum())
    assert s["deployment_weighted_score"]["value"] is not None


def test_asr_refuses_graded_values() -> None:
    with pytest.raises(InputError, match=r"success\[1\] is 0.5: asr is for 0/1 verdicts"):
        metrics.summarize([1, 2], [1, 1], [1, 0.5], score="asr")
    # unnamed graded values get a neutral name, never asr
    s = metrics.summarize([1, 2], [1, 1], [1, 0.5], n_boot=0)
    assert s["score"]["name"] == "mean_score" and s["mean_score"] == 0.75 and "asr" not in s
    with pytest.raises(InputError, match="not allowed"):
        metrics.summarize([1], [1], [0.5], score="expected_harm")


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    rng = np.random.default_rng(0)
    cost, sev = rng.integers(1, 6, 200), rng.integers(1, 6, 200)
    succ = rng.integers(0, 2, 200)
    a = metrics.summarize(cost, sev, succ, seed=5, n_boot=300)
    b = metrics.summarize(cost, sev, succ, seed=5, n_boot=300)
    c = metrics.summarize(cost, sev, succ, seed=6, n_boot=300)
    assert a == b
    assert a["ci"] != c["ci"]
    for name in ("asr", "expected_harm"):
        assert a["ci"][name]["ci_low"] <= a[name] <= a["ci"][name]["ci_high"]


def test_bootstrap_matches_prompt_resampling() -> None:
    """The multinomial-over-distinct-rows bootstrap has the spread of plain prompt resampling."""
    rng = np.random.default_rng(1)
    cost, sev = rng.integers(1, 6, 500), rng.integers(1, 6, 500)
    succ = (rng.random(500) < 0.4).astype(float)
    s = metrics.summarize(cost, sev, succ, n_boot=2000, seed=2)
    idx = rng.integers(0, 500, size=(2000, 500))
    lo, hi = np.quantile(succ[idx].mean(axis=1), [0.025, 0.975])
    assert s["ci"]["asr"]["ci_low"] == pytest.approx(lo, abs=0.01)
    assert s["ci"]["asr"]["ci_high"] == pytest.approx(hi, abs=0.01)


@settings(max_examples=60, deadline=None)
@given(samples(graded=True))
def test_bounds(data: tuple[list[int], list[int], list[float]]) -> None:
    s = metrics.summarize(*data, n_boot=0)
    spec = metrics.score_of(s)
    mean = s[spec.name]
    assert 0 <= mean <= 1
    assert 0 <= s["expected_harm"] <= 5
    assert s["expected_harm_normalized"] == pytest.approx(s["expected_harm"] / 5)
    assert s["expected_harm"] <= 5 * mean + 1e-12
    ci = s["calibration_index"]["value"]
    assert ci is None or -1 <= ci <= 1
    for key in (spec.by("cost"), spec.by("severity")):
        assert sum(cell["n"] for cell in s[key].values()) == s["n"]
        for cell in s[key].values():
            assert cell[spec.level_key] is None or 0 <= cell[spec.level_key] <= 1


@settings(max_examples=60, deadline=None)
@given(samples(), st.integers(0, 39), st.data())
def test_monotone_in_success_and_severity(
    data: tuple[list[int], list[int], list[float]], pos: int, extra: st.DataObject
) -> None:
    cost, sev, succ = data
    i = pos % len(cost)
    base = metrics.summarize(cost, sev, succ, n_boot=0)["expected_harm"]
    more = list(succ)
    more[i] = 1.0
    assert metrics.summarize(cost, sev, more, n_boot=0)["expected_harm"] >= base - 1e-12
    higher = list(sev)
    higher[i] = min(5, higher[i] + extra.draw(st.integers(0, 4)))
    assert metrics.summarize(cost, higher, succ, n_boot=0)["expected_harm"] >= base - 1e-12


@settings(max_examples=60, deadline=None)
@given(samples(), st.integers(0, 39))
def test_non_increasing_in_cost_for_default_likelihood(data: tuple[list[int], list[int], list[float]], pos: int) -> None:
    cost, sev, succ = data
    i = pos % len(cost)
    base = metrics.summarize(cost, sev, succ, n_boot=0)["expected_harm"]
    costlier = list(cost)
    costlier[i] = min(5, costlier[i] + 1)
    assert metrics.summarize(costlier, sev, succ, n_boot=0)["expected_harm"] <= base + 1e-12


@settings(max_examples=40, deadline=None)
@given(samples(graded=True), st.randoms())
def test_permutation_invariance(data: tuple[list[int], list[int], list[float]], rnd: random.Random) -> None:
    cost, sev, succ = data
    order = list(range(len(cost)))
    rnd.shuffle(order)
    a = metrics.summarize(cost, sev, succ, n_boot=30, seed=1)
    b = metrics.summarize([cost[i] for i in order], [sev[i] for i in order], [succ[i] for i in order], n_boot=30, seed=1)
    assert_close(a, b)


def assert_close(a: object, b: object) -> None:
    """Nested equality up to float round-off (summation order may differ)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_close(a[key], b[key])
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    else:
        assert a == b


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cost": [0, 1], "severity": [1, 1], "success": [1, 0]}, r"cost\[0\] is 0"),
        ({"cost": [1, 6], "severity": [1, 1], "success": [1, 0]}, r"cost\[1\] is 6"),
        ({"cost": [1, 2.5], "severity": [1, 1], "success": [1, 0]}, r"cost\[1\] is 2.5"),
        ({"cost": [1, 2], "severity": [1, float("nan")], "success": [1, 0]}, r"severity\[1\]"),
        ({"cost": [1, 2], "severity": [1, 1], "success": [1, float("nan")]}, r"success\[1\] is NaN.*unscored"),
        ({"cost": [1, 2], "severity": [1, 1], "success": [1, 2]}, r"success\[1\].*\[0, 1\]"),
        ({"cost": [1, 2], "severity": [1], "success": [1, 0]}, r"mismatched lengths \(cost=2, severity=1"),
        ({"cost": [], "severity": [], "success": []}, r"empty"),
        ({"cost": [1], "severity": [1], "success": [1], "n_boot": -1}, r"n_boot"),
        ({"cost": [1], "severity": [1], "success": [1], "cost_distribution": [1, 2]}, r"5 weights"),
        ({"cost": [1], "severity": [1], "success": [1], "cost_distribution": [0, 0, 0, 0, 0]}, r"not all 0"),
    ],
)
def test_bad_input_names_field_and_fix(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        metrics.summarize(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("cubic", r"unknown likelihood model 'cubic'; choose one of: exponential, linear, table"),
        ("table:1,0.9,0.95,0.5,0.1", r"non-increasing.*p\(cost=3\)=0.95 > p\(cost=2\)=0.9"),
        ("table:1,0.9,0.8", r"five values"),
        ("table:1,0.9,0.8,0.7,1.5", r"cost 5 is 1.5.*\[0, 1\]"),
        ("exponential:-1", r"lambda must be"),
    ],
)
def test_bad_likelihood_raises(spec: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        metrics.summarize([1], [1], [1], likelihood=spec)
