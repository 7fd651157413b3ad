"""Which prompts a probe run reads: stratified limits, the contrast set, request ids."""

from __future__ import annotations

import pytest

from eh_bench.errors import ConfigError
from eh_bench.probes.labels import check_source, contrast_labels
from eh_bench.probes.sets import ProbeItem, items_from_rows, probe_set, stratified_limit, text_sha256


def grid_items(per_cell: int) -> list[ProbeItem]:
    return [ProbeItem(f"x:{c}-{s}-{k}", "x", f"request {c} {s} {k}", f"h{c}{s}{k}", True, c, s)
            for c in range(1, 6) for s in range(1, 6) for k in range(per_cell)]


@pytest.mark.parametrize("limit", [5, 12, 25, 60])
def test_a_limit_spreads_over_every_cell(limit: int) -> None:
    picked = stratified_limit(grid_items(4), limit, seed=3)
    assert len(picked) == limit
    cells = {(p.cost, p.severity) for p in picked}
    assert len(cells) == min(limit, 25)
    if limit >= 25:  # every cell once: every level of both scales
        assert {p.cost for p in picked} == {1, 2, 3, 4, 5} == {p.severity for p in picked}
    counts = [sum((p.cost, p.severity) == cell for p in picked) for cell in cells]
    assert max(counts) - min(counts) <= 1  # no cell gets two more than another
    assert picked == stratified_limit(grid_items(4), limit, seed=3)  # seeded
    assert [p.id for p in picked] == sorted((p.id for p in picked), key=[i.id for i in grid_items(4)].index)


def test_no_limit_or_a_large_one_keeps_everything_and_zero_is_refused() -> None:
    items = grid_items(1)
    assert stratified_limit(items, None) == items == stratified_limit(items, 1000)
    with pytest.raises(ConfigError, match="--limit must be >= 1"):
        stratified_limit(items, 0)


def test_items_keep_context_apart_and_hash_the_user_turn() -> None:
    rows = [{"id": "h:1", "prompt": "Summarise the notes.", "context": "Notes about tea.", "cost": 2, "severity": "3"},
            {"id": "h:2", "prompt": "Plan a picnic.", "context": None, "cost": None, "severity": 9}]
    first, second = items_from_rows(rows, "harmbench")
    assert first.text == "Notes about tea.\n\nSummarise the notes." and first.request == "Summarise the notes."
    assert first.context == "Notes about tea." and first.sha256 == text_sha256(first.text)
    assert (first.cost, first.severity, second.cost, second.severity) == (2, 3, None, None)
    assert first.harmful and not items_from_rows(rows, "core_benign")[0].harmful
    assert "text" not in first.public() and "request" not in first.public()


def test_the_packaged_core_set_gives_every_level_and_a_contrast() -> None:
    chosen = probe_set("core", contrast="core_benign", limit=30, seed=0)
    assert len(chosen.harmful) == 30 and len(chosen.benign) == 30
    assert {i.severity for i in chosen.harmful} == {1, 2, 3, 4, 5} == {i.cost for i in chosen.harmful}
    labels = contrast_labels(chosen.items, "core_benign")
    assert labels.counts == {"label_1": 30, "label_0": 30, "unlabelled": 0}
    assert chosen.items[0].sha256 != chosen.items[1].sha256


def test_wrong_configs_and_sources_are_refused_with_the_valid_names() -> None:
    with pytest.raises(ConfigError, match="core_benign is a benign set"):
        probe_set("core_benign", contrast=None)
    with pytest.raises(ConfigError, match="not a benign config; choose one of: core_benign, jbb_benign"):
        probe_set("core", contrast="harmbench")
    with pytest.raises(ConfigError, match="choose one of: contrast, behaviour"):
        check_source("vibes")
    with pytest.raises(ConfigError, match="contrast labels need benign prompts"):
        contrast_labels(grid_items(1), None)
