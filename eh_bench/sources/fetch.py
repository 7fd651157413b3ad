"""Find a pinned benchmark file locally, or download it, and check its SHA-256.

Search order: ``sources_dir`` (argument, else ``$EH_SOURCES_DIR``), then the user cache (argument, else
``$EH_CACHE_DIR``, else ``~/.cache/eh-bench/sources``); both use the layout ``<relpath>`` of
:class:`~eh_bench.sources.base.SourceFile`. If neither holds the file and downloading is allowed, it is
fetched over HTTPS (GitHub raw files, pinned to a commit) or with ``huggingface_hub.hf_hub_download``
(Hub datasets, pinned to a revision) into the cache. Bytes that differ from the pinned hash are refused
unless ``allow_changed`` is set.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from eh_bench.errors import SourceError
from eh_bench.sources.base import CACHE_DIR_ENV, DEFAULT_CACHE_DIR, SOURCES_DIR_ENV, SourceFile

if TYPE_CHECKING:
    import httpx

#: Seconds before an HTTPS download gives up waiting for the server.
DOWNLOAD_TIMEOUT_S: Final = 60.0
_CHUNK: Final = 1 << 20

Origin = Literal["sources_dir", "cache", "download"]


@dataclass(frozen=True)
class ResolvedFile:
    """A located benchmark file: where it is, how it got there and whether its hash is the pinned one."""

    spec: SourceFile
    path: Path
    origin: Origin
    sha256: str

    @property
    def matches(self) -> bool:
        """True when the bytes equal the pinned SHA-256."""
        return self.sha256 == self.spec.sha256


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def default_sources_dir(explicit: Path | str | None = None) -> Path | None:
    """The local benchmark folder: ``explicit``, else ``$EH_SOURCES_DIR``, else None."""
    value = explicit if explicit is not None else os.environ.get(SOURCES_DIR_ENV) or None
    return Path(value).expanduser() if value else None


def default_cache_dir(explicit: Path | str | None = None) -> Path:
    """The download cache: ``explicit``, else ``$EH_CACHE_DIR``, else ``~/.cache/eh-bench/sources``."""
    value = explicit if explicit is not None else os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR
    return Path(value).expanduser()


def resolve(
    spec: SourceFile,
    *,
    sources_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    download: bool = True,
    allow_changed: bool = False,
    client: httpx.Client | None = None,
) -> ResolvedFile:
    """Locate (or download) ``spec`` and verify its hash.

    Args:
        spec: the pinned file.
        sources_dir: local benchmark folder (default ``$EH_SOURCES_DIR``).
        cache_dir: download cache (default ``$EH_CACHE_DIR`` or ``~/.cache/eh-bench/sources``).
        download: fetch the file into the cache when no local copy exists.
        allow_changed: accept bytes whose SHA-256 differs from the pinned one.
        client: an ``httpx.Client`` for HTTPS downloads (default: a new one).

    Raises:
        SourceError: the file is missing (naming where it looked and how to get it), the download
            failed, or its hash differs and ``allow_changed`` is false.
    """
    local = default_sources_dir(sources_dir)
    cache = default_cache_dir(cache_dir)
    candidates: list[tuple[Path, Origin]] = []
    if local is not None:
        candidates.append((local / spec.relpath, "sources_dir"))
    candidates.append((cache / spec.relpath, "cache"))
    for path, origin in candidates:
        if path.is_file():
            return _verified(spec, path, origin, allow_changed)
    looked = ", ".join(f"{p} ({o})" for p, o in candidates)
    how = (
        f"set {SOURCES_DIR_ENV} (or --sources-dir) to a folder holding {spec.relpath}, or allow the "
        f"download from {spec.url} (revision {spec.revision}, sha256 {spec.sha256}) into {cache}"
    )
    if not download:
        raise SourceError(f"{spec.relpath}: benchmark file not found; looked in {looked}; to get it, {how}")
    target = cache / spec.relpath
    try:
        return _download(spec, target, client, allow_changed)
    except SourceError:
        raise
    except Exception as exc:  # network, HTTP status, Hub and filesystem errors all end the same way
        raise SourceError(
            f"{spec.relpath}: not found locally (looked in {looked}) and the download failed "
            f"({type(exc).__name__}: {exc}); to get it, {how}"
        ) from exc


def _mismatch(spec: SourceFile, where: str, actual: str) -> SourceError:
    return SourceError(
        f"{where}: sha256 of {spec.relpath} differs from the pinned value: expected {spec.sha256}, "
        f"actual {actual}; use the pinned file ({spec.url}) or pass --allow-changed-sources "
        "to build from these bytes (recorded in MANIFEST.json)"
    )


def _verified(spec: SourceFile, path: Path, origin: Origin, allow_changed: bool) -> ResolvedFile:
    actual = file_sha256(path)
    if actual != spec.sha256 and not allow_changed:
        raise _mismatch(spec, str(path), actual)
    return ResolvedFile(spec=spec, path=path, origin=origin, sha256=actual)


def _download(spec: SourceFile, target: Path, client: httpx.Client | None, allow_changed: bool) -> ResolvedFile:
    """Fetch ``spec`` into ``target``; bytes with the wrong hash never land there unless allowed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        if spec.hf_repo:
            _download_hub(spec, partial)
        else:
            _download_https(spec.url, partial, client)
        actual = file_sha256(partial)
        if actual != spec.sha256 and not allow_changed:
            raise _mismatch(spec, f"{spec.url} (downloaded)", actual)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return ResolvedFile(spec=spec, path=target, origin="download", sha256=actual)


def _download_https(url: str, dest: Path, client: httpx.Client | None) -> None:
    import httpx

    own = client is None
    http = client if client is not None else httpx.Client(timeout=DOWNLOAD_TIMEOUT_S, follow_redirects=True)
    try:
        with http.stream("GET", url) as response:
            response.raise_for_status()
            with dest.open("wb") as fh:
                for chunk in response.iter_bytes(_CHUNK):
                    fh.write(chunk)
    finally:
        if own:
            http.close()


def _download_hub(spec: SourceFile, dest: Path) -> None:
    """``hf_hub_download`` into a scratch folder beside ``dest`` (never the shared HF cache), then move."""
    import tempfile

    from huggingface_hub import hf_hub_download

    if spec.hf_repo is None:
        raise SourceError(f"{spec.relpath}: no Hub repository pinned")
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".hf-") as scratch:
        got = hf_hub_download(
            repo_id=spec.hf_repo,
            filename=spec.hf_filename or spec.relpath,
            repo_type="dataset",
            revision=spec.revision,
            local_dir=scratch,
        )
        shutil.move(got, dest)
