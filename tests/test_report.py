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
from eh_bench.judges import get_judge
from eh_bench.judges.base import NO_ANSWER
from eh_bench.report.document import (
    PACKAGED_PATH,
    REPORT_VERSION,
    build_report,
    dataset_record,
    lm_eval_record,
    model_record,
    read_report,
    sample_record,
    save_report,
)
from eh_bench.rubric import RUBRIC_VERSION

TOP_KEYS = {"report_version", "created", "eh_bench_version", "model", "responses", "dataset", "sample", "judge",
            "benign_judge", "scoring", "likelihood", "lm_eval", "seed", "n_boot", "tasks", "group", "benign",
            "files"}  # fmt: skip
TASK_KEYS = {"config", "n_samples", "n_scored", "n_unscored", "n_empty", "unscored_reasons", "summary"}
#: eh_bad below is unscored on purpose; the unscored limit applies per task.
ALL_UNSCORED_OK = 1.0
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


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report_ds")
    build_dataset(tmp / "ds", download=False, allow_changed_sources=True, plot=False, **fixture_tree(tmp))
    return tmp / "ds"


def test_report_json_follows_the_contract(tmp_path: Path, built: Path) -> None:
    scored = score_run(_run(tmp_path / "run"), n_boot=20, seed=1, max_unscored=ALL_UNSCORED_OK, progress=False)
    report, json_path, md_path = save_report(scored, tmp_path / "out", dataset=str(built))
    assert set(report) == TOP_KEYS
    on_disk = json.loads(json_path.read_text())  # strict JSON: NaN would fail to serialise
    assert on_disk == report
    assert report["report_version"] == REPORT_VERSION == 1 and report["eh_bench_version"] == __version__
    assert datetime.fromisoformat(report["created"]).tzinfo is not None
    assert report["model"] == {"id": "stand-in/model", "revision": "main", "source": "lm-eval"}
    fingerprint = dataset_fingerprint(built)
    assert report["dataset"] == {"name": DATASET_NAME, "version": fingerprint["version"],
                                 "manifest_sha256": fingerprint["manifest_sha256"], "rubric_version": RUBRIC_VERSION,
                                 "path": str(built.resolve())}  # fmt: skip
    assert report["sample"] == {"design": "limit", "limit": 4, "per_cost": None, "seed": None}
    assert report["judge"] == {"id": "refusal", "revision": get_judge("refusal").revision, "backend": None,
                               "backend_embedded": False,
                               "score": {"name": "asr", "graded": False, "low": 0.0, "high": 1.0}}  # fmt: skip
    assert report["benign_judge"] == {"id": "refusal", "revision": get_judge("refusal").revision}
    assert report["scoring"] == {"empty_responses": "unscored", "max_unscored_per_task": ALL_UNSCORED_OK}
    assert report["likelihood"]["spec"] == "linear"
    assert report["lm_eval"] == {"version": "0.4.13", "task_hashes": report["lm_eval"]["task_hashes"],
                                 "chat_template_sha": "abc123", "model_args": "pretrained=stand-in/model,dtype=float32",
                                 "limit": 4, "likelihood": None, "empty_responses": None}  # fmt: skip
    assert set(report["lm_eval"]["task_hashes"]) == {"eh_core", "eh_core_benign", "eh_bad"}
    assert (report["seed"], report["n_boot"]) == (1, 20)
    assert set(report["tasks"]) == {"eh_core", "eh_bad"}
    for entry in report["tasks"].values():
        assert set(entry) == TASK_KEYS
    assert report["tasks"]["eh_bad"] == {"config": "eh_bad", "n_samples": 1, "n_scored": 0, "n_unscored": 1,
                                         "n_empty": 0, "unscored_reasons": {"missing_label": 1},
                                         "summary": None}  # fmt: skip
    assert report["group"]["name"] == "expected_harm" and report["group"]["summary"]["n"] == 12
    assert report["benign"]["over_refusal_rate"] == 0.25 and report["benign"]["n"] == 4
    assert report["files"]["samples"] and all(not Path(p).is_absolute() for p in report["files"]["samples"])
    for rel in report["files"]["samples"]:
        assert (tmp_path / "out" / rel).resolve().is_file()
    assert read_report(tmp_path / "out") == report
    assert md_path.is_file()


def test_plots_are_pngs_listed_relative_to_the_report(tmp_path: Path, built: Path) -> None:
    scored = score_run(_run(tmp_path / "run"), n_boot=0, max_unscored=ALL_UNSCORED_OK, progress=False)
    report, _, _ = save_report(scored, tmp_path / "out", dataset=str(built))
    assert sorted(report["files"]["plots"]) == [
        "asr_by_cost.png",
        "asr_by_severity.png",
        "asr_cost_severity.png",
    ]
    for rel in report["files"]["plots"]:
        assert (tmp_path / "out" / rel).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    none, _, _ = save_report(scored, tmp_path / "no_plots", plots=False, dataset=str(built))
    assert none["files"]["plots"] == [] and not list((tmp_path / "no_plots").glob("*.png"))


def test_report_markdown_has_the_tables(tmp_path: Path, built: Path) -> None:
    scored = score_run(_run(tmp_path / "run"), n_boot=0, max_unscored=ALL_UNSCORED_OK, progress=False)
    _, _, md_path = save_report(
        scored, tmp_path / "out", plots=False, model_id="my-model", model_revision="r1", dataset=str(built)
    )
    md = md_path.read_text()
    for text in ("# eh-bench report", "`my-model` (revision `r1`)", "## ASR by execution cost", "## ASR by severity",
                 "## ASR by cost x severity", "over-estimates ASR", "| eh_core | core | 12 | 12 | 0 | 0 |",
                 "## Over-refusal", "| eh_core_benign | core_benign | 4 | 4 | 0 | 0 | 0.250 |", "| missing_label | 1 |",
                 "- sample: the first 4 requests of each task (--limit)",
                 "- empty answers: unscored; a task fails above 100% unscored",
                 "- benign tasks judged with `refusal`"):  # fmt: skip
        assert text in md, text


def test_model_record_prefers_the_command_line() -> None:
    assert model_record(RESULTS, "cli/model", None) == {"id": "cli/model", "revision": None, "source": "cli"}
    assert model_record(None, None, None) == {"id": "unknown", "revision": None, "source": "lm-eval"}


def test_lm_eval_record_without_results() -> None:
    assert lm_eval_record(None) == {"version": "unknown", "task_hashes": {}, "chat_template_sha": None,
                                    "model_args": None, "limit": None, "likelihood": None,
                                    "empty_responses": None}  # fmt: skip


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
    packaged = dataset_record(None, None, ["core", "core_benign"])
    assert packaged["path"] == PACKAGED_PATH and packaged["rubric_version"] == RUBRIC_VERSION
    assert built["rubric_version"] == RUBRIC_VERSION


def test_dataset_record_fails_rather_than_writing_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EH_DATASET", raising=False)
    monkeypatch.setenv("EH_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(InputError, match=r"cannot tell which dataset the run read.*pass --dataset"):
        dataset_record(None, None, ["harmbench"])
    with pytest.raises(InputError, match=r"gone'.*cannot compute its fingerprint"):
        dataset_record(str(tmp_path / "gone"), None, ["harmbench"])


def test_dataset_record_finds_the_cached_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain lm-eval run of the non-packaged tasks read the dataset built into the cache: say so."""
    from eh_bench.dataset import cached

    monkeypatch.delenv("EH_DATASET", raising=False)
    monkeypatch.setenv("EH_CACHE_DIR", str(tmp_path / "cache"))
    target = cached.cached_dataset_dir()
    build_dataset(target, download=False, allow_changed_sources=True, plot=False, **fixture_tree(tmp_path))
    record = dataset_record(None, None, ["harmbench", "core"])
    assert record["path"] == str(target.resolve()) and record["manifest_sha256"]


def test_build_report_without_results_file(tmp_path: Path, built: Path) -> None:
    scored = score_run(_run(tmp_path / "run", results=None), n_boot=0, max_unscored=ALL_UNSCORED_OK, progress=False)
    report = build_report(scored, tmp_path, dataset=str(built))
    assert report["model"]["id"] == "unknown" and report["lm_eval"]["version"] == "unknown"
    assert report["sample"]["design"] == "unrecorded"


def test_sample_design_of_plain_lm_eval_runs() -> None:
    full = {"config": {"limit": None}, "n-samples": {"eh_core": {"original": 125, "effective": 125}}}
    subset = {"config": {"limit": None, "random_seed": 0}, "n-samples": {"eh_core": {"original": 125, "effective": 10}}}
    assert sample_record(full)["design"] == "full"
    assert sample_record(subset) == {"design": "subset", "limit": None, "per_cost": None, "seed": 0}
    recorded = {"configs": {"eh_core": {"metadata": {"eh_sample": {"design": "per_cost", "limit": None,
                                                                     "per_cost": 2, "seed": 5}}}}}  # fmt: skip
    assert sample_record(recorded) == {"design": "per_cost", "limit": None, "per_cost": 2, "seed": 5}


# ----------------------------------------------------------------------------- empty answers in the report


def _empty_run(tmp: Path) -> tuple[Path, list[str]]:
    """20 answers, 2 (10%) of them empty: one blank, one lm-eval placeholder."""
    responses = [COMPLY if i % 4 else REFUSE for i in range(20)]
    responses[3], responses[11] = "", NO_ANSWER
    docs = [(make_doc(i, 1 + i % 5, 1 + (i * 3) % 5), r) for i, r in enumerate(responses)]
    write_run(tmp, {"eh_core": docs}, results=RESULTS)
    return tmp, responses


def test_ten_percent_empty_answers_leave_asr_over_the_answers_and_show_n_empty(tmp_path: Path) -> None:
    run, responses = _empty_run(tmp_path / "run")
    report, _, md_path = save_report(score_run(run, n_boot=0, progress=False), tmp_path / "out", plots=False)
    task = report["tasks"]["eh_core"]
    answered = [r for r in responses if r.strip() and r != NO_ANSWER]
    assert (task["n_samples"], task["n_scored"], task["n_unscored"], task["n_empty"]) == (20, 18, 2, 2)
    assert task["summary"]["asr"] == pytest.approx(sum(r == COMPLY for r in answered) / 18)
    assert report["group"]["n_empty"] == 2 and report["scoring"]["empty_responses"] == "unscored"
    assert "| eh_core | core | 20 | 18 | 2 | 2 |" in md_path.read_text()


def test_empty_as_refusal_reproduces_the_old_numbers_and_says_so(tmp_path: Path) -> None:
    run, responses = _empty_run(tmp_path / "run")
    scored = score_run(run, n_boot=0, progress=False, empty_as_refusal=True)
    report, _, md_path = save_report(scored, tmp_path / "out", plots=False)
    task = report["tasks"]["eh_core"]
    # before: an empty answer was a refusal (success 0) over all 20 answers
    assert task["summary"]["asr"] == pytest.approx(sum(r == COMPLY for r in responses) / 20)
    assert (task["n_scored"], task["n_unscored"], task["n_empty"]) == (20, 0, 2)
    assert report["scoring"]["empty_responses"] == "refusal"
    assert "empty answers: counted as refusals (--empty-as-refusal)" in md_path.read_text()


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


def test_a_judge_on_the_embedded_model_is_named_in_the_report(tmp_path: Path) -> None:
    """The embedded model may judge only when named, and the report then says so."""
    from judge_fakes import ScriptedBackend

    from eh_bench.judges import JudgeCache

    run, _ = _empty_run(tmp_path / "run")
    judge = get_judge("harmbench", ScriptedBackend(lambda _c: "No", spec="smollm2"))
    with JudgeCache(tmp_path / "cache.sqlite") as cache:
        scored = score_run(run, judge, n_boot=0, cache=cache, progress=False)
    report, _, md_path = save_report(scored, tmp_path / "out", plots=False)
    assert report["judge"]["backend"] == "smollm2" and report["judge"]["backend_embedded"] is True
    assert "The judge ran on the embedded model `smollm2`" in md_path.read_text()
