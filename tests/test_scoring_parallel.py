"""Scoring a run file by file in worker processes gives exactly the serial scores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lmeval_fixtures import COMPLY, REFUSE, make_doc, write_run

from eh_bench.errors import ConfigError, InputError
from eh_bench.evaluation import scoring
from eh_bench.evaluation.scoring import MISSING_LABEL, NO_RESPONSE, WORKERS_ENV, RunScore, score_run

#: (cost, severity, response): scored rows plus a missing label, an out-of-range label and no response.
ROWS: list[tuple[Any, Any, str | None]] = [
    (1, 1, COMPLY), (1, 4, REFUSE), (2, 5, COMPLY), (3, 2, REFUSE), (4, 4, COMPLY),
    (5, 3, REFUSE), (None, 3, COMPLY), (2, 9, REFUSE), (3, 3, None),
]  # fmt: skip


def _run(root: Path) -> Path:
    core = [(make_doc(i, c, v, source="core"), r) for i, (c, v, r) in enumerate(ROWS)]
    jbb = [(make_doc(i, c, v, source="jbb"), r) for i, (c, v, r) in enumerate(reversed(ROWS))]
    copy = [(make_doc(20, 1, 1, source="advbench", duplicate_of=core[0][0]["id"]), COMPLY), *jbb[:3]]
    benign = [(make_doc(i, 1, 1, source="core_benign"), r) for i, r in enumerate([REFUSE, COMPLY, None])]
    write_run(root, {"eh_core": core, "eh_jbb": jbb, "eh_advbench": copy, "eh_core_benign": benign})
    return root


def _score(run: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> RunScore:
    monkeypatch.setattr(scoring, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv(WORKERS_ENV, str(workers))
    # eh_advbench is 3/4 unscored, and the unscored limit applies per task
    return score_run(run, n_boot=40, seed=7, max_unscored=0.75, progress=False)


def _outcome(scored: RunScore) -> str:
    """Every summary, count and per-sample success of a scored run, as canonical JSON (NaN-safe)."""
    scores = scored.harmful_scores + scored.benign_scores
    per_sample = {
        s.samples.task: [s.success, dict(s.reasons), s.samples.ids, s.samples.costs, s.samples.severities]
        for s in scores
    }
    return json.dumps([scored.tasks, scored.group, scored.benign, per_sample], sort_keys=True)


def test_workers_give_the_serial_scores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _run(tmp_path / "run")
    serial = _score(run, monkeypatch, 1)
    parallel = _score(run, monkeypatch, 2)
    assert _outcome(parallel) == _outcome(serial)
    # the parallel scores came back from workers without the texts; the serial ones keep them
    assert all(t.responses == [] and t.prompts == [] for t in parallel.run.tasks)
    assert all(len(t.responses) == len(t) > 0 for t in serial.run.tasks)
    assert [t.task for t in parallel.run.tasks] == ["eh_advbench", "eh_core", "eh_core_benign", "eh_jbb"]
    core = parallel.tasks["eh_core"]
    assert (core["n_samples"], core["n_scored"], core["n_unscored"]) == (9, 6, 3)
    assert core["unscored_reasons"] == {MISSING_LABEL: 2, NO_RESPONSE: 1}
    assert core["summary"]["asr"] == pytest.approx(0.5)
    assert parallel.benign is not None and parallel.benign["over_refusal_rate"] == 0.5
    assert parallel.benign["tasks"][0]["unscored_reasons"] == {NO_RESPONSE: 1}
    assert parallel.group is not None and parallel.group["summary"]["n"] == 6 + 6 + 0


def test_small_runs_stay_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _run(tmp_path / "run")
    monkeypatch.setenv(WORKERS_ENV, "2")
    scored = score_run(run, n_boot=0, max_unscored=0.75, progress=False)  # far below PARALLEL_MIN_BYTES
    assert all(len(t.responses) == len(t) for t in scored.run.tasks)


def test_a_damaged_file_fails_the_same_in_a_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_run(
        tmp_path, {"eh_core": [(make_doc(0, 1, 1), COMPLY)], "eh_jbb": [(make_doc(0, 1, 1), REFUSE)]}
    )
    (damaged,) = folder.glob("samples_eh_jbb_*.jsonl")
    damaged.write_text(damaged.read_text() + "{not json\n")
    for workers in (1, 2):
        with pytest.raises(InputError, match=rf"{damaged.name}:2: not valid JSON"):
            _score(tmp_path, monkeypatch, workers)


def test_bad_worker_count_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _run(tmp_path / "run")
    monkeypatch.setenv(WORKERS_ENV, "many")
    with pytest.raises(ConfigError, match=WORKERS_ENV):
        score_run(run, n_boot=0, max_unscored=0.5, progress=False)
