"""The results index of a local store: records validated once at write time, trusted only while their
file is unchanged, read incrementally, compacted, rebuilt for stores that predate it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from leaderboard_fixtures import entry_variant, make_entry

from eh_bench.submission.schema import entry_name
from eh_bench.submission.stores import LocalStore, Record
from eh_bench.submission.stores import base as store_base
from eh_bench.submission.stores.base import RESULTS, now_iso
from eh_bench.submission.stores.index import INDEX_FILE, MIN_COMPACT, ResultsIndex


@pytest.fixture(scope="module")
def entry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_entry(tmp_path_factory.mktemp("index-entry"))


def _verified(root: Path, entries: list[dict[str, Any]]) -> LocalStore:
    store = LocalStore(root)
    for e in entries:
        store.set_status(store.push(e, "t").name, "VERIFIED")
    return store


def _no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(entry: Any) -> list[Any]:
        raise AssertionError("an indexed record was validated again")

    monkeypatch.setattr(store_base, "check_entry", refuse)


def test_verified_records_are_read_from_the_index_without_validation(
    tmp_path: Path, entry: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = [entry_variant(entry, i) for i in range(3)]
    _verified(tmp_path, entries)
    lines = (tmp_path / INDEX_FILE).read_text().splitlines()
    assert [json.loads(x)["name"] for x in lines] == [entry_name(e) for e in entries]
    _no_validation(monkeypatch)
    fresh = LocalStore(tmp_path).results()
    assert sorted(r.name for r in fresh) == sorted(entry_name(e) for e in entries)
    assert all(r.status == "VERIFIED" for r in fresh)


def test_rejected_records_leave_the_index(tmp_path: Path, entry: dict[str, Any]) -> None:
    entries = [entry_variant(entry, i) for i in range(2)]
    store = _verified(tmp_path, entries)
    store.set_status(entry_name(entries[0]), "REJECTED", "wrong judge")
    assert [r.name for r in LocalStore(tmp_path).results()] == [entry_name(entries[1])]
    assert json.loads((tmp_path / INDEX_FILE).read_text().splitlines()[-1]) == {
        "name": entry_name(entries[0]), "removed": True}


def test_a_changed_file_is_validated_again_and_skipped_when_invalid(tmp_path: Path, entry: dict[str, Any]) -> None:
    entries = [entry_variant(entry, i) for i in range(2)]
    _verified(tmp_path, entries)
    path = tmp_path / RESULTS / f"{entry_name(entries[0])}.json"
    tampered = json.loads(path.read_text())
    tampered["entry"]["metrics"]["asr"]["value"] = 9
    path.write_text(json.dumps(tampered))
    assert [r.name for r in LocalStore(tmp_path).results()] == [entry_name(entries[1])]


def test_a_file_written_by_hand_is_validated_and_shown(tmp_path: Path, entry: dict[str, Any]) -> None:
    _verified(tmp_path, [entry_variant(entry, 0)])
    extra = entry_variant(entry, 1)
    record = Record(entry_name(extra), "VERIFIED", "hand", now_iso(), extra)
    (tmp_path / RESULTS / f"{record.name}.json").write_bytes(record.to_bytes())
    assert len(LocalStore(tmp_path).results()) == 2


def test_damaged_and_partial_lines_are_ignored(tmp_path: Path, entry: dict[str, Any]) -> None:
    entries = [entry_variant(entry, i) for i in range(2)]
    _verified(tmp_path, entries)
    index = tmp_path / INDEX_FILE
    lines = index.read_bytes().splitlines(keepends=True)
    index.write_bytes(b"{not json}\n" + lines[1] + lines[0][:40])  # first line lost, a cut-off line at the end
    assert sorted(r.name for r in LocalStore(tmp_path).results()) == sorted(entry_name(e) for e in entries)


def test_the_log_is_read_incrementally(tmp_path: Path, entry: dict[str, Any]) -> None:
    store = _verified(tmp_path, [entry_variant(entry, 0)])
    reader = ResultsIndex(tmp_path / INDEX_FILE)
    assert len(reader.load()) == 1
    first = reader._offset
    store.set_status(store.push(entry_variant(entry, 1), "t").name, "VERIFIED")
    assert len(reader.load()) == 2 and reader._offset > first and reader.lines == 2


def test_the_log_is_compacted(tmp_path: Path, entry: dict[str, Any]) -> None:
    store = _verified(tmp_path, [entry_variant(entry, 0)])
    name = entry_name(entry_variant(entry, 0))
    for i in range(MIN_COMPACT + 2):
        store.set_status(name, "REJECTED" if i % 2 == 0 else "VERIFIED")
    lines = (tmp_path / INDEX_FILE).read_text().splitlines()
    assert len(lines) < MIN_COMPACT
    assert [r.name for r in LocalStore(tmp_path).results()] == ([name] if (MIN_COMPACT + 2) % 2 == 0 else [])


def test_a_store_without_an_index_is_indexed(tmp_path: Path, entry: dict[str, Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store = _verified(tmp_path, [entry_variant(entry, i) for i in range(3)])
    (tmp_path / INDEX_FILE).unlink()
    assert len(store.results()) == 3, "without an index every file is read and validated"
    assert LocalStore(tmp_path).reindex() == 3
    _no_validation(monkeypatch)
    assert len(LocalStore(tmp_path).results()) == 3
    (tmp_path / INDEX_FILE).unlink()
    monkeypatch.undo()
    # The next write builds the whole index.
    store.set_status(store.push(entry_variant(entry, 9), "t").name, "VERIFIED")
    assert len((tmp_path / INDEX_FILE).read_text().splitlines()) == 4


def test_cli_reindex(tmp_path: Path, entry: dict[str, Any]) -> None:
    from typer.testing import CliRunner

    from eh_bench.cli import app

    _verified(tmp_path, [entry_variant(entry, i) for i in range(2)])
    (tmp_path / INDEX_FILE).unlink()
    result = CliRunner().invoke(app, ["submit", "reindex", "--store", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2 verified record(s) indexed" in result.output
    assert len((tmp_path / INDEX_FILE).read_text().splitlines()) == 2
    missing = CliRunner().invoke(app, ["submit", "reindex", "--store", str(tmp_path / "nope")])
    assert missing.exit_code != 0
