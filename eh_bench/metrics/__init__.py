"""Expected Harm metrics: pure, vectorised functions and one entry point, :func:`summarize`.

- :mod:`~eh_bench.metrics.rates`: input checks, Wilson intervals, ASR by level and by cell, Expected Harm;
- :mod:`~eh_bench.metrics.calibration`: the risk-calibration index;
- :mod:`~eh_bench.metrics.bootstrap`: the prompt bootstrap behind every confidence interval;
- :mod:`~eh_bench.metrics.summary`: :func:`summarize`, everything above for one set of judged samples;
- :mod:`~eh_bench.metrics.info`: what each metric means, its range and direction.
"""

from eh_bench.metrics.info import METRICS, MetricInfo
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
from eh_bench.metrics.summary import summarize

__all__ = [
    "LEVEL_KEYS",
    "METRICS",
    "Z_95",
    "MetricInfo",
    "as_levels",
    "as_success",
    "cost_weights",
    "expected_harm",
    "rate_by_cell",
    "rate_by_level",
    "summarize",
    "wilson_interval",
]
