"""Leaderboard start-up on 5,000 stored entries: with the store's results index vs without it.

What the app does at start is read the verified records (:meth:`LocalStore.results`) into a
:class:`leaderboard.app.Board` and build its first table. Without an index every record file is parsed
and validated again; with the index (written when each record was verified) the records are trusted
while their files are unchanged. Measured side by side in one run, on the same store written once:

1. in process: ``Board(LocalStore(DIR))`` (a fresh store object each time: no warm cache) plus the
   first ``lb_data.table``, median of ``--repeats``;
2. the whole app: ``python -m leaderboard.app`` from process start until the page answers HTTP 200
   (includes importing gradio, the same for every store size).

Run: .venv/bin/python benchmarks/bench_leaderboard_start.py [--n 5000] [--small 50] [--repeats 3]
Goal: the 5,000-entry app starts in under 2 s of store work (in-process time), and its whole start is
within 2 s of the 50-entry one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from bench_leaderboard import write_store  # noqa: E402
from leaderboard_fixtures import make_entry, serve_app  # noqa: E402

from eh_bench.submission.stores import LocalStore  # noqa: E402
from eh_bench.submission.stores.index import INDEX_FILE  # noqa: E402
from leaderboard import lb_data  # noqa: E402
from leaderboard.app import Board  # noqa: E402


def board_start(root: Path, repeats: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds of this process) to read the store into a Board and build the first
    table, one fresh store object each time. CPU time is what the work costs on an idle machine; wall time
    also counts waiting for a shared CPU."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        board = Board(LocalStore(root))
        lb_data.table(board.records())
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def app_start(root: Path, log: Path) -> float:
    """Seconds from spawning ``python -m leaderboard.app`` until it answers HTTP 200."""
    start = time.perf_counter()
    with serve_app(root, log):
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--small", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        base = make_entry(tmp_path / "base")
        stores = {}
        for name, n, indexed in (("large, no index", args.n, False), ("large, index", args.n, True),
                                 ("small, index", args.small, True)):  # fmt: skip
            root = tmp_path / name.replace(", ", "-").replace(" ", "-")
            if name == "large, index":
                shutil.copytree(stores["large, no index"][0], root)
            else:
                write_store(root, base, n)
            if indexed:
                started = time.perf_counter()
                count = LocalStore(root).reindex()
                print(f"{name}: index of {count:,} records written in {time.perf_counter() - started:.1f}s "
                      "(once, at write time; not part of the start)")  # fmt: skip
            assert (root / INDEX_FILE).exists() == indexed
            stores[name] = (root, n)
        in_process = {name: board_start(root, args.repeats) for name, (root, _) in stores.items()}
        whole = {name: app_start(root, tmp_path / f"{name}.log") for name, (root, _) in stores.items()}
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    for name, (_, n) in stores.items():
        wall, cpu = in_process[name]
        print(f"{name:>16} ({n:>5,} entries): store read + first table median {statistics.median(wall):6.2f}s wall, "
              f"{statistics.median(cpu):6.2f}s CPU (wall min {min(wall):.2f}, max {max(wall):.2f}); "
              f"app process start to HTTP 200 {whole[name]:6.2f}s")
    for kind, at in (("wall", 0), ("CPU", 1)):
        no_index = statistics.median(in_process["large, no index"][at])
        index = statistics.median(in_process["large, index"][at])
        print(f"store read at start, {args.n:,} entries ({kind}): {no_index:.2f}s -> {index:.2f}s with the index "
              f"({no_index / index:.1f}x faster; goal < 2 s)")
    extra = whole["large, index"] - whole["small, index"]
    print(f"whole app start, {args.n:,} vs {args.small} entries (both indexed): +{extra:.2f}s "
          f"(without the index: +{whole['large, no index'] - whole['small, index']:.2f}s)")


if __name__ == "__main__":
    main()
