"""The output folder of a dataset build: what may be built into, the staging folder, and the swap.

A build is written into a staging folder beside the output (``.<out>.build-<pid>-<random>``), then
moved in file by file. The build owns only the files its previous ``MANIFEST.json`` lists (and the
manifest): those are replaced or removed; everything else in the folder (a ``.git`` of a Hub clone,
the user's notes) is left alone. The new manifest is moved in last, so an interrupted swap leaves a
manifest that no longer matches its files (``eh-bench dataset validate`` says which) rather than a
folder that claims to be complete.

Staging folders of builds that were killed are found by the pid in their name and removed by the
next build into the same folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from eh_bench.atomic import check_output_folder
from eh_bench.dataset.manifest import MANIFEST_NAME, read_manifest
from eh_bench.errors import EHBenchError, InputError, OutputError

#: Between the output folder's name and the builder's pid in a staging folder's name.
STAGING_MARK: Final = ".build-"


def check_target(target: Path) -> None:
    """Refuse an output that is a file, cannot be written, or holds visible files of something other
    than an earlier build (hidden entries such as ``.git`` are allowed: they are not the build's).

    Raises:
        OutputError: a file, or a folder that cannot be written.
        InputError: a folder with visible entries and no ``MANIFEST.json``.
    """
    check_output_folder(target)
    if not target.is_dir() or (target / MANIFEST_NAME).is_file():
        return
    visible = sorted(p.name for p in target.iterdir() if not p.name.startswith("."))
    if visible:
        raise InputError(
            f"{target}: exists and is not an eh-bench build (no {MANIFEST_NAME}; it holds "
            f"{', '.join(visible[:3])}{', ...' if len(visible) > 3 else ''}); choose an empty or new --out folder"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def clean_stale_staging(target: Path) -> list[Path]:
    """Remove the staging folders of builds into ``target`` whose process is gone; returns them."""
    removed: list[Path] = []
    prefix = f".{target.name}{STAGING_MARK}"
    if not target.parent.is_dir():
        return removed
    for folder in target.parent.iterdir():
        if not folder.name.startswith(prefix) or not folder.is_dir() or folder.is_symlink():
            continue
        pid_text = folder.name[len(prefix) :].partition("-")[0]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextlib.contextmanager
def staging(target: Path) -> Iterator[Path]:
    """A fresh staging folder beside ``target`` named with this process's pid; removed on exit."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        prefix=f".{target.name}{STAGING_MARK}{os.getpid()}-", dir=target.parent
    ) as tmp:
        yield Path(tmp)


def _owned(target: Path) -> set[str]:
    """Relative paths of the files an earlier build in ``target`` wrote (none when there is none)."""
    if not (target / MANIFEST_NAME).is_file():
        return set()
    try:
        listed = read_manifest(target).get("files")
    except EHBenchError:
        return set()  # a damaged manifest: replace what the new build writes, delete nothing else
    return {rel for rel in listed if isinstance(rel, str)} if isinstance(listed, dict) else set()


def _inside(root: Path, rel: str) -> Path | None:
    """``root / rel`` when it stays inside ``root`` (a manifest is data: never follow it outside)."""
    path = root / rel
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    return path


def place(stage: Path, target: Path) -> None:
    """Move the staged build into ``target``: replace its files, remove files only the earlier build
    listed, keep everything else; the manifest goes last.

    Raises:
        OutputError: a file could not be moved (the message names it).
    """
    old = _owned(target)
    new = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    ordered = [rel for rel in new if rel != MANIFEST_NAME] + [MANIFEST_NAME]
    try:
        target.mkdir(parents=True, exist_ok=True)
        for rel in ordered:
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / rel, dest)
        for rel in sorted(old - set(new)):
            path = _inside(target, rel)
            if path is not None and path.is_file() and not path.is_symlink():
                path.unlink()
                _prune(path.parent, target)
    except OSError as exc:
        raise OutputError(
            f"{target}: the build could not be moved into place ({exc.strerror or exc}: {exc.filename}); "
            "run the build again"
        ) from None


def _prune(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents below ``root`` while they are empty."""
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


__all__ = ["STAGING_MARK", "check_target", "clean_stale_staging", "place", "staging"]
