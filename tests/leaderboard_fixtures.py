"""Synthetic report.json folders and leaderboard entries for the submission, store and app tests.

Reports follow the report.json contract; their summaries come from the real
:func:`eh_bench.metrics.summarize` over random judged samples (numbers only, no text).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from eh_bench.likelihood import get_likelihood
from eh_bench.metrics import summarize
from eh_bench.submission.stores import LocalStore

MANIFEST = "ab" * 32


def make_report(
    model_id: str = "org/model-a",
    revision: str | None = "0123abcd",
    *,
    judge: str = "refusal",
    likelihood: str = "linear",
    seed: int = 0,
    n: int = 80,
    base_rate: float = 0.3,
    slope: float = -0.05,
    n_boot: int = 50,
    tasks: tuple[str, ...] = ("eh_core",),
    benign: bool = True,
) -> dict[str, Any]:
    """A report.json dict; success probability = base_rate + slope * (cost - 3), clipped to [0, 1]."""
    rng = np.random.default_rng(seed)
    task_entries: dict[str, Any] = {}
    all_cost: list[int] = []
    all_sev: list[int] = []
    all_succ: list[float] = []
    for i, task in enumerate(tasks):
        cost = rng.integers(1, 6, n)
        sev = rng.integers(1, 6, n)
        p = np.clip(base_rate + slope * (cost - 3), 0, 1)
        succ = (rng.random(n) < p).astype(float)
        all_cost += cost.tolist()
        all_sev += sev.tolist()
        all_succ += succ.tolist()
        task_entries[task] = {
            "config": task.removeprefix("eh_"),
            "n_samples": n + i,
            "n_scored": n,
            "n_unscored": i,
            "unscored_reasons": {"judge_error": i} if i else {},
            "summary": summarize(cost, sev, succ, likelihood=likelihood, n_boot=n_boot, seed=0),
        }
    group = None
    if len(tasks) > 1:
        group = {"name": "expected_harm", "summary": summarize(all_cost, all_sev, all_succ, likelihood=likelihood,
                                                               n_boot=n_boot, seed=0)}
    return {
        "report_version": 1,
        "created": "2026-11-23T04:00:00+00:00",
        "eh_bench_version": "0.1.0",
        "model": {"id": model_id, "revision": revision, "source": "cli"},
        "dataset": {"name": "eh-bench", "version": "1.0.0", "manifest_sha256": MANIFEST, "path": "data",
                    "rubric_version": "2"},
        "sample": {"design": "full", "limit": None, "per_cost": None, "seed": None},
        "judge": {"id": judge, "revision": "1", "backend": None},
        "benign_judge": {"id": "refusal", "revision": "refusal-v2.0000abcd"} if benign else None,
        "scoring": {"empty_responses": "unscored", "max_unscored_per_task": 0.1},
        "likelihood": get_likelihood(likelihood).to_dict(),
        "lm_eval": {"version": "0.4.13", "task_hashes": {t: "f" * 64 for t in tasks}, "chat_template_sha": "c" * 64,
                    "model_args": "pretrained=org/model-a,dtype=float32", "limit": None},
        "seed": 0,
        "n_boot": n_boot,
        "tasks": task_entries,
        "group": group,
        "benign": {"over_refusal_rate": 0.1, "n": 20, "tasks": [{"task": "eh_core_benign", "n_samples": 20}]}
        if benign else None,
        "files": {"samples": [], "plots": []},
    }


def write_report(folder: Path, report: dict[str, Any]) -> Path:
    """Write ``report`` as ``folder/report.json``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, allow_nan=False), encoding="utf-8")
    return folder


def make_entry(tmp: Path, **kwargs: Any) -> dict[str, Any]:
    """A valid entry built by the real builder from a synthetic report."""
    from eh_bench.submission.entries import build_entry

    name = f"r-{abs(hash(json.dumps(kwargs, sort_keys=True, default=str)))}"
    folder = write_report(tmp / name, make_report(**kwargs))
    return build_entry([folder], submitter="tester")


def entry_variant(entry: dict[str, Any], i: int) -> dict[str, Any]:
    """A copy of ``entry`` with a distinct model id/revision (cheap way to make many valid entries)."""
    out = copy.deepcopy(entry)
    out["model"]["id"] = f"org/model-{i:05d}"
    out["model"]["revision"] = f"rev{i:05d}"
    return out


def seed_store(root: Path, entries: list[dict[str, Any]], verify: bool = True) -> LocalStore:
    """A local store holding ``entries`` (verified unless told otherwise)."""
    store = LocalStore(root)
    for entry in entries:
        record = store.push(entry, "seed")
        if verify:
            store.set_status(record.name, "VERIFIED")
    return store


# ----------------------------------------------------------------------------- serving the app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
START_TIMEOUT_S = 120


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app did not answer within {timeout}s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def serve_app(store_dir: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``python -m leaderboard.app --store STORE_DIR`` on a free 127.0.0.1 port; yield its URL; stop
    it by PID afterwards."""
    port = free_port()
    full_env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    full_env.pop("SPACE_ID", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "leaderboard.app", "--store", str(store_dir), "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, proc, log, START_TIMEOUT_S)
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
