"""9a: ``eh-bench score`` over N synthetic lm-eval samples vs merely ``json.loads``-ing the same files.

Writes N samples with lm-eval's own ``EvaluationTracker`` (the real file layout: one
``samples_<task>_<date>.jsonl`` per harmful task of the ``expected_harm`` group, under a model folder),
shaped like a ``max_gen_toks=512`` run: canonical dataset rows as ``doc``, a chat-templated prompt in
``arguments``, the response twice (``resps`` / ``filtered_resps``) and the 12 per-document metrics.
Responses are benign stand-ins: half refusals of one to three sentences, half cake recipes of 150-400
words (about the length of a 512-token answer), every one unique.

Then times, interleaved and best of ``--repeat``:

- baseline: ``json.loads`` of every line of every file, in this process;
- ``score_run`` + ``save_report`` in this process (refusal judge, 1000 bootstrap replicates, plots);
- the ``eh-bench score`` command (a fresh process: start-up included), with and without plots.

Ratios are wall time / baseline wall time (CPU time in brackets). Goal: <= 1.5.

Example: EH_SOURCES_DIR=../shared/sources .venv/bin/python benchmarks/bench_score.py --n 200000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TASKS = ("eh_core", "eh_harmbench", "eh_advbench", "eh_jbb", "eh_strongreject", "eh_donotanswer")
METRICS = (
    "asr",
    *(f"asr_cost_{c}" for c in range(1, 6)),
    *(f"asr_sev_{c}" for c in range(1, 6)),
    "expected_harm",
)
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "I cannot assist with this request, because it could be used to hurt someone.",
    "As an AI, I must decline. If you are interested in baking, I am happy to share a recipe instead.",
)
WORDS = ("flour", "sugar", "butter", "eggs", "milk", "vanilla", "whisk", "bowl", "oven", "tray", "bake", "minutes",
         "golden", "cool", "slice", "serve", "cream")  # fmt: skip
CHUNK = 20_000


def make_sample(rng: random.Random, task: str, i: int) -> dict[str, object]:
    cost, severity = rng.randint(1, 5), rng.randint(1, 5)
    prompt = (
        f"Stand-in request {task}-{i}: explain how to bake a {rng.choice(WORDS)} sponge cake for a party."
    )
    if rng.random() < 0.5:
        response = " ".join(rng.sample(REFUSALS, rng.randint(1, 3))) + f" (ref {i})"
    else:
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(150, 400)))
        response = f"Sure, here is a cake recipe #{i}: {words}."
    doc = {
        "id": f"{task}:{i:06d}", "source": task.removeprefix("eh_"), "source_id": f"{i:06d}", "prompt": prompt,
        "prompt_sha256": f"{i:064x}", "category": "stand-in", "harm_category": "fraud_deception", "context": "",
        "cost": cost, "severity": severity, "expertise": cost, "equipment": 1, "time": 2, "legality": 1,
        "rationale": "Stand-in rationale: one sentence on why the request has this cost and this severity.",
        "annotator": "benchmark", "rubric_version": "1", "split": "test", "duplicate_of": None,
    }  # fmt: skip
    chat = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"
    gen = {"until": [], "max_gen_toks": 512, "do_sample": False, "temperature": 0.0}
    nan = float("nan")
    return {
        "doc_id": i, "doc": doc, "target": "", "arguments": [(chat, gen)], "resps": [[response]],
        "filtered_resps": [response], "filter": "none", "metrics": list(METRICS),
        "doc_hash": f"{i:064x}", "prompt_hash": f"{i + 1:064x}", "target_hash": f"{i + 2:064x}",
        **dict.fromkeys(METRICS, nan),
    }  # fmt: skip


def write_run(root: Path, n: int, seed: int = 0) -> list[Path]:
    """N samples spread over the six harmful tasks, written by lm-eval's EvaluationTracker."""
    from lm_eval.loggers import EvaluationTracker

    rng = random.Random(seed)
    tracker = EvaluationTracker(output_path=str(root))
    tracker.general_config_tracker.model_name_sanitized = "synthetic__model"
    tracker.date_id = "2026-01-01T00-00-00.000000"
    per_task = [n // len(TASKS) + (1 if k < n % len(TASKS) else 0) for k in range(len(TASKS))]
    for task, count in zip(TASKS, per_task, strict=True):
        for start in range(0, count, CHUNK):
            chunk = [make_sample(rng, task, i) for i in range(start, min(count, start + CHUNK))]
            tracker.save_results_samples(task, chunk)  # appends
    return sorted(root.rglob("samples_*.jsonl"))


def baseline(files: list[Path]) -> int:
    n = 0
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                json.loads(line)
                n += 1
    return n


def build_dataset(root: Path) -> Path:
    """A built dataset folder for the report's provenance (the samples' docs are synthetic rows of it)."""
    if not os.environ.get("EH_SOURCES_DIR"):
        sys.exit("set EH_SOURCES_DIR to the folder of source files (or pass --dataset DIR of a built dataset)")
    out = root / "dataset"
    exe = str(Path(sys.executable).with_name("eh-bench"))
    subprocess.run([exe, "dataset", "build", "--out", str(out)], check=True, capture_output=True)
    return out


def in_process(run: Path, out: Path, dataset: Path) -> None:
    from eh_bench.evaluation.scoring import score_run
    from eh_bench.report.document import save_report

    save_report(score_run(run, progress=False), out, dataset=str(dataset))


def breakdown(run: Path, out: Path, dataset: Path) -> dict[str, float]:
    """CPU seconds of each phase of the in-process path (one pass)."""
    from eh_bench.evaluation.samples import read_run
    from eh_bench.evaluation.scoring import judge_tasks, score_run, summarize_scores
    from eh_bench.judges import get_judge
    from eh_bench.likelihood import get_likelihood
    from eh_bench.report.document import save_report

    phases: dict[str, float] = {}
    t = time.process_time()
    samples = read_run(run)
    phases["read samples (fast path)"] = time.process_time() - t
    t = time.process_time()
    scores = judge_tasks(samples.tasks, get_judge("refusal"), progress=False)
    phases["refusal judge"] = time.process_time() - t
    model = get_likelihood("linear")
    t = time.process_time()
    for task_score in scores:
        summarize_scores([task_score], model, 1000, 0)
    summarize_scores(scores, model, 1000, 0, distinct=True)
    phases["metrics.summarize (6 tasks + group)"] = time.process_time() - t
    scored = score_run(samples, progress=False)
    t = time.process_time()
    save_report(scored, out, dataset=str(dataset))
    phases["report.json + report.md + 3 plots"] = time.process_time() - t
    return phases


def cli(run: Path, out: Path, dataset: Path, *extra: str) -> None:
    exe = str(Path(sys.executable).with_name("eh-bench"))
    command = [exe, "score", str(run), "--out", str(out), "--dataset", str(dataset), *extra]
    subprocess.run(command, check=True, capture_output=True)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the CLI runs as a child)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    fn()
    return time.perf_counter() - wall, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=200_000, help="samples")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repetitions (best is kept)")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--dataset", type=Path, default=None, help="built dataset (default: built from $EH_SOURCES_DIR)")
    args = parser.parse_args()

    root = args.dir or Path(tempfile.mkdtemp(prefix="eh-bench-score-"))
    dataset = args.dataset or build_dataset(root)
    run = root / "run"
    shutil.rmtree(run, ignore_errors=True)
    start = time.perf_counter()
    files = write_run(run, args.n)
    size = sum(f.stat().st_size for f in files)
    print(
        f"wrote {args.n:,} samples in {len(files)} files ({size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f}s"
    )

    steps: dict[str, Callable[[], object]] = {
        "json.loads line by line (baseline)": lambda: baseline(files),
        "score_run + save_report, in process": lambda: in_process(run, root / "out_inproc", dataset),
        "eh-bench score (CLI, new process)": lambda: cli(run, root / "out_cli", dataset),
        "eh-bench score --no-plots (CLI)": lambda: cli(run, root / "out_noplots", dataset, "--no-plots"),
    }
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.repeat):
        for name, fn in steps.items():
            wall, cpu = timed(fn)
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu)
    base_wall, base_cpu = best["json.loads line by line (baseline)"]
    report = json.loads((root / "out_inproc" / "report.json").read_text())
    assert report["group"]["summary"]["n"] == args.n, "every sample was scored"
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; best of {args.repeat}")
    print("| step | wall s | CPU s | wall ratio | CPU ratio |\n|---|---:|---:|---:|---:|")
    for name, (wall, cpu) in best.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {wall / base_wall:.2f} | {cpu / base_cpu:.2f} |")
    print(
        "\nCPU seconds by phase (in process, imports warm):\n| phase | CPU s | share of baseline CPU |\n|---|---:|---:|"
    )
    for name, cpu in breakdown(run, root / "out_breakdown", dataset).items():
        print(f"| {name} | {cpu:.2f} | {cpu / base_cpu:.2f} |")
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
