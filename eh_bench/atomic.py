"""Atomic output files: the one way eh-bench writes a result, and the checks of an output path.

A result is written to a temporary file in the same folder, flushed and ``fsync``-ed, then renamed over
the target with ``os.replace``. A failure at any point (a full disk, a read-only folder, an interrupt)
leaves the previous file exactly as it was and no temporary file behind; a reader never sees half a
file. The new file gets the permissions an ordinary ``open`` would give it (``0o666`` less the umask),
not the ``0o600`` of a temporary file, so other users of a shared folder can read results.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> write_text(folder / "a.txt", "one").name
'a.txt'
>>> (folder / "a.txt").read_text()
'one'
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Final

from eh_bench.errors import OutputError

#: Prefix of the temporary files; readers of a folder skip names starting with a dot.
TMP_PREFIX: Final = ".tmp-"
#: Mode of a new file before the umask, as ``open`` would create it.
FILE_MODE: Final = 0o666


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _failed(targets: list[Path], exc: OSError) -> OutputError:
    names = ", ".join(map(str, targets))
    if len(targets) > 1:
        kept = "the previous files are unchanged"
    else:
        kept = "the previous file is unchanged" if targets[0].exists() else "nothing was written"
    return OutputError(f"{names}: could not be written ({_reason(exc)}); {kept}")


class _Staged:
    """A temporary file beside ``target``: written, synced and closed, then placed or discarded."""

    def __init__(self, target: Path) -> None:
        self.target = target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, self.tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{TMP_PREFIX}{target.name}.")
        except OSError as exc:
            raise OutputError(
                f"{target}: cannot write here ({_reason(exc)}); choose a writable folder"
            ) from None
        self.handle = os.fdopen(fd, "wb")

    def finish(self) -> None:
        """Flush, ``fsync`` and close the file, with ordinary permissions."""
        with self.handle:
            self.handle.flush()
            os.fsync(self.handle.fileno())
        os.chmod(self.tmp, FILE_MODE & ~_umask())

    def place(self) -> None:
        os.replace(self.tmp, self.target)

    def discard(self) -> None:
        self.handle.close()
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)


@contextlib.contextmanager
def _staging(targets: list[Path]) -> Iterator[list[_Staged]]:
    """Stage one temporary file per target; place them all after a clean exit, else discard them all."""
    staged: list[_Staged] = []
    try:
        for target in targets:
            staged.append(_Staged(target))
        yield staged
        for item in staged:
            item.finish()
        for item in staged:
            item.place()
    except BaseException as exc:
        for item in staged:
            item.discard()
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _failed(targets, exc) from None
        raise


@contextlib.contextmanager
def atomic_open(path: Path | str, *, newline: str | None = None) -> Iterator[IO[str]]:
    """A UTF-8 text file beside ``path`` for writing; on a clean exit it replaces ``path``.

    Args:
        path: the file to (re)place; its folder is created when missing.
        newline: the text-mode ``newline`` argument (``""`` for the csv module).

    Raises:
        OutputError: the folder or file cannot be written (it names the path, the reason and that the
            previous file is unchanged). Any other exception from the body propagates unchanged; in
            both cases ``path`` is left as it was.
    """
    with _staging([Path(path)]) as (staged,):
        text = io.TextIOWrapper(staged.handle, encoding="utf-8", newline=newline, write_through=True)
        yield text
        text.flush()
        text.detach()


def write_all(files: Mapping[Path, str | bytes]) -> list[Path]:
    """Write several files that belong together (report.json and report.md): each is written and
    synced to a temporary file first, and only when all succeeded are they renamed into place, so a
    full disk leaves the whole previous set as it was."""
    targets = [Path(p) for p in files]
    with _staging(targets) as staged:
        for item, data in zip(staged, files.values(), strict=True):
            item.handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return targets


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`); returns the path."""
    return write_all({Path(path): data})[0]


def write_text(path: Path | str, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_open`); returns the path."""
    return write_all({Path(path): text})[0]


def write_with(path: Path | str, writer: Callable[[IO[bytes]], object]) -> Path:
    """Let ``writer`` fill a binary handle (``fig.savefig``, ``pq.write_table``), then place it atomically."""
    target = Path(path)
    with _staging([target]) as (staged,):
        writer(staged.handle)
    return target


def _probe(folder: Path) -> str | None:
    """Why a file cannot be created in ``folder`` (tried for real, so root and ACLs count), or None."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{TMP_PREFIX}probe.")
    except OSError as exc:
        return _reason(exc)
    os.close(fd)
    os.unlink(tmp)
    return None


def _nearest_existing(path: Path) -> Path:
    here = path
    while not here.exists() and here != here.parent:
        here = here.parent
    return here


def check_output_folder(folder: Path | str, option: str = "--out") -> Path:
    """Refuse an output folder that is a file or cannot be written, before any work is done.

    The folder need not exist yet: then its nearest existing ancestor must be a writable folder.

    Raises:
        OutputError: naming the path, the option and what to choose instead.
    """
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{option} {target}: is a file, not a folder; choose a folder path")
    _check_writable(target, target, option)
    return target


def check_output_file(path: Path | str, option: str = "--out") -> Path:
    """Refuse an output file path that is a folder or whose folder cannot be written (before any work).

    Raises:
        OutputError: naming the path, the option and what to choose instead.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{option} {target}: is a folder; give the path of a file")
    _check_writable(target.parent, target, option)
    return target


def _check_writable(folder: Path, shown: Path, option: str) -> None:
    base = _nearest_existing(folder)
    if not base.is_dir():
        raise OutputError(f"{option} {shown}: {base} is a file, not a folder; choose another path")
    reason = _probe(base)
    if reason is not None:
        raise OutputError(f"{option} {shown}: cannot write in {base} ({reason}); choose a writable folder")


__all__ = [
    "atomic_open",
    "check_output_file",
    "check_output_folder",
    "write_all",
    "write_bytes",
    "write_text",
    "write_with",
]
