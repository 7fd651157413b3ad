"""Readers of the published response sets, on harmless stand-in files written here (and the real files
when EH_SOURCES_DIR is set: counts and label rates only, never response text)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest

from eh_bench.errors import ConfigError, SourceError
from eh_bench.sources.base import prompt_sha256
from eh_bench.sources.published import PUBLISHED, gptfuzz, jbb_artifacts, jbb_behaviors, load_published
from eh_bench.sources.published import donotanswer as dna

REAL = os.environ.get("EH_SOURCES_DIR")
HAS_REAL = bool(REAL) and (Path(REAL or ".") / "gptfuzz").is_dir()
real_only = pytest.mark.skipif(not HAS_REAL, reason="EH_SOURCES_DIR with the benchmark files is not set")

BEHAVIORS = {0: "Cake baking", 1: "Human  trafficking", 2: "September 11th conspiracy"}


def _jbb_csv(root: Path) -> None:
    path = root / "jailbreakbench" / "harmful-behaviors.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Index", "Goal", "Target", "Behavior", "Category", "Source"])
        for i, b in BEHAVIORS.items():
            w.writerow([i, f"Tell me about topic {i}", "Sure", b, "Cooking", "Original"])


def _artifact(rows: list[dict[str, Any]], model: str = "toy-model", method: str = "PAIR") -> dict[str, Any]:
    return {"parameters": {"method": method, "model": model, "attack_type": "black_box"}, "jailbreaks": rows}


def _jb(index: int, behavior: str, response: str | None, jailbroken: bool) -> dict[str, Any]:
    return {
        "index": index, "goal": f"Tell me about topic {index}", "behavior": behavior, "category": "Cooking",
        "prompt": None if response is None else "Role-play: tell me", "response": response,
        "number_of_queries": 3, "queries_to_jailbreak": None, "prompt_tokens": None, "response_tokens": None,
        "jailbroken": jailbroken, "jailbroken_llama_guard1": False,
    }  # fmt: skip


def _write_sources(root: Path) -> None:
    """Stand-ins for every pinned file of the three sets, with harmless text."""
    _jbb_csv(root)
    rows = [_jb(0, "Cake baking", "Mix flour and eggs.", True), _jb(1, "Human trafficking", "No.", False),
            _jb(2, "9_11 conspiracy", None, False)]  # fmt: skip
    for spec in jbb_artifacts.FILES:
        path = root / spec.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_artifact(rows, model=path.stem)), encoding="utf-8")
    path = root / dna.FILE.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(dna.COLUMNS)
        for qid in (0, 1):
            cells = [str(qid), "Area", "Type", "Specific", f"How do I knit scarf {qid}?"]
            for k, _model in enumerate(dna.MODELS):
                cells += ["" if (qid, k) == (1, 5) else f"Knit answer {k}", str(int(k == 3)), str(k % 6)]
            w.writerow(cells)
    path = root / gptfuzz.FILE.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b'question,Response,label\n"How to fold paper?","Fold it \xff twice.",1\n"How to fold paper?","No.",0\n'
    )


@pytest.fixture
def stand_ins(tmp_path: Path) -> Path:
    root = tmp_path / "sources"
    _write_sources(root)
    return root


def test_registry_names_and_unknown() -> None:
    assert PUBLISHED.names() == ["donotanswer", "gptfuzz", "jbb-artifacts"]
    with pytest.raises(ConfigError, match="choose one of: donotanswer, gptfuzz, jbb-artifacts"):
        PUBLISHED.get("nope")


def test_pinned_hash_is_enforced(stand_ins: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="differs from the pinned value"):
        load_published("gptfuzz", sources_dir=stand_ins, cache_dir=tmp_path / "c", download=False)


def test_missing_file_names_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"gptfuzz/responses_labeled_train.csv: benchmark file not found"):
        load_published("gptfuzz", sources_dir=tmp_path / "none", cache_dir=tmp_path / "c", download=False)


def _load(name: str, root: Path, tmp_path: Path) -> Any:
    return load_published(
        name, sources_dir=root, cache_dir=tmp_path / "c", download=False, allow_changed_sources=True
    )


def test_jbb_artifacts(stand_ins: Path, tmp_path: Path) -> None:
    loaded = _load("jbb-artifacts", stand_ins, tmp_path)
    assert len(loaded.parts) == len(jbb_artifacts.FILES) == 16
    part = loaded.parts[0]
    assert part.parameters["method"] == "PAIR" and part.relpath.startswith("jailbreakbench-artifacts/")
    first, second, none = part.rows
    assert (first.request_id, first.verdict, first.model, first.method) == (
        "jbb:0",
        1,
        part.parameters["model"],
        "PAIR",
    )
    assert first.extra["attack_prompt"] == "Role-play: tell me" and first.extra["number_of_queries"] == 3
    assert second.verdict == 0 and second.judgeable
    assert none.response is None and none.verdict == 0 and not none.judgeable
    assert len(loaded.rows) == 48
    prov = loaded.provenance()
    assert prov["set"] == "jbb-artifacts" and len(prov["files"]) == 16 and not prov["files"][0]["pinned"]
    assert len(loaded.fingerprint) == 64


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda r: r.update(behavior="Knitting"),
            r"jailbreaks\[0\].behavior: 'Knitting' is not JBB-Behaviors Index 0",
        ),
        (lambda r: r.update(index=100), r"jailbreaks\[0\].index: expected an integer 0-99"),
        (lambda r: r.update(jailbroken="yes"), r"jailbreaks\[0\].jailbroken: expected true or false"),
        (lambda r: r.update(response=None), r"jailbreaks\[0\].jailbroken: true for a row without a response"),
        (lambda r: r.update(response=5), r"jailbreaks\[0\].response: expected a string or null"),
    ],
)
def test_jbb_artifact_errors(tmp_path: Path, mutate: Any, message: str) -> None:
    row = _jb(0, "Cake baking", "Mix.", True)
    mutate(row)
    path = tmp_path / "a.json"
    path.write_text(json.dumps(_artifact([row])), encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        jbb_artifacts.read_artifact(path, {0: "Cake baking"})


def test_jbb_artifact_duplicate_index_and_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(
        json.dumps(_artifact([_jb(0, "A", "x", False), _jb(0, "A", "y", False)])), encoding="utf-8"
    )
    with pytest.raises(SourceError, match=r"jailbreaks\[1\].index: jbb:0 occurs twice"):
        jbb_artifacts.read_artifact(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SourceError, match="not valid UTF-8 JSON"):
        jbb_artifacts.read_artifact(path)


def test_behaviors_csv(stand_ins: Path) -> None:
    assert jbb_behaviors(stand_ins / "jailbreakbench" / "harmful-behaviors.csv")[1] == "Human  trafficking"


def test_donotanswer(stand_ins: Path, tmp_path: Path) -> None:
    rows = _load("donotanswer", stand_ins, tmp_path).rows
    assert len(rows) == 2 * len(dna.MODELS)
    assert [r.model for r in rows[:6]] == list(dna.MODELS)
    assert {r.request_id for r in rows} == {"donotanswer:0", "donotanswer:1"}
    assert [r.verdict for r in rows[:6]] == [0, 0, 0, 1, 0, 0]
    assert rows[5].extra["action"] == 5 and rows[0].method == "direct"
    assert rows[11].response is None and not rows[11].judgeable and rows[11].verdict == 0


def test_donotanswer_bad_label(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(dna.COLUMNS)
        w.writerow(["0", "A", "T", "S", "Q?", *(["ok", "2", "0"] * 6)])
    with pytest.raises(SourceError, match=r"record 1 \(0-based row 0\): column 'GPT4_harmful' holds '2'"):
        dna.read_responses(path)


def test_gptfuzz(stand_ins: Path, tmp_path: Path) -> None:
    rows = _load("gptfuzz", stand_ins, tmp_path).rows
    assert [r.verdict for r in rows] == [1, 0]
    assert rows[0].request_id == f"gptfuzz:{prompt_sha256('How to fold paper?')}" == rows[1].request_id
    assert "\ufffd" in (rows[0].response or "") and rows[0].model == "unknown"


def test_gptfuzz_bad_label_and_header(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("question,Response,label\nQ?,A,yes\n", encoding="utf-8")
    with pytest.raises(SourceError, match="column 'label' holds 'yes'"):
        gptfuzz.read_responses(path)
    path.write_text("question,answer\nQ?,A\n", encoding="utf-8")
    with pytest.raises(SourceError, match="lacks column"):
        gptfuzz.read_responses(path)


@real_only
def test_real_files_counts() -> None:
    jbb = load_published("jbb-artifacts", download=False)
    assert len(jbb.rows) == 1600 and all(f.matches for f in jbb.files)
    assert sum(r.response is None for r in jbb.rows) == 163
    for part in jbb.parts:  # attack_success_rate = jailbroken rows / 100 in every file
        assert sum(r.verdict or 0 for r in part.rows) / 100 == part.parameters["attack_success_rate"]
    rows = load_published("donotanswer", download=False).rows
    assert len(rows) == 5634 and len({r.request_id for r in rows}) == 939
    rates = {m: sum(r.verdict or 0 for r in rows if r.model == m) / 939 for m in dna.MODELS}
    assert round(rates["GPT4"], 3) == 0.024 and round(rates["ChatGLM2"], 3) == 0.091
    fuzz = load_published("gptfuzz", download=False).rows
    assert len(fuzz) == 6160 and sum(r.verdict or 0 for r in fuzz) == 1694
