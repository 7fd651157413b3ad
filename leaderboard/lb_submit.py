"""The Submit tab's logic: rate limit per user, validate the upload, store it as PENDING.

Returns plain strings and rows; the app shows them in a Textbox and a ``datatype="str"`` table, so a
hostile value in an entry is displayed as text.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from eh_bench.errors import EHBenchError
from eh_bench.submission.schema import MAX_ENTRY_BYTES, EntryValidationError, check_entry, parse_entry
from eh_bench.submission.stores import DuplicateEntryError, Store

DEFAULT_LIMIT = 5
DEFAULT_WINDOW_S = 3600
ISSUE_HEADERS = ["field (JSON path)", "problem"]


@dataclass
class RateLimiter:
    """At most ``limit`` attempts per user in any ``window_s`` seconds (sliding window, in memory)."""

    limit: int = DEFAULT_LIMIT
    window_s: float = DEFAULT_WINDOW_S
    clock: Callable[[], float] = time.monotonic
    _hits: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, user: str) -> tuple[bool, float]:
        """(allowed, seconds until the next attempt is allowed); an allowed attempt is counted."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(user, deque())
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return False, self.window_s - (now - hits[0])
            hits.append(now)
            return True, 0.0


@dataclass(frozen=True)
class Outcome:
    """What the Submit tab shows: a status line and the problems found (path, message)."""

    accepted: bool
    message: str
    issues: list[list[str]]


def handle_upload(data: bytes | None, user: str | None, store: Store, limiter: RateLimiter) -> Outcome:
    """Validate an uploaded entry and store it as PENDING for ``user``.

    ``user`` is None when login is required and missing. Nothing is stored unless the entry is valid,
    not a duplicate, and the user is within the rate limit.
    """
    if user is None:
        return Outcome(False, "Refused: log in with your Hugging Face account to submit.", [])
    if not data:
        return Outcome(False, "Refused: choose an entry.json file first.", [])
    allowed, wait = limiter.allow(user)
    if not allowed:
        return Outcome(False, f"Refused: rate limit reached; try again in {int(wait // 60) + 1} minutes.", [])
    if len(data) > MAX_ENTRY_BYTES:
        return Outcome(False, f"Refused: the file is {len(data)} bytes; at most {MAX_ENTRY_BYTES} allowed.", [])
    try:
        entry = parse_entry(data, "upload")
    except EntryValidationError as exc:
        return _refused(exc)
    issues = check_entry(entry)
    if issues:
        return _refused(EntryValidationError("upload", issues))
    try:
        record = store.push(entry, user)
    except DuplicateEntryError as exc:
        return Outcome(False, f"Refused: {exc}", [])
    except EHBenchError as exc:
        return Outcome(False, f"Refused: {exc}", [])
    return Outcome(
        True,
        f"Accepted: stored as {record.name} with status {record.status}. It appears on the leaderboard "
        "once a maintainer verifies it.",
        [],
    )


def _refused(exc: EntryValidationError) -> Outcome:
    n = len(exc.issues)
    return Outcome(
        False,
        f"Refused: the entry has {n} problem{'s' if n != 1 else ''}; fix them and upload again.",
        [[issue.path, issue.message] for issue in exc.issues],
    )
