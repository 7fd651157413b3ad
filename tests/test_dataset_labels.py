"""Label files: validation with file:line:field, and the join that refuses labels whose prompt changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dataset_fixtures import LABEL_HEADER, label_row, sha, write_label_file

from eh_bench.dataset.labels import DEFAULT_LABELS_DIR, join_labels, label_path, read_label_file
from eh_bench.errors import LabelError
from eh_bench.sources.base import Row

ROWS = [
    Row(source="advbench", source_id="0", prompt="Say hello politely"),
    Row(source="advbench", source_id="1", prompt="Name a blue fruit"),
    Row(source="advbench", source_id="2", prompt="Count to three"),
]


def test_label_path_default_and_override(tmp_path: Path) -> None:
    assert label_path("jbb") == DEFAULT_LABELS_DIR / "jbb.csv"
    assert DEFAULT_LABELS_DIR.name == "labels" and DEFAULT_LABELS_DIR.parent.name == "eh_bench"
    assert label_path("jbb", tmp_path) == tmp_path / "jbb.csv"


def test_read_and_join(tmp_path: Path) -> None:
    path = write_label_file(
        tmp_path / "advbench.csv",
        [
            label_row("advbench", "0", "Say hello politely", cost="3", severity=4),
            label_row("advbench", "1", "A different prompt than the source row"),  # stale hash
            label_row("advbench", "9", "No such row"),
        ],
    )
    records = read_label_file(path, "advbench")
    assert set(records) == {"0", "1", "9"}
    assert records["0"].label.cost == 3 and records["0"].where == f"{path}:2"
    rows, report = join_labels(ROWS, records, "advbench")
    assert [r.labelled for r in rows] == [True, False, False]
    first = rows[0]
    assert (first.cost, first.severity, first.annotator, first.rubric_version) == (3, 4, "test-annotator", "1")
    assert isinstance(first.cost, int) and first.rationale == "stand-in label for a test, with a comma"
    assert first.id == "advbench:0" and first.prompt_sha256 == sha("Say hello politely")
    assert report.rows == 3 and report.labelled == 1
    assert report.unlabelled == ["1", "2"]
    assert report.mismatched == [
        {
            "source_id": "1",
            "where": f"{path}:3",
            "label_prompt_sha256": sha("A different prompt than the source row"),
            "source_prompt_sha256": sha("Name a blue fruit"),
        }
    ]
    assert report.orphans == ["9"]
    assert ROWS[0].cost is None  # the input rows are not modified


def _bad(**changes: Any) -> dict[str, Any]:
    return {**label_row("advbench", "0", "Say hello politely"), **changes}


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([_bad(), _bad(cost=7)], r"advbench\.csv:3:cost: cost is 7, outside the rubric's 1-5 scale"),
        ([_bad(severity="high")], r"advbench\.csv:2:severity: severity is 'high', not an integer level"),
        ([_bad(time="")], r"advbench\.csv:2:time: time is missing"),
        ([_bad(harm_category="spam")], r"advbench\.csv:2:harm_category: harm_category is 'spam'; use one of"),
        ([_bad(prompt_sha256="abc")], r"advbench\.csv:2:prompt_sha256: 'abc' is not a 64-digit hex SHA-256"),
        ([_bad(source="jbb")], r"advbench\.csv:2:source: is 'jbb', expected 'advbench'"),
        ([_bad(source_id=" ")], r"advbench\.csv:2:source_id: is empty"),
        ([_bad(annotator="")], r"advbench\.csv:2:annotator: is empty"),
        ([_bad(), _bad()], r"advbench\.csv:3:source_id: '0' is labelled twice \(also at .*advbench\.csv:2\)"),
    ],
)
def test_malformed_label_files_name_file_line_field(tmp_path: Path, rows: list[dict[str, Any]], match: str) -> None:
    path = write_label_file(tmp_path / "advbench.csv", rows)
    with pytest.raises(LabelError, match=match):
        read_label_file(path, "advbench")


def test_missing_column_is_reported_at_line_one(tmp_path: Path) -> None:
    header = [c for c in LABEL_HEADER if c != "legality"]
    path = write_label_file(tmp_path / "advbench.csv", [_bad()], header=header)
    with pytest.raises(LabelError, match=r"advbench\.csv:1:legality: header lacks column 'legality'"):
        read_label_file(path, "advbench")


def test_line_numbers_count_physical_lines(tmp_path: Path) -> None:
    """A rationale with an embedded newline moves the following rows down a line."""
    path = write_label_file(
        tmp_path / "advbench.csv",
        [_bad(rationale="two\nlines"), label_row("advbench", "1", "Name a blue fruit", cost=0)],
    )
    with pytest.raises(LabelError, match=r"advbench\.csv:4:cost"):
        read_label_file(path, "advbench")
