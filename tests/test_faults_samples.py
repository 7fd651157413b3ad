"""Samples files that would be counted wrong: a repeated doc, a duplicate key, bytes that are not UTF-8
(issue 17, cases 3, 4 and 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fault_fixtures import cli_error
from lmeval_fixtures import COMPLY, DATE, REFUSE, make_doc, sample, write_run

from eh_bench.errors import InputError
from eh_bench.evaluation.samples import DOC_FIELDS, _fast, find_samples, iter_records, read_task


def _samples(tmp: Path, n: int = 6, **extra: object) -> Path:
    pairs = [(make_doc(i, 1 + i % 5, 1 + i % 3, **extra), COMPLY if i % 2 else REFUSE) for i in range(n)]
    write_run(tmp / "run", {"eh_core": pairs})
    (file,) = find_samples(tmp / "run")
    return file.path


def test_a_repeated_doc_is_refused_not_counted_twice(tmp_path: Path) -> None:
    path = _samples(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines, lines[2]]), encoding="utf-8")  # a second run appended by hand
    with pytest.raises(InputError, match=rf"{path.name}:7: doc_id 2 again \(first at line 3\)"):
        read_task(find_samples(path)[0])
    message = cli_error(["score", str(tmp_path / "run"), "--no-plots", "--n-boot", "0"])
    assert f"{path}:7" in message and "doc_id 2" in message


@pytest.mark.parametrize("field", DOC_FIELDS)
@pytest.mark.parametrize("nested", [False, True])
def test_a_duplicate_key_in_the_doc_is_refused_on_both_paths(tmp_path: Path, field: str, nested: bool) -> None:
    extra = {"meta": {"kind": "stand-in"}} if nested else {}
    doc = make_doc(0, 1, 2, **extra)
    line = json.dumps(sample(0, doc, COMPLY), ensure_ascii=False)
    key = f'"{field}": {json.dumps(doc[field])}'
    assert line.count(key) == 1
    damaged = line.replace(key, f'{key}, "{field}": {json.dumps(doc[field] if field == "id" else 5)}')
    assert _fast(damaged, DOC_FIELDS) is None and _fast(damaged) is None
    path = tmp_path / f"samples_eh_core_{DATE}.jsonl"
    path.write_text(damaged + "\n", encoding="utf-8")
    for fields in (DOC_FIELDS, None):
        with pytest.raises(InputError, match=rf'{path.name}:1: duplicate key "{field}"'):
            list(iter_records(path, fields=fields))


@pytest.mark.parametrize(
    ("key", "extra"),
    [("doc_id", '"doc_id": 9'), ("filtered_resps", '"filtered_resps": ["other"]'), ("filter", '"filter": "x"'),
     ("doc", '"doc": {"cost": 5}')],
)  # fmt: skip
def test_a_duplicate_top_level_key_is_refused(tmp_path: Path, key: str, extra: str) -> None:
    line = json.dumps(sample(0, make_doc(0, 1, 2), COMPLY), ensure_ascii=False)
    damaged = line[:-1] + f", {extra}}}"
    assert json.loads(damaged)[key] != json.loads(line)[key]  # json.loads silently takes the last one
    path = tmp_path / f"samples_eh_core_{DATE}.jsonl"
    path.write_text(damaged + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf'{path.name}:1: duplicate key "{key}"'):
        list(iter_records(path, fields=DOC_FIELDS))


def test_the_fast_path_is_still_taken_for_lm_evals_own_lines(tmp_path: Path) -> None:
    path = _samples(tmp_path, n=3)
    for line in path.read_text(encoding="utf-8").splitlines():
        assert _fast(line, DOC_FIELDS) is not None and _fast(line) is not None


def test_bytes_that_are_not_utf8_name_the_line(tmp_path: Path) -> None:
    path = _samples(tmp_path, n=300)  # longer than the decoder's read-ahead block
    lines = path.read_bytes().splitlines(keepends=True)
    lines[249] = lines[249].replace(b"cake", b"c\xe9ke")
    path.write_bytes(b"".join(lines))
    with pytest.raises(InputError, match=rf"{path.name}:250: not UTF-8"):
        read_task(find_samples(path)[0])
    assert f"{path}:250: not UTF-8" in cli_error(["score", str(path), "--no-plots", "--n-boot", "0"])
