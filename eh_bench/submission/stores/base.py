"""What every leaderboard store shares: the :class:`Record` of a submission, its statuses and the
:class:`Store` interface.

Two areas, as in the Hugging Face leaderboard template: ``requests`` holds every submission as a
:class:`Record` (status ``PENDING`` -> ``VERIFIED`` or ``REJECTED``); ``results`` holds the verified
ones, which is all the leaderboard app reads. An entry is validated before it is stored, and a second
entry with the same :func:`~eh_bench.submission.schema.entry_key` is refused as a duplicate.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Final, Literal, TypeVar, get_args

from eh_bench.errors import EHBenchError, InputError
from eh_bench.submission.schema import (
    MAX_ENTRY_BYTES,
    EntryValidationError,
    check_entry,
    check_name,
    entry_key,
    entry_name,
    parse_entry,
)

Status = Literal["PENDING", "VERIFIED", "REJECTED"]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)
RECORD_VERSION: Final = 1
REQUESTS: Final = "requests"
RESULTS: Final = "results"
LOCK_FILE: Final = ".lock"
HUB_PREFIX: Final = "hf://"
MAX_USER_CHARS: Final = 128

logger = logging.getLogger(__name__)
T = TypeVar("T")


class StoreError(EHBenchError):
    """A store could not be read or written (corrupt record, too many conflicting writers)."""


class DuplicateEntryError(InputError):
    """An entry with the same model revision, dataset version and configs, judge and likelihood is already stored."""


def now_iso() -> str:
    """The current UTC time, ISO-8601 with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Record:
    """A stored submission: the entry plus who sent it, when, and its review status."""

    name: str
    status: Status
    submitted_by: str
    submitted_time: str
    entry: dict[str, Any] = field(repr=False)
    updated_time: str | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as stored (``record_version`` first)."""
        return {
            "record_version": RECORD_VERSION,
            "name": self.name,
            "status": self.status,
            "submitted_by": self.submitted_by,
            "submitted_time": self.submitted_time,
            "updated_time": self.updated_time,
            "reason": self.reason,
            "key": list(entry_key(self.entry)),
            "entry": self.entry,
        }

    def to_bytes(self) -> bytes:
        """UTF-8 JSON, NaN refused."""
        return (json.dumps(self.to_json(), indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Record:
        """Parse and re-validate a stored record; :class:`StoreError` when it is not a valid record."""
        try:
            raw = parse_entry(data, where, max_bytes=2 * MAX_ENTRY_BYTES)
        except EntryValidationError as exc:
            raise StoreError(f"{where}: corrupt record: {exc.issues[0]}") from None
        if not isinstance(raw, dict) or raw.get("record_version") != RECORD_VERSION:
            raise StoreError(f"{where}: not a version-{RECORD_VERSION} leaderboard record")
        entry = raw.get("entry")
        issues = check_entry(entry)
        if issues:
            raise StoreError(f"{where}: stored entry is invalid: {issues[0]}")
        assert isinstance(entry, dict)
        status = raw.get("status")
        if status not in STATUSES or raw.get("name") != entry_name(entry):
            raise StoreError(f"{where}: bad status {status!r} or name that does not match the entry")
        return cls(
            name=str(raw["name"]),
            status=status,
            submitted_by=str(raw.get("submitted_by", "")),
            submitted_time=str(raw.get("submitted_time", "")),
            entry=entry,
            updated_time=raw.get("updated_time"),
            reason=raw.get("reason"),
        )


def new_record(entry: Mapping[str, Any], submitted_by: str) -> Record:
    """Validate ``entry`` and wrap it as a ``PENDING`` record (raises :class:`EntryValidationError`)."""
    issues = check_entry(entry)
    if issues:
        raise EntryValidationError("entry", issues)
    user = " ".join(str(submitted_by).split())[:MAX_USER_CHARS] or "anonymous"
    return Record(entry_name(entry), "PENDING", user, now_iso(), dict(entry))


def check_status(status: str) -> Status:
    """``status`` when it is one of :data:`STATUSES`, else :class:`InputError` listing them."""
    if status not in STATUSES:
        raise InputError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    return status


def with_status(record: Record, status: str, reason: str | None) -> Record:
    """A copy of ``record`` with a new status; only ``PENDING`` -> ``VERIFIED``/``REJECTED`` and
    ``VERIFIED`` <-> ``REJECTED`` (re-review) are allowed."""
    if status not in STATUSES or status == "PENDING":
        raise InputError(f"status {status!r} cannot be set; use VERIFIED or REJECTED")
    new_status: Status = "VERIFIED" if status == "VERIFIED" else "REJECTED"
    clean = " ".join(reason.split())[:500] if reason else None
    return replace(record, status=new_status, reason=clean, updated_time=now_iso())


class Store(ABC):
    """Where leaderboard records live. Writers go through :meth:`push` and :meth:`set_status` only."""

    uri: str

    @abstractmethod
    def push(self, entry: Mapping[str, Any], submitted_by: str) -> Record:
        """Validate and store ``entry`` as PENDING; :class:`DuplicateEntryError` if its key is taken."""

    @abstractmethod
    def set_status(self, name: str, status: str, reason: str | None = None) -> Record:
        """Review a record: VERIFIED copies it to the results area, REJECTED removes it from there."""

    @abstractmethod
    def records(self, status: str | None = None) -> list[Record]:
        """Every submitted record (optionally only those with ``status``), sorted by name."""

    @abstractmethod
    def results(self) -> list[Record]:
        """The verified records: what the leaderboard shows."""

    def get(self, name: str) -> Record:
        """One submitted record by name."""
        check_name(name)
        for record in self.records():
            if record.name == name:
                return record
        raise InputError(f"no entry named {name!r} in {self.uri}; see `eh-bench submit list --store {self.uri}`")


def read_all(items: list[T], read: Callable[[T], Record]) -> list[Record]:
    """``read(item)`` for each item, skipping (and logging) records that fail validation, so one
    corrupt file never hides the others and an invalid record is never shown."""
    out = []
    for item in items:
        try:
            out.append(read(item))
        except StoreError as exc:
            logger.warning("skipping invalid record: %s", exc)
    return out
