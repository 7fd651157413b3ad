"""``eh-bench label INPUT`` against a real local OpenAI-compatible server, and ``eh-bench label agree``."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openai_server import serve
from typer.testing import CliRunner

from eh_bench import rubric
from eh_bench.cli import app
from eh_bench.dataset.labels import LABEL_COLUMNS
from eh_bench.errors import InputError
from eh_bench.labeling import labeller as labeling

runner = CliRunner()
LABELS_DIR = Path(__file__).parents[1] / "eh_bench" / "labels"

GOOD = {
    "expertise": 1, "equipment": 1, "time": 1, "legality": 1, "cost": 1, "severity": 1,
    "harm_category": "none", "rationale": "Harmless everyday question.",
}  # fmt: skip
REQUESTS = [
    {"id": "demo:bakery", "prompt": "Suggest a name for a bakery."},
    {"id": "demo:cactus", "prompt": "How do I water a cactus?"},
    {"id": "demo:fruit", "prompt": "Name a fruit."},
]


def answer_for(body: dict[str, Any]) -> str:
    """Bakery: valid at once; cactus: prose first, valid after the corrective retry; fruit: never valid."""
    messages = body["messages"]
    question = messages[0]["content"]
    if "bakery" in question:
        return json.dumps({**GOOD, "severity": 2 if body["temperature"] > 0 else 1})
    if "cactus" in question:
        return json.dumps(GOOD) if len(messages) > 1 else "It is harmless, level 1."
    return json.dumps({**GOOD, "cost": 9})


@pytest.fixture
def input_file(tmp_path: Path) -> Path:
    path = tmp_path / "requests.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in REQUESTS), encoding="utf-8")
    return path


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("form", [[], ["run"]])
def test_label_input_writes_one_row_per_request(tmp_path: Path, input_file: Path, form: list[str]) -> None:
    out = tmp_path / "out.csv"
    with serve(answer_for) as server:
        result = runner.invoke(
            app, ["label", *form, str(input_file), "--backend", server.spec("labeller"), "--out", str(out)]
        )
    assert result.exit_code == 0, result.output
    rows = read(out)
    assert list(rows[0]) == list(labeling.OUTPUT_COLUMNS)
    assert [r["source_id"] for r in rows] == ["bakery", "cactus", "fruit"]
    assert [r["status"] for r in rows] == ["labelled", "labelled", "unlabelled"]
    assert "cost is 9, outside 1-5" in rows[2]["reason"] and rows[2]["cost"] == ""
    for labelled in rows[:2]:
        assert rubric.validate_label(labelled).harm_category == "none"
    assert {r["annotator"] for r in rows} == {f"llm:{server.spec('labeller')}"}
    # fruit: 1 + 2 retries; cactus: 2; bakery: 1
    assert len(server.requests) == 6
    assert "unlabelled" in result.output and "cost is 9" in result.output


def test_votes_sample_after_the_first_and_take_the_majority(tmp_path: Path, input_file: Path) -> None:
    out = tmp_path / "out.csv"
    with serve(answer_for) as server:
        result = runner.invoke(
            app,
            ["label", str(input_file), "--backend", server.spec(), "--out", str(out), "--votes", "3",
             "--limit", "1", "--temperature", "0.8", "--max-new-tokens", "50"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    [row] = read(out)
    assert row["severity"] == "2"  # the two sampled votes outvote the greedy one
    bodies = [r["body"] for r in server.requests]
    assert sorted(b["temperature"] for b in bodies) == [0.0, 0.8, 0.8]
    assert {b["max_tokens"] for b in bodies} == {50}


def test_too_many_unlabelled_rows_exit_1_after_writing(tmp_path: Path, input_file: Path) -> None:
    out = tmp_path / "out.csv"
    with serve(answer_for) as server:
        result = runner.invoke(
            app,
            ["label", str(input_file), "-b", server.spec(), "-o", str(out), "--max-unlabelled", "0.2",
             "--max-retries", "0"],
        )  # fmt: skip
    assert result.exit_code == 1
    assert "over --max-unlabelled" in result.output
    assert [r["status"] for r in read(out)] == ["labelled", "unlabelled", "unlabelled"]


def test_missing_input_is_an_input_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["label", str(tmp_path / "none.csv"), "-b", "openai:http://127.0.0.1:9/v1#m", "-o", "x.csv"]
    )
    assert isinstance(result.exception, InputError) and "no such file" in str(result.exception)


def test_help_explains_both_forms() -> None:
    result = runner.invoke(app, ["label", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "eh-bench label INPUT --backend SPEC --out OUT.csv" in text
    assert "eh-bench label agree A.csv B.csv" in text and "Example:" in text
    for command in ("run", "agree"):
        sub = runner.invoke(app, ["label", command, "--help"])
        assert sub.exit_code == 0 and "Example:" in sub.output
    assert "--votes" in runner.invoke(app, ["label", "x.csv", "--help"]).output


def labels_file(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=LABEL_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def stand_in(source_id: str, cost: int, severity: int) -> dict[str, Any]:
    return {**GOOD, "source": "demo", "source_id": source_id, "prompt_sha256": f"{source_id:0>64}",
            "cost": cost, "severity": severity, "annotator": "x", "rubric_version": "1"}  # fmt: skip


def test_agree_prints_tables_and_json(tmp_path: Path) -> None:
    a = labels_file(tmp_path / "a.csv", [stand_in("1", 1, 2), stand_in("2", 3, 3), stand_in("3", 5, 4)])
    b = labels_file(tmp_path / "b.csv", [stand_in("1", 1, 2), stand_in("2", 4, 3), stand_in("4", 2, 2)])
    result = runner.invoke(app, ["label", "agree", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert "2 pairs; 1 rows only in A" in " ".join(result.output.split())
    assert "within one" in result.output and "cost (rows A, columns B)" in result.output
    result = runner.invoke(app, ["label", "agree", str(a), str(b), "--json"])
    data = json.loads(result.output)
    cost = next(s for s in data["scales"] if s["scale"] == "cost")
    assert (data["matched"], data["only_a"], data["only_b"]) == (2, 1, 1)
    assert cost["n"] == 2 and cost["exact"] == 0.5 and cost["within_one"] == 1.0
    assert cost["confusion"][2][3] == 1


def test_agree_shipped_labels_with_themselves_is_perfect() -> None:
    result = runner.invoke(app, ["label", "agree", str(LABELS_DIR), str(LABELS_DIR), "--json"])
    data = json.loads(result.output)
    assert data["only_a"] == data["only_b"] == 0 and data["matched"] > 1000
    assert all(s["kappa"] == pytest.approx(1.0) and s["exact"] == 1.0 for s in data["scales"])


def test_console_script_reports_errors_in_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from eh_bench.cli import main; main()", "label", "agree", str(tmp_path / "a.csv"), "b.csv"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "no such file or folder" in proc.stderr and "Traceback" not in proc.stderr
