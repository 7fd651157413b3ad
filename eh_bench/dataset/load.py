"""Reading the dataset back: load a config of a built folder or Hub id, fingerprint a build, get the
packaged core rows.

Evaluation code calls :func:`load_config` (a built folder or a Hub id) and records
:func:`dataset_fingerprint` in its reports; the offline demo uses :func:`core_rows`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eh_bench.dataset.configs import (
    CONFIGS,
    DATASET_NAME,
)
from eh_bench.dataset.core import read_core
from eh_bench.dataset.manifest import MANIFEST_NAME, manifest_sha256, read_manifest
from eh_bench.errors import ConfigError, InputError

if TYPE_CHECKING:
    import datasets


def _is_local(dataset: str | Path) -> bool:
    return Path(dataset).expanduser().is_dir()


def load_config(
    dataset: str | Path,
    config: str,
    *,
    split: str = "test",
    revision: str | None = None,
    cache_dir: str | Path | None = None,
) -> datasets.Dataset:
    """Load one config of a built folder or a Hub dataset as a ``datasets.Dataset``.

    Args:
        dataset: a folder made by :func:`eh_bench.dataset.build.build_dataset`, or a Hub id (``ORG/NAME``; gated: log in first).
        config: a config name (see :data:`CONFIGS`).
        split: the split (every config has ``test``).
        revision: Hub revision (ignored for a folder).
        cache_dir: ``datasets`` cache folder (default: its own).

    Raises:
        ConfigError: ``config`` is not a known config, or the folder was built without it.
    """
    from datasets import Dataset, load_dataset

    if config not in CONFIGS:
        raise ConfigError(f"unknown config {config!r}; choose one of: {', '.join(CONFIGS)}")
    if _is_local(dataset):
        root = Path(dataset).expanduser()
        built = read_manifest(root).get("configs", {})
        if config not in built:
            raise ConfigError(
                f"{root}: config {config!r} was not built (built: {', '.join(n for n in CONFIGS if n in built)}); "
                "see 'skipped_configs' in MANIFEST.json"
            )
        loaded = load_dataset(str(root), config, split=split, cache_dir=str(cache_dir) if cache_dir else None)
    else:
        loaded = load_dataset(
            str(dataset), config, split=split, revision=revision, cache_dir=str(cache_dir) if cache_dir else None
        )
    if not isinstance(loaded, Dataset):
        raise InputError(f"{dataset}: expected one split, got {type(loaded).__name__}")
    return loaded


def dataset_fingerprint(dataset: str | Path, revision: str | None = None) -> dict[str, Any]:
    """Provenance of a built dataset for reports: name, version and the SHA-256 of its manifest.

    Args:
        dataset: a built folder, or a Hub id (its ``MANIFEST.json`` is downloaded).
        revision: Hub revision (ignored for a folder).
    """
    if _is_local(dataset):
        root = Path(dataset).expanduser()
        manifest = read_manifest(root)
        digest = manifest_sha256(root)
        location = str(root.resolve())
    else:
        from huggingface_hub import hf_hub_download

        from eh_bench.sources.fetch import file_sha256

        try:
            path = Path(hf_hub_download(str(dataset), MANIFEST_NAME, repo_type="dataset", revision=revision))
        except Exception as exc:  # offline, gated without access, no such repo: all mean "unknown here"
            raise InputError(
                f"{dataset}: not a local folder, and its {MANIFEST_NAME} could not be fetched from the Hub "
                f"({type(exc).__name__}: {exc}); log in (HF_TOKEN) and accept the dataset's terms, or pass a built folder"
            ) from exc
        manifest = json.loads(path.read_text(encoding="utf-8"))
        digest = file_sha256(path)
        location = f"hf://datasets/{dataset}" + (f"@{revision}" if revision else "")
    return {
        "name": manifest.get("name", DATASET_NAME),
        "version": manifest.get("version"),
        "manifest_sha256": digest,
        "rubric_version": manifest.get("rubric_version"),
        "location": location,
    }


def core_rows(benign: bool = False) -> list[dict[str, Any]]:
    """Canonical rows (dicts) of the packaged core prompt set; needs no benchmark file.

    Args:
        benign: the benign look-alike set (``core_benign``) instead of the harmful one.
    """
    return [row.as_dict() for row in read_core(benign)]
