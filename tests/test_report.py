"""report.json (the contract the leaderboard builds on), report.md and the plots."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from dataset_fixtures import fixture_tree
from lmeval_fixtures import COMPLY, REFUSE, make_doc, write_run

from eh_bench import __version__
from eh_bench.dataset.build import build_dataset
from eh_bench.dataset.configs import DATASET_NAME
from eh_bench.dataset.load import dataset_fingerprint
from eh_bench.errors import InputError
from eh_bench.evaluation.scoring import score_run
from eh_bench.report.document import (
    PACKAGED_PATH,
    REPORT_VERSION,
    build_report,
    dataset_record,
    lm_eval_record,
    model_record,
    read_report,
    save_report,
)

TOP_KEYS = {"report_version", "created", "eh_bench_version", "model", "dataset", "judge", "likelihood", "lm_eval",
            "seed", "n_boot", "tasks", "group", "benign", "files"}  # fmt: skip
TASK_KEYS = {"config", "n_samples", "n_scored", "n_unscored", "unscored_reasons", "summary"}
RESULTS = {
    "lm_eval_version": "0.4.13",
    "model_name": "stand-in/model",
    "chat_template_sha": "abc123",
    "config": {"model": "hf", "model_args": {"pretrained": "stand-in/model", "dtype": "float32"}, "limit": 4,
               "model_revision": "main"},
    "configs": {"eh_core": {"metadata": {"version": 1.0}}},
}  # fmt: skip


def _run(tmp: Path, results: dict[str, Any] | None = RESULTS) -> Path:
    harmful = [(make_doc(i, 1 + i % 5, 1 + (i * 2) % 5), COMPLY if i % 3 else REFUSE) for i in range(12)]
    benign = [(make_doc(i, 1, 1, source="core_benign"), REFUSE if i == 0 else COMPLY) for i in range(4)]
    write_run(tmp, {"eh_core": harmful, "eh_core_benign": benign, "eh_bad": [(make_doc(0, None, 2), COMPLY)]},
              results=results)  # fmt: skip
    return tmp


def test_report_json_follows_the_contract(tmp_path: Path) -> None:
    scored = score_run(_run(tmp_path / "run"), n_boot=20, seed=1, max_unscored=0.2, progress=False)
    report, json_path, md_path = save_report(scored, tmp_path / "out")
    assert set(report) == TOP_KEYS
    on_disk = json.loads(json_path.read_text())  # strict JSON: NaN would fail to serialise
    assert on_disk == report
    assert report["report_version"] == REPORT_VERSION == 1 and report["eh_bench_version"] == __version__
    assert datetime.fromisoformat(report["created"]).tzinfo is not None
    assert report["model"] == {"id": "stand-in/model", "revision": "main", "source": "lm-eval"}
    # eh_bad is no packaged config and no dataset was named: the dataset is not claimed
    assert report["dataset"] == {"name": "unknown", "version": "unknown", "manifest_sha256": None, "path": ""}
    assert set(report["judge"]) == {"id", "revision", "backend"} and report["judge"]["id"] == "refusal"
    assert report["likelihood"]["spec"] == "linear"
    assert report["lm_eval"] == {"version": "0.4.13", "task_hashes": report["lm_eval"]["task_hashes"],
                                 "chat_template_sha": "abc123", "model_args": "pretrained=stand-in/model,dtype=float32",
                                 "limit": 4}  # fmt: skip
    assert set(report["lm_eval"]["task_hashes"]) == {"eh_core", "eh_core_benign", "eh_bad"}
    assert (report["seed"], report["n_boot"]) == (1, 20)
    assert set(report["tasks"]) == {"eh_core", "eh_bad"}
    for entry in report["tasks"].values():
        assert set(entry) == TASK_KEYS
    assert report["tasks"]["eh_bad"] == {"config": "eh_bad", "n_samples": 1, "n_scored": 0, "n_unscored": 1,
                                         "unscored_reasons": {"missing_label": 1}, "summary": None}  # fmt: skip
    assert report["group"]["name"] == "expected_harm" and report["group"]["summary"]["n"] == 12
    assert report["benign"]["over_refusal_rate"] == 0.25 and report["benign"]["n"] == 4
    assert report["files"]["samples"] and all(not Path(p).is_absolute() for p in report["files"]["samples"])
    for rel in report["files"]["samples"]:
        assert (tmp_path / "out" / rel).resolve().is_file()
    assert read_report(tmp_path / "out") == report
    assert md_path.is_file()


def test_plots_are_pngs_listed_relative_to_the_report(tmp_path: Path) -> None:
    scored = score_run(_run(tmp_path / "run"), n_boot=0, max_unscored=0.2, progress=False)
    report, _, _ = save_report(scored, tmp_path / "out")
    assert sorted(report["files"]["plots"]) == [
        "asr_by_cost.png",
        "asr_by_severity.png",
        "asr_cost_severity.png",
    ]
    for rel in report["files"]["plots"]:
        assert (tmp_path / "out" / rel).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    none, _, _ = save_report(scored, tmp_path / "no_plots", plots=False)
    assert none["files"]["plots"] == [] and not list((tmp_path / "no_plots").glob("*.png"))


def test_report_markdown_has_the_tables(tmp_path: Path) -> None:
    scored = score_run(_run(tmp_path / "run"), n_boot=0, max_unscored=0.2, progress=False)
    _, _, md_path = save_report(
        scored, tmp_path / "out", plots=False, model_id="my-model", model_revision="r1"
    )
    md = md_path.read_text()
    for text in ("# eh-bench report", "`my-model` (revision `r1`)", "## ASR by execution cost", "## ASR by severity",
                 "## ASR by cost x severity", "over-estimates ASR", "| eh_core | core | 12 | 12 | 0 |",
                 "## Over-refusal", "| eh_core_benign | core_benign | 4 | 4 | 0 | 0.250 |", "| missing_label | 1 |"):  # fmt: skip
        assert text in md, text


def test_model_record_prefers_the_command_line() -> None:
    assert model_record(RESULTS, "cli/model", None) == {"id": "cli/model", "revision": None, "source": "cli"}
    assert model_record(None, None, None) == {"id": "unknown", "revision": None, "source": "lm-eval"}


def test_lm_eval_record_without_results() -> None:
    assert lm_eval_record(None) == {"version": "unknown", "task_hashes": {}, "chat_template_sha": None,
                                    "model_args": None, "limit": None}  # fmt: skip


def test_dataset_record_variants(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EH_DATASET", raising=False)
    out = tmp_path / "ds"
    build_dataset(out, download=False, allow_changed_sources=True, plot=False, **fixture_tree(tmp_path))
    built = dataset_record(str(out), None, ["harmbench"])
    assert built["manifest_sha256"] == dataset_fingerprint(out)["manifest_sha256"]
    assert built["name"] == DATASET_NAME and built["path"] == str(out.resolve())
    from_meta = dataset_record(None, {"configs": {"eh_jbb": {"metadata": {"dataset": str(out)}}}}, ["jbb"])
    assert from_meta == built
    monkeypatch.setenv("EH_DATASET", str(out))
    assert dataset_record(None, None, ["jbb"]) == built
    monkeypatch.delenv("EH_DATASET")
    assert dataset_record(None, None, ["core", "core_benign"])["path"] == PACKAGED_PATH
    assert dataset_record(None, None, ["harmbench"])["name"] == "unknown"
    moved = dataset_record(str(tmp_path / "gone"), None, ["harmbench"])
    assert moved["version"] == "unknown" and moved["manifest_sha256"] is None


def test_build_report_without_results_file(tmp_path: Path) -> None:
    scored = score_run(_run(tmp_path / "run", results=None), n_boot=0, max_unscored=0.2, progress=False)
    report = build_report(scored, tmp_path)
    assert report["model"]["id"] == "unknown" and report["lm_eval"]["version"] == "unknown"
    assert report["dataset"]["name"] == "unknown"  # eh_bad is not a packaged config


def test_read_report_refuses_other_files(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text(json.dumps({"report_version": 99}))
    with pytest.raises(InputError, match="version 1"):
        read_report(tmp_path)
    with pytest.raises(InputError, match=r"missing\.json: no report\.json"):
        read_report(tmp_path / "missing.json")
    (tmp_path / "report.json").write_text('{"report_version": 1, "report_version": 1}')
    with pytest.raises(InputError, match="duplicate key"):
        read_report(tmp_path)
    (tmp_path / "report.json").write_text(json.dumps({"report_version": 1, "model": {}}))
    with pytest.raises(InputError, match="'dataset' is missing"):
        read_report(tmp_path)
