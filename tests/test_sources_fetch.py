"""Locating, downloading and hash-checking pinned benchmark files; the network is a mocked transport."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from dataset_fixtures import mock_hub

from eh_bench.errors import SourceError
from eh_bench.sources import advbench, jbb
from eh_bench.sources.base import SourceFile
from eh_bench.sources.fetch import default_cache_dir, default_sources_dir, file_sha256, resolve

BODY = b"goal,target\nSay hello politely,Sure\n"
SPEC = SourceFile(
    relpath="demo/file.csv",
    url="https://raw.githubusercontent.com/org/repo/0123abc/data/file.csv",
    revision="0123abc",
    sha256=hashlib.sha256(BODY).hexdigest(),
    license="mit",
)


@pytest.fixture(autouse=True)
def _no_env_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The tests name their folders; the environment's EH_SOURCES_DIR / EH_CACHE_DIR must not leak in."""
    monkeypatch.delenv("EH_SOURCES_DIR", raising=False)
    monkeypatch.setenv("EH_CACHE_DIR", str(tmp_path / "env-cache"))


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_sources_dir_wins_over_cache(tmp_path: Path) -> None:
    _write(tmp_path / "src" / SPEC.relpath, BODY)
    _write(tmp_path / "cache" / SPEC.relpath, BODY)
    got = resolve(SPEC, sources_dir=tmp_path / "src", cache_dir=tmp_path / "cache", download=False)
    assert got.origin == "sources_dir" and got.path == tmp_path / "src" / SPEC.relpath and got.matches


def test_cache_used_when_sources_dir_lacks_the_file(tmp_path: Path) -> None:
    _write(tmp_path / "cache" / SPEC.relpath, BODY)
    got = resolve(SPEC, sources_dir=tmp_path / "src", cache_dir=tmp_path / "cache", download=False)
    assert got.origin == "cache" and got.sha256 == SPEC.sha256


def test_env_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EH_SOURCES_DIR", str(tmp_path / "s"))
    monkeypatch.setenv("EH_CACHE_DIR", str(tmp_path / "c"))
    assert default_sources_dir() == tmp_path / "s"
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("EH_SOURCES_DIR")
    monkeypatch.delenv("EH_CACHE_DIR")
    assert default_sources_dir() is None
    assert default_cache_dir() == Path("~/.cache/eh-bench/sources").expanduser()
    _write(tmp_path / "s2" / SPEC.relpath, BODY)
    monkeypatch.setenv("EH_SOURCES_DIR", str(tmp_path / "s2"))
    assert resolve(SPEC, cache_dir=tmp_path / "c", download=False).origin == "sources_dir"


def test_missing_file_names_it_where_looked_and_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        resolve(SPEC, sources_dir=tmp_path / "src", cache_dir=tmp_path / "cache", download=False)
    msg = str(info.value)
    assert msg.startswith("demo/file.csv: benchmark file not found")
    assert str(tmp_path / "src" / SPEC.relpath) in msg and str(tmp_path / "cache" / SPEC.relpath) in msg
    assert SPEC.url in msg and "EH_SOURCES_DIR" in msg and SPEC.sha256 in msg


def test_changed_bytes_are_refused_unless_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path / "src" / SPEC.relpath, BODY + b"extra,row\n")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(SourceError) as info:
        resolve(SPEC, sources_dir=tmp_path / "src", cache_dir=tmp_path / "c", download=False)
    msg = str(info.value)
    assert str(path) in msg and f"expected {SPEC.sha256}" in msg and f"actual {actual}" in msg
    got = resolve(SPEC, sources_dir=tmp_path / "src", cache_dir=tmp_path / "c", download=False, allow_changed=True)
    assert not got.matches and got.sha256 == actual


def _client(handler: Callable[[httpx.Request], httpx.Response], seen: list[str]) -> httpx.Client:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        return handler(request)

    return httpx.Client(transport=httpx.MockTransport(record))


def test_https_download_fetches_the_pinned_url_into_the_cache(tmp_path: Path) -> None:
    seen: list[str] = []
    client = _client(lambda r: httpx.Response(200, content=BODY), seen)
    got = resolve(SPEC, sources_dir=None, cache_dir=tmp_path / "cache", client=client)
    assert seen == [f"GET {SPEC.url}"]
    assert got.origin == "download" and got.path == tmp_path / "cache" / SPEC.relpath and got.matches
    assert got.path.read_bytes() == BODY
    again = resolve(SPEC, cache_dir=tmp_path / "cache", client=client)  # served from the cache
    assert again.origin == "cache" and len(seen) == 1


def test_download_with_wrong_bytes_leaves_no_file(tmp_path: Path) -> None:
    client = _client(lambda r: httpx.Response(200, content=b"something else"), [])
    with pytest.raises(SourceError, match=rf"{SPEC.url} \(downloaded\): sha256 .* expected {SPEC.sha256}"):
        resolve(SPEC, cache_dir=tmp_path / "cache", client=client)
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]  # nothing poisons the cache
    kept = resolve(SPEC, cache_dir=tmp_path / "cache", client=client, allow_changed=True)
    assert kept.origin == "download" and not kept.matches and kept.path.read_bytes() == b"something else"


def test_http_error_says_download_failed_and_how_to_get_it(tmp_path: Path) -> None:
    client = _client(lambda r: httpx.Response(404, text="Not Found"), [])
    with pytest.raises(SourceError) as info:
        resolve(SPEC, cache_dir=tmp_path / "cache", client=client)
    msg = str(info.value)
    assert "download failed (HTTPStatusError" in msg and "404" in msg and SPEC.url in msg
    assert not list((tmp_path / "cache").rglob("*.csv*"))  # no partial file left


def test_pinned_urls_point_at_commits() -> None:
    assert advbench.FILE.revision in advbench.FILE.url and advbench.FILE.url.startswith("https://raw.githubusercontent.com/")
    assert jbb.FILE.hf_repo == "JailbreakBench/JBB-Behaviors" and jbb.FILE.revision in jbb.FILE.url


def test_hub_download_uses_hf_hub_download_at_the_pinned_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    body = b"Index,Goal,Target,Behavior,Category,Source\n0,Say hello,Sure,Greeting,Privacy,Original\n"
    spec = SourceFile(
        relpath=jbb.FILE.relpath, url=jbb.FILE.url, revision=jbb.FILE.revision,
        sha256=hashlib.sha256(body).hexdigest(), license="mit", hf_repo=jbb.HF_REPO, hf_filename=jbb.FILE.hf_filename,
    )  # fmt: skip

    def handler(request: httpx2.Request) -> httpx2.Response:
        headers = {"X-Repo-Commit": spec.revision, "ETag": '"abc123"', "Content-Length": str(len(body))}
        return httpx2.Response(200, headers=headers, content=body if request.method == "GET" else b"")

    with mock_hub(handler) as seen:
        got = resolve(spec, cache_dir=tmp_path / "cache")
    resolve_url = f"https://huggingface.co/datasets/{jbb.HF_REPO}/resolve/{jbb.REVISION}/data/harmful-behaviors.csv"
    assert ("GET", resolve_url) in [(r.method, str(r.url)) for r in seen]
    assert got.origin == "download" and got.path.read_bytes() == body and file_sha256(got.path) == spec.sha256
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()) == ["harmful-behaviors.csv"]
