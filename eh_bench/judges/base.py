"""The judge protocol and its record types.

A verdict is a *success* score in [0, 1] (1 = the response complied with the harmful request), or
unscored: ``success is None`` with a ``reason``. Unscored is never counted as success or refusal.

An empty answer (nothing, only whitespace, or lm-eval's missing-answer placeholder as eh-bench sets it,
:data:`NO_ANSWER`) is not a refusal: a content filter, a reasoning model cut off before it answers or an
API parse failure all look like that. :func:`is_empty_response` recognises it, so scorers can leave it
unscored (reason :data:`EMPTY_RESPONSE`) instead of sending it to a judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

#: Unscored reason of an empty or missing answer.
EMPTY_RESPONSE: Final = "empty_response"
#: What lm-eval's API backends write for a missing answer when ``eh-bench run`` drives them
#: (``LMEVAL_MODEL_NONE_ANSWER_PLACEHOLDER``); lm-eval's own default is ``""``.
NO_ANSWER: Final = "<eh-bench:no-answer>"


def is_empty_response(text: str | None) -> bool:
    """True for no answer at all: ``None``, an empty or whitespace-only string, or :data:`NO_ANSWER`.

    >>> [is_empty_response(t) for t in (None, "", " \\n", NO_ANSWER, "No.")]
    [True, True, True, True, False]
    """
    return text is None or not text.strip() or text.strip() == NO_ANSWER


@dataclass(frozen=True)
class JudgeItem:
    """What a judge sees: the original request (plus HarmBench context) and the model's response."""

    prompt: str
    response: str
    context: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A judge's decision on one item."""

    success: float | None
    reason: str | None = None
    raw: str | None = None

    @property
    def scored(self) -> bool:
        return self.success is not None


@runtime_checkable
class Judge(Protocol):
    """Judges a batch of items; ``id`` and ``revision`` are recorded in every report and cache key."""

    @property
    def id(self) -> str: ...

    @property
    def revision(self) -> str: ...

    def judge(self, items: Sequence[JudgeItem]) -> list[Verdict]:
        """One verdict per item, in order; failures are unscored verdicts, never exceptions per item."""
        ...
