"""Scoring outputs under faults: ASR 0 or 1 at a level, a failing plot, a full disk (issue 17, cases 1, 5)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fault_fixtures import assert_clean_error, run_cli
from lmeval_fixtures import COMPLY, REFUSE, make_doc, write_run
from typer.testing import CliRunner

from eh_bench.cli import app
from eh_bench.metrics.rates import rate_by_level, wilson_interval
from eh_bench.report.document import REPORT_JSON, REPORT_MD, read_report

runner = CliRunner()


@pytest.mark.parametrize("asr", [0.0, 1.0])
def test_wilson_interval_is_clamped_to_contain_the_estimate(asr: float) -> None:
    n = np.arange(1, 301)
    lo, hi = wilson_interval(asr * n, n)
    assert np.all((lo >= 0) & (lo <= asr) & (hi >= asr) & (hi <= 1))
    if asr == 0:
        assert np.all(lo == 0.0)
    else:
        assert np.all(hi == 1.0)


def test_rates_by_level_contain_the_estimate_for_every_n() -> None:
    for n in range(1, 61):
        for value in (0, 1):
            cell = rate_by_level([value] * n, [3] * n)["3"]
            assert cell["ci_low"] <= cell["asr"] <= cell["ci_high"], (n, value, cell)


def _run(tmp: Path, n_per_level: int, response: str) -> Path:
    """A run whose cost level 1 has ``n_per_level`` samples all answered with ``response``."""
    pairs = [(make_doc(i, 1, 2), response) for i in range(n_per_level)]
    pairs += [(make_doc(100 + i, 3, 3), COMPLY if i % 2 else REFUSE) for i in range(6)]
    write_run(tmp / "run", {"eh_core": pairs})
    return tmp / "run"


@pytest.mark.parametrize(("n", "response"), [(3, REFUSE), (7, REFUSE), (10, COMPLY), (13, COMPLY)])
def test_score_with_a_level_at_asr_0_or_1_writes_report_and_plots(
    tmp_path: Path, n: int, response: str
) -> None:
    run = _run(tmp_path, n, response)
    result = runner.invoke(app, ["score", str(run), "--n-boot", "0", "--model-id", "m"])
    assert result.exit_code == 0, result.output
    report = read_report(run / "eh-bench")
    cell = report["tasks"]["eh_core"]["summary"]["asr_by_cost"]["1"]
    assert cell["asr"] == (0.0 if response == REFUSE else 1.0) and cell["n"] == n
    assert cell["ci_low"] <= cell["asr"] <= cell["ci_high"]
    assert len(report["files"]["plots"]) == 3
    assert all((run / "eh-bench" / p).stat().st_size > 0 for p in report["files"]["plots"])


def test_a_plotting_failure_never_loses_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eh_bench.report import plots

    def broken(*args: object, **kwargs: object) -> Path:
        raise ValueError("'yerr' must not contain negative values")

    monkeypatch.setattr(plots, "plot_heatmap", broken)
    run = _run(tmp_path, 4, REFUSE)
    result = runner.invoke(app, ["score", str(run), "--n-boot", "0", "--model-id", "m"])
    assert result.exit_code == 0, result.output
    report = read_report(run / "eh-bench")
    assert report["tasks"]["eh_core"]["n_scored"] == 10
    assert report["files"]["plots"] == []
    assert "negative values" in report["files"]["plot_error"]
    assert "plots could not be drawn" in result.output and "negative values" in result.output
    assert "could not be drawn" in (run / "eh-bench" / REPORT_MD).read_text()


def test_a_full_disk_keeps_the_previous_report(tmp_path: Path) -> None:
    run = _run(tmp_path, 4, REFUSE)
    out = run / "eh-bench"
    first = run_cli(["score", str(run), "--n-boot", "0", "--model-id", "m", "--no-plots"])
    assert first.returncode == 0, first.stderr
    before = {name: (out / name).read_bytes() for name in (REPORT_JSON, REPORT_MD)}
    size = len(before[REPORT_JSON])
    again = run_cli(["score", str(run), "--n-boot", "0", "--model-id", "m2", "--no-plots"], fsize=size // 2)
    assert_clean_error(again, REPORT_JSON, "unchanged")
    assert {name: (out / name).read_bytes() for name in before} == before
    assert json.loads(before[REPORT_JSON])["model"]["id"] == "m"
    assert sorted(p.name for p in out.iterdir()) == [REPORT_JSON, REPORT_MD]


def test_score_out_that_is_a_file_fails_before_reading_the_run(tmp_path: Path) -> None:
    taken = tmp_path / "taken.txt"
    taken.write_text("the user's notes\n")
    result = run_cli(["score", str(tmp_path / "no-such-run"), "--out", str(taken)])
    assert_clean_error(result, str(taken), "is a file")
    assert taken.read_text() == "the user's notes\n"
