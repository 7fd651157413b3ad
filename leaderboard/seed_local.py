"""Seed a local leaderboard store from real runs of the embedded model (the first half of `make leaderboard`).

Every step is the real command line, and every result is cached under OUT (delete a folder to redo it):

- ``eh-bench run`` of SmolLM2 on ``eh_core`` + ``eh_core_benign`` (the packaged core set), then
  ``eh-bench score`` of the same generations under two more likelihood models: one generation, three entries;
- when ``$EH_SOURCES_DIR`` holds the public benchmark files: ``eh-bench dataset build`` and a run on
  ``eh_jbb`` + ``eh_jbb_benign`` (another dataset config);
- ``eh-bench submit build`` of each report, then push into OUT/store and review as VERIFIED.

Usage: python leaderboard/seed_local.py [--out out/leaderboard]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from eh_bench.submission.schema import entry_name, read_entry, safe_slug
from eh_bench.submission.stores import DuplicateEntryError, LocalStore

EH = [sys.executable, "-c", "from eh_bench.cli import main; main()"]
RUN_ARGS = ["--model", "smollm2", "--per-cost", "2", "--max-gen-toks", "48", "--n-boot", "200", "--no-plots"]
SUBMITTER = "eh-bench seed (make leaderboard)"
REPORT_SUBDIR = "eh-bench"


@dataclass(frozen=True)
class Seed:
    name: str
    tasks: str
    likelihoods: tuple[str, ...]
    needs_dataset: bool


SEEDS = (
    Seed("core", "eh_core,eh_core_benign", ("linear", "exponential:0.5", "table:1,0.7,0.4,0.2,0.1"), False),
    Seed("jbb", "eh_jbb,eh_jbb_benign", ("linear",), True),
)


def eh(*args: str) -> None:
    print("$ eh-bench " + " ".join(args), flush=True)
    subprocess.run([*EH, *args], check=True)


def dataset_folder(out: Path) -> Path | None:
    """A dataset built from $EH_SOURCES_DIR (cached), or None when the sources are not here."""
    folder = out / "dataset"
    if (folder / "MANIFEST.json").is_file():
        return folder
    sources = os.environ.get("EH_SOURCES_DIR")
    if not sources or not Path(sources).is_dir():
        print("EH_SOURCES_DIR is not set or missing: skipping the seeds that need the built dataset")
        return None
    try:
        eh("dataset", "build", "--out", str(folder), "--no-download")
    except subprocess.CalledProcessError as exc:
        print(f"dataset build failed ({exc}): skipping the seeds that need it")
        return None
    return folder


def reports(seed: Seed, out: Path, dataset: Path | None) -> list[Path]:
    """Report folders of one seed: the run's own (first likelihood), then a re-score per other likelihood."""
    run_dir = out / "runs" / seed.name
    data = ["--dataset", str(dataset)] if dataset else []
    first = run_dir / REPORT_SUBDIR
    if not (first / "report.json").is_file():
        eh("run", *RUN_ARGS, "--tasks", seed.tasks, "--likelihood", seed.likelihoods[0], "--out", str(run_dir), *data)
    model = json.loads((first / "report.json").read_text())["model"]
    folders = [first]
    for spec in seed.likelihoods[1:]:
        folder = run_dir / f"{REPORT_SUBDIR}-{safe_slug(spec)}"
        if not (folder / "report.json").is_file():
            eh("score", str(run_dir), "--likelihood", spec, "--out", str(folder), "--n-boot", "200", "--no-plots",
               "--model-id", model["id"], "--model-revision", model["revision"], *data)
        folders.append(folder)
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/leaderboard"))
    args = parser.parse_args()
    out: Path = args.out
    store = LocalStore(out / "store")
    dataset = dataset_folder(out) if any(s.needs_dataset for s in SEEDS) else None
    for seed in SEEDS:
        if seed.needs_dataset and dataset is None:
            continue
        for folder in reports(seed, out, dataset if seed.needs_dataset else None):
            entry_file = out / "entries" / f"{seed.name}-{folder.name}.json"
            if not entry_file.is_file():
                eh("submit", "build", str(folder), "--out", str(entry_file), "--submitter", SUBMITTER,
                   "--model-type", "instruction-tuned")
            entry = read_entry(entry_file)
            with contextlib.suppress(DuplicateEntryError):  # pushed by an earlier `make leaderboard`
                store.push(entry, SUBMITTER)
            if store.get(entry_name(entry)).status != "VERIFIED":
                store.set_status(entry_name(entry), "VERIFIED", reason="seed entry from a real run of the embedded model")
    verified = store.results()
    print(f"{store.uri}: {len(verified)} verified entries")
    if not verified:
        sys.exit("no seed entry was produced")


if __name__ == "__main__":
    main()
