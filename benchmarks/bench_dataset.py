"""Dataset benchmarks: build time for all configs, and real-world streaming in flat memory.

1. Build: ``eh-bench dataset build`` in a fresh process (cold: imports included), then
   ``build_dataset`` in-process over the real benchmark files (``$EH_SOURCES_DIR``) and the packaged
   labels, with and without the plot, median of ``--repeats`` warm runs each.
2. Streaming: ``--rows`` synthetic WildChat-schema records through the WildChat adapter, from a Python
   generator and from a Parquet file read in batches. Each run is a fresh subprocess, so its peak RSS
   (``ru_maxrss``) belongs to that run alone; the same run at a tenth of the rows shows whether memory
   stays flat as the input grows.

Usage::

    EH_SOURCES_DIR=../shared/sources .venv/bin/python benchmarks/bench_dataset.py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Share of synthetic conversations whose first user turn is flagged toxic.
TOXIC_EVERY = 10
MEMORY_GOAL_MB = 500


def synthetic_records(n: int) -> Iterator[dict[str, Any]]:
    """WildChat-1M-Full-shaped records with harmless stand-in texts; every 10th first turn is flagged."""
    for i in range(n):
        toxic = i % TOXIC_EVERY == 0
        yield {
            "conversation_hash": f"{i:032x}",
            "conversation": [
                {"content": f"Stand-in user message number {i}", "role": "user", "toxic": toxic, "language": "English"},
                {"content": "Sure, here is a cake recipe.", "role": "assistant", "toxic": False, "language": "English"},
            ],
            "openai_moderation": [
                {"categories": {"harassment": toxic, "violence": False}, "flagged": toxic},
                {"categories": {"harassment": False, "violence": False}, "flagged": False},
            ],
            "language": "English",
            "turn": 1,
        }


def write_parquet(path: Path, n: int, batch: int = 50_000) -> None:
    """Write ``n`` synthetic records to Parquet in batches (never all in memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    records = synthetic_records(n)
    try:
        while True:
            chunk = [r for _, r in zip(range(batch), records, strict=False)]
            if not chunk:
                break
            table = pa.Table.from_pylist(chunk)
            writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def peak_rss_mb() -> float:
    """Peak resident memory of this process image in MB.

    ``/proc/self/status`` ``VmHWM`` starts afresh at ``exec``; ``ru_maxrss`` (the fallback off Linux)
    also carries the parent's memory at fork time, which would hide a flat child behind its parent.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, rows: int, parquet: str | None, dedupe: bool) -> None:
    """One streaming run in this (fresh) process; prints a JSON line with counts, time and peak RSS."""
    from eh_bench.sources import REALWORLD
    from eh_bench.sources.realworld import extract, iter_records

    adapter = REALWORLD.get("wildchat")
    records = iter_records(parquet, columns=adapter.columns) if parquet else synthetic_records(rows)
    base_mb = peak_rss_mb()
    start = time.perf_counter()
    kept = sum(1 for _ in extract(adapter, records, dedupe=dedupe))
    seconds = time.perf_counter() - start
    peak_mb = peak_rss_mb()
    print(json.dumps({"mode": mode, "rows": rows, "kept": kept, "seconds": seconds, "dedupe": dedupe,
                      "base_mb": base_mb, "peak_mb": peak_mb}))  # fmt: skip


def run_child(mode: str, rows: int, parquet: Path | None = None, dedupe: bool = True) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", mode, "--rows", str(rows)]
    if parquet is not None:
        cmd += ["--parquet", str(parquet)]
    if not dedupe:
        cmd.append("--no-dedupe")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def bench_build(repeats: int) -> None:
    """Cold CLI build (fresh process: imports included), then warm in-process builds with and without the plot."""
    from eh_bench.dataset.build import build_dataset

    sources = os.environ.get("EH_SOURCES_DIR")
    if not sources:
        print("build: EH_SOURCES_DIR is not set; skipped")
        return
    timings: dict[bool, list[float]] = {True: [], False: []}
    configs: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cli = Path(sys.executable).with_name("eh-bench")
        start = time.perf_counter()
        subprocess.run([str(cli), "dataset", "build", "--out", f"{tmp}/cli", "--no-download"], check=True, capture_output=True)
        cold = time.perf_counter() - start
        for _ in range(repeats):
            for plot in (True, False):
                start = time.perf_counter()
                report = build_dataset(Path(tmp) / "ds", sources_dir=sources, download=False, plot=plot)
                timings[plot].append(time.perf_counter() - start)
                configs = report.configs
    with_plot, without = statistics.median(timings[True]), statistics.median(timings[False])
    print(f"build: {len(configs)} configs, {sum(configs.values())} rows ({configs})")
    print(f"build: cold `eh-bench dataset build` (new process, imports included): {cold:.2f}s")
    print(f"build: warm, median of {repeats}: {with_plot:.2f}s with plot, {without:.2f}s without "
          f"(plot share {1 - without / with_plot:.0%})")  # fmt: skip


def bench_stream(rows: int) -> None:
    small = max(rows // 10, 1)
    print(f"stream: WildChat adapter, 1 in {TOXIC_EVERY} first turns flagged")
    results = [
        run_child("generator", small, dedupe=False),
        run_child("generator", rows, dedupe=False),
        run_child("generator", small),
        run_child("generator", rows),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wildchat.parquet"
        start = time.perf_counter()
        write_parquet(path, rows)
        print(f"stream: wrote {rows:,} records to Parquet ({path.stat().st_size / 2**20:.1f} MiB) "
              f"in {time.perf_counter() - start:.1f}s")  # fmt: skip
        results += [run_child("parquet", rows, parquet=path)]
    for r in results:
        rate = r["rows"] / r["seconds"]
        print(f"stream: {r['mode']:9s} rows={r['rows']:>9,} dedupe={r['dedupe']!s:5s} kept={r['kept']:>7,} "
              f"{r['seconds']:6.1f}s ({rate:,.0f} rows/s) peak RSS {r['peak_mb']:.0f} MB "
              f"(start {r['base_mb']:.0f} MB)")  # fmt: skip
    for label, (a, b) in (("no dedupe", results[0:2]), ("dedupe", results[2:4])):
        print(f"stream: {label}: peak RSS at {rows:,} vs {small:,} rows: x{b['peak_mb'] / a['peak_mb']:.2f} "
              f"for x{rows / small:.0f} the rows")  # fmt: skip
    worst = max(r["peak_mb"] for r in results)
    print(f"stream: highest peak RSS {worst:.0f} MB; goal < {MEMORY_GOAL_MB} MB: {'met' if worst < MEMORY_GOAL_MB else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic real-world records to stream")
    parser.add_argument("--repeats", type=int, default=3, help="build repetitions (median reported)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--parquet", help=argparse.SUPPRESS)
    parser.add_argument("--no-dedupe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows, args.parquet, not args.no_dedupe)
        return
    bench_build(args.repeats)
    bench_stream(args.rows)


if __name__ == "__main__":
    main()
