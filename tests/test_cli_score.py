"""``eh-bench score`` and ``eh-bench tasks-path`` through the real Typer app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lmeval_fixtures import COMPLY, REFUSE, make_doc, write_run
from typer.testing import CliRunner

from eh_bench.cli import app
from eh_bench.paths import tasks_dir

runner = CliRunner()


def _run_dir(tmp: Path) -> Path:
    pairs = [(make_doc(i, 1 + i % 5, 1 + i % 3), COMPLY if i % 2 else REFUSE) for i in range(10)]
    write_run(tmp / "run", {"eh_core": pairs})
    return tmp / "run"


def test_score_writes_the_report_and_prints_the_table(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    result = runner.invoke(app, ["score", str(run), "--n-boot", "10", "--no-plots", "--model-id", "m1"])
    assert result.exit_code == 0, result.output
    report = json.loads((run / "eh-bench" / "report.json").read_text())
    assert report["model"] == {"id": "m1", "revision": None, "source": "cli"}
    assert report["n_boot"] == 10 and report["files"]["plots"] == []
    assert report["tasks"]["eh_core"]["summary"]["asr"] == 0.5
    assert "eh_core" in result.output and "0.500" in result.output and "report.json" in result.output


def test_score_options_reach_the_library(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    out = tmp_path / "elsewhere"
    args = [
        "score",
        str(run),
        "--out",
        str(out),
        "--likelihood",
        "exponential:1",
        "--seed",
        "7",
        "--n-boot",
        "5",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["likelihood"]["spec"] == "exponential:1" and report["seed"] == 7
    assert len(report["files"]["plots"]) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--judge", "nope"], "unknown judge 'nope'"),
        (["--likelihood", "table:1,2"], "five values"),
        (["--judge-backend", "smollm2"], "takes no backend"),
        (["--max-unscored", "2"], "fraction"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    run = _run_dir(tmp_path)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("eh-bench")), "score", str(run), "--no-plots", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_score_on_a_folder_without_samples_explains(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", str(tmp_path)])
    assert result.exit_code != 0
    assert "samples_*.jsonl" in str(result.exception)


def test_tasks_path_prints_the_include_path() -> None:
    result = runner.invoke(app, ["tasks-path"])
    assert result.exit_code == 0
    printed = Path(result.output.strip())
    assert printed == tasks_dir() and (printed / "expected_harm" / "_expected_harm.yaml").is_file()


@pytest.mark.parametrize("command", ["score", "run", "tasks-path"])
def test_help_has_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
