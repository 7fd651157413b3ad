"""Source adapters: one per public benchmark, each turning its pinned file into canonical rows.

>>> sorted(ADAPTERS)
['advbench', 'donotanswer', 'harmbench', 'jbb', 'jbb_benign', 'strongreject']
>>> HARMFUL_SOURCES
('harmbench', 'advbench', 'jbb', 'strongreject', 'donotanswer')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from eh_bench.registry import Registry
from eh_bench.sources import advbench, donotanswer, harmbench, jbb, lmsys, strongreject, wildchat
from eh_bench.sources.base import Adapter, Row, SourceFile, normalise_text, prompt_sha256, request_key
from eh_bench.sources.fetch import ResolvedFile, resolve
from eh_bench.sources.realworld import RealWorldSource

if TYPE_CHECKING:
    import httpx

#: Public harmful sources, in the order used for duplicate detection (first occurrence wins).
HARMFUL_SOURCES: Final = ("harmbench", "advbench", "jbb", "strongreject", "donotanswer")
#: Every public source, harmful first, then the benign control.
PUBLIC_SOURCES: Final = (*HARMFUL_SOURCES, "jbb_benign")

ADAPTERS: Registry[Adapter] = Registry("source")
for _adapter in (
    harmbench.ADAPTER,
    advbench.ADAPTER,
    jbb.ADAPTER,
    jbb.BENIGN_ADAPTER,
    strongreject.ADAPTER,
    donotanswer.ADAPTER,
):
    ADAPTERS.register(_adapter.name)(_adapter)

REALWORLD: Registry[RealWorldSource] = Registry("real-world source")
REALWORLD.register(wildchat.NAME)(wildchat.SOURCE)
REALWORLD.register(lmsys.NAME)(lmsys.SOURCE)


@dataclass(frozen=True)
class LoadedSource:
    """One source's rows and the file they were read from."""

    adapter: Adapter
    file: ResolvedFile
    rows: list[Row]


def load_source(
    name: str,
    *,
    sources_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    download: bool = True,
    allow_changed_sources: bool = False,
    client: httpx.Client | None = None,
) -> LoadedSource:
    """Locate (or download) a source's pinned file, verify its hash and parse it into rows.

    Args:
        name: a source name (see :data:`ADAPTERS`).
        sources_dir: local benchmark folder (default ``$EH_SOURCES_DIR``).
        cache_dir: download cache (default ``$EH_CACHE_DIR`` or ``~/.cache/eh-bench/sources``).
        download: download the file when no local copy exists.
        allow_changed_sources: accept bytes whose SHA-256 differs from the pinned value.
        client: ``httpx.Client`` for HTTPS downloads.

    Raises:
        SourceError: missing file, failed download, hash mismatch or a malformed file.
        ConfigError: unknown source name.
    """
    adapter = ADAPTERS.get(name)
    file = resolve(
        adapter.file,
        sources_dir=sources_dir,
        cache_dir=cache_dir,
        download=download,
        allow_changed=allow_changed_sources,
        client=client,
    )
    return LoadedSource(adapter=adapter, file=file, rows=list(adapter.parse(file.path)))


__all__ = [
    "ADAPTERS",
    "HARMFUL_SOURCES",
    "PUBLIC_SOURCES",
    "REALWORLD",
    "Adapter",
    "LoadedSource",
    "RealWorldSource",
    "ResolvedFile",
    "Row",
    "SourceFile",
    "load_source",
    "normalise_text",
    "prompt_sha256",
    "request_key",
]
