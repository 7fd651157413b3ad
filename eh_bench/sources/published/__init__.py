"""Published response sets: real model responses to harmful requests, with reference verdicts.

Three sets, each file pinned (canonical URL at a commit + SHA-256) and resolved like the prompt sources
(``EH_SOURCES_DIR`` -> cache -> download, see :mod:`eh_bench.sources.fetch`):

===================  ======  ==========================================================
name                 rows    reference verdict
===================  ======  ==========================================================
``jbb-artifacts``    1,600   JailbreakBench judge (``jailbroken``), 16 attack x model files
``donotanswer``      5,634   human ``harmful`` label, 939 questions x 6 models
``gptfuzz``          6,160   human label (1 = the response complies)
===================  ======  ==========================================================

>>> sorted(PUBLISHED)
['donotanswer', 'gptfuzz', 'jbb-artifacts']
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from eh_bench.registry import Registry
from eh_bench.sources import jbb
from eh_bench.sources.base import SourceFile, iter_csv, require_text
from eh_bench.sources.fetch import ResolvedFile, resolve
from eh_bench.sources.published import donotanswer, gptfuzz, jbb_artifacts
from eh_bench.sources.published.record import HARMFUL, NOT_HARMFUL, PublishedFile, PublishedResponse

if TYPE_CHECKING:
    import httpx

#: Resolves an auxiliary pinned file (the JBB-Behaviors CSV the artifacts are checked against).
Resolver = Callable[[SourceFile], ResolvedFile]


@dataclass(frozen=True)
class PublishedSet:
    """A published response set: its pinned files, a reader and who gave the reference verdicts."""

    name: str
    title: str
    files: tuple[SourceFile, ...]
    read: Callable[[Sequence[ResolvedFile], Resolver], list[PublishedFile]]
    reference: str
    license: str


def jbb_behaviors(path: Path) -> dict[int, str]:
    """``Index -> Behavior`` of a JBB-Behaviors CSV."""
    out: dict[int, str] = {}
    for index, rec in iter_csv(path, jbb.COLUMNS, jbb.NAME):
        out[int(require_text(rec["Index"], path, index, "Index"))] = rec["Behavior"]
    return out


def _read_jbb(files: Sequence[ResolvedFile], resolve_aux: Resolver) -> list[PublishedFile]:
    behaviors = jbb_behaviors(resolve_aux(jbb.FILE).path)
    return [jbb_artifacts.read_artifact(f.path, behaviors, f.spec.relpath) for f in files]


def _read_dna(files: Sequence[ResolvedFile], resolve_aux: Resolver) -> list[PublishedFile]:
    return [donotanswer.read_responses(f.path, f.spec.relpath) for f in files]


def _read_gptfuzz(files: Sequence[ResolvedFile], resolve_aux: Resolver) -> list[PublishedFile]:
    return [gptfuzz.read_responses(f.path, f.spec.relpath) for f in files]


PUBLISHED: Final[Registry[PublishedSet]] = Registry("published response set")
for _set in (
    PublishedSet(
        jbb_artifacts.NAME, "JailbreakBench attack artifacts", jbb_artifacts.FILES, _read_jbb,
        "JailbreakBench judge verdict (jailbroken)", jbb_artifacts.LICENSE,
    ),
    PublishedSet(
        donotanswer.NAME, "Do-Not-Answer responses of six models", (donotanswer.FILE,), _read_dna,
        "human annotation (<model>_harmful)", donotanswer.LICENSE,
    ),
    PublishedSet(
        gptfuzz.NAME, "GPTFuzz labelled responses", (gptfuzz.FILE,), _read_gptfuzz,
        "human annotation (label)", gptfuzz.LICENSE,
    ),
):  # fmt: skip
    PUBLISHED.register(_set.name)(_set)


@dataclass(frozen=True)
class LoadedResponses:
    """A published set as read: the located files and, per file, its parameters and rows."""

    set: PublishedSet
    files: list[ResolvedFile]
    parts: list[PublishedFile]

    @property
    def rows(self) -> list[PublishedResponse]:
        """Every row of every file, in file order."""
        return [row for part in self.parts for row in part.rows]

    @property
    def fingerprint(self) -> str:
        """SHA-256 over the set name and each file's relpath and SHA-256 (the version of the data read)."""
        digest = hashlib.sha256(self.set.name.encode("utf-8"))
        for f in self.files:
            digest.update(f"\n{f.spec.relpath}\t{f.sha256}".encode())
        return digest.hexdigest()

    def provenance(self) -> dict[str, Any]:
        """What a result file records about the data: set, fingerprint and every file's pin."""
        return {
            "set": self.set.name,
            "reference": self.set.reference,
            "fingerprint": self.fingerprint,
            "files": [
                {"relpath": f.spec.relpath, "url": f.spec.url, "revision": f.spec.revision,
                 "sha256": f.sha256, "pinned": f.matches}
                for f in self.files
            ],
        }  # fmt: skip


def load_published(
    name: str,
    *,
    sources_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    download: bool = True,
    allow_changed_sources: bool = False,
    client: httpx.Client | None = None,
) -> LoadedResponses:
    """Locate (or download) a published set's pinned files, verify their hashes and read them.

    Args:
        name: a set name (see :data:`PUBLISHED`).
        sources_dir: local benchmark folder (default ``$EH_SOURCES_DIR``).
        cache_dir: download cache (default ``$EH_CACHE_DIR`` or ``~/.cache/eh-bench/sources``).
        download: download files that are not found locally.
        allow_changed_sources: accept bytes whose SHA-256 differs from the pinned value.
        client: ``httpx.Client`` for HTTPS downloads.

    Raises:
        SourceError: a missing file, failed download, hash mismatch or malformed file.
        ConfigError: unknown set name.
    """
    spec = PUBLISHED.get(name)

    def locate(file: SourceFile) -> ResolvedFile:
        return resolve(
            file, sources_dir=sources_dir, cache_dir=cache_dir, download=download,
            allow_changed=allow_changed_sources, client=client,
        )  # fmt: skip

    files = [locate(f) for f in spec.files]
    return LoadedResponses(set=spec, files=files, parts=spec.read(files, locate))


__all__ = [
    "HARMFUL",
    "NOT_HARMFUL",
    "PUBLISHED",
    "LoadedResponses",
    "PublishedFile",
    "PublishedResponse",
    "PublishedSet",
    "jbb_behaviors",
    "load_published",
]
