"""Leaderboard stores: :class:`~eh_bench.submission.stores.local.LocalStore` (a directory) and
:class:`~eh_bench.submission.stores.hub.HubStore` (``hf://datasets/ORG/NAME``: a pair of Hub dataset
repos written with ``create_commit(parent_commit=...)`` and retried on conflict); :func:`open_store`
picks one from a spec string."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eh_bench.submission.stores.base import (
    HUB_PREFIX,
    STATUSES,
    DuplicateEntryError,
    Record,
    Status,
    Store,
    StoreError,
)
from eh_bench.submission.stores.local import LocalStore

__all__ = [
    "STATUSES",
    "DuplicateEntryError",
    "LocalStore",
    "Record",
    "Status",
    "Store",
    "StoreError",
    "open_store",
]


def open_store(spec: str | Path, **kwargs: Any) -> Store:
    """``hf://datasets/ORG/NAME`` -> :class:`~eh_bench.submission.stores.hub.HubStore`; anything else -> a
    :class:`LocalStore` directory. Keyword arguments (token, cache_dir) go to a HubStore only."""
    text = str(spec)
    if text.startswith(HUB_PREFIX):
        from eh_bench.submission.stores.hub import HubStore

        return HubStore(text, **kwargs)
    return LocalStore(Path(text))
