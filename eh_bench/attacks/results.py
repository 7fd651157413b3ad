"""The output folder of ``eh-bench attack run``: what is written where, and reading it back.

::

    DIR/run.json                         the settings that fix every answer (a resume must match them)
    DIR/journal.jsonl                    every model call and verdict (resuming; see journal.py)
    DIR/rows/CONFIG__VARIANT__JB.jsonl   one result row per request (original, sub-tasks with cost and
                                         severity, prompts sent, responses, verdicts, guard, calls):
                                         everything needed to re-judge without re-running
    DIR/summaries/CONFIG__VARIANT__JB.json   the summary of that cell (scores.summarize_attack)
    DIR/attacks.json                     one leaderboard ``attacks`` row per cell
    DIR/report.json, DIR/report.md       the report (schema of eh-bench's reports; its ``attack`` section
                                         holds the roles with revisions, the settings and the summaries)

The report carries no headline task (``tasks`` is empty), so ``eh-bench submit build EVAL_DIR DIR``
adds the attack rows to the entry of the target's ordinary evaluation with the same judge.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from eh_bench import __version__
from eh_bench.attacks.scores import entry_row
from eh_bench.attacks.table import attack_matrix, render_markdown
from eh_bench.errors import InputError
from eh_bench.report.document import REPORT_JSON, REPORT_MD, REPORT_VERSION, read_report
from eh_bench.submission.entries import ATTACKS_FILE

RUN_FILE: Final = "run.json"
ROWS_DIR: Final = "rows"
SUMMARIES_DIR: Final = "summaries"
REPORT_KIND: Final = "attack"
CELL_SEPARATOR: Final = "__"


def cell_name(config: str, variant: str, jailbreak: str) -> str:
    """File stem of one (config, variant, jailbreak) cell.

    >>> cell_name("core", "cost+monitor", "direct")
    'core__cost+monitor__direct'
    """
    return CELL_SEPARATOR.join((config, variant, jailbreak))


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_cell(
    out_dir: Path,
    config: str,
    variant: str,
    jailbreak: str,
    rows: Iterable[Mapping[str, Any]],
    summary: Mapping[str, Any],
    *,
    guard: str,
    parameters: Mapping[str, Any],
) -> dict[str, Any]:
    """Write one cell's rows and summary; returns the summary document."""
    name = cell_name(config, variant, jailbreak)
    lines = "".join(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n" for row in rows)
    write_atomic(out_dir / ROWS_DIR / f"{name}.jsonl", lines)
    doc = {"config": config, "variant": variant, "jailbreak": jailbreak, "guard": guard,
           "jailbreak_parameters": dict(parameters), **summary}  # fmt: skip
    write_atomic(out_dir / SUMMARIES_DIR / f"{name}.json", _json(doc))
    return doc


def read_cells(out_dir: Path) -> list[dict[str, Any]]:
    """Every cell summary in a folder, sorted by config, variant and jailbreak."""
    folder = out_dir / SUMMARIES_DIR
    if not folder.is_dir():
        raise InputError(f"{out_dir}: no {SUMMARIES_DIR}/ folder; give a folder written by `eh-bench attack run`")
    cells = []
    for path in sorted(folder.glob("*.json")):
        try:
            cells.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise InputError(f"{path}: not valid JSON ({exc}); rerun `eh-bench attack run` into {out_dir}") from None
    return cells


def read_rows(out_dir: Path, config: str, variant: str, jailbreak: str) -> list[dict[str, Any]]:
    """The result rows of one cell."""
    path = out_dir / ROWS_DIR / f"{cell_name(config, variant, jailbreak)}.jsonl"
    if not path.is_file():
        raise InputError(f"{path}: no such result file; run that attack first")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_report(
    meta: Mapping[str, Any], roles: Mapping[str, Any], calls: Mapping[str, Any], cells: list[dict[str, Any]]
) -> dict[str, Any]:
    """The report.json of an attack folder (see the module docstring).

    Args:
        meta: the run's ``model_id``, ``model_revision``, ``dataset`` (its report record),
            ``likelihood``, ``seed``, ``n_boot`` and ``fixed`` settings.
        roles: the role records (:meth:`~eh_bench.attacks.roles.Roles.records`).
        calls: calls made and replayed, by role.
        cells: the cell summaries of the folder.
    """
    from eh_bench.likelihood import get_likelihood

    target, judge = roles["target"], roles["judge"]
    return {
        "report_version": REPORT_VERSION,
        "kind": REPORT_KIND,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "eh_bench_version": __version__,
        "model": {"id": meta["model_id"] or target["id"], "revision": meta["model_revision"] or target["revision"],
                  "source": "cli" if meta["model_id"] else "attack"},
        "dataset": dict(meta["dataset"]),
        "judge": {"id": judge["id"], "revision": judge["revision"], "backend": judge["backend"]},
        "likelihood": get_likelihood(meta["likelihood"]).to_dict(),
        "lm_eval": None,
        "seed": meta["seed"],
        "n_boot": meta["n_boot"],
        "tasks": {},
        "group": None,
        "benign": None,
        "attack": {"roles": dict(roles), "fixed": meta["fixed"], "calls": dict(calls), "cells": cells},
        "files": {"journal": "journal.jsonl", "run": RUN_FILE, "attacks": ATTACKS_FILE,
                  "rows": [f"{ROWS_DIR}/{cell_name(c['config'], c['variant'], c['jailbreak'])}.jsonl" for c in cells]},
    }


def write_outputs(
    out_dir: Path, meta: Mapping[str, Any], roles: Mapping[str, Any], calls: Mapping[str, Any]
) -> dict[str, Any]:
    """Rebuild attacks.json, report.json and report.md from every cell in the folder (``meta``: see
    :func:`build_report`)."""
    cells = read_cells(out_dir)
    rows = [entry_row(c, variant=c["variant"], jailbreak=c["jailbreak"], config=c["config"], guard=c["guard"])
            for c in cells]  # fmt: skip
    write_atomic(out_dir / ATTACKS_FILE, _json(rows))
    report = build_report(meta, roles, calls, cells)
    write_atomic(out_dir / REPORT_JSON, _json(report))
    header = [
        "# eh-bench attack report", "",
        f"- target: `{roles['target']['spec']}`; attacker: `{roles['attacker']['spec']}`; "
        f"monitor: `{roles['monitor']['spec']}`",
        f"- judge: `{roles['judge']['revision']}`; usefulness: `{roles['usefulness']['revision']}`",
        f"- guard: `{roles['guard']['revision']}`",
        f"- {report['created']}, eh-bench {__version__}", "", "",
    ]  # fmt: skip
    write_atomic(out_dir / REPORT_MD, "\n".join(header) + render_markdown(attack_matrix(cells)))
    return report


def read_attack_report(out_dir: Path) -> dict[str, Any]:
    """The report.json of an attack folder (through the one report reader), refusing other reports."""
    report = read_report(out_dir)
    if report.get("kind") != REPORT_KIND:
        raise InputError(f"{out_dir / REPORT_JSON}: not an attack report; give a folder written by `eh-bench attack run`")
    return report
