"""The journal of a labelling run: rows written as they are made, so an interrupted run resumes.

``eh-bench label run ... --out OUT.csv`` appends each finished chunk of outcomes to ``OUT.csv.partial``
(flushed and synced), and only when every request has an outcome writes ``OUT.csv`` in input order,
atomically, and deletes the journal. An existing ``OUT.csv`` is therefore never truncated or touched
before the new one is complete. Run again after an interruption, the same command reads the journal,
keeps its labelled rows (an unlabelled row is asked again) and labels only the rest; a journal written
by another annotator (backend) is refused rather than mixed in.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

from eh_bench.atomic import atomic_open
from eh_bench.errors import InputError, OutputError
from eh_bench.labeling.labeller import OUTPUT_COLUMNS, Outcome, Request
from eh_bench.tables import read_text

#: Appended to the output's name for the journal.
SUFFIX: Final = ".partial"
LABELLED: Final = "labelled"

Key = tuple[str, str, str]


def journal_path(out: Path) -> Path:
    """``OUT.partial`` beside ``OUT``."""
    return out.with_name(out.name + SUFFIX)


def request_key(request: Request) -> Key:
    """What identifies a request across runs: source, source_id and the prompt's hash."""
    return request.source, request.source_id, request.prompt_sha256


def _row_key(row: Mapping[str, str]) -> Key:
    return row.get("source", ""), row.get("source_id", ""), row.get("prompt_sha256", "")


class Journal:
    """The journal of one run: rows already made (read on open) and an append handle.

    Args:
        out: the final output CSV.
        annotator: this run's annotator (``llm:SPEC``); a journal by another one is refused.

    Raises:
        InputError: the journal is not one of these runs' files or was written by another annotator.
    """

    def __init__(self, out: Path, annotator: str) -> None:
        self.out = out
        self.path = journal_path(out)
        self.annotator = annotator
        self.done: dict[Key, dict[str, str]] = {}
        if self.path.is_file():
            self._read()

    def _read(self) -> None:
        reader = csv.DictReader(io.StringIO(read_text(self.path, "a labelling journal"), newline=""))
        if tuple(reader.fieldnames or ()) != OUTPUT_COLUMNS:
            raise InputError(
                f"{self.path}: not the journal of an `eh-bench label` run (its header differs); move it away"
            )
        for row in reader:
            if None in row or any(value is None for value in row.values()):
                continue  # the last line, cut short by the interruption
            if row["annotator"] != self.annotator:
                raise InputError(
                    f"{self.path}:{reader.line_num}: labels by {row['annotator']}, this run is {self.annotator}; "
                    f"resume with the same --backend, or delete {self.path} to start over"
                )
            if row["status"] == LABELLED:
                self.done[_row_key(row)] = row

    def todo(self, requests: Sequence[Request]) -> list[Request]:
        """The requests without a labelled row in the journal."""
        return [r for r in requests if request_key(r) not in self.done]

    def append(self, outcomes: Iterable[Outcome]) -> None:
        """Add finished outcomes to the journal (written and synced before this returns)."""
        rows = [o.as_row(self.annotator) for o in outcomes]
        try:
            size = self.path.stat().st_size if self.path.is_file() else 0
            cut = size > 0 and _last_byte(self.path) != b"\n"
            with self.path.open("a", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=OUTPUT_COLUMNS, lineterminator="\n")
                if size == 0:
                    writer.writeheader()
                elif cut:
                    handle.write("\n")  # end the line an interruption cut short (it is skipped on reading)
                writer.writerows(rows)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise OutputError(
                f"{self.path}: could not be written ({exc.strerror or exc}); the rows labelled so far are kept "
                f"there, run the same command again to resume"
            ) from None
        for row in rows:
            self.done[_row_key(row)] = row

    def finish(self, requests: Sequence[Request]) -> list[dict[str, str]]:
        """Write the output in input order (one row per request) atomically, then delete the journal."""
        rows = [self.done[request_key(r)] for r in requests]
        with atomic_open(self.out, newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=OUTPUT_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        self.path.unlink(missing_ok=True)
        return rows


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


__all__ = ["SUFFIX", "Journal", "journal_path", "request_key"]
