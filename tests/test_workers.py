"""Worker counts and running jobs in processes."""

from __future__ import annotations

import os

import pytest

from eh_bench.errors import ConfigError
from eh_bench.workers import map_jobs, usable_cpus, worker_count

ENV = "EH_TEST_WORKERS"


def _job(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


def _fail(n: int) -> int:
    raise ConfigError(f"job {n} failed")


def test_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert worker_count(100, ENV) == usable_cpus() >= 1
    assert worker_count(1, ENV) == 1 and worker_count(0, ENV) == 1
    monkeypatch.setenv(ENV, "3")
    assert worker_count(10, ENV) == 3 and worker_count(2, ENV) == 2
    for bad in ("0", "-2", "two"):
        monkeypatch.setenv(ENV, bad)
        with pytest.raises(ConfigError, match=ENV):
            worker_count(10, ENV)


def test_map_jobs_keeps_order_and_uses_processes() -> None:
    jobs = list(range(7))
    serial = map_jobs(_job, jobs, 1)
    parallel = map_jobs(_job, jobs, 2)
    assert [v for v, _ in parallel] == [v for v, _ in serial] == [n * n for n in jobs]
    assert {pid for _, pid in serial} == {os.getpid()}
    assert os.getpid() not in {pid for _, pid in parallel}


def test_map_jobs_raises_a_job_error() -> None:
    with pytest.raises(ConfigError, match="job 0 failed"):
        map_jobs(_fail, [0, 1], 2)
