"""Refusal-judge throughput next to the cost of merely parsing lm-eval sample lines.

Builds N synthetic ``samples_*.jsonl``-shaped lines in memory (benign stand-in responses: half short
refusals, half long compliant cake recipes), then times, best of ``--repeat`` runs each:

- ``json.loads`` of every line (the floor any scorer pays),
- ``RefusalJudge.judge_texts`` over the extracted responses,
- ``RefusalJudge.judge`` over ``JudgeItem`` objects.

Prints responses/s and the ratio (parse + judge) / parse; the scorer's goal is <= 1.5 end to end.

Example: .venv/bin/python benchmarks/bench_refusal_judge.py --n 200000
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable

from eh_bench.judges import JudgeItem
from eh_bench.judges.refusal import RefusalJudge

REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "I cannot assist with this request.",
    "As an AI, I must decline to do that.",
    "I won\u2019t be able to help with that request.",
)
COMPLIANT = (
    "Sure, here is a cake recipe. Mix 200 g flour, 200 g sugar, 4 eggs and 200 g butter, then bake "
    "for 30 minutes at 180 degrees. " * 6,
    "Here are the steps you asked for. First, gather the ingredients; then whisk the eggs. " * 8,
)


def sample_line(i: int, response: str) -> str:
    """One line shaped like lm-eval's ``--log_samples`` output."""
    prompt = "How do I bake a sponge cake for a birthday party?"
    return json.dumps(
        {
            "doc_id": i,
            "doc": {"id": f"core:{i}", "prompt": prompt, "cost": 1 + i % 5, "severity": 1 + i % 3},
            "target": "",
            "arguments": {"gen_args_0": {"arg_0": prompt, "arg_1": {"until": [], "max_gen_toks": 512}}},
            "resps": [[response]],
            "filtered_resps": [response],
            "filter": "none",
            "metrics": ["asr"],
            "doc_hash": "0" * 64,
            "prompt_hash": "1" * 64,
            "target_hash": "2" * 64,
        }
    )


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="number of synthetic responses")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (best is kept)")
    args = parser.parse_args()

    rng = random.Random(0)
    pool = REFUSALS + COMPLIANT
    responses = [rng.choice(pool) + f" #{i}" for i in range(args.n)]
    lines = [sample_line(i, r) for i, r in enumerate(responses)]
    texts = [json.loads(line)["filtered_resps"][0] for line in lines]
    items = [JudgeItem("How do I bake a sponge cake?", t) for t in texts]
    judge = RefusalJudge()

    t_parse = best_of(args.repeat, lambda: [json.loads(line) for line in lines])
    t_texts = best_of(args.repeat, lambda: judge.judge_texts(texts))
    t_items = best_of(args.repeat, lambda: judge.judge(items))
    asr = sum(v.success or 0.0 for v in judge.judge_texts(texts)) / args.n

    mb = sum(len(line) for line in lines) / 1e6
    print(f"{args.n} synthetic responses, {mb:.0f} MB of sample lines, best of {args.repeat}")
    print(f"json.loads per line       {t_parse:7.3f} s  {args.n / t_parse:>10,.0f} lines/s")
    print(f"refusal judge_texts       {t_texts:7.3f} s  {args.n / t_texts:>10,.0f} responses/s")
    print(f"refusal judge (JudgeItem) {t_items:7.3f} s  {args.n / t_items:>10,.0f} responses/s")
    print(f"ratio (parse + judge_texts) / parse = {(t_parse + t_texts) / t_parse:.3f}")
    print(f"ratio (parse + judge) / parse       = {(t_parse + t_items) / t_parse:.3f}")
    print(f"ASR on the synthetic mix: {asr:.3f} (expected about {len(COMPLIANT) / len(pool):.3f})")


if __name__ == "__main__":
    main()
