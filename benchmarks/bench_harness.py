"""9b: harness overhead: ``eh-bench run`` on N prompts vs plain ``transformers`` ``generate`` of the same prompts.

Both run in this one process on the embedded SmolLM2 (plain HF folder, float32, CPU), on the first N
requests of ``eh_core``, with the same chat template, batch size and token budget (greedy):

- plain: load tokenizer + model, apply the chat template, left-pad batches of ``--batch-size`` in
  dataset order, ``model.generate(max_new_tokens=...)``, decode;
- ``eh-bench run --limit N``: the real command (its Typer app, in process): lm-eval's ``hf`` backend
  (model load included), the tasks, per-document scoring, lm-eval's stderr bootstrap, the samples and
  results files, then ``eh-bench score`` with report and plots.

Runs alternate (plain, eh-bench, plain, eh-bench, ...) and the best of ``--repeat`` is kept. Also
reports how many responses are identical between the two (greedy decoding; lm-eval batches by length,
so padding differs). Goal: eh-bench / plain <= 1.15.

Example: .venv/bin/python benchmarks/bench_harness.py --n 32 --batch-size 8 --max-new-tokens 64
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from eh_bench.backends.embedded import load_model_and_tokenizer, prepare_model
from eh_bench.dataset.load import core_rows
from eh_bench.evaluation.lmeval import doc_to_text
from eh_bench.evaluation.samples import find_samples, iter_samples


def plain_generate(n: int, batch_size: int, max_new_tokens: int) -> tuple[list[str], int]:
    """Responses of the first ``n`` core requests with plain transformers; also the generated token count."""
    import torch

    model, tokenizer = load_model_and_tokenizer(prepare_model("smollm2"))
    prompts = [
        tokenizer.apply_chat_template([{"role": "user", "content": doc_to_text(row)}], tokenize=False,
                                      add_generation_prompt=True)
        for row in core_rows()[:n]
    ]  # fmt: skip
    texts: list[str] = []
    tokens = 0
    for start in range(0, n, batch_size):
        batch = tokenizer(prompts[start : start + batch_size], return_tensors="pt", padding=True,
                          add_special_tokens=False)  # fmt: skip
        with torch.inference_mode():
            out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)  # fmt: skip
        new = out[:, batch["input_ids"].shape[1] :]
        for row in new:
            ids = row.tolist()
            if tokenizer.eos_token_id in ids:
                ids = ids[: ids.index(tokenizer.eos_token_id)]
            tokens += len(ids)
            texts.append(tokenizer.decode(ids, skip_special_tokens=True))
    return texts, tokens


def eh_bench_run(n: int, batch_size: int, max_new_tokens: int, out: Path) -> list[str]:
    """The ``eh-bench run`` command, in process; returns the logged responses in document order."""
    from eh_bench.cli import app

    shutil.rmtree(out, ignore_errors=True)
    args = ["run", "--model", "smollm2", "--tasks", "eh_core", "--limit", str(n), "--batch-size", str(batch_size),
            "--max-gen-toks", str(max_new_tokens), "--out", str(out)]  # fmt: skip
    app(args=args, standalone_mode=False)
    (file,) = find_samples(out)
    return [s.response or "" for s in sorted(iter_samples(file.path), key=lambda s: s.doc_id)]


def _cpu() -> float:
    """CPU seconds of this process (all threads) and its finished children (lm-eval's bootstrap pool)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=32, help="prompts (first N of eh_core)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=2, help="alternating repetitions (best is kept)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    prepare_model("smollm2")  # build the folder once, outside the timings
    work = Path(tempfile.mkdtemp(prefix="eh-bench-harness-"))
    times: dict[str, list[float]] = {"plain": [], "eh-bench run": []}
    cpus: dict[str, list[float]] = {"plain": [], "eh-bench run": []}
    plain: list[str] = []
    ours: list[str] = []
    tokens = 0
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), _cpu()
        plain, tokens = plain_generate(args.n, args.batch_size, args.max_new_tokens)
        times["plain"].append(time.perf_counter() - start)
        cpus["plain"].append(_cpu() - cpu)
        start, cpu = time.perf_counter(), _cpu()
        ours = eh_bench_run(args.n, args.batch_size, args.max_new_tokens, work / "run")
        times["eh-bench run"].append(time.perf_counter() - start)
        cpus["eh-bench run"].append(_cpu() - cpu)
    report: dict[str, Any] = json.loads((work / "run" / "eh-bench" / "report.json").read_text())
    same = sum(a.strip() == b.strip() for a, b in zip(plain, ours, strict=True))
    best = {k: min(v) for k, v in times.items()}
    best_cpu = {k: min(v) for k, v in cpus.items()}
    print(f"n={args.n} batch={args.batch_size} max_new_tokens={args.max_new_tokens} "
          f"threads={os.environ.get('OMP_NUM_THREADS', 'default')} load={os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| step | best wall s | wall of each run | best CPU s |\n|---|---:|---|---:|")
    for name, values in times.items():
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(f"| {name} | {best[name]:.1f} | {runs} | {best_cpu[name]:.1f} |")
    print(f"ratio eh-bench run / plain generate: wall {best['eh-bench run'] / best['plain']:.3f}, "
          f"CPU {best_cpu['eh-bench run'] / best_cpu['plain']:.3f}")  # fmt: skip
    print(f"plain generated {tokens} tokens ({tokens / best['plain']:.1f} tok/s incl. model load); "
          f"identical responses: {same}/{args.n}; report scored {report['tasks']['eh_core']['n_scored']}")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
