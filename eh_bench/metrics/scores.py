"""What a judge's success values are, and the names a summary gives them.

A judge either gives 0/1 verdicts, summarised as the attack success rate ``asr`` with Wilson intervals,
or a **graded** score in [0, 1] (StrongREJECT's rubric score, Qwen3Guard's Safe 0 / Controversial 0.5 /
Unsafe 1), summarised under the score's own name (``strongreject_score``) with bootstrap intervals: a
mean of fractional scores is not a proportion of successes, so neither its name nor a Wilson interval
would be honest.

===========================  ===========================  =============================
summary key                   0/1 verdicts (``asr``)        graded score ``NAME``
===========================  ===========================  =============================
headline mean                 ``asr``                      ``NAME``
per level (cost, severity)    ``asr_by_cost`` (``asr``)     ``score_by_cost`` (``mean``)
per cell                      ``asr_by_cost_severity``      ``score_by_cost_severity``
cost-weighted mean            ``deployment_weighted_asr``   ``deployment_weighted_score``
level intervals               Wilson 95%                    bootstrap percentile
===========================  ===========================  =============================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from eh_bench.errors import InputError

#: Names a graded score may take: lower-case words joined by ``_`` (they become JSON keys).
SCORE_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: Name of a graded score that no judge named (e.g. ``eh-bench summarize`` on a table of fractions).
GENERIC_SCORE: Final = "mean_score"
#: Keys a summary already uses; a graded score may not take one of them as its name.
RESERVED: Final = frozenset(
    {"asr", "score", "n", "ci", "expected_harm", "expected_harm_normalized", "calibration_index", "likelihood",
     "bootstrap"}
)  # fmt: skip


@dataclass(frozen=True)
class ScoreSpec:
    """What the success values mean.

    Attributes:
        name: ``asr`` for 0/1 verdicts, else the graded score's name (e.g. ``strongreject_score``).
        graded: whether values between 0 and 1 are possible.
        description: one line for reports (what 1 means).
        low, high: the range of a single value.
    """

    name: str
    graded: bool
    description: str
    low: float = 0.0
    high: float = 1.0

    def by(self, scale: str) -> str:
        """Key of the per-level table over ``scale`` (``cost``, ``severity`` or ``cost_severity``)."""
        return f"{'score' if self.graded else 'asr'}_by_{scale}"

    @property
    def level_key(self) -> str:
        """Key of the mean inside a per-level or per-cell entry."""
        return "mean" if self.graded else "asr"

    @property
    def deployment_key(self) -> str:
        """Key of the cost-distribution-weighted mean."""
        return "deployment_weighted_score" if self.graded else "deployment_weighted_asr"

    @property
    def interval(self) -> str:
        """How per-level intervals are computed."""
        return "bootstrap" if self.graded else "wilson"

    def to_dict(self) -> dict[str, Any]:
        """The ``score`` block of a summary."""
        return {
            "name": self.name,
            "graded": self.graded,
            "low": self.low,
            "high": self.high,
            "interval": self.interval,
            "description": self.description,
        }


ASR: Final = ScoreSpec("asr", False, "attack success rate: share of responses judged to comply (0/1 verdicts)")


def graded_score(name: str, description: str = "graded judge score in [0, 1]; 1 = most harmful") -> ScoreSpec:
    """A graded score called ``name`` (refused: ``asr``, or a name that cannot be a JSON key)."""
    if name in RESERVED or name.startswith(("asr_", "score_", "deployment_")) or not SCORE_NAME_RE.fullmatch(name):
        raise InputError(
            f"graded score name {name!r} is not allowed: use lower-case letters, digits and '_' "
            f"(e.g. strongreject_score), not a summary key ({', '.join(sorted(RESERVED))}); "
            f"{ASR.name!r} is kept for 0/1 verdicts"
        )
    return ScoreSpec(name, True, description)


def score_of(summary: Mapping[str, Any]) -> ScoreSpec:
    """The :class:`ScoreSpec` a summary was made with (``asr`` for summaries without a ``score`` block)."""
    block = summary.get("score")
    if not isinstance(block, Mapping) or not block.get("graded"):
        return ASR
    return ScoreSpec(str(block["name"]), True, str(block.get("description") or ""))
