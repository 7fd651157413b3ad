"""Judges: turn (prompt, response) pairs into verdicts; a registry by name and one shared cache."""

from eh_bench.judges.base import Judge, JudgeItem, Verdict

__all__ = ["Judge", "JudgeItem", "Verdict"]
