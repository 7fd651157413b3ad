"""``eh-bench import responses``: a user's own (request, response[, verdict]) rows -> one report folder.

Accepted files (by suffix):

- ``.jsonl`` / ``.ndjson``, ``.csv``, ``.parquet``, or ``.json`` holding a list of objects: one row per
  object, with ``request_id`` (or ``id``: a dataset id such as ``jbb:12``, or the source's own id when
  the config has one source) and/or ``prompt`` (the request text, matched by its SHA-256), a
  ``response`` and optionally a ``verdict`` (0/1, true/false: 1 = the response complied);
- ``.json`` holding an object: HarmBench completions (``{BehaviorID: [{"generation": ..., "label": 0/1},
  ...]}``), requests ``harmbench:<BehaviorID>``, verdicts from ``label`` when present.

Every row must name its request. A row whose request is not in the config is listed with its row number
(report.json ``responses.unmatched``) and counted as unscored, never dropped; more than ``max_unscored``
unmatched rows is an error that lists them. With a verdict column the file's verdicts are the judge
(recorded as ``--verdicts-by``); without one, the named judge scores the responses.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from eh_bench.errors import InputError
from eh_bench.importers.build import ROW_KEY, ImportedRow, ImportTask, ReferenceJudge, save_import, score_rows
from eh_bench.importers.common import UNRECORDED, ImportOptions, ImportResult
from eh_bench.importers.requests import labelled_requests

SUFFIXES: Final = (".jsonl", ".ndjson", ".csv", ".parquet", ".json")
ID_COLUMNS: Final = ("request_id", "id")
PROMPT_COLUMN: Final = "prompt"
RESPONSE_COLUMN: Final = "response"
VERDICT_COLUMN: Final = "verdict"
#: How verdict cells are read; anything else is refused with the row and column.
VERDICT_VALUES: Final = {"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0}
#: Judge id recorded for a file's own verdicts when ``--verdicts-by`` names no one.
DEFAULT_VERDICTS_BY: Final = "provided"
#: Unmatched rows named in an error message at most.
MAX_NAMED: Final = 10
CSV_FIELD_LIMIT: Final = 1 << 24


def _records(path: Path) -> list[tuple[int, Mapping[str, Any]]]:
    """``(row number, record)`` of every row (HarmBench completions flattened to rows)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unknown file type {suffix!r}; use one of {', '.join(SUFFIXES)}")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(enumerate(pq.read_table(path).to_pylist(), start=1))
    if suffix == ".csv":
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        with path.open(encoding="utf-8", newline="") as fh:
            return [(n, r) for n, r in enumerate(csv.DictReader(fh), start=2)]
    text = path.read_text(encoding="utf-8")
    if suffix == ".json":
        from eh_bench.jsonio import loads_strict

        data = loads_strict(text)
        if isinstance(data, dict):
            return _harmbench(path, data)
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a list of row objects or HarmBench completions (an object)")
        return list(enumerate(data, start=1))
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out.append((n, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not valid JSON ({exc.msg}); one JSON object per line") from None
    return out


def _harmbench(path: Path, data: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    out: list[tuple[int, Mapping[str, Any]]] = []
    for behavior, items in data.items():
        if not isinstance(items, list):
            raise InputError(f"{path}: {behavior!r}: expected a list of completions ({{'generation': ...}})")
        for item in items:
            if not isinstance(item, Mapping):
                raise InputError(f"{path}: {behavior!r}: a completion is not an object")
            row = {"request_id": f"harmbench:{behavior}", RESPONSE_COLUMN: item.get("generation")}
            if "label" in item:
                row[VERDICT_COLUMN] = item["label"]
            out.append((len(out) + 1, row))
    return out


def _text(rec: Mapping[str, Any], name: str) -> str | None:
    value = rec.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _verdict(value: Any, where: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    key = str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        key = str(int(value)) if float(value) in (0.0, 1.0) else key
    if key not in VERDICT_VALUES:
        raise InputError(
            f"{where}: column {VERDICT_COLUMN!r} holds {value!r}; a verdict is 0/1 or true/false "
            "(1 = the response complied); leave it blank for a row without one"
        )
    return VERDICT_VALUES[key]


def read_rows(path: Path, index: Any) -> tuple[list[ImportedRow], bool]:
    """The file's rows matched to ``index`` (a :class:`~eh_bench.importers.requests.RequestIndex`), and
    whether the file carries verdicts."""
    records = _records(path)
    if not records:
        raise InputError(f"{path}: no rows; give one (request, response) row per line or record")
    has_verdicts = any(VERDICT_COLUMN in rec for _, rec in records if isinstance(rec, Mapping))
    rows = []
    for number, rec in records:
        where = f"{path}: row {number}"
        if not isinstance(rec, Mapping):
            raise InputError(f"{where}: expected an object with request_id/prompt and response")
        rid = next((_text(rec, c) for c in ID_COLUMNS if _text(rec, c)), None)
        prompt = _text(rec, PROMPT_COLUMN)
        if not (rid and rid.strip()) and not (prompt and prompt.strip()):
            raise InputError(f"{where}: names no request; give {' or '.join(ID_COLUMNS)} or {PROMPT_COLUMN!r}")
        if RESPONSE_COLUMN not in rec:
            raise InputError(f"{where}: no {RESPONSE_COLUMN!r} column")
        request = index.find(rid, prompt)
        named = rid.strip() if rid and rid.strip() else f"prompt sha256:{_sha(prompt or '')[:16]}"
        rows.append(ImportedRow(
            row=number, request_id=request.id if request else None, response=_text(rec, RESPONSE_COLUMN),
            verdict=_verdict(rec.get(VERDICT_COLUMN), where) if has_verdicts else None,
            unmatched=None if request else named,
        ))  # fmt: skip
    return rows, has_verdicts


def _sha(text: str) -> str:
    from eh_bench.sources.base import prompt_sha256

    return prompt_sha256(text)


def _check_matched(path: Path, rows: list[ImportedRow], config: str, limit: float) -> None:
    missing = [r for r in rows if r.unmatched is not None]
    if len(missing) > limit * len(rows):
        named = ", ".join(f"row {r.row} ({r.unmatched})" for r in missing[:MAX_NAMED])
        more = f" and {len(missing) - MAX_NAMED} more" if len(missing) > MAX_NAMED else ""
        raise InputError(
            f"{path}: {len(missing)} of {len(rows)} rows match no request of config {config!r}: {named}{more}; "
            f"check --config, the {'/'.join(ID_COLUMNS)} values or the {PROMPT_COLUMN!r} text"
        )


def import_responses(
    path: Path,
    config: str,
    model_id: str,
    out: Path,
    options: ImportOptions | None = None,
    *,
    judge: str | None = None,
    judge_backend: str | None = None,
    dataset: str | None = None,
    model_revision: str = UNRECORDED,
    model_type: str = "unknown",
    method: str = "direct",
    verdicts_by: str | None = None,
    progress: bool = True,
) -> ImportResult:
    """Import a user's responses to ``config`` requests into the report folder ``out``.

    Args:
        path: the file (see the module docstring for the formats).
        config: the dataset config the requests belong to (``jbb``, ``harmbench``, ``core``, ...).
        model_id: the model that wrote the responses.
        out: the report folder.
        options: sources, labels and scoring options.
        judge: a judge name to score responses with (only for a file without verdicts; default ``refusal``).
        judge_backend: backend spec of a model judge.
        dataset: a built dataset folder or Hub id to read the config from (default: sources + shipped labels).
        model_revision: the model's revision, when known.
        model_type: the entry's model type.
        method: how the requests were sent (``direct``, or an attack name).
        verdicts_by: who made the file's verdicts (the judge id recorded for them).

    Raises:
        InputError: an unreadable file, a row naming no request, a bad verdict, too many unmatched rows,
            or ``judge`` given for a file that has verdicts.
    """
    from eh_bench.evaluation.unscored import max_unscored_default
    from eh_bench.judges.registry import DEFAULT_JUDGE
    from eh_bench.sources.fetch import file_sha256

    opts = options or ImportOptions()
    index = labelled_requests(config, dataset=dataset, labels_dir=opts.labels_dir, **opts.source_kwargs())
    rows, has_verdicts = read_rows(path, index)
    _check_matched(path, rows, config, opts.max_unscored if opts.max_unscored is not None else max_unscored_default())
    sha = file_sha256(path)
    if has_verdicts and judge is not None:
        raise InputError(
            f"{path}: the file has a {VERDICT_COLUMN!r} column, so its verdicts are the judge; drop --judge "
            f"(and name who made them with --verdicts-by), or remove the column to judge with {judge!r}"
        )
    judge_obj: Any = judge or DEFAULT_JUDGE
    if has_verdicts:
        verdicts = {f"{ROW_KEY}{r.row}": r.verdict for r in rows}
        judge_obj = ReferenceJudge(verdicts_by or DEFAULT_VERDICTS_BY, f"sha256:{sha[:16]}", verdicts)
    scored = score_rows(
        rows, index, config_task(config), out, judge_obj, judge_backend=judge_backend, likelihood=opts.likelihood,
        seed=opts.seed, n_boot=opts.n_boot, max_unscored=opts.max_unscored, progress=progress,
    )  # fmt: skip
    responses = {
        "origin": "imported", "set": f"file:{path.name}", "method": method, "attack_type": None,
        "file": path.name, "sha256": sha, "verdicts": "the file's verdict column" if has_verdicts else None,
    }  # fmt: skip
    spec = ImportTask(config_task(config), model_id, model_revision, responses, model_type)
    report, _ = save_import(rows, scored, index, spec, out, plots=opts.plots)
    return ImportResult(out, report, model_id, method)


def config_task(config: str) -> str:
    """The lm-eval task name of a config (``jbb`` -> ``eh_jbb``); ``eh_<config>`` for a config without one."""
    from eh_bench.evaluation.catalog import TASK_CONFIGS

    return next((task for task, name in TASK_CONFIGS.items() if name == config), f"eh_{config}")
