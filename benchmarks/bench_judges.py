"""Judged responses per second of each offline judge, side by side with the refusal judge, same inputs.

Inputs: ``--n`` (request, response) pairs drawn (seeded) from the published response sets when
``EH_SOURCES_DIR`` holds them (read at run time; only counts and timings are printed), else harmless
synthetic stand-ins. Timed, best of ``--repeat`` runs each, in one process:

- ``refusal``: ``RefusalJudge.judge`` on ``JudgeItem`` objects (the default until eh-harm beats it);
- ``eh-harm``: the shipped trained judge, ``TrainedJudge.judge`` (features + dot product), uncached;
- ``eh-harm (cache, warm)``: the same through ``judge_cached`` with every verdict already stored;
- ``chars`` features: the character n-gram feature set compared in training (transform + dot product);
- ``smollm2-hidden``: hidden states of the embedded model on ``--hidden-n`` pairs (one forward pass each).

Example: .venv/bin/python benchmarks/bench_judges.py --n 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from eh_bench.judges import JudgeItem
from eh_bench.judges.cache import JudgeCache, judge_cached
from eh_bench.judges.features import FeatureSet
from eh_bench.judges.refusal import RefusalJudge
from eh_bench.judges.trained import TrainedJudge
from eh_bench.judges.training import FEATURE_SETS

STAND_INS = (
    "Sure, here is how to fold a paper crane: crease the square along both diagonals, then fold the flaps. "
    * 4,
    "I'm sorry, but I can't help with that.",
    "Paper folding started centuries ago; today it is taught in schools as geometry practice. " * 3,
)


def pairs(n: int, seed: int) -> tuple[list[JudgeItem], str]:
    """``n`` pairs from the published sets (if available), else stand-ins; and where they came from."""
    if os.environ.get("EH_SOURCES_DIR"):
        from eh_bench.judges.corpus import load_corpus

        corpus, _ = load_corpus(download=False)
        order = np.random.default_rng(seed).permutation(len(corpus))[:n]
        items = [JudgeItem(corpus.prompts[i], corpus.responses[i]) for i in order]
        chars = sum(len(it.response) for it in items) / max(1, len(items))
        return items, f"{len(items)} published pairs (mean response {chars:.0f} chars)"
    rng = random.Random(seed)
    items = [JudgeItem(f"How do I fold figure {i}?", rng.choice(STAND_INS)) for i in range(n)]
    return items, f"{n} synthetic stand-in pairs"


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="pairs judged per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per judge (best is kept)")
    parser.add_argument(
        "--hidden-n", type=int, default=16, help="pairs for the hidden-state features (0: skip)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    items, what = pairs(args.n, args.seed)
    prompts, responses = [it.prompt for it in items], [it.response for it in items]
    refusal, trained = RefusalJudge(), TrainedJudge()
    chars = FeatureSet(FEATURE_SETS["chars"])
    weights = np.random.default_rng(0).normal(size=chars.n_features).astype(np.float32)
    rows: list[tuple[str, float, int]] = [
        ("refusal", best_of(args.repeat, lambda: refusal.judge(items)), len(items)),
        ("eh-harm", best_of(args.repeat, lambda: trained.judge(items)), len(items)),
        (
            "chars features",
            best_of(args.repeat, lambda: chars.transform(prompts, responses).dot(weights)),
            len(items),
        ),
    ]
    with tempfile.TemporaryDirectory() as tmp, JudgeCache(Path(tmp) / "cache.sqlite") as cache:
        judge_cached(trained, items, cache, progress=False)
        warm = best_of(args.repeat, lambda: judge_cached(trained, items, cache, progress=False))
        rows.append(("eh-harm (cache, warm)", warm, len(items)))
    if args.hidden_n:
        from eh_bench.judges.hidden import HiddenFeatures

        hidden = HiddenFeatures()
        sample = list(zip(prompts, responses, strict=True))[: args.hidden_n]
        hidden.transform(sample[:2])  # load the model outside the timing
        rows.append(("smollm2-hidden features", best_of(1, lambda: hidden.transform(sample)), len(sample)))

    base = rows[0][2] / rows[0][1]
    print(f"{what}; best of {args.repeat}; {os.cpu_count()} CPUs")
    print(f"{'judge':<26}{'seconds':>9}{'pairs':>8}{'responses/s':>14}{'vs refusal':>12}")
    for name, seconds, n in rows:
        rate = n / seconds
        print(f"{name:<26}{seconds:9.3f}{n:8d}{rate:14,.0f}{rate / base:12.4f}")


if __name__ == "__main__":
    main()
