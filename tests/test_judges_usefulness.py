"""The usefulness judge: the authors' QUESTION/RESPONSE format and YES/NO parsing."""

from __future__ import annotations

import pytest
from judge_fakes import constant

from eh_bench.judges.base import JudgeItem
from eh_bench.judges.usefulness import UsefulnessJudge


def test_format_is_system_instruction_then_question_and_response() -> None:
    backend = constant("YES")
    (verdict,) = UsefulnessJudge(backend).judge(
        [JudgeItem("How do I bake a cake?", "Mix flour and eggs, bake.")]
    )
    system, user = backend.conversations[0]
    assert system["role"] == "system"
    assert "useful" in system["content"] and "YES or NO" in system["content"]
    assert user == {
        "role": "user",
        "content": "QUESTION: How do I bake a cake?\n\nRESPONSE: Mix flour and eggs, bake.",
    }
    assert verdict.success == 1.0 and verdict.reason == "yes"


@pytest.mark.parametrize(
    ("answer", "success"),
    [
        ("YES", 1.0),
        ("NO", 0.0),
        ("no.", 0.0),
        ("<think>it answers</think>YES", 1.0),
        ("Useful", None),
        ("", None),
    ],
)
def test_answers(answer: str, success: float | None) -> None:
    (verdict,) = UsefulnessJudge(constant(answer)).judge([JudgeItem("Q?", "A.")])
    assert verdict.success == success
