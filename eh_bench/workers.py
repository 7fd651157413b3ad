"""Run independent jobs in worker processes (one job per input file), or in this process.

:func:`worker_count` picks how many processes to use: at most one per job and one per usable CPU, or
the number an environment variable names (``1`` = in this process). :func:`map_jobs` runs the jobs
with a :class:`concurrent.futures.ProcessPoolExecutor`, forking the workers where the platform allows
it (they start at once and inherit what this process has imported), and returns results in job order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Final, TypeVar

from eh_bench.errors import ConfigError

#: The start method used where the platform has it.
START_METHOD: Final = "fork"

T = TypeVar("T")
R = TypeVar("R")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def worker_count(n_jobs: int, env: str) -> int:
    """How many processes to run ``n_jobs`` jobs in: ``min(n_jobs, $env or the usable CPUs)``, at least 1.

    Raises:
        ConfigError: ``$env`` is set but is not a whole number >= 1.
    """
    raw = os.environ.get(env, "").strip()
    if raw:
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if limit < 1:
            raise ConfigError(f"{env}={raw!r} is not a whole number >= 1; use 1 to work in one process")
    else:
        limit = usable_cpus()
    return max(1, min(n_jobs, limit))


def map_jobs(fn: Callable[[T], R], jobs: Sequence[T], workers: int) -> list[R]:
    """``[fn(job) for job in jobs]``, in ``workers`` processes when ``workers > 1``.

    ``fn``, the jobs and the results must be picklable; an exception raised by a job is raised here.
    """
    if workers <= 1 or len(jobs) <= 1:
        return [fn(job) for job in jobs]
    method = START_METHOD if START_METHOD in multiprocessing.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
        return list(pool.map(fn, jobs))
