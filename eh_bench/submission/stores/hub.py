"""A leaderboard store on the Hugging Face Hub: a requests + results pair of dataset repos.

``hf://datasets/ORG/NAME`` names the pair ``ORG/NAME-requests`` (every submission, with its status)
and ``ORG/NAME-results`` (verified entries only, read by the leaderboard Space), the layout of the
Hugging Face leaderboard template. Each record is ``entries/<name>.json``.

Writers read the branch head, check for a duplicate at that commit, then commit with
``parent_commit=<head>``: if anyone committed in between, the Hub refuses the commit (HTTP 412, or
409 while another commit holds the lock) and the write is retried from a fresh head. So concurrent
submitters never overwrite each other and a duplicate can't slip in between check and write.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar

from eh_bench.errors import ConfigError, InputError, require
from eh_bench.submission.schema import check_name
from eh_bench.submission.stores.base import (
    REQUESTS,
    RESULTS,
    DuplicateEntryError,
    Record,
    Store,
    StoreError,
    new_record,
    read_all,
    with_status,
)

HUB_URI_RE: Final = re.compile(r"^hf://datasets/([A-Za-z0-9][A-Za-z0-9_.-]{0,95})/([A-Za-z0-9][A-Za-z0-9_.-]{0,95})$")
ENTRIES_DIR: Final = "entries"
REPO_TYPE: Final = "dataset"
BRANCH: Final = "main"
#: HTTP statuses that mean "someone else committed first": retry from a fresh head.
CONFLICT_STATUSES: Final = frozenset({409, 412})
MAX_ATTEMPTS: Final = 12
BACKOFF_BASE_S: Final = 0.2
BACKOFF_MAX_S: Final = 8.0

T = TypeVar("T")


class CommitConflict(Exception):
    """The branch moved under a commit; the caller retries from a fresh head."""


class HubStore(Store):
    """Records in two Hub dataset repos, written with optimistic concurrency (``parent_commit``)."""

    def __init__(
        self,
        uri: str,
        token: str | None = None,
        cache_dir: Path | str | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        match = HUB_URI_RE.fullmatch(uri)
        if not match:
            raise ConfigError(f"{uri!r} is not a Hub store; write hf://datasets/ORG/NAME")
        require("huggingface_hub", "hf")
        from huggingface_hub import HfApi

        org, name = match.groups()
        self.uri = uri
        self.repos = {REQUESTS: f"{org}/{name}-requests", RESULTS: f"{org}/{name}-results"}
        self.api = HfApi(token=token)
        self.cache_dir = str(cache_dir) if cache_dir else None
        self.max_attempts = max_attempts
        self._sleep = sleep

    # ------------------------------------------------------------------ Hub primitives

    def _head(self, area: str) -> str:
        # The refs listing is read rather than repo info, which is served from a cache that can lag
        # the branch: a stale parent would be refused (412) on every retry.
        refs = self.api.list_repo_refs(self.repos[area], repo_type=REPO_TYPE)
        for branch in refs.branches:
            if branch.name == BRANCH:
                return str(branch.target_commit)
        raise StoreError(f"{self.repos[area]} has no {BRANCH!r} branch; create the dataset repo first")

    def _files(self, area: str, sha: str) -> list[str]:
        files = self.api.list_repo_files(self.repos[area], repo_type=REPO_TYPE, revision=sha)
        return sorted(f for f in files if f.startswith(f"{ENTRIES_DIR}/") and f.endswith(".json"))

    def _download(self, area: str, path: str, sha: str) -> bytes:
        from huggingface_hub import hf_hub_download

        local = hf_hub_download(
            self.repos[area], path, repo_type=REPO_TYPE, revision=sha, cache_dir=self.cache_dir,
            token=self.api.token,
        )
        return Path(local).read_bytes()

    def _commit(self, area: str, parent: str, message: str, add: Mapping[str, bytes], delete: tuple[str, ...] = ()) -> None:
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete
        from huggingface_hub.errors import HfHubHTTPError

        ops: list[Any] = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=data) for p, data in add.items()]
        ops += [CommitOperationDelete(path_in_repo=p) for p in delete]
        try:
            self.api.create_commit(
                self.repos[area], ops, commit_message=message, repo_type=REPO_TYPE, parent_commit=parent,
            )
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in CONFLICT_STATUSES:
                raise CommitConflict(str(status)) from exc
            raise

    def _retrying(self, what: str, attempt_fn: Callable[[], T]) -> T:
        for attempt in range(self.max_attempts):
            try:
                return attempt_fn()
            except CommitConflict:
                delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt)
                self._sleep(delay * (0.5 + random.random()))
        raise StoreError(
            f"{what}: the Hub branch kept moving ({self.max_attempts} conflicting commits); try again later"
        )

    @staticmethod
    def _path(name: str) -> str:
        return f"{ENTRIES_DIR}/{check_name(name)}.json"

    # ------------------------------------------------------------------ Store API

    def push(self, entry: Mapping[str, Any], submitted_by: str) -> Record:
        record = new_record(entry, submitted_by)
        path = self._path(record.name)

        def attempt() -> Record:
            head = self._head(REQUESTS)
            if path in self._files(REQUESTS, head):
                existing = Record.from_bytes(self._download(REQUESTS, path, head), path)
                raise DuplicateEntryError(
                    f"an entry for the same model revision, dataset version and configs, judge and likelihood is already "
                    f"stored as {existing.name} (status {existing.status}) in {self.repos[REQUESTS]}"
                )
            self._commit(REQUESTS, head, f"Submit {record.name} (PENDING)", {path: record.to_bytes()})
            return record

        return self._retrying(f"push {record.name}", attempt)

    def set_status(self, name: str, status: str, reason: str | None = None) -> Record:
        path = self._path(name)

        def update_results(record: Record) -> None:
            head = self._head(RESULTS)
            present = path in self._files(RESULTS, head)
            if record.status == "VERIFIED":
                self._commit(RESULTS, head, f"Verify {name}", {path: record.to_bytes()})
            elif present:
                self._commit(RESULTS, head, f"Reject {name}", {}, delete=(path,))

        def attempt() -> Record:
            head = self._head(REQUESTS)
            if path not in self._files(REQUESTS, head):
                raise InputError(f"no entry named {name!r} in {self.repos[REQUESTS]}")
            record = with_status(Record.from_bytes(self._download(REQUESTS, path, head), path), status, reason)
            self._retrying(f"{status} {name} in results", lambda: update_results(record))
            self._commit(REQUESTS, head, f"{record.status} {name}", {path: record.to_bytes()})
            return record

        return self._retrying(f"{status} {name}", attempt)

    def _read_area(self, area: str) -> list[Record]:
        head = self._head(area)
        return read_all(self._files(area, head), lambda p: Record.from_bytes(self._download(area, p, head), p))

    def records(self, status: str | None = None) -> list[Record]:
        return [r for r in self._read_area(REQUESTS) if status is None or r.status == status]

    def results(self) -> list[Record]:
        return [r for r in self._read_area(RESULTS) if r.status == "VERIFIED"]
