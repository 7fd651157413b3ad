"""The project's own prompt set: packaged rows without any benchmark file, and malformed-file errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataset_fixtures import CORE, sha, write_core

from eh_bench.dataset.core import CORE_ANNOTATOR, core_path, read_core
from eh_bench.dataset.load import core_rows
from eh_bench.errors import InputError, LabelError
from eh_bench.rubric import HARM_CATEGORIES, RUBRIC_VERSION
from eh_bench.sources.base import LEVEL_COLUMNS, ROW_COLUMNS


@pytest.mark.parametrize("benign", [False, True])
def test_packaged_core_rows_are_canonical_and_labelled(benign: bool) -> None:
    if not core_path(benign).is_file():
        pytest.fail(f"{core_path(benign)} is missing from the package")
    rows = core_rows(benign)
    lines = [json.loads(x) for x in core_path(benign).read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(rows) == len(lines) > 0
    source = "core_benign" if benign else "core"
    for row, line in zip(rows, lines, strict=True):
        assert tuple(row) == ROW_COLUMNS
        assert row["id"] == f"{source}:{line['source_id']}" and row["source"] == source
        assert row["prompt_sha256"] == sha(line["prompt"])
        assert all(isinstance(row[c], int) and 1 <= row[c] <= 5 for c in LEVEL_COLUMNS)
        assert row["harm_category"] in HARM_CATEGORIES
        assert row["annotator"] == CORE_ANNOTATOR and row["rubric_version"] == RUBRIC_VERSION and row["split"] == "test"
    assert len({r["id"] for r in rows}) == len(rows)


def test_read_core_from_a_folder(tmp_path: Path) -> None:
    write_core(tmp_path)
    rows = read_core(False, tmp_path)
    assert [r.source_id for r in rows] == [c["source_id"] for c in CORE]
    assert [(r.cost, r.severity) for r in rows] == [(c["cost"], c["severity"]) for c in CORE]
    assert [r.source for r in read_core(True, tmp_path)] == ["core_benign", "core_benign"]


@pytest.mark.parametrize(
    ("line", "error", "match"),
    [
        ("{not json", InputError, r"core\.jsonl:2: not valid JSON"),
        ("[1, 2]", InputError, r"core\.jsonl:2: expected a JSON object"),
        ('{"source_id": "x", "prompt": ""}', InputError, r"core\.jsonl:2:prompt: missing or empty"),
        ('{"source_id": "core-001", "prompt": "Again"}', InputError, r"core\.jsonl:2:source_id: 'core-001' repeats line 1"),
        (
            '{"source_id": "x", "prompt": "p", "expertise": 1, "equipment": 1, "time": 1, "legality": 1, '
            '"cost": 9, "severity": 1, "harm_category": "none"}',
            LabelError,
            r"core\.jsonl:2: cost is 9",
        ),
    ],
)
def test_malformed_core_lines(tmp_path: Path, line: str, error: type[Exception], match: str) -> None:
    write_core(tmp_path)
    path = tmp_path / "core.jsonl"
    first = path.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(first + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(error, match=match):
        read_core(False, tmp_path)


def test_missing_core_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"core_benign\.jsonl: the project's prompt set is missing"):
        read_core(True, tmp_path)
