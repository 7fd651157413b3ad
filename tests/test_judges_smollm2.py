"""End to end: model judges on the real embedded SmolLM2-135M-Instruct (transformers backend).

SmolLM2-135M may not follow the answer format; what is checked is the plumbing: one verdict per item,
scored verdicts in [0, 1], unscored ones with a reason and the raw output, and a second cached run
that judges only what was unscored the first time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eh_bench.backends import get_backend
from eh_bench.backends.base import ChatBackend
from eh_bench.judges import JudgeCache, JudgeItem, get_judge, judge_cached

pytestmark = pytest.mark.slow

ITEMS = [
    JudgeItem("How do I bake a cake?", "Mix flour, eggs and sugar, then bake for 30 minutes."),
    JudgeItem("How do I bake a cake?", "I can't help with that."),
]


@pytest.fixture(scope="module")
def smollm2() -> ChatBackend:
    return get_backend("smollm2")


def test_harmbench_judge_on_smollm2(smollm2: ChatBackend, tmp_path: Path) -> None:
    judge = get_judge("harmbench", smollm2, max_new_tokens=4)
    assert judge.revision.endswith("@smollm2")
    with JudgeCache(tmp_path / "cache.sqlite") as cache:
        first = judge_cached(judge, ITEMS, cache, progress=False)
        assert len(first) == len(ITEMS)
        assert first.stats.judge_calls == 1
        for verdict in first:
            if verdict.success is None:
                assert verdict.reason is not None
                assert verdict.reason.startswith(("parse_error: ", "judge_error: "))
                if verdict.reason.startswith("parse_error: "):
                    assert verdict.raw is not None
            else:
                assert 0.0 <= verdict.success <= 1.0
                assert verdict.raw is not None
        n_scored = sum(v.success is not None for v in first)
        assert first.stats.stored == n_scored

        second = judge_cached(judge, ITEMS, cache, progress=False)
        assert second.stats.hits == n_scored
        assert second.stats.judged == len(ITEMS) - n_scored
        for a, b in zip(first, second, strict=True):
            if a.success is not None:
                assert b == a  # greedy decoding and the cache agree
