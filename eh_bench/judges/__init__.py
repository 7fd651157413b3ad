"""Judges: turn (prompt, response) pairs into verdicts; a registry by name and one shared cache.

>>> from eh_bench.judges import JudgeItem, get_judge
>>> get_judge("refusal").judge([JudgeItem("Bake a cake?", "I can't help with that.")])[0].success
0.0
"""

from eh_bench.judges.base import Judge, JudgeItem, Verdict
from eh_bench.judges.cache import CacheStats, JudgeCache, judge_cached
from eh_bench.judges.refusal import RefusalJudge, refusal_verdict
from eh_bench.judges.registry import (
    DEFAULT_JUDGE,
    get_judge,
    judge_info,
    judge_metadata,
    judge_names,
    judge_score,
)

__all__ = [
    "DEFAULT_JUDGE",
    "CacheStats",
    "Judge",
    "JudgeCache",
    "JudgeItem",
    "RefusalJudge",
    "Verdict",
    "get_judge",
    "judge_cached",
    "judge_info",
    "judge_metadata",
    "judge_names",
    "judge_score",
    "refusal_verdict",
]
