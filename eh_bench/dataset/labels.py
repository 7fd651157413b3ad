"""Label files (``eh_bench/labels/<source>.csv``): read, validate and join onto source rows.

A label row is keyed by ``(source, source_id)`` and carries the ``prompt_sha256`` of the prompt it
judged. It is joined only when that hash equals the source row's; a label whose prompt changed is
reported and left out, so a row is never labelled with a judgement made for other text.

From rubric v2 on, a row's cost must follow the factor rule (:func:`eh_bench.rubric.cost_from_factors`)
unless its optional ``cost_override`` column gives the reason for the exception.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from eh_bench.errors import LabelError
from eh_bench.rubric import Label, cost_rule_problem, validate_label
from eh_bench.sources.base import Row
from eh_bench.tables import read_rows, read_text

#: The packaged label folder.
DEFAULT_LABELS_DIR: Final = Path(__file__).resolve().parent.parent / "labels"
#: Columns every label file must have, in this order when written.
LABEL_COLUMNS: Final = (
    "source", "source_id", "prompt_sha256", "expertise", "equipment", "time", "legality", "cost",
    "severity", "harm_category", "rationale", "annotator", "rubric_version",
)  # fmt: skip
#: Columns a label file may add: ``cost_override`` (why a cost departs from the factor rule).
OPTIONAL_LABEL_COLUMNS: Final = ("cost_override",)
#: Columns of the shipped label files, in order.
SHIPPED_LABEL_COLUMNS: Final = (
    "source", "source_id", "prompt_sha256", "expertise", "equipment", "time", "legality", "cost",
    "severity", "harm_category", "rationale", "cost_override", "annotator", "rubric_version",
)  # fmt: skip
_SHA256_RE: Final = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class LabelRecord:
    """One validated label-file row."""

    source: str
    source_id: str
    prompt_sha256: str
    label: Label
    annotator: str
    where: str
    cost_override: str = ""


@dataclass
class JoinReport:
    """What joining one source's labels did."""

    source: str
    rows: int = 0
    labelled: int = 0
    unlabelled: list[str] = field(default_factory=list)
    mismatched: list[dict[str, str]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    label_file: str | None = None


def label_path(source: str, labels_dir: Path | str | None = None) -> Path:
    """Where the label file of ``source`` lives (``<labels_dir>/<source>.csv``)."""
    return Path(labels_dir if labels_dir is not None else DEFAULT_LABELS_DIR) / f"{source}.csv"


def read_label_file(path: Path, source: str) -> dict[str, LabelRecord]:
    """Validate a label file and return its rows by ``source_id``.

    Raises:
        LabelError: naming ``file:line:field`` for a missing column, a wrong source, an empty id, a
            repeated id, a malformed hash, an out-of-range level or an unknown harm category.
    """
    records: dict[str, LabelRecord] = {}
    text = read_text(path, "a label file")  # bytes that are not UTF-8 are named by line
    header = [name.strip() for name in next(csv.reader(io.StringIO(text, newline="")), [])]
    for column in LABEL_COLUMNS:
        if column not in header:
            raise LabelError(
                f"{path}:1:{column}: header lacks column {column!r}; a label file has the columns "
                f"{','.join(LABEL_COLUMNS)}"
            )
    # read_rows refuses a column named twice and a row with more or fewer fields than the header
    for where, rec in read_rows(path, "a label file"):
        record = _record(rec, source, where)
        previous = records.get(record.source_id)
        if previous is not None:
            raise LabelError(
                f"{where}:source_id: {record.source_id!r} is labelled twice (also at {previous.where}); "
                "keep one row per source_id"
            )
        records[record.source_id] = record
    return records


def _record(rec: dict[str, str], source: str, where: str) -> LabelRecord:
    got_source = (rec.get("source") or "").strip()
    if got_source != source:
        raise LabelError(f"{where}:source: is {got_source!r}, expected {source!r} (one label file per source)")
    source_id = (rec.get("source_id") or "").strip()
    if not source_id:
        raise LabelError(f"{where}:source_id: is empty; give the source's own id of the request")
    sha = (rec.get("prompt_sha256") or "").strip().lower()
    if not _SHA256_RE.match(sha):
        raise LabelError(
            f"{where}:prompt_sha256: {sha!r} is not a 64-digit hex SHA-256; "
            "use eh_bench.sources.prompt_sha256(prompt)"
        )
    annotator = (rec.get("annotator") or "").strip()
    if not annotator:
        raise LabelError(f"{where}:annotator: is empty; name who (or what) made the label")
    try:
        label = validate_label(rec, where=where)
    except LabelError as exc:
        raise LabelError(_field_first(str(exc), where)) from None
    cost_override = (rec.get("cost_override") or "").strip()
    problem = cost_rule_problem(label, cost_override)
    if problem is not None:
        column = "cost_override" if problem.startswith("cost_override") else "cost"
        raise LabelError(f"{where}:{column}: {problem}")
    return LabelRecord(source, source_id, sha, label, annotator, where, cost_override)


def _field_first(message: str, where: str) -> str:
    """Turn ``"f.csv:3: cost is 0, ..."`` into ``"f.csv:3:cost: cost is 0, ..."`` (file:line:field)."""
    rest = message[len(where) + 2 :] if message.startswith(f"{where}: ") else message
    name = rest.split(" ", 1)[0]
    return f"{where}:{name}: {rest}"


def join_labels(rows: Iterable[Row], records: dict[str, LabelRecord], source: str) -> tuple[list[Row], JoinReport]:
    """Attach labels to rows by ``source_id``, checking ``prompt_sha256``.

    Returns:
        ``(rows, report)``: every input row (labelled ones carry the label columns; others keep None)
        and a report listing unlabelled ids, hash mismatches (left out) and labels with no source row.
    """
    report = JoinReport(source=source)
    out: list[Row] = []
    seen: set[str] = set()
    for row in rows:
        report.rows += 1
        seen.add(row.source_id)
        record = records.get(row.source_id)
        if record is not None and record.prompt_sha256 != row.prompt_sha256:
            report.mismatched.append(
                {
                    "source_id": row.source_id,
                    "where": record.where,
                    "label_prompt_sha256": record.prompt_sha256,
                    "source_prompt_sha256": row.prompt_sha256,
                }
            )
            record = None
        if record is None:
            report.unlabelled.append(row.source_id)
            out.append(row)
            continue
        report.labelled += 1
        out.append(apply_label(row, record.label, record.annotator))
    report.orphans = sorted(set(records) - seen)
    return out, report


def apply_label(row: Row, label: Label, annotator: str) -> Row:
    """A copy of ``row`` carrying ``label``."""
    return dataclasses.replace(
        row,
        cost=label.cost,
        severity=label.severity,
        expertise=label.expertise,
        equipment=label.equipment,
        time=label.time,
        legality=label.legality,
        harm_category=label.harm_category,
        rationale=label.rationale,
        annotator=annotator,
        rubric_version=label.rubric_version,
    )
