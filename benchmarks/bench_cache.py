"""9c: a cached re-score vs the first score, with a model judge running on the embedded SmolLM2.

Writes a run of N samples with lm-eval's own ``EvaluationTracker`` (the first N ``eh_core`` requests
with benign stand-in responses: refusals and cake recipes), then runs ``eh-bench score RUN --judge
NAME --judge-backend smollm2`` twice as fresh processes against an empty verdict cache
(``EH_CACHE_DIR`` in a temporary folder). The first run loads SmolLM2 and judges every sample; the
second finds the scored verdicts in the cache. Unscored verdicts (SmolLM2-135M does not always answer
in the judge's format) are never cached, so they are judged again: the table shows how many, and
repeats the pair on the samples whose verdicts the first run could score (a fresh cache again).

Example: .venv/bin/python benchmarks/bench_cache.py --n 32 --judge harmbench
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eh_bench.dataset.load import core_rows

REFUSE = "I can't help with that."
COMPLY = (
    "Sure, here is a cake recipe: mix flour, sugar and two eggs, then bake for 30 minutes at 180 degrees."
)


def write_run(root: Path, rows: list[tuple[dict[str, object], str]]) -> None:
    from lm_eval.loggers import EvaluationTracker

    tracker = EvaluationTracker(output_path=str(root))
    tracker.general_config_tracker.model_name_sanitized = "stand-in__model"
    tracker.date_id = "2026-01-01T00-00-00.000000"
    samples = []
    for i, (row, response) in enumerate(rows):
        samples.append({
            "doc_id": i, "doc": row, "target": "", "arguments": [(row["prompt"], {"max_gen_toks": 64})],
            "resps": [[response]], "filtered_resps": [response], "filter": "none", "metrics": ["asr"],
            "doc_hash": "0" * 64, "prompt_hash": "1" * 64, "target_hash": "2" * 64, "asr": float("nan"),
        })  # fmt: skip
    tracker.save_results_samples("eh_core", samples)


def score(run: Path, out: Path, judge: str, cache_dir: Path) -> tuple[float, dict[str, Any]]:
    """``eh-bench score`` in a fresh process with its own verdict cache; wall time and the task entry."""
    exe = str(Path(sys.executable).with_name("eh-bench"))
    args = [exe, "score", str(run), "--judge", judge, "--judge-backend", "smollm2", "--out", str(out),
            "--max-unscored", "1", "--no-plots"]  # fmt: skip
    env = {**os.environ, "EH_CACHE_DIR": str(cache_dir), "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    entry: dict[str, Any] = json.loads((out / "report.json").read_text())["tasks"]["eh_core"]
    return wall, entry


def cache_dir(work: Path, name: str) -> Path:
    """An empty eh-bench cache folder that shares the prepared model folder (so no run rebuilds it)."""
    from eh_bench.backends.embedded import prepare_model

    folder = work / name
    folder.mkdir()
    (folder / "models").symlink_to(prepare_model("smollm2").parent, target_is_directory=True)
    return folder


def scored_rows(
    rows: list[tuple[dict[str, Any], str]], judge: str, folder: Path
) -> list[tuple[dict[str, Any], str]]:
    """The rows whose verdict the cache in ``folder`` holds (only scored verdicts are cached)."""
    from eh_bench.judges import JudgeCache, JudgeItem, get_judge
    from eh_bench.judges.cache import cache_key

    judge_obj = get_judge(judge, "smollm2")  # the backend is built lazily: no model is loaded here
    keys = [cache_key(judge_obj.id, judge_obj.revision, JudgeItem(r["prompt"], resp, r["context"] or None))
            for r, resp in rows]  # fmt: skip
    with JudgeCache(folder / "judge_cache.sqlite") as cache:
        found = cache.get_many(keys)
    return [row for row, key in zip(rows, keys, strict=True) if key in found]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=32, help="samples")
    parser.add_argument(
        "--judge", default="harmbench", help="a model judge (harmbench, usefulness, strongreject)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="eh-bench-cache-"))
    rows = [(row, REFUSE if i % 2 else COMPLY) for i, row in enumerate(core_rows()[: args.n])]
    write_run(work / "run", rows)
    full_cache = cache_dir(work, "cache_full")
    results = {"all samples, first score": score(work / "run", work / "o1", args.judge, full_cache)}
    results["all samples, re-score"] = score(work / "run", work / "o2", args.judge, full_cache)
    subset = scored_rows(rows, args.judge, full_cache)
    write_run(work / "run_scored", subset)
    sub_cache = cache_dir(work, "cache_subset")
    results["scorable samples, first score"] = score(work / "run_scored", work / "o3", args.judge, sub_cache)
    results["scorable samples, re-score"] = score(work / "run_scored", work / "o4", args.judge, sub_cache)
    print(
        f"judge {args.judge} on smollm2 (eh-bench score, fresh process each), load {os.getloadavg()[0]:.1f}"
    )
    print(
        "| run | samples | wall s | scored | unscored (judged again next time) |\n|---|---:|---:|---:|---:|"
    )
    for name, (wall, entry) in results.items():
        print(f"| {name} | {entry['n_samples']} | {wall:.1f} | {entry['n_scored']} | {entry['n_unscored']} |")
    first, again = results["scorable samples, first score"], results["scorable samples, re-score"]
    assert again[1]["summary"] == first[1]["summary"], "cached verdicts reproduce the first scores"
    print(f"cached re-score / first score (scorable samples) = {again[0] / first[0]:.3f} "
          f"({first[0] / again[0]:.1f}x faster)")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
