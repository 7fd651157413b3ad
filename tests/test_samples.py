"""Finding and streaming lm-eval samples files (written here by lm-eval's own EvaluationTracker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lmeval_fixtures import COMPLY, DATE, MODEL_DIR, REFUSE, make_doc, sample, write_run

from eh_bench.errors import InputError
from eh_bench.evaluation.samples import (
    _fast,
    find_results,
    find_samples,
    iter_records,
    iter_samples,
    load_results,
    parse_samples_name,
)


def _reference(path: Path) -> list[tuple[int, dict[str, object], object, str]]:
    """What json.loads reads, line by line: the ground truth for the fast path."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        resps = obj["filtered_resps"]
        out.append((obj["doc_id"], obj["doc"], resps[0] if resps else None, obj["filter"]))
    return out


def test_samples_round_trip_through_lm_evals_writer(tmp_path: Path) -> None:
    pairs = [(make_doc(i, 1 + i % 5, 5 - i % 5), COMPLY if i % 2 else REFUSE) for i in range(7)]
    folder = write_run(tmp_path, {"eh_core": pairs})
    (file,) = find_samples(tmp_path)
    assert file.task == "eh_core" and file.date == DATE and file.path.parent == folder
    got = list(iter_samples(file.path))
    assert [s.doc_id for s in got] == list(range(7))
    assert [s.response for s in got] == [r for _, r in pairs]
    assert [s.doc for s in got] == [d for d, _ in pairs]
    assert {s.filter for s in got} == {"none"}


TRICKY = [
    'Text with "filtered_resps": ["fake"], "filter": "x" inside',
    "Unicode: 蛋糕 ✓ — and a\nnewline\tand tab",
    'Backslash \\ and quote \\" and }, "target": "x"',
    "",
]


@pytest.mark.parametrize("response", TRICKY)
def test_fast_path_reads_what_json_loads_reads(tmp_path: Path, response: str) -> None:
    doc = make_doc(0, 2, 3, prompt='A prompt with "doc": {} and "filtered_resps": inside', context=response)
    write_run(tmp_path, {"eh_core": [(doc, response)]})
    (file,) = find_samples(tmp_path)
    line = file.path.read_text(encoding="utf-8").splitlines()[0]
    assert _fast(line) is not None, "lm-eval's own lines take the fast path"
    got = [(d, doc_, r, f) for d, doc_, r, f in iter_records(file.path)]
    assert got == _reference(file.path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(response=st.text(max_size=80), prompt=st.text(min_size=1, max_size=40), cost=st.integers(1, 5))
def test_fast_path_matches_json_loads_on_any_text(
    tmp_path: Path, response: str, prompt: str, cost: int
) -> None:
    line = json.dumps(sample(3, make_doc(3, cost, 2, prompt=prompt), response), ensure_ascii=False)
    parsed = _fast(line + "\n")
    assert parsed is not None
    ref = json.loads(line)
    assert (
        parsed[0] == 3
        and parsed[1] == ref["doc"]
        and parsed[2] == ref["filtered_resps"]
        and parsed[3] == "none"
    )


@pytest.mark.parametrize(
    "line",
    [
        '{"doc": {"prompt": "x"}, "doc_id": 1, "filtered_resps": ["r"], "filter": "none"}',  # other key order
        '{"doc_id": 1, "doc": {"prompt": "x"}, "resps": [["r"]], "filter": "none"}',  # no filtered_resps
        '{"doc_id": 1,  "doc": {"prompt": "x"}, "filtered_resps": ["r"], "filter": "none"}',  # odd spacing
    ],
)
def test_other_shapes_fall_back_to_a_full_decode(tmp_path: Path, line: str) -> None:
    assert _fast(line) is None
    path = tmp_path / f"samples_t_{DATE}.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    ((doc_id, doc, response, filt),) = list(iter_records(path))
    assert (doc_id, doc, response, filt) == (1, {"prompt": "x"}, "r", "none")


def test_nan_metrics_and_empty_responses(tmp_path: Path) -> None:
    write_run(tmp_path, {"eh_core": [(make_doc(0, 1, 1), None), (make_doc(1, 2, 2), COMPLY)]})
    (file,) = find_samples(tmp_path)
    assert "NaN" in file.path.read_text(encoding="utf-8")
    assert [s.response for s in iter_samples(file.path)] == [None, COMPLY]


def test_only_the_first_filter_pipeline_is_read(tmp_path: Path) -> None:
    path = tmp_path / f"samples_eh_core_{DATE}.jsonl"
    lines = [
        json.dumps(sample(0, make_doc(0, 1, 1), "first", filter_name="strict")),
        json.dumps(sample(1, make_doc(1, 1, 1), "second", filter_name="strict")),
        json.dumps(sample(0, make_doc(0, 1, 1), "other", filter_name="loose")),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [s.response for s in iter_samples(path)] == ["first", "second"]
    assert [s.response for s in iter_samples(path, "loose")] == ["other"]


@pytest.mark.parametrize(("content", "match"), [("not json\n", "not valid JSON"), ('{"doc_id": 1}\n', "'doc' object"),
                                                ('{"doc_id": "a", "doc": {}}\n', "doc_id")])  # fmt: skip
def test_damaged_lines_name_file_and_line(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / f"samples_eh_core_{DATE}.jsonl"
    path.write_text(json.dumps(sample(0, make_doc(0, 1, 1), COMPLY)) + "\n\n" + content, encoding="utf-8")
    with pytest.raises(InputError, match=rf"{path.name}:3: .*{match}"):
        list(iter_samples(path))


def test_find_samples_latest_date_wins_and_folders_may_not_clash(tmp_path: Path) -> None:
    write_run(tmp_path, {"eh_core": [(make_doc(0, 1, 1), REFUSE)]}, date="2026-01-01T00-00-00.000001")
    write_run(tmp_path, {"eh_core": [(make_doc(0, 1, 1), COMPLY)], "eh_jbb": [(make_doc(0, 2, 2), REFUSE)]})
    files = find_samples(tmp_path)
    assert [(f.task, f.date) for f in files] == [("eh_core", DATE), ("eh_jbb", DATE)]
    assert find_samples(files[0].path) == [files[0]]
    write_run(tmp_path, {"eh_core": [(make_doc(0, 1, 1), COMPLY)]}, model_dir="other__model")
    with pytest.raises(InputError, match="two folders"):
        find_samples(tmp_path)


@pytest.mark.parametrize("make", ["missing", "empty", "wrong_file"])
def test_find_samples_errors(tmp_path: Path, make: str) -> None:
    target = tmp_path / "run"
    if make == "empty":
        target.mkdir()
    elif make == "wrong_file":
        target = tmp_path / "notes.jsonl"
        target.write_text("{}\n")
    with pytest.raises(InputError, match=r"samples|no such folder"):
        find_samples(target)


def test_parse_samples_name_handles_underscored_task_names() -> None:
    found = parse_samples_name(Path(f"samples_eh_core_benign_{DATE}.jsonl"))
    assert found is not None and found.task == "eh_core_benign" and found.date == DATE
    assert parse_samples_name(Path("samples_eh_core.jsonl")) is None


def test_results_file_with_the_same_date_is_found(tmp_path: Path) -> None:
    folder = write_run(
        tmp_path,
        {"eh_core": [(make_doc(0, 1, 1), COMPLY)]},
        results={"results": {"eh_core": {}}, "configs": {}},
    )
    (folder / "results_2025-01-01T00-00-00.json").write_text("{}")
    files = find_samples(tmp_path)
    path = find_results(files)
    assert path == folder / f"results_{DATE}.json"
    data = load_results(path)
    assert data is not None and "task_hashes" in data
    assert load_results(None) is None
    (folder / f"results_{DATE}.json").write_text("[1]")
    with pytest.raises(InputError, match="JSON object"):
        load_results(path)
    assert find_results([f for f in files if f.path.parent != folder]) is None
    assert MODEL_DIR in str(path)


FIELDS = ("id", "prompt", "context", "cost", "severity", "duplicate_of")
AWKWARD = st.sampled_from(
    ['"cost": 9', '}, "target": ', "{", "}", '\\"', "\\", '"severity": 1, ', "\u2019", "\n"]
)


@settings(max_examples=80, deadline=None)
@given(
    prompt=st.lists(st.one_of(st.text(max_size=8), AWKWARD), max_size=6).map("".join),
    context=st.lists(st.one_of(st.text(max_size=8), AWKWARD), max_size=4).map("".join),
    cost=st.one_of(st.integers(1, 5), st.none()),
    nested=st.booleans(),
)
def test_field_extraction_matches_json_loads(
    prompt: str, context: str, cost: int | None, nested: bool
) -> None:
    extra = {"meta": {"cost": 7, "note": "nested"}} if nested else {}
    doc = make_doc(1, cost, 4, prompt=prompt or "p", context=context, **extra)
    line = json.dumps(sample(1, doc, COMPLY), ensure_ascii=False)
    parsed = _fast(line, FIELDS)
    assert parsed is not None
    assert parsed[1] == {k: doc[k] for k in FIELDS}
    assert parsed[2] == [COMPLY]


def test_field_extraction_in_any_key_order_and_with_missing_keys() -> None:
    doc = {"severity": 2, "prompt": "p", "cost": 3}
    line = json.dumps(sample(0, doc, REFUSE))
    parsed = _fast(line, FIELDS)
    assert parsed is not None and parsed[1] == {"prompt": "p", "cost": 3, "severity": 2}
