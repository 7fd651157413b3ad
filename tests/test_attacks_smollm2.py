"""End to end: ``eh-bench attack run`` with the embedded SmolLM2-135M in every role (target, attacker,
monitor, judge, usefulness judge, guard), real generations on the packaged core set; then a rerun that
makes no model call, and ``eh-bench attack table``.

The 135M model's answers are junk and mostly break the formats (decompositions, labels, verdicts); what
is checked is that the pipeline runs, accounts for every request and writes every number it promises.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eh_bench.attacks.results import read_rows
from eh_bench.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()

SMALL = [
    "--k", "2", "--max-new-tokens", "12", "--attacker-max-new-tokens", "48", "--label-max-new-tokens", "24",
    "--decompose-retries", "1", "--label-retries", "0", "--n-boot", "0", "--concurrency", "1",
]  # fmt: skip


def test_attack_run_with_the_embedded_model_in_every_role(tmp_path: Path) -> None:
    out = tmp_path / "att"
    args = [
        "attack", "run", "--target", "smollm2", "--attacker", "smollm2", "--variant", "none,cost+monitor",
        "--jailbreak", "direct", "--config", "core", "--limit", "2", "--out", str(out),
        "--judge", "harmbench", "--judge-backend", "smollm2",
        "--guard", "llama-guard-3", "--guard-backend", "smollm2", "--guard-mode", "instructed", *SMALL,
    ]  # fmt: skip
    first = runner.invoke(app, args)
    assert first.exit_code in (0, 1), first.output  # 1: the judge left too many unscored (junk verdicts)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    cells = {c["variant"]: c for c in report["attack"]["cells"]}
    assert set(cells) == {"none", "cost+monitor"}
    for cell in cells.values():
        assert cell["n"] == 2 and cell["n_scored"] + cell["n_unscored"] == 2
        for field in ("asr", "usefulness", "subtask_bypass", "task_bypass", "guard_original_pass"):
            assert field in cell
            assert cell[field] is None or 0.0 <= cell[field] <= 1.0
        assert cell["n_guard_original"] <= 2
    # the baseline sends the originals to the target, the judges and the guard: real generations in each
    none = read_rows(out, "core", "none", "direct")
    assert all(row["subtasks"][0]["response"] is not None for row in none)
    assert all(row["verdict"] is not None and row["usefulness_verdict"] is not None for row in none)
    roles = report["attack"]["roles"]
    assert {roles[r]["spec"] for r in ("target", "attacker", "monitor")} == {"smollm2"}
    assert roles["target"]["revision"] and roles["judge"]["revision"].endswith("@smollm2")
    assert roles["guard"]["backend"] == "smollm2" and ".instructed.prompt" in roles["guard"]["revision"]
    rows = read_rows(out, "core", "cost+monitor", "direct")
    assert len(rows) == 2
    for row in rows:
        decomposition = row["decomposition"]
        assert decomposition["status"] in ("ok", "failed")
        if decomposition["status"] == "failed":  # counted as a failed attack, never the original request
            assert row["success"] == 0.0 and row["subtasks"] == []
        for sub in row["subtasks"]:
            assert sub["text"] != row["prompt"] and sub["action"] in ("kept", "rewritten", "unlabelled")
    made, shared = report["attack"]["calls"]["made"], report["attack"]["calls"]["replayed"]
    assert made["attacker"] >= 2 and made["guard"] >= 2 and made["target"] >= 2 and made["judge"] >= 2
    assert "model calls and verdicts:" in first.output

    again = runner.invoke(app, args)
    assert again.exit_code == first.exit_code, again.output
    calls = json.loads((out / "report.json").read_text(encoding="utf-8"))["attack"]["calls"]
    # everything is replayed: what was made, and what the two attacks shared the first time
    assert sum(calls["made"].values()) == 0
    assert sum(calls["replayed"].values()) == sum(made.values()) + sum(shared.values())
    assert read_rows(out, "core", "cost+monitor", "direct") == rows

    table = runner.invoke(app, ["attack", "table", str(out)])
    assert table.exit_code == 0, table.output
    assert "cost+monitor / direct" in table.output and "none / direct" in table.output
    assert "Sub-task bypass" in table.output
