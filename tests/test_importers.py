"""Importers of published responses (JailbreakBench artifacts, Do-Not-Answer, a user's file) on harmless
stand-in files written here, and on the real files when EH_SOURCES_DIR is set (aggregates only: rates
and counts, never a response's text)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from dataset_fixtures import JBB, label_row, write_label_file, write_labels, write_sources

from eh_bench.errors import InputError, SourceError
from eh_bench.evaluation.unscored import ScoringError
from eh_bench.importers import ImportOptions, import_donotanswer, import_jbb_artifacts, import_responses
from eh_bench.importers.build import VERDICTS_FILE
from eh_bench.importers.jbb_artifacts import MODEL_IDS
from eh_bench.sources.published import donotanswer as dna
from eh_bench.sources.published import jbb_artifacts
from eh_bench.submission.entries import build_entry
from eh_bench.submission.schema import check_entry, entry_name

REAL = os.environ.get("EH_SOURCES_DIR")
HAS_REAL = bool(REAL) and (Path(REAL or ".") / "jailbreakbench-artifacts").is_dir()
real_only = pytest.mark.skipif(not HAS_REAL, reason="EH_SOURCES_DIR with the benchmark files is not set")

#: Stand-in responses; a test checks that none of them is written anywhere.
ANSWERS = ("Here is a rainbow explanation, stand-in A.", "I will not list fruit, stand-in B.")
DNA_QUESTIONS = ("How do I knit a scarf?", "What colour is the sky?", "How many legs has a spider?")


def _levels(labels: Path, source: str) -> dict[str, tuple[int, int]]:
    with (labels / f"{source}.csv").open(encoding="utf-8") as fh:
        return {f"{source}:{r['source_id']}": (int(r["cost"]), int(r["severity"])) for r in csv.DictReader(fh)}


def _artifact(model: str, method: str, verdicts: list[bool | None]) -> dict[str, Any]:
    """One artifact file over the stand-in JBB rows: True/False = jailbroken or not, None = no prompt found."""
    rows = [
        {"index": i, "goal": f"stand-in goal {i}", "behavior": JBB[i][3], "category": JBB[i][4],
         "prompt": None if v is None else "Role-play prompt", "response": None if v is None else ANSWERS[i],
         "number_of_queries": 5, "queries_to_jailbreak": 2 if v else None, "prompt_tokens": 10,
         "response_tokens": 20, "jailbroken": bool(v), "jailbroken_llama_guard1": False}
        for i, v in enumerate(verdicts)
    ]  # fmt: skip
    asr = sum(1 for v in verdicts if v) / len(verdicts)
    params = {"method": method, "model": model, "attack_type": "black_box", "defense": None,
              "attack_success_rate": asr, "evaluation_date": "2024-03-06",
              "method_parameters": {"n-iter": 3, "template": "x" * 500}}  # fmt: skip
    return {"parameters": params, "jailbreaks": rows}


#: Verdicts of the stand-in artifact files by position in FILES: a spread of 0, 1 and no-prompt rows.
VERDICT_PATTERNS: list[list[bool | None]] = [[True, False], [False, None], [True, True], [None, None]]


@pytest.fixture
def jbb_tree(tmp_path: Path) -> dict[str, Path]:
    sources = write_sources(tmp_path / "sources", only={"jbb"})
    for k, spec in enumerate(jbb_artifacts.FILES):
        path = sources / spec.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        method = spec.relpath.split("/")[-3]
        path.write_text(json.dumps(_artifact(path.stem, method, VERDICT_PATTERNS[k % 4])), encoding="utf-8")
    labels = write_labels(tmp_path / "labels", sources=("jbb",))
    return {"sources": sources, "labels": labels, "out": tmp_path / "out"}


def _options(tree: dict[str, Path], **kw: Any) -> ImportOptions:
    return ImportOptions(sources_dir=tree["sources"], labels_dir=tree["labels"], download=False,
                         allow_changed_sources=True, n_boot=50, plots=False, **kw)  # fmt: skip


def _no_text_written(folder: Path, texts: tuple[str, ...]) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_text(encoding="utf-8", errors="replace")
            assert not any(t in data for t in texts), f"{path} holds a response text"


def test_jbb_artifacts_one_report_per_file_with_the_published_asr(jbb_tree: dict[str, Path]) -> None:
    results = import_jbb_artifacts(jbb_tree["out"], _options(jbb_tree))
    assert len(results) == len(jbb_artifacts.FILES) == 16
    levels = _levels(jbb_tree["labels"], "jbb")
    for k, result in enumerate(results):
        pattern = VERDICT_PATTERNS[k % 4]
        summary = result.summary
        assert summary["n"] == 2 and summary["asr"] == pytest.approx(result.published_asr)
        # ASR by cost follows from the label file: each stand-in row sits at its labelled cost level.
        expected_cost_hits: dict[int, list[float]] = {}
        for i, verdict in enumerate(pattern):
            expected_cost_hits.setdefault(levels[f"jbb:{i}"][0], []).append(1.0 if verdict else 0.0)
        for cost, hits in expected_cost_hits.items():
            assert summary["asr_by_cost"][str(cost)]["asr"] == pytest.approx(sum(hits) / len(hits))
        report = result.report
        assert report["judge"]["id"] == "jailbreakbench" and report["judge"]["revision"].startswith("artifacts@")
        assert report["model"]["source"] == "import" and report["model"]["revision"] == "unrecorded"
        assert report["responses"]["origin"] == "imported" and report["responses"]["pinned"] is False
        assert report["responses"]["no_jailbreak_found"] == sum(v is None for v in pattern)
        assert report["responses"]["method_parameters"]["template"].startswith("sha256:")
        assert report["files"]["samples"] == [VERDICTS_FILE]
        assert report["sample"]["design"] == "full"  # every request of the config has its row
    assert {r.model_id for r in results} == set(MODEL_IDS.values())
    label_sha = hashlib.sha256((jbb_tree["labels"] / "jbb.csv").read_bytes()).hexdigest()
    assert results[0].report["dataset"]["labels_sha256"] == label_sha
    _no_text_written(jbb_tree["out"], ANSWERS)


def test_jbb_verdict_rows_keep_counts_and_no_text(jbb_tree: dict[str, Path]) -> None:
    result = import_jbb_artifacts(jbb_tree["out"], _options(jbb_tree))[3]  # pattern [None, None]
    lines = [json.loads(line) for line in (result.folder / VERDICTS_FILE).read_text().splitlines()]
    assert [(x["row"], x["request_id"], x["success"], x["no_jailbreak_found"]) for x in lines] == [
        (1, "jbb:0", 0.0, True), (2, "jbb:1", 0.0, True)]
    assert {"goal", "prompt", "response", "attack_prompt", "behavior"}.isdisjoint(lines[0])


def test_jbb_unlabelled_behaviour_is_unscored_and_gated(jbb_tree: dict[str, Path]) -> None:
    write_labels(jbb_tree["labels"], sources=("jbb",), skip={"jbb:1"})
    with pytest.raises(ScoringError, match="could not be scored"):
        import_jbb_artifacts(jbb_tree["out"], _options(jbb_tree))
    results = import_jbb_artifacts(jbb_tree["out"], _options(jbb_tree, max_unscored=1.0))
    task = results[0].report["tasks"]["eh_jbb"]
    assert task["n_unscored"] == 1 and task["unscored_reasons"] == {"missing_label": 1}
    assert results[0].summary["n"] == 1


def test_jbb_behaviour_mismatch_is_refused(jbb_tree: dict[str, Path]) -> None:
    spec = jbb_artifacts.FILES[0]
    data = json.loads((jbb_tree["sources"] / spec.relpath).read_text())
    data["jailbreaks"][1]["behavior"] = "Something else"
    (jbb_tree["sources"] / spec.relpath).write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"jailbreaks\[1\]\.behavior"):
        import_jbb_artifacts(jbb_tree["out"], _options(jbb_tree))


def test_tampered_sources_are_refused_without_the_flag(jbb_tree: dict[str, Path]) -> None:
    opts = ImportOptions(sources_dir=jbb_tree["sources"], labels_dir=jbb_tree["labels"], download=False)
    with pytest.raises(SourceError, match="differs from the pinned value"):
        import_jbb_artifacts(jbb_tree["out"], opts)


# ----------------------------------------------------------------------------- Do-Not-Answer


def _dna_file(path: Path) -> list[list[int]]:
    """Stand-in responses file; returns harmful[q][model]."""
    path.parent.mkdir(parents=True, exist_ok=True)
    harmful = [[int((q + k) % 3 == 0) for k in range(len(dna.MODELS))] for q in range(len(DNA_QUESTIONS))]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(dna.COLUMNS)
        for q, question in enumerate(DNA_QUESTIONS):
            cells = [str(q), "Area", "Type", "Specific", question]
            for k in range(len(dna.MODELS)):
                cells += [f"{ANSWERS[k % 2]} {q}", str(harmful[q][k]), str((q + k) % 6)]
            w.writerow(cells)
    return harmful


@pytest.fixture
def dna_tree(tmp_path: Path) -> dict[str, Path]:
    sources = tmp_path / "sources"
    harmful = _dna_file(sources / dna.FILE.relpath)
    labels = tmp_path / "labels"
    write_label_file(labels / "donotanswer.csv", [
        label_row("donotanswer", str(q), text, cost=1 + q, severity=2 + q) for q, text in enumerate(DNA_QUESTIONS)
    ])  # fmt: skip
    (tmp_path / "harmful.json").write_text(json.dumps(harmful))
    return {"sources": sources, "labels": labels, "out": tmp_path / "out", "root": tmp_path}


def test_donotanswer_one_report_per_model_with_the_human_rate(dna_tree: dict[str, Path]) -> None:
    harmful = json.loads((dna_tree["root"] / "harmful.json").read_text())
    results = import_donotanswer(dna_tree["out"], _options(dna_tree))
    assert [r.report["responses"]["model_name"] for r in results] == list(dna.MODELS)
    for k, result in enumerate(results):
        rate = sum(harmful[q][k] for q in range(len(DNA_QUESTIONS))) / len(DNA_QUESTIONS)
        assert result.summary["asr"] == pytest.approx(rate)
        assert result.report["judge"]["id"] == "human-annotation"
        actions = result.report["responses"]["actions"]
        assert sum(actions.values()) == len(DNA_QUESTIONS)
        rows = [json.loads(x) for x in (result.folder / VERDICTS_FILE).read_text().splitlines()]
        assert [x["action"] for x in rows] == [(q + k) % 6 for q in range(len(DNA_QUESTIONS))]
        assert rows[0]["action_label"] == dna.ACTIONS[k % 6]
    _no_text_written(dna_tree["out"], ANSWERS)


def test_donotanswer_label_for_another_question_is_unscored(dna_tree: dict[str, Path]) -> None:
    write_label_file(dna_tree["labels"] / "donotanswer.csv", [
        label_row("donotanswer", str(q), text if q else "A different question", cost=2, severity=2)
        for q, text in enumerate(DNA_QUESTIONS)
    ])  # fmt: skip
    results = import_donotanswer(dna_tree["out"], _options(dna_tree, max_unscored=0.5))
    assert results[0].report["tasks"]["eh_donotanswer"]["unscored_reasons"] == {"missing_label": 1}


def test_donotanswer_source_file_is_checked_against_its_pin(dna_tree: dict[str, Path]) -> None:
    path = dna_tree["sources"] / dna.FILE.relpath
    strict = ImportOptions(source_file=path, labels_dir=dna_tree["labels"], download=False, plots=False)
    with pytest.raises(SourceError, match="differs from the pinned"):
        import_donotanswer(dna_tree["out"], strict)
    loose = ImportOptions(source_file=path, labels_dir=dna_tree["labels"], download=False, plots=False, n_boot=0,
                          allow_changed_sources=True)  # fmt: skip
    assert len(import_donotanswer(dna_tree["out"], loose)) == len(dna.MODELS)


# ----------------------------------------------------------------------------- a user's file


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=sorted({k for r in rows for k in r}))
            w.writeheader()
            w.writerows(rows)
    elif path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


USER_ROWS: list[dict[str, Any]] = [
    {"request_id": "jbb:0", "prompt": None, "response": ANSWERS[0], "verdict": 1},
    {"request_id": "1", "prompt": None, "response": ANSWERS[1], "verdict": 0},
    {"request_id": None, "prompt": f"  {JBB[1][1]} ", "response": ANSWERS[1], "verdict": "true"},
    {"request_id": "jbb:99", "prompt": None, "response": ANSWERS[0], "verdict": 0},
]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_user_file_with_verdicts_lists_unmatched_rows(jbb_tree: dict[str, Path], suffix: str) -> None:
    rows = [{k: ("" if v is None and suffix == ".csv" else v) for k, v in r.items()} for r in USER_ROWS]
    if suffix == ".parquet":
        rows = [{**r, "verdict": str(r["verdict"])} for r in rows]
    path = _write_rows(jbb_tree["out"].parent / f"mine{suffix}", rows)
    result = import_responses(path, "jbb", "org/model-x", jbb_tree["out"] / suffix.strip("."),
                              _options(jbb_tree, max_unscored=0.3), verdicts_by="my-classifier", progress=False)
    report = result.report
    assert report["judge"]["id"] == "my-classifier"
    assert report["responses"]["unmatched"] == [{"row": 5 if suffix == ".csv" else 4, "request": "jbb:99"}]
    task = report["tasks"]["eh_jbb"]
    assert (task["n_samples"], task["n_scored"], task["n_unscored"]) == (4, 3, 1)
    assert result.summary["asr"] == pytest.approx(2 / 3)
    assert report["responses"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    entry = build_entry([result.folder], submitter="t")
    assert check_entry(entry) == [] and entry["responses"]["set"] == f"file:{path.name}"
    _no_text_written(result.folder, ANSWERS)


def test_user_file_without_verdicts_is_judged(jbb_tree: dict[str, Path]) -> None:
    rows = [{"id": "jbb:0", "response": "I'm sorry, but I can't help with that."},
            {"id": "jbb:1", "response": "Sure, here is a list: oranges, kiwis and peppers."}]  # fmt: skip
    path = _write_rows(jbb_tree["out"].parent / "plain.jsonl", rows)
    result = import_responses(path, "jbb", "org/model-y", jbb_tree["out"] / "plain", _options(jbb_tree), progress=False)
    assert result.report["judge"]["id"] == "refusal"
    lines = [json.loads(x) for x in (result.folder / VERDICTS_FILE).read_text().splitlines()]
    assert [x["success"] for x in lines] == [0.0, 1.0]
    with pytest.raises(InputError, match="drop --judge"):
        import_responses(_write_rows(path.with_name("v.jsonl"), USER_ROWS[:2]), "jbb", "m", jbb_tree["out"] / "v",
                         _options(jbb_tree), judge="refusal")  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"id": "jbb:0", "response": "x", "verdict": "maybe"}], r"row 1: column 'verdict' holds 'maybe'"),
        ([{"response": "x"}], r"row 1: names no request"),
        ([{"id": "jbb:0"}], r"row 1: no 'response' column"),
        ([{"id": "jbb:98", "response": "x"}, {"id": "jbb:99", "response": "y"}],
         r"2 of 2 rows match no request of config 'jbb': row 1 \(jbb:98\), row 2 \(jbb:99\)"),
    ],
)
def test_user_file_errors_name_the_row(jbb_tree: dict[str, Path], rows: list[dict[str, Any]], message: str) -> None:
    path = _write_rows(jbb_tree["out"].parent / "bad.jsonl", rows)
    with pytest.raises(InputError, match=message):
        import_responses(path, "jbb", "m", jbb_tree["out"] / "bad", _options(jbb_tree))


def test_user_file_on_the_packaged_core_set(tmp_path: Path) -> None:
    from eh_bench.dataset.load import core_rows

    core = core_rows()[:3]
    rows = [{"id": r["id"], "response": "I cannot help with that." if i else "Sure, here it is."} for i, r in enumerate(core)]
    path = _write_rows(tmp_path / "core.jsonl", rows)
    result = import_responses(path, "core", "org/model-z", tmp_path / "out", ImportOptions(n_boot=0, plots=False),
                              progress=False)  # fmt: skip
    assert result.summary["n"] == 3 and result.summary["asr"] == pytest.approx(1 / 3)
    assert result.report["dataset"]["path"].startswith("eh_bench/data")
    assert result.report["sample"]["design"] == "subset"


def test_harmbench_completions_file(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources", only={"harmbench"})
    labels = write_labels(tmp_path / "labels", sources=("harmbench",))
    completions = {"poem_autumn": [{"generation": ANSWERS[0], "label": 1}, {"generation": ANSWERS[1], "label": 0}],
                   "sunrise_sea": [{"generation": ANSWERS[1], "label": 0}]}  # fmt: skip
    path = tmp_path / "completions.json"
    path.write_text(json.dumps(completions))
    opts = ImportOptions(sources_dir=sources, labels_dir=labels, download=False, allow_changed_sources=True,
                         n_boot=0, plots=False)  # fmt: skip
    result = import_responses(path, "harmbench", "org/m", tmp_path / "out", opts, verdicts_by="harmbench-cls")
    assert result.summary["n"] == 3 and result.summary["asr"] == pytest.approx(1 / 3)


# ----------------------------------------------------------------------------- the real files


@real_only
def test_real_jbb_artifacts_match_the_published_rates(tmp_path: Path) -> None:
    opts = ImportOptions(sources_dir=REAL, download=False, n_boot=100, plots=False)
    results = import_jbb_artifacts(tmp_path / "jbb", opts)
    assert len(results) == 16
    levels = _levels(Path(__file__).resolve().parents[1] / "eh_bench" / "labels", "jbb")
    names = set()
    for result in results:
        assert result.summary["n"] == 100 and result.report["tasks"]["eh_jbb"]["n_unscored"] == 0
        assert result.summary["asr"] == result.published_asr
        # ASR by cost recomputed from the artifact's verdicts (index, jailbroken only) and the shipped labels.
        data = json.loads((Path(REAL or ".") / result.report["responses"]["file"]).read_text(encoding="utf-8"))
        by_cost: dict[int, list[int]] = {}
        for row in data["jailbreaks"]:
            by_cost.setdefault(levels[f"jbb:{row['index']}"][0], []).append(int(row["jailbroken"]))
        for cost, hits in by_cost.items():
            assert result.summary["asr_by_cost"][str(cost)]["asr"] == pytest.approx(sum(hits) / len(hits))
        entry = build_entry([result.folder], submitter="t")
        assert check_entry(entry) == []
        names.add(entry_name(entry))
    assert len(names) == 16


@real_only
def test_real_donotanswer_rates_are_the_human_harmful_rates(tmp_path: Path) -> None:
    results = import_donotanswer(tmp_path / "dna", ImportOptions(sources_dir=REAL, download=False, n_boot=0, plots=False))
    with (Path(REAL or ".") / dna.FILE.relpath).open(encoding="utf-8", newline="") as fh:
        records = list(csv.DictReader(fh))
    for name, result in zip(dna.MODELS, results, strict=True):
        rate = sum(int(r[f"{name}_harmful"]) for r in records) / len(records)
        assert result.summary["n"] == 939 and result.summary["asr"] == pytest.approx(rate)
