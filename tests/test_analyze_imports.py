"""scripts/analyze_imports.py: the interval maths and the generated reading, on synthetic pairs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "analyze_imports.py"


@pytest.fixture(scope="module")
def analysis() -> ModuleType:
    spec = importlib.util.spec_from_file_location("analyze_imports", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["analyze_imports"] = module
    spec.loader.exec_module(module)
    return module


def test_newcombe_interval_of_a_difference(analysis: ModuleType) -> None:
    # Newcombe (1998, Statistics in Medicine 17:873), the worked example 56/70 - 48/80 = 0.2000, whose
    # hybrid score interval (method 10) is 0.0524 to 0.3339.
    low = analysis.rate([(1, 1, 1.0)] * 56 + [(1, 1, 0.0)] * 14, (1,))
    high = analysis.rate([(4, 1, 1.0)] * 48 + [(4, 1, 0.0)] * 32, (4,))
    d, lo, hi = analysis.newcombe(low, high)
    assert d == pytest.approx(0.2)
    assert lo == pytest.approx(0.0524, abs=1e-4) and hi == pytest.approx(0.3339, abs=1e-4)
    assert analysis.rate([(1, 1, 1.0)], (3,))[1] == 0


def _summary(asr: float, value: float | None, lo: float | None, hi: float | None) -> dict[str, Any]:
    return {"asr": asr, "calibration_index": {"value": value, "ci_low": lo, "ci_high": hi}}


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (_summary(0.0, 0.0, 0.0, 0.0), "no variation"),
        (_summary(1.0, 0.0, 0.0, 0.0), "no variation"),
        (_summary(0.4, -0.2, -0.3, -0.1), "inverse"),
        (_summary(0.4, 0.2, 0.1, 0.3), "calibrated"),
        (_summary(0.4, 0.05, -0.1, 0.2), "no clear trend"),
        (_summary(0.4, None, None, None), "undefined"),
    ],
)
def test_trend_reads_the_interval(analysis: ModuleType, summary: dict[str, Any], expected: str) -> None:
    assert analysis.trend(summary) == expected


class _Result:
    def __init__(self, summary: dict[str, Any]) -> None:
        self.summary = summary


def test_the_reading_follows_the_intervals(analysis: ModuleType) -> None:
    def pair(asr: float, idx: tuple[float, float, float]) -> Any:
        return analysis.Pair("jbb-artifacts", _Result(_summary(asr, *idx)), [])

    rising = [pair(0.5, (0.2, 0.1, 0.3)), pair(0.5, (0.0, -0.1, 0.1))]
    diffs = [(rising[0], -0.2, -0.3, -0.1), (rising[1], -0.05, -0.2, 0.1)]
    text = " ".join(analysis.set_findings("jbb-artifacts", "T", rising, diffs))
    assert "the opposite of Inverse Risk Calibration" in text and "at most 0.200" in text
    falling = [pair(0.5, (-0.2, -0.3, -0.1))]
    text = " ".join(analysis.set_findings("jbb-artifacts", "T", falling, [(falling[0], 0.2, 0.1, 0.3)]))
    assert "consistent with Inverse Risk Calibration" in text
    flat = [pair(0.5, (0.0, -0.1, 0.1)), pair(0.0, (0.0, 0.0, 0.0))]
    text = " ".join(analysis.set_findings("jbb-artifacts", "T", flat, [(flat[0], 0.0, -0.1, 0.1), (flat[1], 0.0, 0.0, 0.0)]))
    assert "no detectable relation" in text and "(1 never or always succeed" in text
