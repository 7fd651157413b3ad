"""The labelled dataset built once into the user cache, for evaluations that name no dataset.

``lm-eval run --tasks expected_harm --include_path $(eh-bench tasks-path)`` needs more than the packaged
core set. When no dataset is configured (no ``EH_DATASET``, no ``--metadata dataset=``), the task loader
calls :func:`ensure_cached_dataset`: the first time it builds every config from the public benchmark
files (``EH_SOURCES_DIR``, the download cache, or the pinned URLs, each checked against its pinned
sha256) and the packaged labels into ``<cache>/datasets/eh-bench-<version>-<inputs digest>/``, printing
a progress line; later runs reuse that folder after checking its manifest. The inputs digest covers the
packaged label and prompt files, so new labels give a new folder rather than a stale one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

from eh_bench.dataset.configs import DATASET_NAME, DATASET_VERSION
from eh_bench.dataset.core import core_path
from eh_bench.dataset.labels import label_path
from eh_bench.dataset.manifest import MANIFEST_NAME, verify_manifest
from eh_bench.errors import InputError, SourceError
from eh_bench.sources import PUBLIC_SOURCES
from eh_bench.sources.base import CACHE_DIR_ENV

if TYPE_CHECKING:
    import httpx

#: The eh-bench cache root when ``$EH_CACHE_DIR`` is unset.
DEFAULT_CACHE_ROOT: Final = Path("~/.cache/eh-bench")
DATASETS_SUBDIR: Final = "datasets"
_verified: set[Path] = set()


def _say(message: str) -> None:
    print(f"eh-bench: {message}", file=sys.stderr, flush=True)


def inputs_digest() -> str:
    """First 12 hex digits of the sha256 of the packaged label files and core prompt files."""
    digest = hashlib.sha256()
    files = [label_path(name) for name in PUBLIC_SOURCES] + [core_path(False), core_path(True)]
    for path in files:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(absent)")
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def cached_dataset_dir(cache_dir: Path | str | None = None) -> Path:
    """Where the cached build lives: ``<cache>/datasets/eh-bench-<version>-<inputs digest>``."""
    root = Path(cache_dir or os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_ROOT).expanduser()
    return root / DATASETS_SUBDIR / f"{DATASET_NAME}-{DATASET_VERSION}-{inputs_digest()}"


def find_cached_dataset(cache_dir: Path | str | None = None) -> Path | None:
    """The cached build for the current packaged labels, if one was made; None otherwise."""
    target = cached_dataset_dir(cache_dir)
    return target if (target / MANIFEST_NAME).is_file() else None


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    """Hold an exclusive lock beside ``target`` so two processes never build it at once (POSIX)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # no flock on this platform: builds are still atomic, only not serialised
        yield
        return
    with (target.parent / f".{target.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check(target: Path) -> Path:
    """``target`` after its files match its manifest (once per process); InputError naming the fix."""
    if target in _verified:
        return target
    problems = verify_manifest(target)
    if problems:
        raise InputError(
            f"{target / MANIFEST_NAME}: the cached eh-bench dataset does not match its manifest "
            f"({'; '.join(problems[:3])}); delete {target} and run again to rebuild it"
        )
    _verified.add(target)
    return target


def ensure_cached_dataset(
    *,
    cache_dir: Path | str | None = None,
    sources_dir: Path | str | None = None,
    download: bool = True,
    client: httpx.Client | None = None,
    progress: Callable[[str], None] | None = _say,
) -> Path:
    """The cached build (see the module docstring), building it first when there is none.

    Raises:
        SourceError: a benchmark file is missing or differs from its pinned sha256; the message names
            the file and how to fix it.
        InputError: the cached build was changed after it was made.
    """
    target = cached_dataset_dir(cache_dir)
    say = progress or (lambda _message: None)
    with _locked(target):
        if (target / MANIFEST_NAME).is_file():
            return _check(target)
        from eh_bench.dataset.build import build_dataset

        say(f"building the labelled dataset from the public benchmark files into {target} (once; later runs reuse it)")
        started = time.perf_counter()
        try:
            report = build_dataset(target, sources_dir=sources_dir, download=download, plot=False, client=client)
        except SourceError as exc:
            raise SourceError(
                f"{exc}. The eh-bench tasks build their dataset from these files when no dataset is set; "
                "alternatively build one yourself (eh-bench dataset build --out DIR; add "
                "--allow-changed-sources to accept changed files) and set EH_DATASET=DIR"
            ) from exc
        rows = sum(report.configs.values())
        say(f"dataset ready: {len(report.configs)} configs, {rows} rows in {time.perf_counter() - started:.1f}s")
    _verified.add(target)
    return target
