"""The attack x benchmark matrix: one row per attack (variant / jailbreak), one column per config.

Four matrices, one per measure: ASR, usefulness, sub-task bypass and task bypass. In every column the
best value is marked ``**bold**`` and the second best ``_italic_`` (higher is the stronger attack on
all four; ties share a mark). The bypass matrices also show the guard's pass rate on the original
prompts, the baseline the bypass rates are read against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from eh_bench.errors import InputError

#: (summary field, title) of each matrix.
MEASURES: Final = (
    ("asr", "ASR (judged against the original request)"),
    ("usefulness", "Usefulness (judged against the original request)"),
    ("subtask_bypass", "Sub-task bypass (share of sub-task prompts the guard passed)"),
    ("task_bypass", "Task bypass (share of requests whose every sub-task prompt passed)"),
)
BYPASS_MEASURES: Final = frozenset({"subtask_bypass", "task_bypass"})
VARIANT_ORDER: Final = ("none", "cost", "monitor", "cost+monitor")
DASH: Final = "—"
BASELINE_ROW: Final = "guard on original prompts"


@dataclass
class Matrix:
    """Cell summaries arranged by attack and config."""

    attacks: list[tuple[str, str]] = field(default_factory=list)
    configs: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str, str], Mapping[str, Any]] = field(default_factory=dict)
    guard_original: dict[str, float | None] = field(default_factory=dict)

    def value(self, measure: str, attack: tuple[str, str], config: str) -> float | None:
        """One number of the matrix (None: not run, or undefined)."""
        cell = self.cells.get((*attack, config))
        value = cell.get(measure) if cell else None
        return float(value) if isinstance(value, (int, float)) else None


def _attack_order(attack: tuple[str, str]) -> tuple[int, str]:
    variant, jailbreak = attack
    rank = VARIANT_ORDER.index(variant) if variant in VARIANT_ORDER else len(VARIANT_ORDER)
    return rank, jailbreak


def attack_matrix(cells: Sequence[Mapping[str, Any]]) -> Matrix:
    """Arrange cell summaries (``results.read_cells`` of one or more folders) into a :class:`Matrix`.

    Raises:
        InputError: two cells for the same (config, variant, jailbreak), e.g. two folders of one attack.
    """
    matrix = Matrix()
    sizes: dict[str, int] = {}
    for cell in cells:
        key = (str(cell["variant"]), str(cell["jailbreak"]), str(cell["config"]))
        if key in matrix.cells:
            raise InputError(
                f"two results for config {key[2]!r}, variant {key[0]!r}, jailbreak {key[1]!r}; give the "
                "folders of one target model, each attack once"
            )
        matrix.cells[key] = cell
        config = key[2]
        if int(cell.get("n_guard_original") or 0) > sizes.get(config, -1):
            sizes[config] = int(cell.get("n_guard_original") or 0)
            matrix.guard_original[config] = cell.get("guard_original_pass")
    matrix.attacks = sorted({(v, j) for v, j, _ in matrix.cells}, key=_attack_order)
    matrix.configs = sorted({c for _, _, c in matrix.cells})
    return matrix


def marks(values: Sequence[float | None]) -> list[int | None]:
    """1 for the best (highest) values, 2 for the second best, None otherwise (dense ranks).

    >>> marks([0.2, 0.5, None, 0.5, 0.1])
    [2, 1, None, 1, None]
    """
    distinct = sorted({v for v in values if v is not None}, reverse=True)[:2]
    return [distinct.index(v) + 1 if v is not None and v in distinct else None for v in values]


def _fmt(value: float | None, mark: int | None) -> str:
    if value is None:
        return DASH
    text = f"{value:.3f}"
    return f"**{text}**" if mark == 1 else f"_{text}_" if mark == 2 else text


def rows_for(matrix: Matrix, measure: str) -> list[list[str]]:
    """The text rows of one matrix: the attack label, then one marked cell per config."""
    columns = {c: marks([matrix.value(measure, a, c) for a in matrix.attacks]) for c in matrix.configs}
    out = []
    for i, attack in enumerate(matrix.attacks):
        out.append([f"{attack[0]} / {attack[1]}"] + [
            _fmt(matrix.value(measure, attack, c), columns[c][i]) for c in matrix.configs
        ])  # fmt: skip
    if measure in BYPASS_MEASURES:
        out.append([f"({BASELINE_ROW})"] + [_fmt(matrix.guard_original.get(c), None) for c in matrix.configs])
    return out


def render_markdown(matrix: Matrix) -> str:
    """The four matrices as Markdown tables, with the sample sizes and the legend."""
    if not matrix.cells:
        return "No attack results.\n"
    header = ["attack (variant / jailbreak)", *matrix.configs]
    lines = []
    for measure, title in MEASURES:
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows_for(matrix, measure)]
        lines.append("")
    sizes = ", ".join(
        f"{c}: {max(int(matrix.cells[(*a, c)].get('n') or 0) for a in matrix.attacks if (*a, c) in matrix.cells)}"
        for c in matrix.configs
    )
    lines += [
        f"Requests per config: {sizes}. Higher is the stronger attack in every matrix; **bold** marks the "
        f"best and _italic_ the second best of each column; {DASH} means not run or undefined.",
        "",
    ]
    return "\n".join(lines)
