"""Publish a built dataset folder to the Hugging Face Hub: one repo, one commit, gated access.

Steps (all through ``huggingface_hub.HfApi``): ``create_repo`` (dataset, private flag, ``exist_ok``),
one ``create_commit`` adding every file of the folder (README card, Parquet files, plot, manifest),
then ``update_repo_settings(gated=...)``. The folder is validated first; an invalid build is never
uploaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from eh_bench.dataset.configs import DATASET_VERSION
from eh_bench.dataset.manifest import MANIFEST_NAME, list_files, read_manifest
from eh_bench.dataset.validate import validate_dataset
from eh_bench.errors import ConfigError, InputError

Gating = Literal["auto", "manual"]
GATING_CHOICES: Final = ("auto", "manual")
COMMIT_MESSAGE: Final = "eh-bench dataset {version}"


@dataclass(frozen=True)
class PublishResult:
    """Where the dataset went: repo URL, commit and the files uploaded."""

    repo_url: str
    commit_url: str
    commit_oid: str
    files: list[str]
    gated: str
    private: bool
    warnings: list[str]


def publish_dataset(
    root: Path | str,
    repo_id: str,
    *,
    private: bool = False,
    gated: Gating = "auto",
    token: str | None = None,
    endpoint: str | None = None,
    commit_message: str | None = None,
) -> PublishResult:
    """Upload a built folder to ``repo_id`` as a gated Hub dataset in one commit.

    Args:
        root: folder made by ``eh-bench dataset build``.
        repo_id: ``ORG/NAME`` on the Hub.
        private: create the repository private.
        gated: ``"auto"`` (approved on accepting the terms) or ``"manual"`` (the owner approves).
        token: Hub token (default: ``$HF_TOKEN`` or the saved login).
        endpoint: Hub URL (default ``$HF_ENDPOINT`` or https://huggingface.co).
        commit_message: default ``"eh-bench dataset <version>"``.

    Raises:
        ConfigError: bad ``repo_id`` or ``gated``.
        InputError: the folder does not validate.
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    if gated not in GATING_CHOICES:
        raise ConfigError(f"gated is {gated!r}; use one of: {', '.join(GATING_CHOICES)}")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ConfigError(f"repo id {repo_id!r} is not ORG/NAME")
    root = Path(root)
    check = validate_dataset(root)
    if not check.ok:
        raise InputError(
            f"{root}: not a valid build ({len(check.errors)} problems; first: {check.errors[0]}); "
            "run `eh-bench dataset validate` and rebuild"
        )
    manifest = read_manifest(root)
    warnings = []
    if manifest.get("repo_id") not in (None, repo_id):
        warnings.append(
            f"the card's examples name {manifest.get('repo_id')!r}, not {repo_id!r}; "
            f"rebuild with --repo-id {repo_id} to match"
        )
    files = [*list_files(root), MANIFEST_NAME]
    api = HfApi(endpoint=endpoint, token=token)
    repo_url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(root / rel)) for rel in files]
    info = api.create_commit(
        repo_id,
        operations,
        commit_message=commit_message or COMMIT_MESSAGE.format(version=manifest.get("version", DATASET_VERSION)),
        repo_type="dataset",
    )
    api.update_repo_settings(repo_id, repo_type="dataset", gated=gated)
    return PublishResult(
        repo_url=str(repo_url),
        commit_url=str(getattr(info, "commit_url", "")),
        commit_oid=str(getattr(info, "oid", "")),
        files=files,
        gated=gated,
        private=private,
        warnings=warnings,
    )
