"""Labelling under faults: conflicting labels, empty or broken input, an interrupted run, bad options
(issue 17, cases 9, 10 and 11)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fault_fixtures import CLI, assert_clean_error, cli_error, read_only, run_cli
from openai_server import serve, slow

from eh_bench.labeling import labeller as labeling

GOOD = {
    "expertise": 1, "equipment": 1, "time": 1, "legality": 1, "cost": 1, "severity": 1,
    "harm_category": "none", "rationale": "Harmless everyday question.",
}  # fmt: skip
REQUESTS = [
    {"id": f"demo:{i}", "prompt": f"Name a fruit that starts with letter number {i}."} for i in range(4)
]


def _answer(body: dict[str, Any]) -> str:
    return json.dumps(GOOD)


def _input(tmp: Path) -> Path:
    path = tmp / "requests.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in REQUESTS), encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _labels(path: Path, rows: list[dict[str, Any]]) -> Path:
    header = ["source", "source_id", "prompt_sha256", "cost", "severity", "harm_category"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _row(i: int, cost: int, sha: str | None = None) -> dict[str, Any]:
    return {"source": "demo", "source_id": str(i), "prompt_sha256": sha or f"{i:064x}", "cost": cost,
            "severity": 2, "harm_category": "none"}  # fmt: skip


def test_agree_refuses_one_request_labelled_twice_differently(tmp_path: Path) -> None:
    a = _labels(tmp_path / "a.csv", [_row(1, 1), _row(2, 3)])
    b = _labels(tmp_path / "b.csv", [_row(1, 1), _row(2, 3), _row(2, 5)])
    message = cli_error(["label", "agree", str(a), str(b)])
    assert f"B ({b})" in message and "demo:2" in message and "cost 3 and 5" in message


def test_agree_counts_a_repeated_identical_label_once(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from eh_bench.cli import app

    a = _labels(tmp_path / "a.csv", [_row(1, 1), _row(2, 3)])
    b = _labels(tmp_path / "b.csv", [_row(1, 1), _row(2, 3), _row(2, 3)])
    result = CliRunner().invoke(app, ["label", "agree", str(a), str(b), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["matched"], report["only_a"], report["only_b"]) == (2, 0, 0)


def test_agree_with_no_request_in_common_is_an_error(tmp_path: Path) -> None:
    a = _labels(tmp_path / "a.csv", [_row(1, 1)])
    b = _labels(tmp_path / "b.csv", [_row(2, 1)])
    message = cli_error(["label", "agree", str(a), str(b)])
    assert "no request is in both" in message and "has 1 rows" in message


def test_label_run_on_empty_input_keeps_the_existing_output(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("id,prompt\n", encoding="utf-8")
    out = tmp_path / "labels.csv"
    out.write_text("previous labels\n", encoding="utf-8")
    with serve(_answer) as server:
        message = cli_error(["label", str(empty), "--backend", server.spec(), "--out", str(out)])
    assert "no rows to label" in message and str(empty) in message
    assert out.read_text(encoding="utf-8") == "previous labels\n" and server.requests == []


def test_label_run_input_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "requests.CSV"
    path.write_bytes(b"id,prompt\ndemo:1,Name a fruit.\ndemo:2,Name a caf\xe9.\n")
    message = cli_error(
        ["label", str(path), "--backend", "openai:http://127.0.0.1:9/v1#m", "--out", str(tmp_path / "o.csv")]
    )
    assert f"{path}:3" in message and "not UTF-8" in message


@pytest.mark.parametrize("temperature", ["nan", "inf", "-0.5"])
def test_label_run_refuses_a_bad_temperature_before_any_request(tmp_path: Path, temperature: str) -> None:
    with serve(_answer) as server:
        message = cli_error(["label", str(_input(tmp_path)), "-b", server.spec(), "-o", str(tmp_path / "o.csv"),
                             "--votes", "3", "--temperature", temperature])  # fmt: skip
    assert "temperature must be a finite number >= 0" in message and server.requests == []


def test_label_run_out_is_checked_before_any_request(tmp_path: Path) -> None:
    with serve(_answer) as server:
        assert "is a folder" in cli_error(
            ["label", str(_input(tmp_path)), "-b", server.spec(), "-o", str(tmp_path)]
        )
        locked = tmp_path / "locked"
        locked.mkdir()
        read_only(locked)
        result = run_cli(["label", str(_input(tmp_path)), "-b", server.spec(), "-o", str(locked / "o.csv")],
                         unprivileged=True)  # fmt: skip
        assert_clean_error(result, str(locked / "o.csv"), "cannot write")
        assert server.requests == []


def test_an_interrupted_run_keeps_its_rows_and_resumes(tmp_path: Path) -> None:
    """A real interruption: the command is stopped (SIGINT) while the backend sits on request 2."""
    source = _input(tmp_path)
    out = tmp_path / "labels.csv"
    out.write_text("previous labels\n", encoding="utf-8")
    partial = tmp_path / "labels.csv.partial"

    stall = {"on": True}

    def stalls_on_two(body: dict[str, Any]) -> Any:
        if stall["on"] and "number 2" in body["messages"][0]["content"]:
            return slow(60, json.dumps(GOOD))
        return json.dumps(GOOD)

    args = ["label", str(source), "--out", str(out), "--chunk-size", "1"]
    with serve(stalls_on_two) as server:  # one server, so both runs have the same --backend
        args += ["-b", server.spec()]
        env = {**os.environ, "NO_COLOR": "1"}
        proc = subprocess.Popen([sys.executable, "-c", CLI, *args], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        deadline = time.monotonic() + 60
        while len(server.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
        assert out.read_text(encoding="utf-8") == "previous labels\n"  # untouched until a run completes
        kept = _rows(partial)
        assert [r["source_id"] for r in kept] == ["0", "1"] and {r["status"] for r in kept} == {"labelled"}

        stall["on"] = False
        before = len(server.requests)
        result = run_cli(args)
        assert result.returncode == 0, result.stderr
        asked = [r["body"]["messages"][0]["content"] for r in server.requests[before:]]
    assert "resuming: 2 of 4 rows already labelled" in " ".join(result.stderr.split())
    assert len(asked) == 2 and all("number 2" in q or "number 3" in q for q in asked)
    rows = _rows(out)
    assert [r["source_id"] for r in rows] == ["0", "1", "2", "3"] and {r["status"] for r in rows} == {
        "labelled"
    }
    assert list(rows[0]) == list(labeling.OUTPUT_COLUMNS) and not partial.exists()


def test_a_journal_of_another_backend_is_not_mixed_in(tmp_path: Path) -> None:
    source = _input(tmp_path)
    out = tmp_path / "labels.csv"
    with serve(_answer) as server:
        result = run_cli(["label", str(source), "-b", server.spec("first"), "-o", str(out)])
        assert result.returncode == 0, result.stderr
    journal = tmp_path / "labels.csv.partial"
    out.rename(journal)
    with serve(_answer) as server:
        message = cli_error(["label", str(source), "-b", server.spec("second"), "-o", str(out)])
        assert server.requests == []
    assert "labels by llm:" in message and "#first" in message and "delete" in message
