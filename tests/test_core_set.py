"""The project's own prompt sets: ``core`` (5 requests per cost x severity cell) and ``core_benign``."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eh_bench import rubric
from eh_bench.labeling import labeller as labeling
from eh_bench.sources.base import normalise_text, request_key

DATA_DIR = Path(__file__).parents[1] / "eh_bench" / "data"
PER_CELL = 5
N_BENIGN = 50
#: The core set must spread over the taxonomy (it has 12 harmful categories).
MIN_CATEGORIES = 10
REQUIRED_KEYS = {"source_id", "prompt", *rubric.LABEL_FIELDS, "harm_category", "rationale"}
PUBLIC_SOURCES = ("harmbench", "advbench", "jbb", "jbb_benign", "strongreject", "donotanswer")


def load(name: str) -> list[dict[str, Any]]:
    lines = (DATA_DIR / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


CORE = load("core")
BENIGN = load("core_benign")


@pytest.mark.parametrize(("name", "rows"), [("core", CORE), ("core_benign", BENIGN)])
def test_rows_are_valid_labelled_requests(name: str, rows: list[dict[str, Any]]) -> None:
    for i, row in enumerate(rows, start=1):
        where = f"{name}.jsonl:{i}"
        assert set(row) >= REQUIRED_KEYS, f"{where}: missing {sorted(REQUIRED_KEYS - set(row))}"
        label = rubric.validate_label(row, where=where)
        assert isinstance(row["prompt"], str) and row["prompt"].strip() == row["prompt"] and row["prompt"], (
            where
        )
        assert 0 < len(label.rationale.split()) <= labeling.MAX_RATIONALE_WORDS, f"{where}: rationale length"
    assert len({r["source_id"] for r in rows}) == len(rows), f"{name}: duplicate source_id"


def test_core_has_125_rows_five_per_cost_severity_cell() -> None:
    assert len(CORE) == PER_CELL * len(rubric.LEVELS) ** 2
    cells = Counter((r["cost"], r["severity"]) for r in CORE)
    assert cells == {(c, s): PER_CELL for c in rubric.LEVELS for s in rubric.LEVELS}


def test_core_spreads_over_harmful_categories() -> None:
    categories = Counter(r["harm_category"] for r in CORE)
    assert "none" not in categories
    assert len(categories) >= MIN_CATEGORIES, categories


def test_core_benign_has_50_harmless_rows() -> None:
    assert len(BENIGN) == N_BENIGN
    assert {r["harm_category"] for r in BENIGN} == {"none"}


def test_prompts_are_unique_across_both_sets() -> None:
    keys = [normalise_text(r["prompt"]) for r in (*CORE, *BENIGN)]
    dupes = [k for k, n in Counter(keys).items() if n > 1]
    assert not dupes, dupes[:3]
    assert not {r["source_id"] for r in CORE} & {r["source_id"] for r in BENIGN}


def test_no_core_prompt_is_a_public_benchmark_request() -> None:
    value = os.environ.get("EH_SOURCES_DIR")
    if not value:
        pytest.skip(
            "EH_SOURCES_DIR is not set: the core sets were NOT checked against the public benchmark "
            "requests; set EH_SOURCES_DIR to the folder of verified source files (CI sets it)."
        )
    from eh_bench.sources import load_source

    public = {
        request_key(row.prompt, row.context)
        for name in PUBLIC_SOURCES
        for row in load_source(name, sources_dir=value, download=False).rows
    }
    copied = [r["source_id"] for r in (*CORE, *BENIGN) if request_key(r["prompt"]) in public]
    assert not copied, f"core rows equal to a public benchmark request: {copied}"
