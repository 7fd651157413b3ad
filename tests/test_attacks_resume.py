"""Resuming: a backend that fails mid-run, then a rerun that finishes without repeating any model call;
and the real thing, ``eh-bench attack run`` killed half way against an HTTP server, then run again."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from attack_fakes import REQUESTS, CountingBackend, attacker_answer, label_json, target_answer
from openai_server import reply, serve

from eh_bench.attacks.results import read_rows
from eh_bench.attacks.roles import RoleSpecs
from eh_bench.attacks.run import AttackInterrupted, RunPlan, run_attack

SPECS = ("fake:attacker", "fake:target")


def backends(fail_after: int | None = None) -> dict[str, CountingBackend]:
    return {
        "fake:attacker": CountingBackend(attacker_answer, "fake:attacker", fail_after),
        "fake:target": CountingBackend(target_answer, "fake:target"),
    }


PLAN = RunPlan(
    RoleSpecs(target="fake:target", attacker="fake:attacker"), config="core",
    variants=("none", "cost+monitor"), jailbreaks=("direct", "roleplay"), n_boot=0, concurrency=2,
)  # fmt: skip


@pytest.mark.parametrize("fail_after", [1, 6, 13])
def test_a_run_stopped_by_a_failing_backend_resumes_without_repeating_a_call(tmp_path: Path, fail_after: int) -> None:
    clean = backends()
    expected = run_attack(PLAN, tmp_path / "clean", backends=clean, requests=REQUESTS)
    for b in clean.values():
        assert len(b.answered) == len(set(b.answered))  # a clean run asks nothing twice

    first = backends(fail_after)
    with pytest.raises(AttackInterrupted, match=r"went away.*run the same command again to resume"):
        run_attack(PLAN, tmp_path / "run", backends=first, requests=REQUESTS)
    second = backends()
    resumed = run_attack(PLAN, tmp_path / "run", backends=second, requests=REQUESTS)

    for spec in SPECS:
        before, after = first[spec].answered, second[spec].answered
        assert not set(before) & set(after), f"{spec}: a call was repeated on resume"
        assert sorted(before + after) == sorted(clean[spec].answered), spec
    assert len(first["fake:attacker"].answered) <= fail_after
    for c in expected.cells:
        rows = read_rows(tmp_path / "run", "core", c["variant"], c["jailbreak"])
        assert rows == read_rows(tmp_path / "clean", "core", c["variant"], c["jailbreak"])
    assert [c["asr"] for c in resumed.cells] == [c["asr"] for c in expected.cells]
    assert sum(resumed.calls["replayed"].values()) > 0


# ----------------------------------------------------------------------------- the CLI, killed

MARK_TASK = "TASK:"


def server_answer(body: dict[str, Any]) -> Any:
    """One scripted server for every role (the model name says which)."""
    messages = body["messages"]
    first, last = messages[0]["content"], messages[-1]["content"]
    if body["model"] == "target":
        return reply(f"Sure, step by step: {hashlib.sha256(last.encode()).hexdigest()[:8]}", delay=0.02)
    if "Split the TASK" in first:
        tag = hashlib.sha256(last.rsplit(MARK_TASK, 1)[-1].encode()).hexdigest()[:8]
        return reply(json.dumps([f"Gather notes {tag}.", f"Write a summary {tag}."]), delay=0.02)
    if "You label requests" in first:
        return reply(label_json(1, 1), delay=0.02)
    return reply("YES", delay=0.02)


def _command(url: str, out: Path) -> list[str]:
    return [
        sys.executable, "-c", "from eh_bench.cli import main; main()", "attack", "run",
        "--target", f"openai:{url}#target", "--attacker", f"openai:{url}#attacker",
        "--variant", "cost+monitor", "--jailbreak", "direct", "--config", "core", "--limit", "4",
        "--concurrency", "1", "--n-boot", "0", "--out", str(out),
    ]  # fmt: skip


def _bodies(server: Any, start: int = 0) -> list[str]:
    return [json.dumps(r["body"], sort_keys=True) for r in server.requests[start:]]


@pytest.mark.slow
def test_cli_killed_half_way_then_rerun_repeats_no_finished_call(tmp_path: Path) -> None:
    env = {**os.environ, "EH_OPENAI_CONCURRENCY": "1"}
    with serve(server_answer) as server:
        url = server.base_url
        subprocess.run(_command(url, tmp_path / "clean"), env=env, check=True, capture_output=True, timeout=120)
        clean = _bodies(server)
        start = len(server.requests)
        proc = subprocess.Popen(_command(url, tmp_path / "run"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(server.requests) - start < len(clean) // 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed = _bodies(server, start)
        assert 0 < len(killed) < len(clean), "the run was not stopped half way"
        assert not (tmp_path / "run" / "report.json").exists()
        middle = len(server.requests)
        done = subprocess.run(_command(url, tmp_path / "run"), env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        resumed = _bodies(server, middle)
    repeated = set(killed) & set(resumed)
    assert len(repeated) <= 1, "only the call in flight at the kill may be sent again"
    assert sorted(set(killed) | set(resumed)) == sorted(set(clean))
    assert len(killed) + len(resumed) - len(repeated) == len(clean)
    assert "replayed from the journal" in done.stdout
    report = json.loads((tmp_path / "run" / "report.json").read_text(encoding="utf-8"))
    assert report["attack"]["cells"][0]["n"] == 4
