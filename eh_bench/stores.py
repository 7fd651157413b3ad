"""Leaderboard stores: where submitted entries live, with their review status.

Two areas, as in the Hugging Face leaderboard template: ``requests`` holds every submission as a
:class:`Record` (status ``PENDING`` -> ``VERIFIED`` or ``REJECTED``); ``results`` holds the verified
ones, which is all the leaderboard app reads. An entry is validated before it is stored, and a second
entry with the same :func:`~eh_bench.submission.entry_key` is refused as a duplicate.

- :class:`LocalStore` (a directory): atomic writes (temp file + ``os.replace``) under an exclusive
  ``fcntl.flock`` on ``DIR/.lock``, so any number of submitter processes can push at once.
- :class:`~eh_bench.hub_store.HubStore` (``hf://datasets/ORG/NAME``): a pair of Hub dataset repos,
  written with ``create_commit(parent_commit=...)`` and retried on conflict.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final, Literal, TypeVar, get_args

from eh_bench.errors import EHBenchError, InputError
from eh_bench.submission import (
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


class LocalStore(Store):
    """A directory store: ``DIR/requests/<name>.json`` and ``DIR/results/<name>.json``.

    Writes take an exclusive ``flock`` on ``DIR/.lock`` and replace files atomically, so concurrent
    submitters never lose or duplicate an entry, and readers (the app) never see a half-written file.
    Parsed records are cached by (path, mtime, size), so re-reading thousands of entries is cheap.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()
        self.uri = str(self.root)
        self._cache: dict[Path, tuple[tuple[int, int], Record]] = {}

    def _area(self, area: str) -> Path:
        folder = self.root / area
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _path(self, area: str, name: str) -> Path:
        folder = self._area(area)
        path = folder / f"{check_name(name)}.json"
        if path.resolve().parent != folder.resolve():
            raise InputError(f"entry name {name!r} escapes the store folder")
        return path

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @staticmethod
    def _write_atomic(path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _read(self, path: Path) -> Record:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        record = Record.from_bytes(path.read_bytes(), str(path))
        self._cache[path] = (stamp, record)
        return record

    def _read_area(self, area: str) -> list[Record]:
        folder = self.root / area
        if not folder.is_dir():
            return []
        paths = sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))
        return read_all(paths, self._read)

    def push(self, entry: Mapping[str, Any], submitted_by: str) -> Record:
        record = new_record(entry, submitted_by)
        with self._locked():
            path = self._path(REQUESTS, record.name)
            if path.exists():
                existing = self._read(path)
                raise DuplicateEntryError(
                    f"an entry for the same model revision, dataset version and configs, judge and likelihood is already "
                    f"stored as {existing.name} (status {existing.status}); change the revision or judge, "
                    "or ask a maintainer to reject the old one"
                )
            self._write_atomic(path, record.to_bytes())
        return record

    def set_status(self, name: str, status: str, reason: str | None = None) -> Record:
        with self._locked():
            path = self._path(REQUESTS, name)
            if not path.exists():
                raise InputError(f"no entry named {name!r} in {self.uri}; see `eh-bench submit list`")
            record = with_status(self._read(path), status, reason)
            result = self._path(RESULTS, name)
            if record.status == "VERIFIED":
                self._write_atomic(result, record.to_bytes())
            else:
                with contextlib.suppress(FileNotFoundError):
                    result.unlink()
            self._write_atomic(path, record.to_bytes())
        return record

    def records(self, status: str | None = None) -> list[Record]:
        return [r for r in self._read_area(REQUESTS) if status is None or r.status == status]

    def results(self) -> list[Record]:
        return [r for r in self._read_area(RESULTS) if r.status == "VERIFIED"]


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


def open_store(spec: str | Path, **kwargs: Any) -> Store:
    """``hf://datasets/ORG/NAME`` -> :class:`~eh_bench.hub_store.HubStore`; anything else -> a
    :class:`LocalStore` directory. Keyword arguments (token, cache_dir) go to a HubStore only."""
    text = str(spec)
    if text.startswith(HUB_PREFIX):
        from eh_bench.hub_store import HubStore

        return HubStore(text, **kwargs)
    return LocalStore(Path(text))
