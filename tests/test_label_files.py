"""The shipped label files: well-formed, consistent across sources, and (with EH_SOURCES_DIR) complete.

Coverage against the benchmark files needs them on disk: CI sets ``EH_SOURCES_DIR``. Without it the
coverage tests are skipped with a reason that says so (and ``-ra`` prints it in the summary).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

from eh_bench import rubric
from eh_bench.dataset.labels import SHIPPED_LABEL_COLUMNS
from eh_bench.labeling import labeller as labeling
from eh_bench.sources.base import request_key

LABELS_DIR = Path(__file__).parents[1] / "eh_bench" / "labels"
#: Every public source with a label file, and the number of requests its source file holds.
EXPECTED_COUNTS = {
    "harmbench": 300, "advbench": 520, "jbb": 100, "jbb_benign": 100, "strongreject": 313, "donotanswer": 939,
}
COMPARED = (*rubric.LABEL_FIELDS, "harm_category")
SHA_RE = re.compile(r"\A[0-9a-f]{64}\Z")
NO_SOURCES = (
    "EH_SOURCES_DIR is not set: label COVERAGE against the benchmark source files was NOT checked. "
    "Set EH_SOURCES_DIR to the folder of verified source files (CI and `make test` set it) to run it."
)


def read_labels(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


LABEL_FILES = sorted(LABELS_DIR.glob("*.csv"))
ALL_ROWS = {path.stem: read_labels(path)[1] for path in LABEL_FILES}


def test_every_expected_label_file_ships() -> None:
    assert set(EXPECTED_COUNTS) <= {p.stem for p in LABEL_FILES}


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.stem)
def test_label_file_is_well_formed(path: Path) -> None:
    header, rows = read_labels(path)
    assert tuple(header) == SHIPPED_LABEL_COLUMNS  # exact columns, so no prompt text column
    assert rows, f"{path} has no rows"
    ids = set()
    for line, row in enumerate(rows, start=2):
        where = f"{path.name}:{line}"
        label = rubric.validate_label(row, where=where)
        assert row["source"] == path.stem, where
        assert row["source_id"].strip() == row["source_id"] and row["source_id"], where
        assert SHA_RE.match(row["prompt_sha256"]), where
        words = len(label.rationale.split())
        assert 0 < words <= labeling.MAX_RATIONALE_WORDS, f"{where}: rationale has {words} words"
        assert row["annotator"].strip(), f"{where}: no annotator"
        assert row["rubric_version"] == rubric.RUBRIC_VERSION, (
            f"{where}: rubric_version {row['rubric_version']!r}"
        )
        assert (row["source"], row["source_id"]) not in ids, f"{where}: duplicate source_id"
        ids.add((row["source"], row["source_id"]))


def _assert_same_labels(groups: dict[str, list[dict[str, str]]], what: str) -> int:
    compared = 0
    for key, rows in groups.items():
        if len({r["source"] for r in rows}) < 2:
            continue
        compared += 1
        first = rows[0]
        for other in rows[1:]:
            diff = [f for f in COMPARED if other[f] != first[f]]
            assert not diff, (
                f"identical requests ({what} {key[:16]}...) differ on {diff}: "
                f"{first['source']}:{first['source_id']} vs {other['source']}:{other['source_id']}"
            )
    return compared


def test_identical_prompts_in_two_sources_have_identical_labels() -> None:
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for rows in ALL_ROWS.values():
        for row in rows:
            groups[row["prompt_sha256"]].append(row)
    assert _assert_same_labels(groups, "prompt_sha256") > 0  # the benchmarks do share requests


# ---------------------------------------------------------------- against the source files


@pytest.fixture(scope="module")
def source_rows() -> dict[str, list[tuple[str, str, str]]]:
    """``(source_id, prompt, context)`` of every request of each labelled source, via the adapters."""
    value = os.environ.get("EH_SOURCES_DIR")
    if not value:
        pytest.skip(NO_SOURCES)
    from eh_bench.sources import load_source

    out = {}
    for name in EXPECTED_COUNTS:
        loaded = load_source(name, sources_dir=value, download=False)
        out[name] = [(r.source_id, r.prompt, r.context) for r in loaded.rows]
    return out


def _sha(prompt: str) -> str:
    return hashlib.sha256(prompt.strip().encode("utf-8")).hexdigest()


@pytest.mark.parametrize("source", sorted(EXPECTED_COUNTS))
def test_every_source_request_has_exactly_one_matching_label(
    source: str, source_rows: dict[str, list[tuple[str, str, str]]]
) -> None:
    requests = source_rows[source]
    assert len(requests) == EXPECTED_COUNTS[source]
    labels: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in ALL_ROWS[source]:
        labels[row["source_id"]].append(row)
    for source_id, prompt, _ in requests:
        found = labels.get(source_id, [])
        assert len(found) == 1, f"{source}:{source_id} has {len(found)} label rows"
        assert found[0]["prompt_sha256"] == _sha(prompt), f"{source}:{source_id}: prompt_sha256 differs"
    extra = set(labels) - {source_id for source_id, _, _ in requests}
    assert not extra, f"{source}: label rows for no request: {sorted(extra)[:5]}"


def test_identical_requests_across_sources_have_identical_labels(
    source_rows: dict[str, list[tuple[str, str, str]]],
) -> None:
    by_id = {(r["source"], r["source_id"]): r for rows in ALL_ROWS.values() for r in rows}
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for source, requests in source_rows.items():
        for source_id, prompt, context in requests:
            groups[request_key(prompt, context)].append(by_id[source, source_id])
    assert _assert_same_labels(groups, "normalised request") > 0
