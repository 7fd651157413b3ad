"""`validate_dataset` on a good build and on builds damaged in one way each."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dataset_fixtures import fixture_tree, write_labels

from eh_bench.dataset.build import build_dataset
from eh_bench.dataset.configs import CONFIGS
from eh_bench.dataset.manifest import write_manifest
from eh_bench.dataset.schema import arrow_schema, read_parquet
from eh_bench.dataset.validate import read_front_matter, validate_dataset
from eh_bench.errors import InputError


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("validate")
    out = tmp / "ds"
    build_dataset(out, download=False, allow_changed_sources=True, **fixture_tree(tmp))
    return out


def _copy(good: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(good, tmp_path / "ds"))


def _rewrite(path: Path, change: Callable[[list[dict[str, Any]]], None], schema: Any = None) -> None:
    rows = read_parquet(path)
    change(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema or arrow_schema()), path)


def _remanifest(root: Path) -> None:
    """Re-hash after a deliberate edit, so that only the checks under test can fail."""
    meta = json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))
    meta.pop("files")
    write_manifest(root, meta)


def test_good_build_is_valid(good: Path) -> None:
    result = validate_dataset(good)
    assert result.ok and result.errors == [] and sum(result.rows_checked.values()) == 28


def test_edited_file_breaks_the_manifest(good: Path, tmp_path: Path) -> None:
    root = _copy(good, tmp_path)
    with (root / "README.md").open("a", encoding="utf-8") as fh:
        fh.write("\nedited\n")
    (root / "extra.txt").write_text("x", encoding="utf-8")
    (root / "plots/cost_by_source.png").unlink()
    errors = validate_dataset(root).errors
    assert any("README.md: sha256 is" in e and "MANIFEST.json says" in e for e in errors)
    assert any("extra.txt: present but not listed" in e for e in errors)
    assert any("cost_by_source.png: listed in MANIFEST.json but missing" in e for e in errors)


def test_changed_prompt_is_caught_by_its_hash(good: Path, tmp_path: Path) -> None:
    root = _copy(good, tmp_path)

    def change(rows: list[dict[str, Any]]) -> None:
        rows[1]["prompt"] = "A different request"

    _rewrite(root / CONFIGS["advbench"].data_file, change)
    _remanifest(root)
    errors = validate_dataset(root).errors
    assert any("advbench:1: prompt_sha256:" in e and "is not the SHA-256 of the stripped prompt" in e for e in errors)


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("cost", 9, "cost: 9 is outside the 1-5 scale"),
        ("severity", None, "severity: is null"),
        ("harm_category", "spam", "harm_category: 'spam' is not in the shared taxonomy"),
        ("split", "train", "split: 'train', expected 'test'"),
        ("source", "jbb", "source: 'jbb' does not belong in this config"),
    ],
)
def test_bad_cell_is_named(good: Path, tmp_path: Path, column: str, value: Any, match: str) -> None:
    root = _copy(good, tmp_path)

    def change(rows: list[dict[str, Any]]) -> None:
        rows[0][column] = value

    _rewrite(root / CONFIGS["strongreject"].data_file, change)
    _remanifest(root)
    errors = validate_dataset(root).errors
    assert any(match in e for e in errors), errors


def test_string_labels_fail_the_schema(good: Path, tmp_path: Path) -> None:
    root = _copy(good, tmp_path)
    schema = pa.schema([pa.field(f.name, pa.string()) for f in arrow_schema()])

    def to_str(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["cost"] = str(row["cost"])
            for k in ("severity", "expertise", "equipment", "time", "legality"):
                row[k] = str(row[k])

    _rewrite(root / CONFIGS["core"].data_file, to_str, schema=schema)
    _remanifest(root)
    errors = validate_dataset(root).errors
    assert any("core/test-00000-of-00001.parquet: schema is (" in e and "cost:string" in e for e in errors)


def test_duplicate_request_in_all_and_broken_duplicate_of(good: Path, tmp_path: Path) -> None:
    root = _copy(good, tmp_path)
    twin = next(r for r in read_parquet(root / CONFIGS["advbench"].data_file) if r["id"] == "advbench:0")

    def add_twin(rows: list[dict[str, Any]]) -> None:
        rows.append({**twin, "duplicate_of": None})

    def unmark(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["duplicate_of"] = None

    _rewrite(root / CONFIGS["all"].data_file, add_twin)
    _rewrite(root / CONFIGS["advbench"].data_file, unmark)
    _remanifest(root)
    errors = validate_dataset(root).errors
    assert any(e.startswith("all: 1 rows repeat a request") for e in errors)
    assert any("harmbench:poem_autumn, advbench:0) has 2 rows marked as first" in e for e in errors)
    assert any("all/test-00000-of-00001.parquet: 10 rows, MANIFEST.json says 9" in e for e in errors)


def test_all_missing_a_request(good: Path, tmp_path: Path) -> None:
    root = _copy(good, tmp_path)

    def drop(rows: list[dict[str, Any]]) -> None:
        rows.pop()

    _rewrite(root / CONFIGS["all"].data_file, drop)
    _remanifest(root)
    errors = validate_dataset(root).errors
    assert "all: ids differ from the first occurrences of the harmful configs (0 extra, 1 missing)" in errors


def test_identical_requests_with_different_labels_warn(tmp_path: Path) -> None:
    tree = fixture_tree(tmp_path)
    tree["labels_dir"] = write_labels(tmp_path / "custom", changes={"strongreject:1": {"severity": 5, "cost": 5}})
    build_dataset(tmp_path / "ds", download=False, allow_changed_sources=True, **tree)
    result = validate_dataset(tmp_path / "ds")
    assert result.ok
    assert result.warnings == ["identical requests carry different labels: advbench:1, strongreject:1"]


def test_card_and_manifest_problems(good: Path, tmp_path: Path) -> None:
    root = _copy(good, tmp_path)
    text = (root / "README.md").read_text(encoding="utf-8")
    (root / "README.md").write_text(text.replace("extra_gated_prompt:", "unused_key:", 1), encoding="utf-8")
    _remanifest(root)
    assert any("front matter lacks 'extra_gated_prompt'" in e for e in validate_dataset(root).errors)
    (root / "README.md").write_text("# no front matter\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"README\.md:1: no YAML front matter"):
        read_front_matter(root / "README.md")
    (root / "MANIFEST.json").write_text("{oops", encoding="utf-8")
    assert validate_dataset(root).errors[0].endswith("not valid JSON (Expecting property name enclosed in double quotes); rebuild the dataset")
    (root / "MANIFEST.json").unlink()
    assert "no manifest" in validate_dataset(root).errors[0]
