"""``eh-bench summarize`` on careless tables: refused with file, line and column, or read right (issue 17,
cases 2 and 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fault_fixtures import cli_error
from typer.testing import CliRunner

from eh_bench.cli import app
from eh_bench.tables import read_rows

runner = CliRunner()
GOOD = "cost,severity,success\n1,2,1\n5,2,0\n3,4,1\n"


def _summary(path: Path) -> dict[str, object]:
    result = runner.invoke(app, ["summarize", str(path), "--json", "--n-boot", "0"])
    assert result.exit_code == 0, (result.output, result.exception)
    data: dict[str, object] = json.loads(result.output)
    return data


def test_a_duplicated_header_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "judged.csv"
    path.write_text("cost,severity,success,cost\n1,2,1,5\n")
    message = cli_error(["summarize", str(path)])
    assert f"{path}:1" in message and "'cost'" in message and "columns 1 and 4" in message


@pytest.mark.parametrize("row", ["1,2,1,9", "1,2"])
def test_a_ragged_row_is_refused(tmp_path: Path, row: str) -> None:
    path = tmp_path / "judged.csv"
    path.write_text(f"cost,severity,success\n1,2,1\n{row}\n")
    message = cli_error(["summarize", str(path)])
    assert f"{path}:3" in message and "the header has 3" in message


def test_non_utf8_bytes_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "judged.csv"
    path.write_bytes(b"cost,severity,success\n1,2,1\n2,3,0 \xe9t\xe9\n")
    message = cli_error(["summarize", str(path)])
    assert f"{path}:3" in message and "not UTF-8" in message


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("object.json", '{"cost": 1, "severity": 2, "success": 1}', "one JSON object, not a table"),
        ("list.json", '[{"cost": 1, "severity": 2, "success": 1}, [1, 2, 1]]', "item 2: expected an object"),
        (
            "rows.jsonl",
            '{"cost": 1, "severity": 2, "success": 1}\n[1, 2, 1]\n',
            "rows.jsonl:2: expected an object",
        ),
        ("dup.jsonl", '{"cost": 1, "severity": 2, "success": 1, "cost": 5}\n', 'duplicate key "cost"'),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("bad.csv", "cost,severity,success\n1,2,x\n", "bad.csv:2"),
        ("level.csv", "cost,severity,success\n1,2,1\n7,2,0\n", "level.csv:3: cost is 7"),
    ],
)
def test_malformed_tables_are_messages(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert expected in cli_error(["summarize", str(path)])


def test_a_bad_cost_distribution_is_a_message(tmp_path: Path) -> None:
    path = tmp_path / "judged.csv"
    path.write_text(GOOD)
    assert "--cost-distribution" in cli_error(["summarize", str(path), "--cost-distribution", "a,b"])


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("JUDGED.CSV", GOOD.encode()),
        ("judged.tsv", GOOD.replace(",", "\t").encode()),
        ("bom.csv", b"\xef\xbb\xbf" + GOOD.encode()),
        ("judged.txt", GOOD.encode()),
        ("crlf.csv", GOOD.replace("\n", "\r\n").encode()),
    ],
)
def test_other_spellings_of_a_table_are_read_the_same(tmp_path: Path, name: str, data: bytes) -> None:
    reference = tmp_path / "reference.csv"
    reference.write_text(GOOD)
    path = tmp_path / name
    path.write_bytes(data)
    assert _summary(path) == _summary(reference)
    assert _summary(path)["n"] == 3


def test_json_lines_keep_unicode_line_separators_inside_strings(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"cost": 1, "severity": 2, "success": 1, "note": "a\u2028b"}\n', encoding="utf-8")
    rows = read_rows(path)
    assert [where for where, _ in rows] == [f"{path}:1"] and rows[0][1]["note"] == "a\u2028b"
