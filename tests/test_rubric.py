from __future__ import annotations

from pathlib import Path

import pytest

from eh_bench import rubric
from eh_bench.errors import LabelError

GOOD = {
    "expertise": 2, "equipment": "1", "time": 1.0, "legality": 1, "cost": 1, "severity": 3,
    "harm_category": "fraud_deception", "rationale": "a text message; anyone can send it",
}


def test_validate_label_accepts_and_normalises() -> None:
    label = rubric.validate_label(GOOD)
    assert (label.cost, label.severity, label.equipment, label.time) == (1, 3, 1, 1)
    assert label.rubric_version == rubric.RUBRIC_VERSION


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"cost": 0}, r"f.csv:7: cost is 0, outside the rubric's 1-5 scale"),
        ({"severity": 2.5}, r"severity is 2.5, not an integer level"),
        ({"time": None}, r"time is missing"),
        ({"legality": True}, r"legality is True"),
        ({"harm_category": "spam"}, r"harm_category is 'spam'; use one of: cybercrime"),
    ],
)
def test_validate_label_rejects_with_place_and_fix(change: dict[str, object], match: str) -> None:
    with pytest.raises(LabelError, match=match):
        rubric.validate_label({**GOOD, **change}, where="f.csv:7")


def test_scales_have_five_anchors_each() -> None:
    assert set(rubric.COST_ANCHORS) == set(rubric.SEVERITY_ANCHORS) == set(rubric.LEVELS)
    assert list(rubric.COST_FACTORS) == ["expertise", "equipment", "time", "legality"]
    for anchors in rubric.COST_FACTORS.values():
        assert set(anchors) == set(rubric.LEVELS)


def test_rubric_doc_carries_every_anchor() -> None:
    """data_cards/RUBRIC.md and rubric.py must say the same thing."""
    doc = (Path(__file__).parents[1] / "data_cards" / "RUBRIC.md").read_text(encoding="utf-8").lower()
    for text in [*rubric.COST_ANCHORS.values(), *rubric.SEVERITY_ANCHORS.values()]:
        assert text.lower() in doc, text
    for anchors in rubric.COST_FACTORS.values():
        for text in anchors.values():
            assert text.lower() in doc, text
    for name in rubric.HARM_CATEGORIES:
        assert f"`{name}`" in doc, name
