"""Reading a published dataset by Hub id, through the real `datasets` / huggingface_hub clients and a mock Hub."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx2
import pytest
from dataset_fixtures import fixture_tree, mock_hub, serve_folder

from eh_bench.dataset.build import build_dataset
from eh_bench.dataset.load import dataset_fingerprint, load_config
from eh_bench.dataset.schema import read_parquet
from eh_bench.errors import InputError

REPO = "org/eh-bench"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("hub")
    build_dataset(tmp / "ds", download=False, allow_changed_sources=True, repo_id=REPO, **fixture_tree(tmp))
    return tmp / "ds"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path


def test_load_config_from_a_hub_id(built: Path, hub_cache: Path) -> None:
    with mock_hub(serve_folder(built, REPO)) as seen:
        ds = load_config(REPO, "jbb", cache_dir=hub_cache / "datasets")
    assert ds.to_list() == read_parquet(built / "jbb/test-00000-of-00001.parquet")
    assert ds.features["cost"].dtype == "int8"
    urls = [str(r.url) for r in seen]
    assert f"https://huggingface.co/datasets/{REPO}/resolve/main/README.md" in urls
    assert any(u.endswith("/jbb/test-00000-of-00001.parquet") and f"/datasets/{REPO}/resolve/" in u for u in urls)
    assert all(r.url.host.endswith(("huggingface.co", "amazonaws.com")) for r in seen)  # nothing left the mock


def test_fingerprint_of_a_hub_id_matches_the_folder(built: Path, hub_cache: Path) -> None:
    with mock_hub(serve_folder(built, REPO)):
        remote = dataset_fingerprint(REPO)
    local = dataset_fingerprint(built)
    assert remote["manifest_sha256"] == local["manifest_sha256"] == hashlib.sha256((built / "MANIFEST.json").read_bytes()).hexdigest()
    assert remote["version"] == local["version"] and remote["location"] == f"hf://datasets/{REPO}"


def test_fingerprint_of_an_unreachable_hub_id_is_an_input_error(hub_cache: Path) -> None:
    def gated(request: Any) -> httpx2.Response:
        return httpx2.Response(403, headers={"X-Error-Code": "GatedRepo"}, json={"error": "Access to this dataset is restricted"})

    with mock_hub(gated), pytest.raises(InputError, match=r"org/private: not a local folder, and its MANIFEST\.json could not be fetched"):
        dataset_fingerprint("org/private")
