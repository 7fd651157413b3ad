"""Building entries from report folders, entry identity and safe names, and the ``eh-bench submit`` CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from leaderboard_fixtures import make_report, write_report
from typer.testing import CliRunner

from eh_bench.cli import app
from eh_bench.errors import InputError
from eh_bench.submission.entries import build_entry, model_from_lm_eval
from eh_bench.submission.schema import (
    EntryValidationError,
    check_entry,
    check_name,
    entry_key,
    entry_name,
    read_entry,
    safe_slug,
)

runner = CliRunner()


def lm_eval_results(folder: Path, model_name: str, sha: str = "", params: int = 135_000_000) -> Path:
    """A minimal lm-eval results file (the keys eh-bench reads), as lm-eval names it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results_2026-11-23T04-00-00.000001.json"
    path.write_text(json.dumps({
        "model_name": model_name,
        "config": {"model": "hf", "model_sha": sha, "model_revision": "main", "model_num_parameters": params},
        "lm_eval_version": "0.4.13",
    }))
    return path


# ----------------------------------------------------------------------------- build


def test_build_from_one_report_carries_summary_provenance_and_benign(tmp_path: Path) -> None:
    folder = write_report(tmp_path / "r", make_report(n=60, seed=4))
    entry = build_entry([folder], submitter="alice", note="first run")
    report = json.loads((folder / "report.json").read_text())
    summary = report["tasks"]["eh_core"]["summary"]
    assert check_entry(entry) == []
    assert entry["model"] == {"id": "org/model-a", "revision": "0123abcd", "parameters": None, "source": "cli",
                              "type": "unknown"}
    assert entry["metrics"]["expected_harm"] == {"value": summary["expected_harm"], **summary["ci"]["expected_harm"]}
    assert entry["metrics"]["asr_by_cost"] == summary["asr_by_cost"]
    assert entry["metrics"]["over_refusal_rate"] == {"value": 0.1, "n": 20}
    assert entry["provenance"]["task_hashes"] == {"eh_core": "f" * 64}
    assert entry["provenance"]["date"] == report["created"]
    assert entry["dataset"]["configs"] == ["core"]
    assert entry["submitter"] == {"name": "alice", "contact": None, "note": "first run"}
    assert entry["attacks"] == [] and entry["probes"] == []


def test_group_summary_is_the_headline_and_unscored_counts_add_up(tmp_path: Path) -> None:
    report = make_report(tasks=("eh_core", "eh_harmbench", "eh_advbench"), n=40)
    entry = build_entry([write_report(tmp_path / "g", report)])
    assert entry["metrics"]["n"] == report["group"]["summary"]["n"] == 120
    assert entry["metrics"]["asr"]["value"] == report["group"]["summary"]["asr"]
    assert entry["metrics"]["n_unscored"] == 0 + 1 + 2
    assert entry["metrics"]["unscored_reasons"] == {"judge_error": 3}
    assert sorted(entry["metrics"]["tasks"]) == ["eh_advbench", "eh_core", "eh_harmbench"]


def test_model_id_and_revision_come_from_lm_eval_results(tmp_path: Path) -> None:
    run = tmp_path / "run"
    report = make_report(model_id="smollm2", revision=None)
    report["files"]["samples"] = ["../org__model/samples_eh_core_x.jsonl"]
    folder = write_report(run / "eh-bench", report)
    lm_eval_results(run / "org__model", "org/model", sha="a" * 40)
    entry = build_entry([folder])
    assert entry["model"] == {"id": "org/model", "revision": "a" * 40, "parameters": 135_000_000,
                              "source": "lm-eval", "type": "unknown"}
    with pytest.raises(InputError, match="contradicts the lm-eval results file"):
        build_entry([folder], model_id="other/model")


def test_local_model_path_is_not_an_id(tmp_path: Path) -> None:
    run = tmp_path / "run"
    folder = write_report(run / "eh-bench", make_report(model_id=str(tmp_path), revision=None))
    lm_eval_results(run / "eh-bench" / "local", str(tmp_path))
    assert model_from_lm_eval(run / "eh-bench" / "local" / "results_2026-11-23T04-00-00.000001.json")[0] is None
    with pytest.raises(InputError, match=r"no model id .* pass --model-id ORG/NAME"):
        build_entry([folder])
    with pytest.raises(InputError, match=r"no model revision .* pass --model-revision"):
        build_entry([folder], model_id="org/local-model")
    entry = build_entry([folder], model_id="org/local-model", model_revision="v1")
    assert (entry["model"]["id"], entry["model"]["revision"], entry["model"]["source"]) == ("org/local-model", "v1", "cli")


def test_reports_that_disagree_or_have_two_headlines_are_refused(tmp_path: Path) -> None:
    a = write_report(tmp_path / "a", make_report())
    b = write_report(tmp_path / "b", make_report(judge="harmbench"))
    with pytest.raises(InputError, match="differ in judge"):
        build_entry([a, b])
    c = write_report(tmp_path / "c", make_report(seed=9))
    with pytest.raises(InputError, match="exactly one report folder must carry headline metrics, found 2"):
        build_entry([a, c])


def test_attack_and_probe_rows_join_from_a_second_folder(tmp_path: Path) -> None:
    main = write_report(tmp_path / "main", make_report())
    extra_report = make_report()
    extra_report["tasks"] = {}
    extra = write_report(tmp_path / "attack", extra_report)
    rows = [{"variant": "cost+monitor", "jailbreak": "none", "config": "harmbench", "n": 20, "asr": 0.5,
             "usefulness": 0.4, "guard": "qwen3guard", "subtask_bypass": 0.9, "task_bypass": 0.7}]
    (extra / "attacks.json").write_text(json.dumps(rows))
    probes = [{"target": "refusal", "n": 40, "accuracy_by_layer": [{"layer": 0, "accuracy": 0.6}],
               "score_by_severity": {k: 0.1 for k in "12345"}, "score_by_cost": {k: None for k in "12345"}}]
    (extra / "probes.json").write_text(json.dumps(probes))
    entry = build_entry([main, extra])
    assert entry["attacks"] == rows and entry["probes"] == probes
    (extra / "attacks.json").write_text(json.dumps([{**rows[0], "asr": 7}]))
    with pytest.raises(EntryValidationError, match=r"\$.attacks\[0\].asr: 7 is out of range"):
        build_entry([main, extra])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.update(report_version=2), "report_version is 2"),
        (lambda r: r.pop("judge"), "field 'judge' is missing"),
    ],
)
def test_malformed_reports_are_named(tmp_path: Path, mutate: Any, message: str) -> None:
    report = make_report()
    mutate(report)
    with pytest.raises(InputError, match=message):
        build_entry([write_report(tmp_path / "bad", report)])
    with pytest.raises(InputError, match=r"no report\.json"):
        build_entry([tmp_path])


# ----------------------------------------------------------------------------- identity and names


def test_entry_key_and_name(tmp_path: Path) -> None:
    entry = build_entry([write_report(tmp_path / "r", make_report())])
    assert entry_key(entry) == ("org/model-a", "0123abcd", "eh-bench", "1.0.0", "core", "refusal", "1", "linear")
    subset = build_entry([write_report(tmp_path / "s", make_report(tasks=("eh_jbb",)))])
    assert entry_name(subset) != entry_name(entry), "another dataset config is another evaluation"
    other = build_entry([write_report(tmp_path / "x", make_report(likelihood="exponential:0.5"))])
    assert entry_name(entry) != entry_name(other)
    assert entry_name(entry).startswith("org-model-a--") and check_name(entry_name(entry))


@pytest.mark.parametrize(
    ("text", "slug"),
    [("../../etc/passwd", "etc-passwd"), ("..", "entry"), ("org/Model_v1.5", "org-Model_v1.5"),
     ("<script>alert(1)</script>", "script-alert-1-script"), ("a/../../b", "a-.-.-b"), ("", "entry")],
)
def test_safe_slug_never_traverses(text: str, slug: str) -> None:
    assert safe_slug(text) == slug
    assert "/" not in slug and not slug.startswith(".")


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "x..y", "", "a b", "a\x00b"])
def test_check_name_refuses_unsafe_names(name: str) -> None:
    with pytest.raises(InputError, match="is not an entry name"):
        check_name(name)


# ----------------------------------------------------------------------------- CLI


def test_cli_build_validate_push(tmp_path: Path) -> None:
    folder = write_report(tmp_path / "r", make_report())
    out = tmp_path / "entry.json"
    result = runner.invoke(app, ["submit", "build", str(folder), "--out", str(out), "--submitter", "bob"])
    assert result.exit_code == 0, result.output
    assert read_entry(out)["submitter"]["name"] == "bob"
    result = runner.invoke(app, ["submit", "validate", str(out)])
    assert result.exit_code == 0 and "valid" in result.output
    store = tmp_path / "store"
    result = runner.invoke(app, ["submit", "push", str(out), "--store", str(store)])
    assert result.exit_code == 0 and "PENDING" in result.output
    name = entry_name(read_entry(out))
    result = runner.invoke(app, ["submit", "review", name, "--status", "VERIFIED", "--store", str(store)])
    assert result.exit_code == 0 and "VERIFIED" in result.output
    result = runner.invoke(app, ["submit", "list", "--store", str(store)], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and "VERIFIED" in result.output and "bob" in result.output


def test_cli_validate_exits_nonzero_with_path_messages(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    runner.invoke(app, ["submit", "build", str(write_report(tmp_path / "r", make_report())), "--out", str(good)])
    entry = json.loads(good.read_text())
    entry["metrics"]["asr"]["value"] = 3
    entry["sneaky"] = True
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(entry))
    nan = tmp_path / "nan.json"
    nan.write_text(good.read_text().replace('"n_boot": 50', '"n_boot": NaN', 1))
    # The real console script: its exit status is what CI and users see.
    proc = subprocess.run(
        [sys.executable, "-c", "from eh_bench.cli import main; main()", "submit", "validate", str(good), str(bad), str(nan)],
        capture_output=True, text=True, env={"COLUMNS": "200", "PATH": ""}, timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "good.json: valid" in proc.stdout
    assert "$.metrics.asr.value" in proc.stdout and "out of range: must be <= 1" in proc.stdout
    assert "$.sneaky" in proc.stdout and "unknown field" in proc.stdout
    assert "NaN is not allowed" in proc.stdout


def test_cli_build_without_model_id_is_a_clear_error(tmp_path: Path) -> None:
    folder = write_report(tmp_path / "r", make_report(model_id="unknown", revision=None))
    proc = subprocess.run(
        [sys.executable, "-c", "from eh_bench.cli import main; main()", "submit", "build", str(folder),
         "--out", str(tmp_path / "e.json")],
        capture_output=True, text=True, env={"COLUMNS": "200", "PATH": ""}, timeout=120,
    )
    assert proc.returncode == 2
    assert "pass --model-id ORG/NAME" in proc.stderr
    assert not (tmp_path / "e.json").exists()


# ----------------------------------------------------------------------------- from real report.json files


def test_entry_from_a_scored_lm_eval_run(tmp_path: Path) -> None:
    """lm-eval's own tracker writes the run; eh-bench scores it and writes report.json; the entry follows."""
    from lmeval_fixtures import COMPLY, REFUSE, make_doc, write_run

    from eh_bench.evaluation.scoring import score_run
    from eh_bench.report.document import save_report

    harmful = [(make_doc(i, 1 + i % 5, 1 + (i * 3) % 5), COMPLY if i % 4 else REFUSE) for i in range(20)]
    benign = [(make_doc(i, 1, 1, source="core_benign"), REFUSE if i < 2 else COMPLY) for i in range(5)]
    results = {"lm_eval_version": "0.4.13", "model_name": "stand-in/model", "chat_template_sha": "abc123",
               "config": {"model": "hf", "model_args": "pretrained=stand-in/model", "model_sha": "b" * 40,
                          "model_num_parameters": 1234}}
    write_run(tmp_path / "run", {"eh_core": harmful, "eh_core_benign": benign}, results=results)
    report, _, _ = save_report(score_run(tmp_path / "run", n_boot=30, progress=False), tmp_path / "run" / "eh-bench",
                               plots=False)
    entry = build_entry([tmp_path / "run" / "eh-bench"])
    assert check_entry(entry) == []
    assert entry["model"] == {"id": "stand-in/model", "revision": "b" * 40, "parameters": 1234, "source": "lm-eval",
                              "type": "unknown"}
    summary = report["group"]["summary"]
    assert entry["metrics"]["n"] == summary["n"] == 20
    assert entry["metrics"]["asr"]["value"] == summary["asr"] == 15 / 20
    assert entry["metrics"]["over_refusal_rate"] == {"value": 2 / 5, "n": 5}
    assert entry["provenance"]["chat_template_sha"] == "abc123"


@pytest.mark.slow
def test_entry_from_a_real_run_of_the_embedded_model(tmp_path: Path) -> None:
    """`eh-bench run` (real lm-eval, real SmolLM2 forward passes), then `submit build` and `submit validate`."""
    eh = [sys.executable, "-c", "from eh_bench.cli import main; main()"]
    run = tmp_path / "run"
    subprocess.run([*eh, "run", "--model", "smollm2", "--tasks", "eh_core", "--per-cost", "1", "--max-gen-toks", "8",
                    "--n-boot", "20", "--no-plots", "--out", str(run)], check=True, capture_output=True, timeout=900)
    entry_file = tmp_path / "entry.json"
    subprocess.run([*eh, "submit", "build", str(run / "eh-bench"), "--out", str(entry_file)], check=True,
                   capture_output=True, timeout=300)
    proc = subprocess.run([*eh, "submit", "validate", str(entry_file)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "valid" in proc.stdout, proc.stdout + proc.stderr
    entry = read_entry(entry_file)
    assert entry["model"]["id"] == "smollm2" and len(entry["model"]["revision"]) == 64
    assert entry["metrics"]["n"] + entry["metrics"]["n_unscored"] == 5
    assert entry["dataset"]["configs"] == ["core"] and entry["provenance"]["lm_eval_version"]


# ----------------------------------------------------------------------------- provenance that cannot mislead


def _scored_report(tmp: Path, *, results: dict[str, Any] | None, tasks: dict[str, Any] | None = None,
                   dataset: str | None = None, **score: Any) -> Path:  # fmt: skip
    """Score a stand-in lm-eval run and write its report; returns the report folder."""
    from lmeval_fixtures import COMPLY, REFUSE, make_doc, write_run

    from eh_bench.evaluation.scoring import score_run
    from eh_bench.report.document import save_report

    harmful = [(make_doc(i, 1 + i % 5, 1 + (i * 3) % 5), COMPLY if i % 4 else REFUSE) for i in range(20)]
    write_run(tmp / "run", tasks or {"eh_core": harmful}, results=results)
    save_report(score_run(tmp / "run", n_boot=20, progress=False, **score), tmp / "run" / "eh-bench", plots=False,
                dataset=dataset)  # fmt: skip
    return tmp / "run" / "eh-bench"


RESULTS_BASE: dict[str, Any] = {"lm_eval_version": "0.4.13", "model_name": "stand-in/model",
                                "config": {"model": "hf", "model_sha": "c" * 40}}  # fmt: skip


def _design(design: dict[str, Any]) -> dict[str, Any]:
    return {**RESULTS_BASE, "configs": {"eh_core": {"metadata": {"eh_sample": design}}}}


def test_a_subsample_is_never_a_duplicate_of_the_full_run(tmp_path: Path) -> None:
    full = build_entry([_scored_report(tmp_path / "full", results=RESULTS_BASE)])
    per_cost = build_entry([_scored_report(tmp_path / "pc", results=_design(
        {"design": "per_cost", "limit": None, "per_cost": 4, "seed": 0}))])  # fmt: skip
    other_seed = build_entry([_scored_report(tmp_path / "pc1", results=_design(
        {"design": "per_cost", "limit": None, "per_cost": 4, "seed": 1}))])  # fmt: skip
    limited = build_entry([_scored_report(tmp_path / "lim", results={**RESULTS_BASE, "config": {
        **RESULTS_BASE["config"], "limit": 20}})])  # fmt: skip
    assert full["dataset"]["sample"] == {"design": "full", "limit": None, "per_cost": None, "seed": None}
    assert per_cost["dataset"]["sample"] == {"design": "per_cost", "limit": None, "per_cost": 4, "seed": 0}
    assert limited["dataset"]["sample"]["design"] == "limit" and limited["dataset"]["sample"]["limit"] == 20
    keys = {entry_key(e) for e in (full, per_cost, other_seed, limited)}
    assert len(keys) == 4
    for entry in (full, per_cost, other_seed, limited):
        assert check_entry(entry) == []


def test_an_entry_names_only_scored_tasks_and_its_provenance(tmp_path: Path) -> None:
    from dataset_fixtures import fixture_tree
    from lmeval_fixtures import COMPLY, make_doc

    from eh_bench.dataset.build import build_dataset

    build_dataset(tmp_path / "ds", download=False, allow_changed_sources=True, plot=False, **fixture_tree(tmp_path))
    good = [(make_doc(i, 1 + i % 5, 2, source="core"), COMPLY) for i in range(10)]
    broken = [(make_doc(i, None, 2, source="jbb"), COMPLY) for i in range(2)]
    folder = _scored_report(tmp_path, results=RESULTS_BASE, tasks={"eh_core": good, "eh_jbb": broken},
                            dataset=str(tmp_path / "ds"), max_unscored=1.0)  # fmt: skip
    entry = build_entry([folder], model_revision=None)
    assert entry["dataset"]["configs"] == ["core"], "eh_jbb was not scored, so it is behind no number"
    assert entry["metrics"]["tasks"]["eh_jbb"]["n_scored"] == 0
    from eh_bench.rubric import RUBRIC_VERSION

    assert entry["provenance"]["rubric_version"] == RUBRIC_VERSION
    assert entry["provenance"]["empty_responses"] == "unscored" and entry["provenance"]["max_unscored_per_task"] == 1.0
    assert entry["metrics"]["n_empty"] == 0 and entry["metrics"]["score"]["name"] == "asr"


def test_benign_judge_is_in_the_entry(tmp_path: Path) -> None:
    from lmeval_fixtures import COMPLY, REFUSE, make_doc

    harmful = [(make_doc(i, 1 + i % 5, 2), COMPLY) for i in range(10)]
    benign = [(make_doc(i, 1, 1, source="core_benign"), REFUSE) for i in range(3)]
    entry = build_entry([_scored_report(tmp_path, results=RESULTS_BASE,
                                        tasks={"eh_core": harmful, "eh_core_benign": benign})])  # fmt: skip
    assert entry["judge"]["benign"]["id"] == "refusal" and entry["judge"]["benign"]["revision"].startswith("refusal-v")


def test_a_report_without_its_sample_design_cannot_become_an_entry(tmp_path: Path) -> None:
    no_results = _scored_report(tmp_path / "a", results=None)
    with pytest.raises(InputError, match=r"does not record which requests were evaluated"):
        build_entry([no_results], model_id="org/m", model_revision="r1")
    old = make_report()
    del old["sample"]
    with pytest.raises(InputError, match=r"does not record which requests were evaluated"):
        build_entry([write_report(tmp_path / "old", old)])


def test_graded_judge_entry_has_a_named_score_and_no_asr(tmp_path: Path) -> None:
    import numpy as np

    from eh_bench.metrics import summarize

    report = make_report(n=60)
    rng = np.random.default_rng(0)
    cost, sev = rng.integers(1, 6, 60), rng.integers(1, 6, 60)
    graded = rng.choice([0.0, 0.25, 0.75, 1.0], 60)
    summary = summarize(cost, sev, graded, n_boot=50, score="strongreject_score")
    report["tasks"]["eh_core"]["summary"] = summary
    entry = build_entry([write_report(tmp_path / "g", report)])
    metrics = entry["metrics"]
    assert "asr" not in metrics and "asr_by_cost" not in metrics and "deployment_weighted_asr" not in metrics
    assert metrics["score"]["name"] == "strongreject_score" and metrics["score"]["graded"] is True
    assert metrics["score"]["value"] == pytest.approx(graded.mean())
    assert metrics["score_by_cost"]["1"]["n"] == int((cost == 1).sum())
    assert check_entry(entry) == []
    # a graded entry that also claims an asr is refused
    claimed = json.loads(json.dumps(entry))
    claimed["metrics"]["asr"] = {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6}
    assert check_entry(claimed)
