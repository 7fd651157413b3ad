"""Running attacks over a dataset config: requests, concurrency, the journal, resuming, the outputs.

:func:`run_attack` attacks every request of a config with every (variant, jailbreak) asked for and
writes the output folder (:mod:`eh_bench.attacks.results`). Requests run concurrently
(``concurrency`` threads; in-process models still answer one call at a time, HTTP backends in parallel);
the attacks of one request run in turn, so the steps they share are made once.

Resuming: the folder's ``run.json`` fixes everything that changes an answer (roles, settings, jailbreak
options, dataset). Running again into the same folder with the same settings replays every journaled
call and makes only the missing ones (``--limit``, variants and jailbreaks may change); different
settings are refused with the fields that differ. A run stopped by an exception (a backend that went
away) raises :class:`AttackInterrupted` after its finished steps are safely journaled.
"""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from eh_bench.attacks.calls import CallStats
from eh_bench.attacks.evaluate import AttackRequest, AttackSettings, Variant, evaluate_request
from eh_bench.attacks.jailbreaks import build_jailbreak
from eh_bench.attacks.journal import JOURNAL_FILE, Journal
from eh_bench.attacks.results import RUN_FILE, write_cell, write_outputs
from eh_bench.attacks.roles import Roles, RoleSpecs
from eh_bench.attacks.scores import summarize_attack
from eh_bench.attacks.templates import JailbreakOptions
from eh_bench.backends.base import ChatBackend
from eh_bench.errors import ConfigError, EHBenchError
from eh_bench.likelihood import DEFAULT_LIKELIHOOD
from eh_bench.report.document import dataset_record
from eh_bench.rubric import parse_level

DEFAULT_CONCURRENCY: Final = 4
DEFAULT_N_BOOT: Final = 1000


class AttackInterrupted(EHBenchError):
    """The run stopped on an error; what finished is journaled and a rerun resumes from there."""


@dataclass(frozen=True)
class RunPlan:
    """Everything one ``eh-bench attack run`` does.

    Attributes:
        roles: the role specs.
        config: dataset config (benchmark) to attack.
        variants, jailbreaks: the attacks (every combination runs).
        settings: the attack's knobs.
        jailbreak_options: PAIR's options.
        dataset: built dataset folder or Hub id (None: the packaged core sets).
        limit: attack only the first N requests of the config.
        likelihood, n_boot, seed: how the summaries are computed (not fixed by ``run.json``).
        concurrency: requests in flight at once.
        model_id, model_revision: the target's identity in the report (default: from its spec).
    """

    roles: RoleSpecs
    config: str
    variants: tuple[Variant, ...]
    jailbreaks: tuple[str, ...]
    settings: AttackSettings = field(default_factory=AttackSettings)
    jailbreak_options: JailbreakOptions = field(default_factory=JailbreakOptions)
    dataset: str | None = None
    limit: int | None = None
    likelihood: str = DEFAULT_LIKELIHOOD
    n_boot: int = DEFAULT_N_BOOT
    seed: int = 0
    concurrency: int = DEFAULT_CONCURRENCY
    model_id: str | None = None
    model_revision: str | None = None

    def fixed(self) -> dict[str, Any]:
        """What ``run.json`` pins: everything that changes a model call or a verdict."""
        return {
            "roles": self.roles.resolved().as_dict(),
            "settings": asdict(self.settings),
            "jailbreak_options": asdict(self.jailbreak_options),
            "dataset": self.dataset,
        }


@dataclass(frozen=True)
class AttackRun:
    """What a run did: the report it wrote, and the calls made versus replayed from the journal."""

    out_dir: Path
    report: dict[str, Any]
    calls: dict[str, dict[str, int]]
    cells: list[dict[str, Any]]


def load_requests(config: str, dataset: str | None = None, limit: int | None = None) -> list[AttackRequest]:
    """The first ``limit`` requests of a config (packaged ``core``/``core_benign``, or a built dataset)."""
    from eh_bench.evaluation.lmeval import load_rows

    rows = load_rows(config, dataset)
    count = len(rows) if limit is None else min(limit, len(rows))
    out = []
    for index in range(count):
        row = rows[index]
        out.append(AttackRequest(
            id=str(row.get("id") or f"{config}:{index}"), prompt=str(row["prompt"]),
            cost=parse_level(row.get("cost")), severity=parse_level(row.get("severity")),
            context=str(row.get("context") or ""), source=str(row.get("source") or config),
        ))  # fmt: skip
    return out


def check_run_file(out_dir: Path, fixed: Mapping[str, Any]) -> None:
    """Write ``run.json`` for a new folder, or refuse a folder started with other settings."""
    path = out_dir / RUN_FILE
    if path.is_file():
        try:
            before = json.loads(path.read_text(encoding="utf-8"))["fixed"]
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{path}: not a run file of eh-bench attack run; use a new --out folder") from None
        current = json.loads(json.dumps(fixed))
        if before != current:
            diffs = [
                f"{section}.{key}: {before.get(section, {}).get(key)!r} -> {value!r}"
                for section, block in current.items() if isinstance(block, dict)
                for key, value in block.items() if (before.get(section) or {}).get(key) != value
            ] + [f"{k}: {before.get(k)!r} -> {v!r}" for k, v in current.items() if not isinstance(v, dict) and before.get(k) != v]  # fmt: skip
            raise ConfigError(
                f"{out_dir} was started with other settings ({'; '.join(diffs)}); rerun with the same "
                "settings to resume, or choose a new --out folder"
            )
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fixed": fixed}, indent=2) + "\n", encoding="utf-8")


def run_attack(
    plan: RunPlan,
    out_dir: Path,
    *,
    backends: Mapping[str, ChatBackend] | None = None,
    requests: Sequence[AttackRequest] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> AttackRun:
    """Attack the plan's requests, journaling every step in ``out_dir``, and write the outputs.

    Args:
        plan: what to run.
        out_dir: the output folder (created; resumed when it holds a journal of the same settings).
        backends: ready-made backends by spec (test doubles, models already loaded).
        requests: the requests to attack instead of the plan's config rows (recorded under its config).
        on_start: called once with the number of (request, attack) units to do.
        on_progress: called with 1 after each finished unit.

    Raises:
        ConfigError: bad settings, or a folder started with other settings.
        AttackInterrupted: a step raised; the finished steps are journaled.
    """
    if plan.concurrency < 1:
        raise ConfigError(f"concurrency must be >= 1 (got {plan.concurrency})")
    jailbreaks = [build_jailbreak(name, plan.jailbreak_options) for name in plan.jailbreaks]
    if requests is None:
        requests = load_requests(plan.config, plan.dataset, plan.limit)
    data = dataset_record(plan.dataset, None, [plan.config])  # before any model call: it may refuse
    check_run_file(out_dir, plan.fixed())
    journal = Journal(out_dir / JOURNAL_FILE)
    roles = Roles(plan.roles, backends=backends)
    _ = roles.guard, roles.judge  # a misconfigured guard or judge fails here, before any model call
    stats = CallStats()
    combos = [(v, j) for v in plan.variants for j in jailbreaks]
    if on_start is not None:
        on_start(len(requests) * len(combos))

    def one_request(request: AttackRequest) -> list[dict[str, Any]]:
        out = []
        for variant, jailbreak in combos:
            row = evaluate_request(request, variant, jailbreak, roles, plan.settings, journal, stats)
            out.append({**row, "config": plan.config})
            if on_progress is not None:
                on_progress(1)
        return out

    results = _run_all(one_request, requests, plan.concurrency, out_dir, journal)
    cells = []
    for index, (variant, jailbreak) in enumerate(combos):
        rows = [per_request[index] for per_request in results]
        summary = summarize_attack(rows, likelihood=plan.likelihood, n_boot=plan.n_boot, seed=plan.seed)
        cells.append(write_cell(out_dir, plan.config, variant, jailbreak.name, rows, summary,
                                guard=roles.specs.guard, parameters=jailbreak.parameters()))  # fmt: skip
    meta = {"model_id": plan.model_id, "model_revision": plan.model_revision, "dataset": data,
            "likelihood": plan.likelihood, "seed": plan.seed, "n_boot": plan.n_boot, "fixed": plan.fixed()}  # fmt: skip
    report = write_outputs(out_dir, meta, roles.records(), stats.as_dict())
    return AttackRun(out_dir, report, stats.as_dict(), cells)


def _run_all(
    work: Callable[[AttackRequest], list[dict[str, Any]]],
    requests: Sequence[AttackRequest],
    concurrency: int,
    out_dir: Path,
    journal: Journal,
) -> list[list[dict[str, Any]]]:
    """``work`` on every request, ``concurrency`` at a time, results in request order."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="attack")
    futures = [pool.submit(work, request) for request in requests]
    try:
        return [future.result() for future in futures]
    except EHBenchError:
        raise
    except Exception as exc:
        raise AttackInterrupted(
            f"the run stopped: {type(exc).__name__}: {exc}. {journal.appended} new steps are journaled in "
            f"{out_dir / JOURNAL_FILE}; run the same command again to resume"
        ) from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
