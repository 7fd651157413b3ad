"""Reading lm-eval samples files (``samples.read_task``, the fast path) vs ``json.loads`` of every line.

Writes N samples with lm-eval's own writer in the shape of ``bench_score.py`` (canonical rows as
``doc``, a chat-templated prompt, the response twice, the 12 per-document NaN metrics; benign stand-in
responses), then times, interleaved, best of ``--repeat``, in CPU seconds (the machine is shared):

- baseline: ``json.loads`` of every line;
- ``read_task`` of every file: the fast path, which decodes the ``doc`` (duplicate keys refused), the
  ``filtered_resps`` and the ``filter``, checks that no key it reads occurs twice, and refuses a
  repeated ``doc_id``.

The ratio is read CPU / baseline CPU. Run it again with ``PYTHONPATH`` pointing at another checkout to
compare two versions of the reader on the same files.

Example: .venv/bin/python benchmarks/bench_samples_read.py --n 30000 --dir /tmp/samples-bench
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_score import write_run  # the same synthetic run as benchmark 9a


def _baseline(files: list[Path]) -> int:
    n = 0
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                json.loads(line)
                n += 1
    return n


def _read(files: list[Path]) -> int:
    from eh_bench.evaluation.samples import parse_samples_name, read_task

    n = 0
    for path in files:
        found = parse_samples_name(path)
        assert found is not None
        n += len(read_task(found))
    return n


def _cpu(fn: Callable[[list[Path]], int], files: list[Path]) -> tuple[float, int]:
    start = time.process_time()
    n = fn(files)
    return time.process_time() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30_000, help="samples")
    parser.add_argument("--repeat", type=int, default=7, help="interleaved repetitions (best is kept)")
    parser.add_argument("--dir", type=Path, default=None, help="work folder, reused when it holds the run")
    args = parser.parse_args()

    root = args.dir or Path(tempfile.mkdtemp(prefix="eh-bench-samples-"))
    run = root / f"run-{args.n}"
    files = sorted(run.rglob("samples_*.jsonl")) or write_run(run, args.n)
    size = sum(f.stat().st_size for f in files)
    import eh_bench.evaluation.samples as reader

    print(f"{args.n:,} samples in {len(files)} files ({size / 1e6:.0f} MB); reader {reader.__file__}")
    best = {"json.loads of every line (baseline)": float("inf"), "read_task (fast path)": float("inf")}
    counts = {}
    for _ in range(args.repeat):
        for name, fn in zip(best, (_baseline, _read), strict=True):
            cpu, counts[name] = _cpu(fn, files)
            best[name] = min(best[name], cpu)
    assert len(set(counts.values())) == 1, counts
    base = best["json.loads of every line (baseline)"]
    print(f"best of {args.repeat}, CPU seconds\n| step | CPU s | ratio |\n|---|---:|---:|")
    for name, cpu in best.items():
        print(f"| {name} | {cpu:.3f} | {cpu / base:.2f} |")
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
