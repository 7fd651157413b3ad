"""A leaderboard store in a local directory: atomic writes (temp file + ``os.replace``) under an
exclusive ``fcntl.flock`` on ``DIR/.lock``, so any number of submitter processes can push at once."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from eh_bench.errors import InputError
from eh_bench.submission.schema import check_name
from eh_bench.submission.stores.base import (
    LOCK_FILE,
    REQUESTS,
    RESULTS,
    DuplicateEntryError,
    Record,
    Store,
    new_record,
    read_all,
    with_status,
)


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
