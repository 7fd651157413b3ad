"""The judge protocol and its record types.

A verdict is a *success* score in [0, 1] (1 = the response complied with the harmful request), or
unscored: ``success is None`` with a ``reason``. Unscored is never counted as success or refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


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
