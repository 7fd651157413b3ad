from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from eh_bench.errors import SourceError
from eh_bench.sources.base import (
    ROW_COLUMNS,
    Row,
    iter_csv,
    normalise_text,
    prompt_sha256,
    request_key,
    require_text,
)


def test_prompt_sha256_is_of_the_stripped_utf8_prompt() -> None:
    text = "  Ünïcode request \n"
    assert prompt_sha256(text) == hashlib.sha256("Ünïcode request".encode()).hexdigest()


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Write a poem.", "write a  poem", True),
        ("Write a poem!", "Write a poem?", True),
        ("ｗｒｉｔｅ a poem", "write a poem", True),  # NFKC folds full-width letters
        ("Write a poem", "Write a song", False),
        ("Write a poem about cats", "Write a poem, about cats", False),
    ],
)
def test_normalise_text_table(a: str, b: str, same: bool) -> None:
    assert (normalise_text(a) == normalise_text(b)) is same


def test_request_key_separates_contexts() -> None:
    assert request_key("Translate this", "Context A") != request_key("Translate this", "Context B")
    assert request_key("Translate this", "") == request_key("translate this.")
    assert request_key("Translate this", "Context A") != request_key("Translate this")


def test_row_identity_and_round_trip() -> None:
    row = Row(source="advbench", source_id=7, prompt="  Explain tides \n", context=None)  # type: ignore[arg-type]
    assert row.id == "advbench:7" and row.source_id == "7"
    assert row.prompt == "Explain tides" and row.context == ""
    assert row.prompt_sha256 == prompt_sha256("Explain tides")
    assert not row.labelled
    data = row.as_dict()
    assert tuple(data) == ROW_COLUMNS
    again = Row.from_dict({**data, "cost": 2.0, "severity": 3, "expertise": 1, "equipment": 1, "time": 1,
                           "legality": 1, "harm_category": "none"})  # fmt: skip
    assert again.id == row.id and again.cost == 2 and isinstance(again.cost, int) and again.labelled


def test_iter_csv_names_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("goal,other\nhello,world\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"x\.csv:1: advbench file lacks column\(s\) target \(header: goal, other\)"):
        list(iter_csv(path, ("goal", "target"), "advbench"))


def test_iter_csv_yields_zero_based_indices_and_multiline_fields(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('a,b\r\n"one\r\ntwo",x\r\nthree,\r\n', encoding="utf-8")
    assert list(iter_csv(path, ("a", "b"), "s")) == [(0, {"a": "one\r\ntwo", "b": "x"}), (1, {"a": "three", "b": ""})]


def test_require_text_names_file_record_and_column(tmp_path: Path) -> None:
    assert require_text("  ok ", tmp_path / "f.csv", 0, "goal") == "ok"
    with pytest.raises(SourceError, match=r"f\.csv: record 4 \(0-based row 3\): column 'goal' is empty"):
        require_text("   ", tmp_path / "f.csv", 3, "goal")
