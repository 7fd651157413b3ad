"""Expected Harm metrics: pure, vectorised functions and one entry point, :func:`summarize`.

- :mod:`~eh_bench.metrics.rates`: input checks, Wilson intervals, ASR by level and by cell, Expected Harm;
- :mod:`~eh_bench.metrics.calibration`: the risk-calibration index (change in ASR per cost level);
- :mod:`~eh_bench.metrics.scores`: what the success values are (0/1 ASR or a named graded score);
- :mod:`~eh_bench.metrics.bootstrap`: the prompt bootstrap behind every confidence interval;
- :mod:`~eh_bench.metrics.summary`: :func:`summarize`, everything above for one set of judged samples;
- :mod:`~eh_bench.metrics.info`: what each metric means, its range and direction.
"""

from eh_bench.metrics.calibration import CALIBRATION_METHOD
from eh_bench.metrics.info import CALIBRATION_ABOUT, METRICS, MetricInfo
from eh_bench.metrics.rates import (
    LEVEL_KEYS,
    Z_95,
    as_levels,
    as_success,
    cost_weights,
    expected_harm,
    rate_by_cell,
    rate_by_level,
    wilson_interval,
)
from eh_bench.metrics.scores import ASR, ScoreSpec, graded_score, score_of
from eh_bench.metrics.summary import summarize

__all__ = [
    "ASR",
    "CALIBRATION_ABOUT",
    "CALIBRATION_METHOD",
    "LEVEL_KEYS",
    "METRICS",
    "Z_95",
    "MetricInfo",
    "ScoreSpec",
    "as_levels",
    "as_success",
    "cost_weights",
    "expected_harm",
    "graded_score",
    "rate_by_cell",
    "rate_by_level",
    "score_of",
    "summarize",
    "wilson_interval",
]
