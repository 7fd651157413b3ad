"""A leaderboard store in a local directory: atomic writes (temp file + ``os.replace``) under an
exclusive ``fcntl.flock`` on ``DIR/.lock``, so any number of submitter processes can push at once, and a
results index (:mod:`eh_bench.submission.stores.index`) so that reading the verified records does not
re-validate each of them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from eh_bench.atomic import write_bytes
from eh_bench.errors import InputError
from eh_bench.submission.schema import check_name
from eh_bench.submission.stores.base import (
    LOCK_FILE,
    REQUESTS,
    RESULTS,
    DuplicateEntryError,
    Record,
    Store,
    StoreError,
    check_status,
    new_record,
    read_all,
    with_status,
)
from eh_bench.submission.stores.index import INDEX_FILE, ResultsIndex, line, stamp_of, trusted_record

#: Everything a store writes at its top level: none of them may be a link to somewhere else.
OWN_PATHS: Final = (REQUESTS, RESULTS, LOCK_FILE, INDEX_FILE)


class LocalStore(Store):
    """A directory store: ``DIR/requests/<name>.json`` and ``DIR/results/<name>.json``.

    Writes take an exclusive ``flock`` on ``DIR/.lock`` and replace files atomically, so concurrent
    submitters never lose or duplicate an entry, and readers (the app) never see a half-written file.
    Parsed records are cached by (path, mtime, size), so re-reading thousands of entries is cheap, and
    :meth:`set_status` logs every change of ``results/`` in ``DIR/results.index.jsonl`` with the record it
    validated, which :meth:`results` trusts while the file is unchanged.

    Nothing inside the store may be a symbolic link (``requests/``, ``results/``, ``.lock``, the index,
    a record file): a link would let the store read or write outside its folder, so it is refused
    (:class:`StoreError`; a linked record file is skipped like an invalid one). The store folder
    itself may be reached through a link.

    Raises:
        StoreError: ``root`` is a file.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()
        self.uri = str(self.root)
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root}: is a file, not a folder; --store takes a store folder (or hf://...)")
        self._cache: dict[Path, tuple[tuple[int, int], Record]] = {}
        self._index = ResultsIndex(self.root / INDEX_FILE)

    def check_exists(self) -> None:
        """Refuse a store folder that does not exist (listing or reviewing a typo must not show 0 entries)."""
        if not self.root.is_dir():
            raise StoreError(
                f"{self.root}: no such store folder; check --store (a folder written by `eh-bench submit push`)"
            )

    def _own(self, name: str) -> Path:
        """``root / name``, refused when it is a symbolic link."""
        path = self.root / name
        if path.is_symlink():
            raise StoreError(
                f"{path}: is a symbolic link; a store keeps everything inside its own folder - replace the "
                "link with a real folder or file"
            )
        return path

    def _area(self, area: str) -> Path:
        folder = self._own(area)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{folder}: cannot be created ({exc.strerror or exc}); is the store writable?") from None
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

        for name in OWN_PATHS:
            self._own(name)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = open(self.root / LOCK_FILE, "a+b")  # noqa: SIM115 (closed below, after the unlock)
        except OSError as exc:
            raise StoreError(
                f"{self.root}: cannot take the store's lock ({exc.strerror or exc}); is the store writable?"
            ) from None
        with handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @staticmethod
    def _write_atomic(path: Path, data: bytes) -> None:
        """Replace ``path`` atomically, readable by the app's user (see :mod:`eh_bench.atomic`)."""
        write_bytes(path, data)

    def _read(self, path: Path) -> Record:
        if path.is_symlink():
            raise StoreError(f"{path}: is a symbolic link; a record must be a file inside the store")
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        record = Record.from_bytes(path.read_bytes(), str(path))
        self._cache[path] = (stamp, record)
        return record

    def _read_area(self, area: str) -> list[Record]:
        folder = self._own(area)
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
            self._index_change(name, result if record.status == "VERIFIED" else None, record)
            self._write_atomic(path, record.to_bytes())
        return record

    def _index_change(self, name: str, result: Path | None, record: Record) -> None:
        """Log one change of ``results/`` (under the lock); a store without an index gets a full one."""
        index = self._index
        if not index.path.is_file():
            self._rebuild_index()
            return
        index.load()
        index.append([line(name, stamp_of(result), record) if result is not None else line(name, None, None)])
        index.load()
        if index.needs_compaction():
            live = [(n, stamp, trusted_record(raw)) for n, (stamp, raw) in index.entries.items()]
            index.rewrite((n, stamp, rec) for n, stamp, rec in live if rec is not None)

    def _rebuild_index(self) -> int:
        folder = self.root / RESULTS
        paths = sorted(p for p in folder.glob("*.json") if not p.name.startswith(".")) if folder.is_dir() else []
        live = [(r.name, stamp_of(folder / f"{r.name}.json"), r) for r in read_all(paths, self._read)
                if r.status == "VERIFIED"]  # fmt: skip
        self._index.rewrite(live)
        return len(live)

    def reindex(self) -> int:
        """Validate every results file once and write the index afresh; returns the records indexed.

        For a store written before the index existed, or changed by hand (the app itself never writes).
        """
        with self._locked():
            return self._rebuild_index()

    def records(self, status: str | None = None) -> list[Record]:
        if status is not None:
            check_status(status)
        return [r for r in self._read_area(REQUESTS) if status is None or r.status == status]

    def results(self) -> list[Record]:
        folder = self._own(RESULTS)
        if not folder.is_dir():
            return []
        self._own(INDEX_FILE)
        indexed = self._index.load()

        def read(path: Path) -> Record:
            hit = indexed.get(path.stem)
            if hit is not None:
                stamp = stamp_of(path)
                cached = self._cache.get(path)
                if cached and cached[0] == stamp:
                    return cached[1]
                record = trusted_record(hit[1]) if hit[0] == stamp else None
                if record is not None and record.name == path.stem:
                    self._cache[path] = (stamp, record)
                    return record
            return self._read(path)

        # Names sorted as strings (not Path objects): a 5,000-entry store is listed in milliseconds.
        names = sorted(e.name for e in os.scandir(folder) if e.name.endswith(".json") and not e.name.startswith("."))
        return [r for r in read_all([folder / n for n in names], read) if r.status == "VERIFIED"]
