from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from eh_bench.dataset.manifest import (
    list_files,
    manifest_sha256,
    read_manifest,
    verify_manifest,
    write_manifest,
)
from eh_bench.errors import InputError


def test_manifest_lists_every_file_but_itself_and_hidden(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.parquet").write_bytes(b"123")
    (tmp_path / "README.md").write_text("card", encoding="utf-8")
    (tmp_path / ".gitattributes").write_text("lfs", encoding="utf-8")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "junk").write_text("j", encoding="utf-8")
    path = write_manifest(tmp_path, {"name": "eh-bench", "version": "9"})
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["files"] == {
        "README.md": hashlib.sha256(b"card").hexdigest(),
        "a/x.parquet": hashlib.sha256(b"123").hexdigest(),
    }
    assert list_files(tmp_path) == ["README.md", "a/x.parquet"]
    assert read_manifest(tmp_path)["version"] == "9"
    assert verify_manifest(tmp_path) == []
    assert manifest_sha256(tmp_path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_verify_reports_each_difference(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one", encoding="utf-8")
    (tmp_path / "b.txt").write_text("two", encoding="utf-8")
    write_manifest(tmp_path, {})
    (tmp_path / "a.txt").write_text("changed", encoding="utf-8")
    (tmp_path / "b.txt").unlink()
    (tmp_path / "c.txt").write_text("new", encoding="utf-8")
    problems = verify_manifest(tmp_path)
    assert problems[0].startswith(f"{tmp_path / 'a.txt'}: sha256 is ")
    assert problems[1] == f"{tmp_path / 'b.txt'}: listed in MANIFEST.json but missing"
    assert problems[2] == f"{tmp_path / 'c.txt'}: present but not listed in MANIFEST.json"
    assert verify_manifest(tmp_path, {"files": None}) == [f"{tmp_path / 'MANIFEST.json'}: 'files' is missing or not an object"]


def test_missing_or_broken_manifest(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no manifest; is .* a folder built by `eh-bench dataset build`"):
        read_manifest(tmp_path)
    (tmp_path / "MANIFEST.json").write_text("[1]", encoding="utf-8")
    with pytest.raises(InputError, match="expected a JSON object"):
        read_manifest(tmp_path)
