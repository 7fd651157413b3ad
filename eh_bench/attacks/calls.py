"""Model calls and verdicts of one request, served from the journal when already made.

:class:`Caller` is what the attack steps use instead of calling a backend or a judge directly: it
looks every conversation (or judged item) up in the :class:`~eh_bench.attacks.journal.Journal`, sends
only the missing ones to the backend in one batch, journals the answers, and counts calls per role.

What is journaled: answers with text, and verdicts except judge outages (``judge_error``). A backend
error or a judge outage is returned to the step (which makes the request unscored) but not journaled,
so a resumed run tries that call again.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

from eh_bench.attacks.journal import Journal, StepKey, input_digest
from eh_bench.backends.base import ChatBackend, ChatResult, FinishReason, Message
from eh_bench.errors import EHBenchError
from eh_bench.judges.base import Judge, JudgeItem, Verdict

#: Characters of the input digest used in content-addressed step names.
CONTENT_KEY_CHARS: Final = 20
JUDGE_ERROR_PREFIX: Final = "judge_error"


class StepFailed(Exception):
    """A backend failed where the attack cannot go on without its answer: the request is unscored."""


class CallStats:
    """Calls actually sent (``made``) and answers served from the journal (``replayed``), per role."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.made: Counter[str] = Counter()
        self.replayed: Counter[str] = Counter()

    def add(self, role: str, made: int, replayed: int) -> None:
        with self._lock:
            self.made[role] += made
            self.replayed[role] += replayed

    def as_dict(self) -> dict[str, dict[str, int]]:
        """``{"made": {role: n}, "replayed": {role: n}}``."""
        with self._lock:
            return {"made": dict(self.made), "replayed": dict(self.replayed)}


def _result_record(result: ChatResult) -> dict[str, Any]:
    return {"text": result.text, "finish_reason": result.finish_reason}


def _result(record: dict[str, Any]) -> ChatResult:
    finish = record.get("finish_reason")
    reason: FinishReason | None = finish if finish in ("stop", "length") else None
    return ChatResult(text=str(record["text"]), finish_reason=reason)


def _verdict(record: dict[str, Any]) -> Verdict:
    success = record.get("success")
    return Verdict(
        success=None if success is None else float(success), reason=record.get("reason"), raw=record.get("raw")
    )


class Caller:
    """Journal-backed calls made on behalf of one request.

    Attributes:
        queries: logical calls per role for this request (made or replayed): the attack's cost.
    """

    def __init__(self, journal: Journal, stats: CallStats) -> None:
        self.journal = journal
        self.stats = stats
        self.queries: Counter[str] = Counter()

    def chat(
        self,
        role: str,
        backend: ChatBackend,
        keys: Sequence[StepKey] | StepKey,
        conversations: Sequence[Sequence[Message]],
        *,
        max_new_tokens: int,
        temperature: float = 0.0,
    ) -> list[ChatResult]:
        """One answer per conversation, in order.

        Args:
            role: the role making the call (counted in :attr:`queries` and the run's stats).
            backend: who answers.
            keys: one step key per conversation; or one scope key, under which each conversation is
                keyed by its content (for deterministic, greedy calls only).
            conversations: what to send.
            max_new_tokens: token budget of each answer.
            temperature: sampling temperature.
        """
        digests = [
            input_digest(backend.spec, [dict(m) for m in conv], max_new_tokens, temperature)
            for conv in conversations
        ]
        if isinstance(keys, StepKey):
            keys = [keys.child(f"h{digest[:CONTENT_KEY_CHARS]}") for digest in digests]
        if len(keys) != len(conversations):
            raise EHBenchError(f"{len(keys)} step keys for {len(conversations)} conversations")
        out: list[ChatResult | None] = []
        missing: list[int] = []
        for index, (key, digest) in enumerate(zip(keys, digests, strict=True)):
            found = self.journal.get(key, digest)
            out.append(None if found is None else _result(found))
            if found is None:
                missing.append(index)
        if missing:
            answers = backend.generate(
                [conversations[i] for i in missing], max_new_tokens=max_new_tokens, temperature=temperature
            )
            if len(answers) != len(missing):
                raise EHBenchError(
                    f"backend {backend.spec!r} returned {len(answers)} answers for {len(missing)} conversations"
                )
            self.journal.append(
                (keys[i], digests[i], "chat", _result_record(answer))
                for i, answer in zip(missing, answers, strict=True)
                if answer.text is not None
            )
            for i, answer in zip(missing, answers, strict=True):
                out[i] = answer
        self.stats.add(role, len(missing), len(conversations) - len(missing))
        self.queries[role] += len(conversations)
        return [result for result in out if result is not None]

    def verdicts(self, role: str, judge: Judge, keys: Sequence[StepKey], items: Sequence[JudgeItem]) -> list[Verdict]:
        """One verdict per item, in order (journaled unless the judge was unreachable)."""
        digests = [
            input_digest(judge.id, judge.revision, item.prompt, item.response, item.context) for item in items
        ]
        out: list[Verdict | None] = []
        missing: list[int] = []
        for index, (key, digest) in enumerate(zip(keys, digests, strict=True)):
            found = self.journal.get(key, digest)
            out.append(None if found is None else _verdict(found))
            if found is None:
                missing.append(index)
        if missing:
            fresh = judge.judge([items[i] for i in missing])
            if len(fresh) != len(missing):
                raise EHBenchError(f"judge {judge.id!r} returned {len(fresh)} verdicts for {len(missing)} items")
            self.journal.append(
                (keys[i], digests[i], "verdict", {"success": v.success, "reason": v.reason, "raw": v.raw})
                for i, v in zip(missing, fresh, strict=True)
                if not (v.reason or "").startswith(JUDGE_ERROR_PREFIX)
            )
            for i, verdict in zip(missing, fresh, strict=True):
                out[i] = verdict
        self.stats.add(role, len(missing), len(items) - len(missing))
        self.queries[role] += len(items)
        return [verdict for verdict in out if verdict is not None]


class JournaledBackend:
    """A :class:`ChatBackend` view of a backend whose calls go through a :class:`Caller`, keyed by content.

    For handing to code that takes a backend (the labeller); only greedy calls are keyed safely by
    content, which is how the labeller's single-vote labelling calls.
    """

    def __init__(self, caller: Caller, role: str, backend: ChatBackend, scope: StepKey) -> None:
        self._caller = caller
        self._role = role
        self._backend = backend
        self._scope = scope

    @property
    def spec(self) -> str:
        """The wrapped backend's spec."""
        return self._backend.spec

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> list[ChatResult]:
        """Answers from the journal, or from the wrapped backend (then journaled)."""
        return self._caller.chat(
            self._role,
            self._backend,
            self._scope,
            conversations,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
        )
