"""One verdict cache for every judge: SQLite (stdlib ``sqlite3``, WAL mode), keyed by content.

The key is the sha256 of (judge id, judge revision, prompt, context, response), so a changed prompt
template, judge model or refusal list (all part of the revision) never reuses an old verdict. Only
*scored* verdicts are stored: an unscored one (parse error, judge outage) is judged again next time.

Default file: ``~/.cache/eh-bench/judge_cache.sqlite``; ``EH_CACHE_DIR`` replaces ``~/.cache/eh-bench``.

:func:`judge_cached` is the entry point: bulk lookup, one batch of misses to the judge (in chunks,
with a progress bar), a write per chunk, verdicts back in order, with hit/miss counts.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from types import TracebackType
from typing import Final

from eh_bench.errors import ConfigError, EHBenchError
from eh_bench.judges.base import Judge, JudgeItem, Verdict

ENV_CACHE_DIR: Final = "EH_CACHE_DIR"
DEFAULT_CACHE_DIR: Final = "~/.cache/eh-bench"
CACHE_FILENAME: Final = "judge_cache.sqlite"
#: Misses are sent to the judge in chunks of this many items: one progress step and one cache
#: transaction per chunk. Large enough to keep a batched or concurrent backend busy.
DEFAULT_CHUNK_SIZE: Final = 64
#: Keys per ``SELECT ... IN (...)`` statement (below SQLite's bound-parameter limit).
_LOOKUP_BATCH: Final = 500
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS verdicts (
    key      BLOB PRIMARY KEY,
    judge_id TEXT NOT NULL,
    revision TEXT NOT NULL,
    success  REAL NOT NULL,
    reason   TEXT,
    raw      TEXT
) WITHOUT ROWID
"""


def default_cache_path() -> Path:
    """``$EH_CACHE_DIR/judge_cache.sqlite``, else ``~/.cache/eh-bench/judge_cache.sqlite``."""
    base = os.environ.get(ENV_CACHE_DIR) or DEFAULT_CACHE_DIR
    return Path(base).expanduser() / CACHE_FILENAME


def cache_key(judge_id: str, revision: str, item: JudgeItem) -> bytes:
    """sha256 (32 bytes) of judge id, revision, prompt, context and response, each length-prefixed.

    Length prefixes make the encoding unambiguous (no field's content can imitate a boundary), and a
    missing context (``None``) differs from an empty one.
    """
    parts = (judge_id, revision, item.prompt, item.context, item.response)
    payload = "".join("-" if part is None else f"{len(part)}:{part}" for part in parts)
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).digest()


@dataclass
class CacheStats:
    """Counts from :func:`judge_cached` calls.

    Attributes:
        items: verdicts requested.
        hits: verdicts found in the cache.
        misses: verdicts not found (duplicates within one call included).
        judged: distinct items sent to the judge.
        judge_calls: ``judge.judge`` calls made (one per chunk).
        stored: verdicts written to the cache.
        unscored: unscored verdicts returned by the judge (never stored).
        bypassed: items of non-cacheable judges, judged directly.
    """

    items: int = 0
    hits: int = 0
    misses: int = 0
    judged: int = 0
    judge_calls: int = 0
    stored: int = 0
    unscored: int = 0
    bypassed: int = 0

    def add(self, other: CacheStats) -> None:
        """Add ``other``'s counts to these."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict (for report.json)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _storable(text: str | None) -> str | None:
    """``text`` with lone surrogates (possible in decoded JSON) replaced, as SQLite needs valid UTF-8."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


class CachedVerdicts(list[Verdict]):
    """The verdicts of one :func:`judge_cached` call, in item order, with that call's :class:`CacheStats`."""

    def __init__(self, verdicts: Iterable[Verdict], stats: CacheStats) -> None:
        super().__init__(verdicts)
        self.stats = stats


class JudgeCache:
    """The SQLite verdict store. Use as a context manager or call :meth:`close`.

    Args:
        path: the database file (created with its folder); default :func:`default_cache_path`.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.stats = CacheStats()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._db.commit()
        except sqlite3.DatabaseError as exc:  # not a database, or a damaged one
            raise ConfigError(
                f"{self.path}: the judge cache is damaged ({exc}); delete the file (it only holds cached "
                f"verdicts, which are made again) or set {ENV_CACHE_DIR} to another folder"
            ) from None
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"{self.path}: cannot open the judge cache ({exc}); set {ENV_CACHE_DIR} to a writable folder"
            ) from None

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, Verdict]:
        """The cached verdicts among ``keys`` (absent keys are left out)."""
        found: dict[bytes, Verdict] = {}
        shared: dict[tuple[float, str | None, str | None], Verdict] = {}  # judges repeat few answers
        for start in range(0, len(keys), _LOOKUP_BATCH):
            chunk = keys[start : start + _LOOKUP_BATCH]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, success, reason, raw FROM verdicts WHERE key IN ({marks})", chunk
            )
            for key, success, reason, raw in rows:
                value = (success, reason, raw)
                verdict = shared.get(value)
                if verdict is None:
                    verdict = shared[value] = Verdict(success=success, reason=reason, raw=raw)
                found[key] = verdict
        return found

    def put_many(self, judge: Judge, rows: Iterable[tuple[bytes, Verdict]]) -> int:
        """Store the scored verdicts among ``rows`` in one transaction; returns how many were stored."""
        records = [
            (
                key,
                judge.id,
                judge.revision,
                verdict.success,
                _storable(verdict.reason),
                _storable(verdict.raw),
            )
            for key, verdict in rows
            if verdict.success is not None
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?)", records)
        return len(records)

    def __len__(self) -> int:
        row = self._db.execute("SELECT count(*) FROM verdicts").fetchone()
        return int(row[0])

    def clear(self, judge_id: str | None = None) -> int:
        """Delete every verdict (or those of one judge id); returns how many were deleted."""
        with self._db:
            if judge_id is None:
                cursor = self._db.execute("DELETE FROM verdicts")
            else:
                cursor = self._db.execute("DELETE FROM verdicts WHERE judge_id = ?", (judge_id,))
        return cursor.rowcount

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> JudgeCache:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _checked(judge: Judge, items: Sequence[JudgeItem]) -> list[Verdict]:
    verdicts = judge.judge(items)
    if len(verdicts) != len(items):
        raise EHBenchError(f"judge {judge.id!r} returned {len(verdicts)} verdicts for {len(items)} items")
    return verdicts


def judge_cached(
    judge: Judge,
    items: Sequence[JudgeItem],
    cache: JudgeCache | None = None,
    progress: bool = True,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> CachedVerdicts:
    """Verdicts for ``items``, in order, judging only what the cache lacks.

    All keys are looked up at once; the distinct misses go to ``judge.judge`` in chunks of
    ``chunk_size`` (with a rich progress bar on stderr when ``progress``), and each
    chunk's scored verdicts are written in one transaction, so an interrupted run keeps its work.
    Judges with ``cacheable = False`` (the refusal judge: recomputing is cheaper than a lookup) are run
    directly on all items.

    Args:
        judge: any :class:`~eh_bench.judges.base.Judge`.
        items: what to judge.
        cache: the cache to use; ``None`` opens (and closes) the default one.
        progress: show a progress bar over chunks.
        chunk_size: items per judge call.

    Returns:
        The verdicts, a list with a ``stats`` attribute (:class:`CacheStats`): with a warm cache,
        ``stats.judge_calls == 0``.
    """
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be >= 1, got {chunk_size}")
    stats = CacheStats(items=len(items))
    if not getattr(judge, "cacheable", True):
        stats.bypassed = len(items)
        stats.judge_calls = 1 if items else 0
        verdicts = _checked(judge, items) if items else []
        stats.unscored = sum(1 for v in verdicts if v.success is None)
        return CachedVerdicts(verdicts, stats)
    if cache is None:
        with JudgeCache() as own:
            return judge_cached(judge, items, own, progress, chunk_size=chunk_size)

    judge_id, revision = judge.id, judge.revision
    keys = [cache_key(judge_id, revision, item) for item in items]
    found = cache.get_many(list(dict.fromkeys(keys)))
    stats.hits = sum(1 for key in keys if key in found)
    stats.misses = len(items) - stats.hits
    todo: dict[bytes, JudgeItem] = {}
    for key, item in zip(keys, items, strict=True):
        if key not in found and key not in todo:
            todo[key] = item
    stats.judged = len(todo)
    pending = list(todo.items())
    chunks = [pending[i : i + chunk_size] for i in range(0, len(pending), chunk_size)]
    fresh: dict[bytes, Verdict] = {}

    def run(chunk: list[tuple[bytes, JudgeItem]]) -> None:
        verdicts = _checked(judge, [item for _, item in chunk])
        stats.judge_calls += 1
        stats.unscored += sum(1 for v in verdicts if v.success is None)
        rows = list(zip((key for key, _ in chunk), verdicts, strict=True))
        fresh.update(rows)
        stats.stored += cache.put_many(judge, rows)

    if progress and chunks:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task(f"judging with {judge_id}", total=len(pending))
            for chunk in chunks:
                run(chunk)
                bar.advance(task, len(chunk))
    else:
        for chunk in chunks:
            run(chunk)
    cache.stats.add(stats)
    return CachedVerdicts((found[key] if key in found else fresh[key] for key in keys), stats)
