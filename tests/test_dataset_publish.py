"""Publishing to the Hub, tested at the HTTP boundary: the real huggingface_hub client, a mocked transport."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from dataset_fixtures import fixture_tree, mock_hub

from eh_bench.dataset.build import build_dataset
from eh_bench.dataset.configs import DATASET_VERSION
from eh_bench.dataset.manifest import list_files
from eh_bench.dataset.publish import publish_dataset
from eh_bench.errors import ConfigError, InputError

HUB = "https://huggingface.co"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("publish")
    build_dataset(tmp / "ds", download=False, allow_changed_sources=True, repo_id="org/eh-bench", **fixture_tree(tmp))
    return tmp / "ds"


def hub_handler(request: httpx2.Request) -> httpx2.Response:
    url = str(request.url)
    if url.endswith("/api/repos/create"):
        return httpx2.Response(200, json={"url": f"{HUB}/datasets/org/eh-bench", "name": "org/eh-bench"})
    if "/preupload/" in url:
        files = json.loads(request.content)["files"]
        return httpx2.Response(200, json={"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]})
    if "/commit/" in url:
        return httpx2.Response(200, json={"commitUrl": f"{HUB}/datasets/org/eh-bench/commit/c0ffee", "commitOid": "c0ffee"})
    return httpx2.Response(200, json={})


def _api(requests: list[httpx2.Request]) -> list[httpx2.Request]:
    return [r for r in requests if "/agent-harnesses" not in str(r.url) and "/validate-yaml" not in str(r.url)]


def test_publish_creates_repo_commits_once_and_gates(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with mock_hub(hub_handler) as seen:
        result = publish_dataset(built, "org/eh-bench", private=True, gated="manual", token="hf_test_token")
    calls = _api(seen)
    assert [(r.method, str(r.url)) for r in calls] == [
        ("POST", f"{HUB}/api/repos/create"),
        ("POST", f"{HUB}/api/datasets/org/eh-bench/preupload/main"),
        ("POST", f"{HUB}/api/datasets/org/eh-bench/commit/main"),
        ("PUT", f"{HUB}/api/datasets/org/eh-bench/settings"),
    ]
    assert all(r.headers["authorization"] == "Bearer hf_test_token" for r in calls)
    create = json.loads(calls[0].content)
    assert create == {"name": "eh-bench", "organization": "org", "visibility": "private", "type": "dataset"}
    assert json.loads(calls[3].content) == {"gated": "manual"}

    lines = [json.loads(line) for line in calls[2].content.decode().splitlines()]
    assert lines[0] == {"key": "header", "value": {"summary": f"eh-bench dataset {DATASET_VERSION}", "description": ""}}
    uploaded = {line["value"]["path"]: base64.b64decode(line["value"]["content"]) for line in lines[1:]}
    expected = [*list_files(built), "MANIFEST.json"]
    assert sorted(uploaded) == sorted(expected) == sorted(result.files)
    for rel, data in uploaded.items():
        assert data == (built / rel).read_bytes(), rel
    assert result.commit_oid == "c0ffee" and result.gated == "manual" and result.private and result.warnings == []


def test_publish_warns_when_the_card_names_another_repo(built: Path) -> None:
    with mock_hub(hub_handler):
        result = publish_dataset(built, "someone/else", token="hf_x")
    assert result.warnings == [
        "the card's examples name 'org/eh-bench', not 'someone/else'; rebuild with --repo-id someone/else to match"
    ]


def test_hub_error_surfaces(built: Path) -> None:
    def forbidden(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(403, json={"error": "You don't have the rights to create a dataset under this namespace"})

    from huggingface_hub.errors import HfHubHTTPError

    with mock_hub(forbidden), pytest.raises(HfHubHTTPError, match="403"):
        publish_dataset(built, "org/eh-bench", token="hf_x")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"repo_id": "no-slash"}, ConfigError, "is not ORG/NAME"),
        ({"gated": "sometimes"}, ConfigError, "gated is 'sometimes'; use one of: auto, manual"),
    ],
)
def test_bad_arguments_make_no_request(built: Path, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args: dict[str, Any] = {"repo_id": "org/eh-bench", "token": "hf_x", **kwargs}
    with mock_hub(hub_handler) as seen, pytest.raises(error, match=match):
        publish_dataset(built, **args)
    assert _api(seen) == []


def test_invalid_build_is_never_uploaded(built: Path, tmp_path: Path) -> None:
    import shutil

    root = Path(shutil.copytree(built, tmp_path / "ds"))
    (root / "README.md").write_text("tampered\n", encoding="utf-8")
    with mock_hub(hub_handler) as seen, pytest.raises(InputError, match="not a valid build"):
        publish_dataset(root, "org/eh-bench", token="hf_x")
    assert _api(seen) == []
