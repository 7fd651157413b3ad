"""``MANIFEST.json`` of a built dataset folder: version, provenance and the SHA-256 of every file.

The manifest lists every file of the folder except itself and hidden entries (``.gitattributes``,
``.cache``); its own SHA-256 is the dataset fingerprint recorded in evaluation reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from eh_bench.atomic import write_text
from eh_bench.errors import InputError
from eh_bench.jsonio import loads_strict
from eh_bench.sources.fetch import file_sha256

MANIFEST_NAME: Final = "MANIFEST.json"


def list_files(root: Path) -> list[str]:
    """Relative POSIX paths of the files under ``root``, sorted, without the manifest and hidden entries."""
    out = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if not path.is_file() or rel.as_posix() == MANIFEST_NAME:
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue
        out.append(rel.as_posix())
    return sorted(out)


def file_hashes(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every listed file under ``root``."""
    return {rel: file_sha256(root / rel) for rel in list_files(root)}


def write_manifest(root: Path, meta: dict[str, Any]) -> Path:
    """Write ``MANIFEST.json`` = ``meta`` plus ``files`` (hashes of everything else in ``root``)."""
    manifest = {**meta, "files": file_hashes(root)}
    return write_text(root / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def read_manifest(root: Path) -> dict[str, Any]:
    """The parsed manifest of ``root``.

    Raises:
        InputError: the manifest is missing or not a JSON object.
    """
    path = root / MANIFEST_NAME
    if not path.is_file():
        raise InputError(f"{path}: no manifest; is {root} a folder built by `eh-bench dataset build`?")
    try:
        data = loads_strict(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); rebuild the dataset") from None
    except (ValueError, RecursionError) as exc:  # not UTF-8, a duplicate key, NaN, nested too deeply
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InputError(f"{path}: not a readable manifest ({reason}); rebuild the dataset") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object; rebuild the dataset")
    return data


def verify_manifest(root: Path, manifest: dict[str, Any] | None = None) -> list[str]:
    """Problems between the manifest's file list and the folder (empty list: they agree)."""
    data = manifest if manifest is not None else read_manifest(root)
    listed = data.get("files")
    if not isinstance(listed, dict):
        return [f"{root / MANIFEST_NAME}: 'files' is missing or not an object"]
    problems = []
    actual = set(list_files(root))
    for rel, expected in sorted(listed.items()):
        if rel not in actual:
            problems.append(f"{root / rel}: listed in {MANIFEST_NAME} but missing")
        elif (got := file_sha256(root / rel)) != expected:
            problems.append(f"{root / rel}: sha256 is {got}, {MANIFEST_NAME} says {expected}")
    problems += [f"{root / rel}: present but not listed in {MANIFEST_NAME}" for rel in sorted(actual - set(listed))]
    return problems


def manifest_sha256(root: Path) -> str:
    """SHA-256 of ``MANIFEST.json`` (the dataset fingerprint)."""
    path = root / MANIFEST_NAME
    if not path.is_file():
        raise InputError(f"{path}: no manifest; is {root} a folder built by `eh-bench dataset build`?")
    return file_sha256(path)
