"""Reading requests to label (CSV / JSONL / JSON / parquet) and writing/reading label rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from eh_bench import rubric
from eh_bench.errors import InputError
from eh_bench.labeling import labeller as labeling
from eh_bench.labeling.io import read_label_rows, read_requests, write_outcomes
from eh_bench.labeling.labeller import Outcome, Request
from eh_bench.sources.base import prompt_sha256

ROWS = [
    {"id": "demo:1", "prompt": "  Suggest a name for a bakery. "},
    {"source": "demo", "source_id": "2", "prompt": "How do I water a cactus?", "context": "A stand-in note."},
    {"id": "demo:3", "prompt": "Name a fruit.", "prompt_sha256": prompt_sha256("Name a fruit.")},
]


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    if path.suffix == ".csv":
        names = sorted({k for r in rows for k in r})
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=names)
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows), encoding="utf-8")
    elif path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        names = sorted({k for r in rows for k in r})
        pq.write_table(pa.Table.from_pylist([{n: r.get(n) for n in names} for r in rows]), path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json", ".parquet"])
def test_reads_every_format_into_requests(tmp_path: Path, suffix: str) -> None:
    requests = read_requests(write(tmp_path / f"in{suffix}", ROWS))
    assert [(r.source, r.source_id) for r in requests] == [("demo", "1"), ("demo", "2"), ("demo", "3")]
    assert requests[0].prompt == "Suggest a name for a bakery."
    assert requests[0].prompt_sha256 == prompt_sha256("Suggest a name for a bakery.")
    assert requests[1].context == "A stand-in note." and requests[0].context == ""


def test_limit_keeps_the_first_rows(tmp_path: Path) -> None:
    assert [r.source_id for r in read_requests(write(tmp_path / "in.jsonl", ROWS), limit=2)] == ["1", "2"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"id": "demo:1"}], r"in.jsonl:1: `prompt` is missing or empty"),
        ([{"id": "demo:1", "prompt": "   "}], r"`prompt` is missing or empty"),
        ([{"prompt": "hi"}], r"in.jsonl:1: no identity; give an `id` column"),
        ([{"id": "nocolon", "prompt": "hi"}], r"no identity"),
        (
            [{"id": "demo:1", "prompt": "hi", "prompt_sha256": "0" * 64}],
            r"prompt_sha256 0+ does not match the prompt",
        ),
        (
            [{"id": "demo:1", "prompt": "a"}, {"id": "demo:1", "prompt": "b"}],
            r"in.jsonl:2: demo:1 already appears at .*in.jsonl:1",
        ),
    ],
)
def test_bad_rows_name_the_row_and_the_fix(tmp_path: Path, rows: list[dict[str, str]], message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_requests(write(tmp_path / "in.jsonl", rows))


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_requests(tmp_path / "missing.csv")
    (tmp_path / "x.txt").write_text("hi", encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown file type '.txt'"):
        read_requests(tmp_path / "x.txt")
    (tmp_path / "bad.jsonl").write_text('{"id": "a:1", "prompt": "x"}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2: not valid JSON"):
        read_requests(tmp_path / "bad.jsonl")


def test_write_then_read_label_rows(tmp_path: Path) -> None:
    request = Request("demo", "1", "Name a fruit.", prompt_sha256("Name a fruit."))
    label = rubric.Label(1, 1, 1, 1, 1, 1, "none", "Harmless question.")
    out = write_outcomes(
        [
            Outcome(request, label),
            Outcome(Request("demo", "2", "x", prompt_sha256("x")), None, "tie on cost"),
        ],
        tmp_path / "sub" / "labels.csv",
        "llm:fake",
    )
    rows = read_label_rows(out)
    assert list(rows[0]) == list(labeling.OUTPUT_COLUMNS)
    assert (
        rows[0]["status"] == "labelled"
        and rows[0]["cost"] == "1"
        and rows[0]["rationale"] == "Harmless question."
    )
    assert rows[1]["status"] == "unlabelled" and rows[1]["reason"] == "tie on cost" and rows[1]["cost"] == ""
    assert not (tmp_path / "sub" / "labels.csv.tmp").exists()
    # a folder reads every CSV in it
    write_outcomes([Outcome(request, label)], tmp_path / "sub" / "more.csv", "llm:fake")
    assert len(read_label_rows(tmp_path / "sub")) == 3


def test_read_label_rows_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        read_label_rows(tmp_path / "nope.csv")
    with pytest.raises(InputError, match=r"holds no \.csv label files"):
        read_label_rows(tmp_path)
    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"x.csv:1: no prompt_sha256 column"):
        read_label_rows(tmp_path / "x.csv")
