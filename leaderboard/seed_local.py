"""Seed a local leaderboard store with real models (the first half of `make leaderboard`), in seconds.

1. **Imports** (seconds): the JailbreakBench attack artifacts (4 attacks x 4 target models) and the
   Do-Not-Answer responses of six models with human labels, imported exactly as ``eh-bench import
   jbb-artifacts`` / ``donotanswer`` do, when their pinned files are found (``$EH_SOURCES_DIR``, the
   cache, or the pinned download): 22 entries. Cached under ``OUT/imports``.
2. **One run of the embedded model**: ``eh-bench run`` of SmolLM2 on ``eh_core`` + ``eh_core_benign``,
   cached under ``OUT/runs/core`` (minutes on a CPU, once). ``--embedded background`` (the default)
   pushes a cached run at once, or starts the run in a detached process whose entry joins the store when
   it is done (the app shows it at its next refresh, so the page never waits for it); ``wait`` runs it
   first; ``skip`` leaves it out.

Each report becomes an entry through the builder of ``eh-bench submit build``, is pushed and reviewed as
VERIFIED (the store validates it once, at that write). Delete a folder under OUT to redo its step.

Usage: python -m leaderboard.seed_local [--out out/leaderboard] [--embedded background|wait|skip]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eh_bench.errors import EHBenchError
from eh_bench.submission.stores import DuplicateEntryError, LocalStore

EH = [sys.executable, "-c", "from eh_bench.cli import main; main()"]
RUN_ARGS = ["--model", "smollm2", "--per-cost", "2", "--max-gen-toks", "48", "--n-boot", "200", "--no-plots"]
RUN_TASKS = "eh_core,eh_core_benign"
SUBMITTER = "eh-bench seed (make leaderboard)"
REPORT_SUBDIR = "eh-bench"
EMBEDDED_MODES = ("background", "wait", "skip")
#: A background run writes its progress here and keeps its pid here while it runs.
EMBEDDED_LOG = "embedded.log"
EMBEDDED_PID = "embedded.pid"
#: Report folders each import writes (the seed re-imports when fewer are found).
IMPORTS: dict[str, int] = {"jbb-artifacts": 16, "donotanswer": 6}


def publish(store: LocalStore, folder: Path, out: Path, model_type: str = "unknown") -> str:
    """Build the entry of one report folder, push it and review it as VERIFIED (idempotent); its name."""
    from eh_bench.submission.entries import build_entry
    from eh_bench.submission.schema import entry_name

    entry = build_entry([folder], submitter=SUBMITTER, model_type=model_type)
    name = entry_name(entry)
    entries = out / "entries"
    entries.mkdir(parents=True, exist_ok=True)
    (entries / f"{name}.json").write_text(json.dumps(entry, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    with contextlib.suppress(DuplicateEntryError):  # pushed by an earlier `make leaderboard`
        store.push(entry, SUBMITTER)
    if store.get(name).status != "VERIFIED":
        store.set_status(name, "VERIFIED", reason="seed entry: published responses or a real run of the embedded model")
    return name


def import_reports(out: Path) -> list[Path]:
    """Report folders of the two imports (imported again when some are missing); none when the sources
    cannot be found."""
    from eh_bench.importers import ImportOptions, ImportResult, import_donotanswer, import_jbb_artifacts

    runs: dict[str, Callable[[Path, ImportOptions], list[ImportResult]]] = {
        "jbb-artifacts": import_jbb_artifacts, "donotanswer": import_donotanswer,
    }  # fmt: skip
    folders: list[Path] = []
    for name, run in runs.items():
        root = out / "imports" / name
        found = sorted(p.parent for p in root.rglob("report.json"))
        if len(found) < IMPORTS[name]:
            started = time.perf_counter()
            try:
                found = [r.folder for r in run(root, ImportOptions(plots=False))]
            except EHBenchError as exc:
                print(f"import {name}: skipped ({exc})", flush=True)
                continue
            print(f"import {name}: {len(found)} reports in {time.perf_counter() - started:.1f}s", flush=True)
        folders += found
    return folders


def embedded_report(out: Path) -> Path | None:
    """The cached report of the embedded model's run, if it exists."""
    folder = out / "runs" / "core" / REPORT_SUBDIR
    return folder if (folder / "report.json").is_file() else None


def run_embedded(out: Path) -> Path:
    """Run the embedded model (the real command line) unless its report is cached; the report folder."""
    found = embedded_report(out)
    if found is not None:
        return found
    run_dir = out / "runs" / "core"
    cmd = [*EH, "run", *RUN_ARGS, "--tasks", RUN_TASKS, "--out", str(run_dir)]
    print("$ eh-bench " + " ".join(cmd[len(EH):]), flush=True)
    subprocess.run(cmd, check=True)
    return run_dir / REPORT_SUBDIR


def _running(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def start_background(out: Path) -> None:
    """Start the embedded model's run in a detached process (one at a time) that publishes its entry."""
    pid_file = out / EMBEDDED_PID
    if _running(pid_file):
        print(f"the embedded model's run is already going (pid {pid_file.read_text().strip()}, log {out / EMBEDDED_LOG})")
        return
    out.mkdir(parents=True, exist_ok=True)
    with open(out / EMBEDDED_LOG, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "leaderboard.seed_local", "--out", str(out), "--background-child"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    pid_file.write_text(str(proc.pid))
    print(f"the embedded model's run started in the background (pid {proc.pid}, log {out / EMBEDDED_LOG}); "
          "its entry joins the board when it is done")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/leaderboard"))
    parser.add_argument("--embedded", choices=EMBEDDED_MODES, default="background",
                        help="the embedded model's run: in the background when not cached (default), wait, skip")
    parser.add_argument("--no-imports", action="store_true", help="leave out the imported published responses")
    parser.add_argument("--background-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.background_child:  # the detached run started by --embedded background
        try:
            publish(LocalStore(args.out / "store"), run_embedded(args.out), args.out, model_type="instruction-tuned")
        finally:
            (args.out / EMBEDDED_PID).unlink(missing_ok=True)
        return
    out: Path = args.out
    store = LocalStore(out / "store")
    started = time.perf_counter()
    imported: list[Any] = [] if args.no_imports else [publish(store, f, out) for f in import_reports(out)]
    if imported:
        print(f"{len(imported)} imported entries in {time.perf_counter() - started:.1f}s", flush=True)
    if args.embedded == "wait" or (args.embedded == "background" and embedded_report(out) is not None):
        publish(store, run_embedded(out), out, model_type="instruction-tuned")
    elif args.embedded == "background":
        start_background(out)
    verified = store.results()
    print(f"{store.uri}: {len(verified)} verified entries")
    if not verified and args.embedded != "background":
        sys.exit("no seed entry was produced")


if __name__ == "__main__":
    main()
