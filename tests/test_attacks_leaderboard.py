"""Attack rows on the leaderboard: the Decomposition attacks tab's tables, with imported published attacks
on the same model beside them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from attack_fakes import REQUESTS, CountingBackend, attacker_answer, target_answer
from leaderboard_fixtures import make_report, write_report

from eh_bench.attacks.roles import RoleSpecs
from eh_bench.attacks.run import RunPlan, run_attack
from eh_bench.judges import get_judge
from eh_bench.report.document import dataset_record
from eh_bench.submission.entries import build_entry
from eh_bench.submission.stores import Record
from leaderboard.app import _attack_tables, attack_baselines

MODEL = "org/target-model"


def _record(name: str, entry: dict[str, Any]) -> Record:
    return Record(name=name, status="verified", submitted_by="tester", submitted_time="2026-12-06", entry=entry)


def _imported(model: str, method: str, asr: float) -> Record:
    entry = {"model": {"id": model, "revision": "r1"}, "dataset": {"configs": ["jbb"]},
             "responses": {"origin": "imported", "method": method, "set": "jbb-artifacts"},
             "metrics": {"n": 100, "asr": {"value": asr}}}  # fmt: skip
    return _record(f"{model}-{method}", entry)


def test_attack_tab_shows_the_rows_and_the_imported_baselines(tmp_path: Path) -> None:
    backends = {
        "fake:attacker": CountingBackend(attacker_answer, "fake:attacker"),
        "fake:target": CountingBackend(target_answer, "fake:target"),
    }
    plan = RunPlan(RoleSpecs(target="fake:target", attacker="fake:attacker"), config="core",
                   variants=("none", "cost+monitor"), jailbreaks=("direct",), n_boot=0)  # fmt: skip
    result = run_attack(plan, tmp_path / "att", backends=backends, requests=REQUESTS)
    report = make_report(model_id=MODEL, judge="refusal")
    report["judge"]["revision"] = get_judge("refusal").revision
    data = dataset_record(None, None, ["core"])
    report["dataset"].update(name=data["name"], version=data["version"])
    entry = build_entry([write_report(tmp_path / "eval", report), result.out_dir], submitter="tester")
    mine = _record("mine", entry)
    records = [mine, _imported(MODEL, "PAIR", 0.5), _imported(MODEL, "GCG", 0.25), _imported("org/other", "PAIR", 0.9)]

    baselines = attack_baselines(mine, records)
    assert {(b["jailbreak"], b["asr"]) for b in baselines} == {("PAIR (imported)", 0.5), ("GCG (imported)", 0.25)}
    matrix, detail = _attack_tables(mine, baselines)
    table = {(r["config"], r["variant"]): r for r in matrix.to_dict("records")}
    assert table[("core", "none")]["direct"] == "1.0" and table[("core", "cost+monitor")]["direct"] == "0.333"
    assert table[("jbb", "none")]["PAIR (imported)"] == "0.5" and table[("jbb", "none")]["GCG (imported)"] == "0.25"
    assert list(detail.columns)[:3] == ["config", "variant", "jailbreak"]
    assert {"guard_original_pass", "subtask_bypass", "task_bypass", "mean_subtask_cost"} <= set(detail.columns)
    rows = json.loads((result.out_dir / "attacks.json").read_text(encoding="utf-8"))
    assert len(detail) == len(rows) == 2
    empty_matrix, empty_detail = _attack_tables(_record("no attacks", {**entry, "attacks": []}), baselines)
    assert empty_matrix.empty and empty_detail.empty
