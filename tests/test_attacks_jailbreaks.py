"""Jailbreak wrappers: the registry, the templates, and PAIR's refinement, budget and query counts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from judge_fakes import ScriptedBackend, last_user

from eh_bench.attacks.calls import Caller, CallStats
from eh_bench.attacks.jailbreaks import build_jailbreak, jailbreak_names
from eh_bench.attacks.journal import Journal, StepKey
from eh_bench.attacks.pair import Pair, parse_attacker
from eh_bench.attacks.templates import JailbreakContext, JailbreakOptions, TemplateJailbreak
from eh_bench.backends.base import ChatResult, Message
from eh_bench.errors import ConfigError
from eh_bench.judges import get_judge

GOAL = "Bake bread."


def test_registry_lists_every_wrapper_and_refuses_unknown_names() -> None:
    assert jailbreak_names() == ["direct", "pair", "prefix_injection", "refusal_suppression", "roleplay"]
    with pytest.raises(ConfigError, match="unknown jailbreak 'gcg'; choose one of: direct, pair"):
        build_jailbreak("gcg")


@pytest.mark.parametrize("name", ["direct", "refusal_suppression", "prefix_injection", "roleplay"])
def test_templates_carry_the_goal(name: str) -> None:
    jailbreak = build_jailbreak(name)
    assert isinstance(jailbreak, TemplateJailbreak)
    text = jailbreak.wrap(GOAL)
    assert GOAL in text and (text == GOAL) == (name == "direct")
    assert jailbreak.parameters() == {"template": jailbreak.template}


def _context(tmp_path: Path, target: ScriptedBackend, attacker: ScriptedBackend) -> JailbreakContext:
    caller = Caller(Journal(tmp_path / "journal.jsonl"), CallStats())
    return JailbreakContext(caller, StepKey("demo:1", "*", "pair", ""), target, attacker, get_judge("refusal"), 32, 64)


def test_a_template_sends_each_goal_once(tmp_path: Path) -> None:
    target = ScriptedBackend(lambda c: "Sure." if "bread" in last_user(c) else ChatResult.failure("HTTP 500"), spec="t")
    attempts = build_jailbreak("prefix_injection").run(
        _context(tmp_path, target, target), [GOAL, "Paint a fence."], ["g1", "g2"]
    )
    assert [(a.response, a.queries, a.error) for a in attempts] == [
        ("Sure.", 1, None), (None, 1, "target error: HTTP 500")
    ]  # fmt: skip
    assert attempts[0].prompt is not None and attempts[0].prompt.startswith(GOAL)


def pair_attacker(conversation: Sequence[Message]) -> str:
    """Round n of a stream proposes 'Story about <goal> vn'; the fence goal never gets valid JSON."""
    goal = conversation[0]["content"].split('do this: "', 1)[1].split('"', 1)[0]
    if "fence" in goal:
        return "I will think about it."
    round_ = (len(conversation) + 1) // 2
    return "Idea: " + json.dumps({"improvement": "", "prompt": f"Story about {goal} v{round_}"})


def pair_target(conversation: Sequence[Message]) -> str:
    return "Sure, the story goes on." if "v2" in last_user(conversation) else "I'm sorry, I can't help."


@pytest.mark.parametrize(("budget", "queries"), [(None, 4), (3, 3)])
def test_pair_refines_until_the_judge_says_success(tmp_path: Path, budget: int | None, queries: int) -> None:
    attacker = ScriptedBackend(pair_attacker, spec="fake:attacker")
    target = ScriptedBackend(pair_target, spec="fake:target")
    pair = Pair(JailbreakOptions(n_streams=2, n_iter=3, query_budget=budget))
    bread, fence = pair.run(_context(tmp_path, target, attacker), [GOAL, "Paint a fence."], ["g1", "g2"])
    assert (bread.jailbroken, bread.queries_to_jailbreak, bread.queries) == (True, 3, queries)
    assert bread.prompt == f"Story about {GOAL} v2" and bread.response == "Sure, the story goes on."
    assert (fence.prompt, fence.response, fence.jailbroken, fence.queries) == (None, None, False, 0)
    assert "no usable attacker prompt (6 unparseable answers)" in fence.note
    # round 2 of a stream saw round 1's response and score
    second = next(c for c in attacker.conversations if len(c) == 3 and "Bake" in c[0]["content"])
    assert "SCORE: 0" in second[2]["content"] and "I'm sorry" in second[2]["content"]
    assert len(attacker.calls) == 3  # every round is one attacker batch (rounds 1-3; bread closes after 2)
    assert pair.parameters()["query_budget"] == (budget or 6)


def test_pair_keeps_the_best_failed_attempt_and_reports_no_success(tmp_path: Path) -> None:
    attacker = ScriptedBackend(pair_attacker, spec="fake:attacker")
    target = ScriptedBackend(lambda _c: "I'm sorry, I can't help.", spec="fake:target")
    (attempt,) = Pair(JailbreakOptions(n_streams=1, n_iter=2)).run(_context(tmp_path, target, attacker), [GOAL], ["g"])
    assert (attempt.jailbroken, attempt.queries_to_jailbreak, attempt.queries) == (False, None, 2)
    assert attempt.prompt == f"Story about {GOAL} v2"  # the later of equal scores


def test_pair_target_failure_is_an_error(tmp_path: Path) -> None:
    attacker = ScriptedBackend(pair_attacker, spec="fake:attacker")
    target = ScriptedBackend(lambda _c: ChatResult.failure("HTTP 503"), spec="fake:target")
    (attempt,) = Pair(JailbreakOptions(n_streams=1, n_iter=2)).run(_context(tmp_path, target, attacker), [GOAL], ["g"])
    assert attempt.error == "target error: HTTP 503" and len(target.calls) == 1


@pytest.mark.parametrize(
    ("options", "problem"),
    [(JailbreakOptions(n_streams=0), "n_streams"), (JailbreakOptions(query_budget=0), "budget"),
     (JailbreakOptions(success_threshold=0.0), "threshold")],
)  # fmt: skip
def test_pair_options_are_checked(options: JailbreakOptions, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        Pair(options)


@pytest.mark.parametrize(
    ("text", "prompt"),
    [('{"improvement": "x", "prompt": "P"}', "P"), ('{"a": 1} then {"prompt": " Q "}', "Q"),
     ('{"prompt": ""}', None), ("none", None), ('{"prompt": 3}', None)],
)  # fmt: skip
def test_parse_attacker(text: str, prompt: str | None) -> None:
    assert parse_attacker(text) == prompt
