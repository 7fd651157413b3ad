"""Matplotlib figures for the leaderboard tabs: ASR by level, the cost x severity heatmap, probes.

Labels come from submitted strings; ``$`` is escaped so they are drawn as text, never parsed as
mathtext. Figures are built with the object API (no pyplot state), so concurrent requests are safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from eh_bench.submission.stores import Record
from leaderboard.lb_data import graded, judge_label, method_of

LEVELS = ("1", "2", "3", "4", "5")
MAX_LABEL = 80
HEATMAP_CMAP = "Reds"
#: Cells darker than this (ASR) get white text.
DARK_ABOVE = 0.6


def text(value: str, limit: int = MAX_LABEL) -> str:
    """A submitted string made safe for a matplotlib label: mathtext escaped, length capped."""
    short = value if len(value) <= limit else value[: limit - 1] + "…"
    return short.replace("\\", "\\\\").replace("$", r"\$")


def short_label(record: Record) -> str:
    """Model, method, judge and likelihood of an entry (method and judge: every curve says what it is)."""
    e = record.entry
    return text(f"{e['model']['id']} · {method_of(e)} · {judge_label(e)} · {e['likelihood']['spec']}")


def _levels(record: Record, scale: str) -> tuple[dict[str, Any], str]:
    """The per-level table of ``scale`` (``cost``/``severity``) and the key of its mean (ASR or graded)."""
    m = record.entry["metrics"]
    if graded(record.entry):
        return m.get(f"score_by_{scale}") or {}, "mean"
    return m.get(f"asr_by_{scale}") or {}, "asr"


def _level_panel(ax: Any, records: Sequence[Record], scale: str, xlabel: str) -> None:
    x = [int(k) for k in LEVELS]
    for i, r in enumerate(records):
        cells, key = _levels(r, scale)
        pts = [(int(k), cells[k]) for k in LEVELS if k in cells and cells[k][key] is not None]
        if not pts:
            continue
        xs = [p[0] + (i - (len(records) - 1) / 2) * 0.06 for p in pts]
        ys = [c[key] for _, c in pts]
        lo = [max(0.0, c[key] - (c["ci_low"] if c["ci_low"] is not None else c[key])) for _, c in pts]
        hi = [max(0.0, (c["ci_high"] if c["ci_high"] is not None else c[key]) - c[key]) for _, c in pts]
        counts = "/".join(str(cells[k]["n"]) if k in cells else "0" for k in LEVELS)
        ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, linewidth=1.6,
                    label=f"{short_label(r)} (n {counts})")
    ax.set_xticks(x)
    ax.set_xlim(0.6, 5.4)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)


def calibration_figure(records: Sequence[Record]) -> Figure:
    """ASR by execution-cost level and by severity level (Wilson 95% CIs), one line per entry, its legend
    naming the method, the judge and the prompts per level.

    A well-calibrated model's ASR rises with cost (cheap, likely-to-be-acted-on requests refused
    more); a falling line is the paper's inverse risk calibration.
    """
    fig = Figure(figsize=(11, 4.2 + 0.22 * ((len(records) + 1) // 2)), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    _level_panel(axes[0], records, "cost", "execution cost level (1 = anyone can act at once)")
    _level_panel(axes[1], records, "severity", "severity level (5 = catastrophic)")
    axes[0].set_ylabel("attack success rate")
    axes[0].set_title("ASR by execution cost")
    axes[1].set_title("ASR by severity")
    if records:
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8,
                   frameon=False)
    else:
        axes[0].text(3, 0.5, "choose entries above", ha="center", va="center", color="gray")
    return fig


def heatmap_figure(record: Record | None) -> Figure:
    """The cost x severity ASR heatmap of one entry; each cell shows ASR and n (blank: no samples)."""
    fig = Figure(figsize=(5.6, 4.6), layout="constrained")
    ax = fig.subplots()
    grid = [[float("nan")] * 5 for _ in LEVELS]
    key = "mean" if record is not None and graded(record.entry) else "asr"
    table = "score_by_cost_severity" if key == "mean" else "asr_by_cost_severity"
    if record is not None and table in record.entry["metrics"]:
        cells = record.entry["metrics"][table]
        for i, c in enumerate(LEVELS):
            for j, s in enumerate(LEVELS):
                cell = cells[c][s]
                if cell[key] is not None:
                    grid[i][j] = cell[key]
                if cell["n"]:
                    shown = "—" if cell[key] is None else f"{cell[key]:.2f}"
                    dark = cell[key] is not None and cell[key] > DARK_ABOVE
                    ax.text(j, i, f"{shown}\nn={cell['n']}", ha="center", va="center", fontsize=8,
                            color="white" if dark else "black")
        ax.set_title(short_label(record), fontsize=9)
    image = ax.imshow(grid, cmap=HEATMAP_CMAP, vmin=0, vmax=1, origin="lower")
    ax.set_xticks(range(5), LEVELS)
    ax.set_yticks(range(5), LEVELS)
    ax.set_xlabel("severity")
    ax.set_ylabel("execution cost")
    fig.colorbar(image, ax=ax, label="graded score" if key == "mean" else "ASR")
    return fig


def _probe_label(probe: dict[str, Any]) -> str:
    method = probe.get("method")
    return text(f"{probe['target']} ({method})" if method else probe["target"])


def probes_figure(record: Record | None) -> Figure:
    """Refusal-probe accuracy by layer (left), decodability of severity and cost by layer (middle: Spearman,
    dotted: beyond the text baselines) and the activation score by severity and cost level (right); the
    entry's one-line decodability summary as the title."""
    import textwrap

    fig = Figure(figsize=(14, 4.4), layout="constrained")
    axes = fig.subplots(1, 3)
    probes = record.entry.get("probes", []) if record is not None else []
    for probe in probes:
        rows = probe["accuracy_by_layer"]
        layers = [p["layer"] for p in rows]
        if any(p.get("spearman") is not None for p in rows):
            line = axes[1].plot(layers, [_num(p.get("spearman")) for p in rows], marker=".", label=_probe_label(probe))
            axes[1].plot(layers, [_num(p.get("beyond_text")) for p in rows], ":", color=line[0].get_color(),
                         label=text(f"{probe['target']} beyond text"))
        else:
            line = axes[0].plot(layers, [p["accuracy"] for p in rows], marker=".", label=_probe_label(probe))
            if all(p.get("ci_low") is not None and p.get("ci_high") is not None for p in rows):
                axes[0].fill_between(layers, [p["ci_low"] for p in rows], [p["ci_high"] for p in rows],
                                     color=line[0].get_color(), alpha=0.15)
        for scale, style in (("score_by_severity", "-o"), ("score_by_cost", "--s")):
            scores = probe.get(scale)
            if scores:
                pts = [(int(k), scores[k]) for k in LEVELS if scores[k] is not None]
                axes[2].plot([p[0] for p in pts], [p[1] for p in pts], style,
                             label=text(f"{probe['target']} by {scale.rsplit('_', 1)[-1]}"))
    summary = next((p["summary"] for p in probes if p.get("summary")), None)
    if summary:
        fig.suptitle(text("\n".join(textwrap.wrap(summary, 150)), limit=2000), fontsize=8)
    axes[0].set_ylabel("probe accuracy (out of fold)")
    axes[0].set_ylim(0, 1.02)
    axes[1].set_ylabel("Spearman, decoded vs true level")
    axes[1].set_ylim(-1, 1)
    axes[1].axhline(0, color="black", lw=0.6)
    for ax in axes[:2]:
        ax.set_xlabel("layer")
    axes[2].set_xlabel("level")
    axes[2].set_ylabel("activation score (probability x 100)")
    axes[2].set_xticks(range(1, 6))
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    return fig


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)
