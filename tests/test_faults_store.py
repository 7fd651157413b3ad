"""Leaderboard stores and entries under faults: links out of the store, typos, permissions, a full disk
(issue 17, cases 7, 8, 10 and 12)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fault_fixtures import assert_clean_error, cli_error, read_only, run_cli
from leaderboard_fixtures import make_entry, make_report, write_report

from eh_bench.submission.schema import entry_name
from eh_bench.submission.stores import LocalStore, StoreError


@pytest.fixture(scope="module")
def entry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_entry(tmp_path_factory.mktemp("faults_store"))


@pytest.fixture
def entry_file(tmp_path: Path, entry: dict[str, Any]) -> Path:
    path = tmp_path / "entry.json"
    path.write_text(json.dumps(entry), encoding="utf-8")
    return path


@pytest.mark.parametrize("inside", ["requests", "results", ".lock", "results.index.jsonl"])
def test_a_link_inside_the_store_is_refused(tmp_path: Path, entry: dict[str, Any], inside: str) -> None:
    root = tmp_path / "store"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    if inside != "requests":  # a reviewable record first, written normally
        LocalStore(root).push(entry, "alice")
    link_target = outside if inside in ("requests", "results") else outside / "file"
    (root / inside).parent.mkdir(parents=True, exist_ok=True)
    if (root / inside).is_file():
        (root / inside).unlink()  # the store's own .lock, made by the push
    os.symlink(link_target, root / inside)
    store = LocalStore(root)
    with pytest.raises(StoreError, match=rf"{inside}: is a symbolic link"):
        if inside == "requests":
            store.push(entry, "alice")
        else:
            store.set_status(entry_name(entry), "VERIFIED")
    assert list(outside.iterdir()) == []


def test_a_linked_record_file_is_never_read(tmp_path: Path, entry: dict[str, Any]) -> None:
    root = tmp_path / "store"
    store = LocalStore(root)
    record = store.push(entry, "alice")
    planted = tmp_path / "planted.json"
    (root / "requests" / f"{record.name}.json").rename(planted)
    os.symlink(planted, root / "requests" / f"{record.name}.json")
    assert LocalStore(root).records() == []


def test_records_are_readable_by_the_apps_user(tmp_path: Path, entry: dict[str, Any]) -> None:
    old = os.umask(0o022)
    try:
        store = LocalStore(tmp_path / "store")
        record = store.push(entry, "alice")
        store.set_status(record.name, "VERIFIED")
    finally:
        os.umask(old)
    for area in ("requests", "results"):
        assert (tmp_path / "store" / area / f"{record.name}.json").stat().st_mode & 0o777 == 0o644


def test_listing_a_store_that_is_not_there_is_an_error(tmp_path: Path, entry_file: Path) -> None:
    missing = tmp_path / "TYPO"
    message = cli_error(["submit", "list", "--store", str(missing)])
    assert str(missing) in message and "no such store" in message
    assert not missing.exists()
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a store", encoding="utf-8")
    assert "not a folder" in cli_error(["submit", "list", "--store", str(a_file)])
    assert "not a folder" in cli_error(["submit", "push", str(entry_file), "--store", str(a_file)])


def test_an_unknown_status_lists_the_valid_ones(tmp_path: Path, entry: dict[str, Any]) -> None:
    LocalStore(tmp_path / "store").push(entry, "alice")
    message = cli_error(["submit", "list", "--store", str(tmp_path / "store"), "--status", "VERIFED"])
    assert "'VERIFED'" in message and "PENDING, VERIFIED, REJECTED" in message


def test_pushing_to_a_read_only_store_is_a_message(tmp_path: Path, entry_file: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    read_only(root)
    result = run_cli(["submit", "push", str(entry_file), "--store", str(root)], unprivileged=True)
    assert_clean_error(result, str(root))
    assert list(root.iterdir()) == []


def test_submit_build_checks_out_before_work_and_keeps_the_old_entry(tmp_path: Path) -> None:
    report = write_report(tmp_path / "r", make_report())
    assert "is a folder" in cli_error(["submit", "build", str(report), "--out", str(tmp_path)])
    out = tmp_path / "entry.json"
    first = run_cli(["submit", "build", str(report), "--out", str(out)])
    assert first.returncode == 0, first.stderr
    before = out.read_bytes()
    again = run_cli(
        ["submit", "build", str(report), "--out", str(out), "--note", "x"], fsize=len(before) // 2
    )
    assert_clean_error(again, str(out), "unchanged")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry.json", "r"]


def test_deeply_nested_json_in_a_report_or_entry_is_a_message(tmp_path: Path) -> None:
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "report.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert "nested too deeply" in cli_error(
        ["submit", "build", str(folder), "--out", str(tmp_path / "e.json")]
    )
    deep = tmp_path / "deep.json"
    deep.write_text('{"a": ' * 50_000 + "1" + "}" * 50_000, encoding="utf-8")
    result = run_cli(["submit", "validate", str(deep)])
    assert "Traceback" not in result.stdout + result.stderr and result.returncode == 1, result.stderr
    assert "deep.json" in result.stdout + result.stderr
