"""The decomposer: strict parsing of its answers (malformed ones included), retries, failure, prompts."""

from __future__ import annotations

from pathlib import Path

import pytest
from judge_fakes import ScriptedBackend, constant, last_user

from eh_bench.attacks.calls import Caller, CallStats
from eh_bench.attacks.decomposition import (
    EXAMPLES,
    MAX_SUBTASK_CHARS,
    RETRY_NOTE,
    RETRY_TEMPERATURE,
    MalformedDecomposition,
    build_messages,
    check_k,
    decompose,
    parse_subtasks,
)
from eh_bench.attacks.journal import Journal, StepKey
from eh_bench.backends.base import ChatResult
from eh_bench.errors import ConfigError

TASK = "Plan a picnic."
SCOPE = StepKey("demo:picnic", "*", "*", "")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ('["Pick a park.", "Pack sandwiches."]', ("Pick a park.", "Pack sandwiches.")),
        ('Sure! Here they are:\n["Pick a park.", "Pack  sandwiches."]\nEnjoy.', ("Pick a park.", "Pack sandwiches.")),
        ('{"subtasks": ["Pick a park.", "Pack food."]}', ("Pick a park.", "Pack food.")),
        ('```json\n["A.", "B.", "C.", "D."]\n```', ("A.", "B.", "C.", "D.")),
        ('<think>split it</think>["A.", "B."]', ("A.", "B.")),
        ('Steps [1] and then: ["A.", "B."]', None),  # the first JSON value is [1]: not strings
    ],
)
def test_valid_and_first_value_answers(answer: str, expected: tuple[str, ...] | None) -> None:
    if expected is None:
        with pytest.raises(MalformedDecomposition, match="JSON string"):
            parse_subtasks(answer, 4, TASK)
    else:
        assert parse_subtasks(answer, 4, TASK) == expected


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("I cannot split that.", "no JSON array"),
        ("", "no JSON array"),
        ('["Only one."]', "1 sub-tasks; give 2 to 4"),
        ('["A.", "B.", "C.", "D.", "E."]', "5 sub-tasks; give 2 to 4"),
        ('["A.", ""]', "an empty sub-task"),
        ('["A.", 3]', "JSON string"),
        ('["Pick a park.", "pick a  park"]', "two sub-tasks are the same"),
        ('["Plan a picnic", "Pack food."]', "repeats the whole task"),
        ('{"steps": ["A.", "B."]}', "one key 'subtasks'"),
        ('{"subtasks": ["A.", "B."], "subtasks": ["C.", "D."]}', "duplicate key"),
        ('"just a string"', "no JSON array"),
        ('{"subtasks": "A. B."}', "expected a JSON array"),
        ("<think>never closed", "unterminated <think>"),
        (f'["A.", "{"x" * (MAX_SUBTASK_CHARS + 1)}"]', "characters"),
    ],
)
def test_malformed_answers_name_the_problem(answer: str, problem: str) -> None:
    with pytest.raises(MalformedDecomposition, match=problem):
        parse_subtasks(answer, 4, TASK)


def test_k_is_checked() -> None:
    assert check_k(4) == 4
    with pytest.raises(ConfigError, match="2-12"):
        check_k(1)


def test_cost_style_asks_for_lower_cost_and_shows_the_worked_example() -> None:
    cost = build_messages(TASK, 3, "cost")
    plain = build_messages(TASK, 3, "plain")
    assert [m["role"] for m in cost] == ["user", "assistant", "user", "assistant", "user"]
    assert [cost[1]["content"], cost[3]["content"]] == [answer for _, answer in EXAMPLES]
    assert "exactly 4 sub-tasks" in cost[0]["content"] and "exactly 3 sub-tasks" in cost[2]["content"]
    assert "execution cost" in cost[-1]["content"] and "execution cost" not in plain[-1]["content"]
    assert "exactly 3 sub-tasks" in cost[-1]["content"] and cost[-1]["content"].endswith(f"TASK: {TASK}")


def _caller(tmp_path: Path) -> Caller:
    return Caller(Journal(tmp_path / "journal.jsonl"), CallStats())


def test_a_malformed_answer_is_retried_with_a_note_and_sampled(tmp_path: Path) -> None:
    answers = iter(["Well, first you pick a park.", '["Pick a park.", "Pack food."]'])
    backend = ScriptedBackend(lambda _c: next(answers), spec="fake:attacker")
    result = decompose(_caller(tmp_path), backend, SCOPE, TASK, k=4, style="cost", retries=2)
    assert result.status == "ok" and result.subtasks == ("Pick a park.", "Pack food.") and result.attempts == 2
    first, retry = backend.conversations
    assert len(retry) == len(first) and retry[:-1] == first[:-1]
    assert last_user(retry) == last_user(first) + RETRY_NOTE.format(number=2)
    assert [call["temperature"] for call in backend.calls] == [0.0, RETRY_TEMPERATURE]


def test_a_decomposition_that_stays_malformed_fails_and_is_never_the_original(tmp_path: Path) -> None:
    backend = constant("No.", spec="fake:attacker")
    result = decompose(_caller(tmp_path), backend, SCOPE, TASK, retries=2)
    assert result.status == "failed" and result.subtasks == () and result.attempts == 3
    assert "no JSON array" in result.reason and len(backend.calls) == 3
    assert len({last_user(c) for c in backend.conversations}) == 3  # every attempt asks differently


def test_an_attacker_failure_is_an_error_not_a_failed_attack(tmp_path: Path) -> None:
    backend = ScriptedBackend(lambda _c: ChatResult.failure("HTTP 503"), spec="fake:attacker")
    result = decompose(_caller(tmp_path), backend, SCOPE, TASK)
    assert result.status == "error" and "HTTP 503" in result.reason and result.attempts == 1


def test_a_cut_answer_says_so(tmp_path: Path) -> None:
    cut = ScriptedBackend(lambda _c: ChatResult(text='["Pick a park.", "Pack', finish_reason="length"), spec="f")
    result = decompose(_caller(tmp_path), cut, SCOPE, TASK, retries=0)
    assert result.status == "failed" and "cut at max_new_tokens" in result.reason


def test_the_first_attempt_is_greedy_and_retries_are_sampled(tmp_path: Path) -> None:
    backend = constant("No.", spec="fake:attacker")
    decompose(_caller(tmp_path), backend, SCOPE, TASK, retries=2)
    assert [call["temperature"] for call in backend.calls] == [0.0, RETRY_TEMPERATURE, RETRY_TEMPERATURE]
