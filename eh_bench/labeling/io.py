"""Files of the labeller: requests to label in, label rows out, label sets read for agreement.

Inputs are canonical rows (see :mod:`eh_bench.sources`) in CSV, JSON-lines, JSON (a list) or parquet.
Outputs are CSVs with the label-file columns plus ``status`` and ``reason``
(:data:`eh_bench.labeling.labeller.OUTPUT_COLUMNS`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from eh_bench.atomic import atomic_open
from eh_bench.errors import InputError
from eh_bench.labeling.labeller import OUTPUT_COLUMNS, Outcome, Request
from eh_bench.sources.base import prompt_sha256
from eh_bench.tables import read_rows, read_text

#: File types :func:`read_requests` reads, by suffix (in any case: ``.CSV`` too).
REQUEST_SUFFIXES: Final = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet")


def _identity(record: Mapping[str, Any], where: str) -> tuple[str, str]:
    source, source_id = (str(record.get(k) or "").strip() for k in ("source", "source_id"))
    if source and source_id:
        return source, source_id
    ident = str(record.get("id") or "").strip()
    source, sep, source_id = ident.partition(":")
    if not (sep and source and source_id):
        raise InputError(
            f"{where}: no identity; give an `id` column (SOURCE:SOURCE_ID) or `source` and `source_id`"
        )
    return source, source_id


def _records(path: Path) -> list[tuple[str, Mapping[str, Any]]]:
    """``(where, record)`` for every record of a CSV, TSV, JSON-lines, JSON-list or parquet file.

    Text files go through :func:`eh_bench.tables.read_rows` (not UTF-8, a duplicated column, a ragged
    row or a row that is not an object is refused with file and line).
    """
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in REQUEST_SUFFIXES:
        raise InputError(f"{path}: unknown file type {suffix!r}; use one of {', '.join(REQUEST_SUFFIXES)}")
    if suffix == ".parquet":
        from eh_bench.dataset.schema import read_parquet

        return [(f"{path}: row {i + 1}", r) for i, r in enumerate(read_parquet(path))]
    return list(read_rows(path, "requests to label"))


def read_requests(path: Path | str, limit: int | None = None) -> list[Request]:
    """Read canonical rows to label from a CSV, JSON-lines, JSON or parquet file.

    Each row needs ``prompt`` and either ``id`` (``SOURCE:SOURCE_ID``) or ``source`` and ``source_id``;
    ``context`` is optional. A given ``prompt_sha256`` must match the prompt (it is computed when absent).

    Args:
        path: the input file.
        limit: keep only the first ``limit`` rows.

    Raises:
        InputError: unreadable or empty file, missing prompt or identity, a wrong ``prompt_sha256``, or
            a duplicated ``(source, source_id)``; the message names the row.
    """
    records = _records(Path(path))
    if not records:
        raise InputError(f"{path}: no rows to label (the file is empty or has only a header)")
    requests: list[Request] = []
    seen: dict[tuple[str, str], str] = {}
    for where, record in records[:limit]:
        if not isinstance(record, Mapping):
            raise InputError(f"{where}: expected an object with a `prompt`, got {type(record).__name__}")
        prompt = record.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise InputError(f"{where}: `prompt` is missing or empty; every row needs the request text")
        source, source_id = _identity(record, where)
        digest = prompt_sha256(prompt)
        given = str(record.get("prompt_sha256") or "").strip()
        if given and given != digest:
            raise InputError(
                f"{where}: prompt_sha256 {given} does not match the prompt (sha256 of the stripped UTF-8 "
                f"prompt is {digest}); fix the prompt or drop the column to have it computed"
            )
        if (source, source_id) in seen:
            raise InputError(f"{where}: {source}:{source_id} already appears at {seen[source, source_id]}")
        seen[source, source_id] = where
        context = record.get("context")
        requests.append(Request(source, source_id, prompt.strip(), digest, str(context or "").strip()))
    return requests


def write_outcomes(outcomes: Sequence[Outcome], path: Path | str, annotator: str) -> Path:
    """Write outcomes as a CSV with :data:`OUTPUT_COLUMNS` (one row per request, in order), atomically."""
    out = Path(path)
    with atomic_open(out, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=OUTPUT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(o.as_row(annotator) for o in outcomes)
    return out


def read_label_rows(path: Path | str) -> list[dict[str, str]]:
    """Rows of a label CSV, or of every ``*.csv`` in a folder (sorted by name), e.g. ``eh_bench/labels``.

    Raises:
        InputError: no such file or folder, an empty folder, or a CSV without ``prompt_sha256``.
    """
    where = Path(path)
    if where.is_dir():
        files = sorted(where.glob("*.csv"))
        if not files:
            raise InputError(f"{where}: the folder holds no .csv label files")
    elif where.is_file():
        files = [where]
    else:
        raise InputError(f"{where}: no such file or folder")
    rows: list[dict[str, str]] = []
    for file in files:
        header = next(csv.reader(io.StringIO(read_text(file, "a label file"), newline="")), [])
        if "prompt_sha256" not in [name.strip() for name in header]:
            raise InputError(f"{file}:1: no prompt_sha256 column; is this a label file?")
        rows.extend({k: str(v or "") for k, v in row.items()} for _, row in read_rows(file, "a label file"))
    return rows
