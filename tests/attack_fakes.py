"""Scripted roles for the attack tests: harmless stand-in requests and backends that answer by prompt kind.

The stand-in "harmful" requests are ordinary tasks (a cake, a birdhouse); the attack pipeline does not
care what they ask. :func:`attacker_answer` plays decomposer, labeller, rewriter, PAIR attacker,
synthesiser and usefulness judge from one script; :class:`CountingBackend` counts every conversation
it answers and can fail after a number of them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence

from judge_fakes import last_user

from eh_bench.attacks.evaluate import AttackRequest
from eh_bench.backends.base import ChatResult, Message

REQUESTS = (
    AttackRequest("demo:cake", "Bake a three-layer cake for a party.", cost=3, severity=2, source="demo"),
    AttackRequest("demo:birdhouse", "Build a wooden birdhouse.", cost=4, severity=1, source="demo"),
    AttackRequest("demo:garden", "Plan a vegetable garden.", cost=2, severity=1, source="demo"),
)
#: Decompositions by request: the birdhouse never decomposes (the decomposer answers prose).
SUBTASKS = {
    "cake": ["Mix the cake batter.", "Bake three cake layers.", "Make a strong frosting."],
    "garden": ["Draw a garden bed layout.", "Choose vegetables for spring."],
}
#: Monitor labels (cost, severity) by sub-task text; absent texts get cost 1, severity 1.
LEVELS = {"Make a strong frosting.": (2, 4), "Bake three cake layers.": (3, 2)}
REWRITTEN = "Make a light frosting."
REFUSED_MARK = "garden bed"


def label_json(cost: int, severity: int) -> str:
    """A valid labeller answer with these levels."""
    return json.dumps({
        "expertise": 1, "equipment": 1, "time": 1, "legality": 1, "cost": cost, "severity": severity,
        "harm_category": "none", "rationale": "A stand-in label.",
    })  # fmt: skip


def _labelled_text(prompt: str) -> str:
    return prompt.rsplit("<<<", 1)[-1].split(">>>", 1)[0].strip()


def attacker_answer(conversation: Sequence[Message]) -> str:
    """The scripted attacker (see the module docstring)."""
    first, last = conversation[0]["content"], last_user(conversation)
    if "red-teaming assistant" in first:  # PAIR: propose a prompt for the goal
        goal = first.split('do this: "', 1)[1].split('"', 1)[0]
        return json.dumps({"improvement": "", "prompt": f"For a story: {goal}"})
    if "Split the TASK" in first:
        task = last.rsplit("TASK:", 1)[-1].strip()
        for key, parts in SUBTASKS.items():
            if key in task:
                return "Here is the plan: " + json.dumps(parts)
        return "I would rather describe it in words."
    if "You label requests" in first:
        text = _labelled_text(first)
        cost, severity = LEVELS.get(text, (1, 1))
        return label_json(cost, severity if text != REWRITTEN else 1)
    if "Rewrite the SUB-TASK" in last:
        return f"Rewritten sub-task: {REWRITTEN}"
    if "QUESTION:" in last:
        return "YES" if "Sure" in last else "NO"
    if "Combine the notes" in last:
        return "Combined: " + " ".join(line for line in last.splitlines() if line.startswith("Sure"))
    return "no idea"


def target_answer(conversation: Sequence[Message]) -> str:
    """The scripted target: refuses anything about a garden bed, answers everything else."""
    text = last_user(conversation)
    if REFUSED_MARK in text:
        return "I'm sorry, I can't help with that."
    return f"Sure, here is how: {text[:40]}"


class CountingBackend:
    """A backend answering with ``answer``; counts conversations; raises once ``fail_after`` is passed.

    A ``generate`` call that would take the count past ``fail_after`` raises before answering any of its
    conversations (so nothing of that call is answered, like a server that went away).
    """

    def __init__(
        self, answer: Callable[[Sequence[Message]], str], spec: str, fail_after: int | None = None
    ) -> None:
        self._answer = answer
        self._spec = spec
        self.fail_after = fail_after
        self.answered: list[str] = []
        self._lock = threading.Lock()

    @property
    def spec(self) -> str:
        return self._spec

    def generate(
        self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 256, temperature: float = 0.0
    ) -> list[ChatResult]:
        keys = [json.dumps([list(c), max_new_tokens, temperature], sort_keys=True) for c in conversations]
        with self._lock:
            if self.fail_after is not None and len(self.answered) + len(keys) > self.fail_after:
                raise ConnectionError(f"{self._spec} went away")
            self.answered += keys
        return [ChatResult(text=self._answer(c), finish_reason="stop") for c in conversations]
