"""Figures of a report (matplotlib, Agg, no pyplot): ASR by cost with CIs, ASR by severity, cost x severity heatmap.

Each function takes :func:`eh_bench.metrics.summarize` dicts and writes one PNG. matplotlib is an optional
dependency (``pip install 'eh-bench[leaderboard]'``), imported only here and only when plotting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from eh_bench.atomic import write_with
from eh_bench.errors import require
from eh_bench.metrics.scores import score_of
from eh_bench.rubric import LEVELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ASR_BY_COST_PNG: Final = "asr_by_cost.png"
ASR_BY_SEVERITY_PNG: Final = "asr_by_severity.png"
HEATMAP_PNG: Final = "asr_cost_severity.png"
DPI: Final = 110
COLORMAP: Final = "Reds"

Series = Sequence[tuple[str, Mapping[str, Any]]]


def _figure(width: float = 6.4, height: float = 4.0) -> Figure:
    require("matplotlib", "leaderboard")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    """Render ``fig`` as PNG into a temporary file and put it in place (a failure keeps the old plot)."""
    return write_with(path, lambda handle: fig.savefig(handle, format="png", bbox_inches="tight"))


def plot_asr_by_level(series: Series, key: str, xlabel: str, title: str, path: Path) -> Path:
    """Grouped bars of ASR per level (1-5) with Wilson 95% intervals, one bar per named summary (a graded
    judge's summaries: its mean score per level, with bootstrap intervals).

    Args:
        series: ``(label, summary)`` pairs.
        key: ``"asr_by_cost"`` or ``"asr_by_severity"`` (the graded tables are found from it).
        xlabel: the x-axis label.
        title: the figure title.
        path: the PNG to write.
    """
    fig = _figure()
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(series))
    scale = key.split("_by_", 1)[1]
    ylabel = "attack success rate"
    for i, (label, summary) in enumerate(series):
        spec = score_of(summary)
        ylabel = ylabel if not spec.graded else spec.name
        xs, ys, lo, hi = [], [], [], []
        for level in LEVELS:
            cell = summary[spec.by(scale)][str(level)]
            value = cell[spec.level_key]
            if value is None:
                continue
            xs.append(level - 0.4 + width * (i + 0.5))
            ys.append(value)
            lo.append(value - (cell["ci_low"] if cell["ci_low"] is not None else value))
            hi.append((cell["ci_high"] if cell["ci_high"] is not None else value) - value)
        ax.bar(xs, ys, width=width, label=label, yerr=[lo, hi], capsize=3)
    ax.set_xticks(list(LEVELS))
    ax.set_xlim(0.5, 5.5)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_heatmap(summary: Mapping[str, Any], title: str, path: Path) -> Path:
    """The cost x severity ASR heatmap (the paper's figure); empty cells are blank, n is printed per cell."""
    import numpy as np

    spec = score_of(summary)
    grid = np.full((5, 5), np.nan)
    counts = np.zeros((5, 5), dtype=int)
    for c in LEVELS:
        for v in LEVELS:
            cell = summary[spec.by("cost_severity")][str(c)][str(v)]
            counts[c - 1, v - 1] = cell["n"]
            if cell[spec.level_key] is not None:
                grid[c - 1, v - 1] = cell[spec.level_key]
    fig = _figure(5.6, 4.6)
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=COLORMAP, vmin=0, vmax=1, origin="lower")
    for c in range(5):
        for v in range(5):
            if counts[c, v]:
                value = grid[c, v]
                ax.text(v, c, f"{value:.2f}\nn={counts[c, v]}", ha="center", va="center", fontsize=7,
                        color="white" if value > 0.6 else "black")  # fmt: skip
    ax.set_xticks(range(5), [str(v) for v in LEVELS])
    ax.set_yticks(range(5), [str(c) for c in LEVELS])
    ax.set_xlabel("severity")
    ax.set_ylabel("execution cost")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label=spec.name if spec.graded else "attack success rate")
    return _save(fig, path)


def plot_report(report: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Write the three figures of a report.json dict into ``out_dir``; none when nothing was scored."""
    series: list[tuple[str, Mapping[str, Any]]] = [
        (task, entry["summary"]) for task, entry in report["tasks"].items() if entry.get("summary")
    ]
    group = report.get("group")
    headline = group["summary"] if group and group.get("summary") else (series[0][1] if series else None)
    if headline is None:
        return []
    if group and group.get("summary") and len(series) > 1:
        series.append((str(group["name"]), group["summary"]))
    judge = report["judge"]["id"]
    model = report["model"]["id"]
    spec = score_of(headline)
    name = spec.name if spec.graded else "ASR"
    return [
        plot_asr_by_level(series, "asr_by_cost", "execution cost", f"{name} by execution cost ({model}, judge {judge})",
                          out_dir / ASR_BY_COST_PNG),
        plot_asr_by_level(series, "asr_by_severity", "severity", f"{name} by severity ({model}, judge {judge})",
                          out_dir / ASR_BY_SEVERITY_PNG),
        plot_heatmap(headline, f"{name} by cost x severity ({model})", out_dir / HEATMAP_PNG),
    ]  # fmt: skip
