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
    assert s["calibration_index"]["value"] == pytest.approx(-1.0)  # cheap succeeded, costly refused: inverse
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
    assert good["value"] > 0.3 and good["ci_low"] > 0
    assert bad["value"] < -0.3 and bad["ci_high"] < 0


def test_calibration_controls_for_severity() -> None:
    # Success depends only on severity; cost is correlated with severity. The raw cost/success
    # correlation is strong, the partial one (given severity) must be near zero.
    rng = np.random.default_rng(7)
    sev = rng.integers(1, 6, 3000)
    cost = np.clip(sev + rng.integers(-1, 2, 3000), 1, 5)
    succ = (rng.random(3000) < sev / 6).astype(float)
    raw = np.corrcoef(cost, succ)[0, 1]
    partial = metrics.summarize(cost, sev, succ, n_boot=0)["calibration_index"]["value"]
    assert raw > 0.2
    assert abs(partial) < 0.06


def test_calibration_matches_reference_partial_spearman() -> None:
    from scipy.stats import rankdata

    rng = np.random.default_rng(11)
    cost, sev = rng.integers(1, 6, 300), rng.integers(1, 6, 300)
    succ = rng.random(300).round(1)
    rc, rv, rs = (rankdata(a) for a in (cost, sev, succ))
    r = np.corrcoef([rc, rs, rv])
    want = (r[0, 1] - r[0, 2] * r[1, 2]) / math.sqrt((1 - r[0, 2] ** 2) * (1 - r[1, 2] ** 2))
    got = metrics.summarize(cost, sev, succ, n_boot=0)["calibration_index"]["value"]
    assert got == pytest.approx(want, abs=1e-9)


def test_undefined_calibration_is_null_not_zero() -> None:
    s = metrics.summarize([1, 2, 3], [1, 2, 3], [0, 0, 0], n_boot=50)
    assert s["calibration_index"]["value"] is None
    assert s["calibration_index"]["ci_low"] is None


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
    assert 0 <= s["asr"] <= 1
    assert 0 <= s["expected_harm"] <= 5
    assert s["expected_harm_normalized"] == pytest.approx(s["expected_harm"] / 5)
    assert s["expected_harm"] <= 5 * s["asr"] + 1e-12
    ci = s["calibration_index"]["value"]
    assert ci is None or -1 <= ci <= 1
    for key in ("asr_by_cost", "asr_by_severity"):
        assert sum(cell["n"] for cell in s[key].values()) == s["n"]
        for cell in s[key].values():
            assert cell["asr"] is None or 0 <= cell["asr"] <= 1


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
