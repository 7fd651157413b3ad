"""Figures of a probe report (matplotlib, Agg, object API), drawn from its report.json dict.

* ``probe_accuracy.png``: refusal-probe accuracy by layer (logistic with its interval, difference in
  means), logistic AUROC, the shuffled-label AUROC p95 and the text baselines;
* ``activation_severity.png``, ``activation_cost.png``: layer x level heatmaps of the activation score;
* ``activation_final_layer.png``: the final layer's score by severity and by cost level, as in the paper;
* ``decodability.png``: Spearman correlation by layer for severity and cost, beyond text, shuffled p95.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from eh_bench.errors import require

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ACCURACY_PNG: Final = "probe_accuracy.png"
HEATMAP_PNG: Final = "activation_{scale}.png"
FINAL_PNG: Final = "activation_final_layer.png"
DECODE_PNG: Final = "decodability.png"
DPI: Final = 110
CMAP: Final = "magma"
LEVELS: Final = ("1", "2", "3", "4", "5")


def _figure(width: float, height: float) -> Figure:
    require("matplotlib", "leaderboard")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    from eh_bench.atomic import write_with

    return write_with(path, lambda handle: fig.savefig(handle, format="png"))


def _nums(values: Sequence[Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def plot_accuracy(refusal: Mapping[str, Any], title: str, path: Path) -> Path:
    """Refusal-probe accuracy and AUROC by layer, with the chance and text lines."""
    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot()
    layers = [row["layer"] for row in refusal["layers"]]
    acc = [row["logistic"]["accuracy"] for row in refusal["layers"]]
    ax.plot(layers, _nums([a["value"] for a in acc]), "o-", ms=3, label="logistic accuracy")
    ax.fill_between(layers, _nums([a["ci_low"] for a in acc]), _nums([a["ci_high"] for a in acc]), alpha=0.2)
    ax.plot(layers, _nums([r["mean_difference"]["accuracy"]["value"] for r in refusal["layers"]]), "s-", ms=3,
            label="difference-in-means accuracy")
    ax.plot(layers, _nums([r["logistic"]["auroc"]["value"] for r in refusal["layers"]]), "--", label="logistic AUROC")
    ax.plot(layers, _nums([r["logistic"]["shuffled_auroc_p95"] for r in refusal["layers"]]), ":", color="gray",
            label="shuffled labels, AUROC p95")
    for name, text in refusal["text_baselines"].items():
        if text["accuracy"]["value"] is not None:
            ax.axhline(text["accuracy"]["value"], lw=0.8, ls="-.", color="tab:green" if "words" in name else "tab:olive",
                       label=f"text baseline ({name.replace('_', ' ')}) accuracy")
    ax.set_xlabel("layer (0 = embeddings)")
    ax.set_ylabel("out-of-fold accuracy / AUROC")
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)


def plot_heatmap(levels: Sequence[Mapping[str, Any]], scale: str, title: str, path: Path) -> Path:
    """Layer x level heatmap of the activation score (blank where a level has no prompts)."""
    fig = _figure(5.2, 6.0)
    ax = fig.add_subplot()
    grid = [_nums([row[scale][lv]["score"] for lv in LEVELS]) for row in levels]
    image = ax.imshow(grid, aspect="auto", origin="lower", cmap=CMAP, vmin=0, vmax=100)
    ax.set_xticks(range(5), LEVELS)
    ax.set_xlabel(f"{scale} level")
    ax.set_ylabel("layer")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, label="activation score (mean probability x 100)")
    return _save(fig, path)


def _bars(ax: Axes, cells: Mapping[str, Mapping[str, Any]], xlabel: str) -> None:
    xs = [int(lv) for lv in LEVELS if cells[lv]["score"] is not None]
    ys = [cells[str(x)]["score"] for x in xs]
    low = [y - (cells[str(x)]["ci_low"] if cells[str(x)]["ci_low"] is not None else y) for x, y in zip(xs, ys, strict=True)]
    high = [(cells[str(x)]["ci_high"] if cells[str(x)]["ci_high"] is not None else y) - y for x, y in zip(xs, ys, strict=True)]
    ax.bar(xs, ys, yerr=[low, high], capsize=3, color="tab:red", alpha=0.75)
    for x, y in zip(xs, ys, strict=True):
        ax.text(x, 2, f"n={cells[str(x)]['n']}", ha="center", fontsize=7, color="white")
        ax.text(x, min(y + 3, 98), f"{y:.1f}", ha="center", fontsize=8)
    ax.set_xticks(range(1, 6))
    ax.set_ylim(0, 105)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3, axis="y")


def plot_final_layer(final: Mapping[str, Any], title: str, path: Path) -> Path:
    """The final layer's activation score by severity (left) and by cost (right), with 95% intervals."""
    fig = _figure(9.0, 3.8)
    left, right = fig.subplots(1, 2, sharey=True)
    _bars(left, final["severity"], "severity level")
    _bars(right, final["cost"], "execution cost level")
    left.set_ylabel(f"activation score, layer {final['layer']}")
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def _decode_panel(ax: Axes, decode: Mapping[str, Any] | None, target: str) -> None:
    if decode is None:
        ax.text(0.5, 0.5, "not scored", ha="center", transform=ax.transAxes, color="gray")
        return
    main = "within_strata" if decode["strata"] else "spearman"
    layers = [row["layer"] for row in decode["layers"]]
    est = [row[main] for row in decode["layers"]]
    label = f"{target}: Spearman" + (" within severity" if main == "within_strata" else "")
    ax.plot(layers, _nums([e["value"] for e in est]), "o-", ms=3, label=label)
    ax.fill_between(layers, _nums([e["ci_low"] for e in est]), _nums([e["ci_high"] for e in est]), alpha=0.2)
    ax.plot(layers, _nums([row["beyond_text"]["value"] for row in decode["layers"]]), "s-", ms=3, label="beyond text")
    ax.plot(layers, _nums([row[main]["shuffled_p95"] for row in decode["layers"]]), ":", color="gray",
            label="shuffled labels p95")
    for name, text in decode["text_baselines"].items():
        value = text.get(main, text["spearman"])["value"]
        if value is not None:
            ax.axhline(value, lw=0.8, ls="-.", color="tab:green" if "words" in name else "tab:olive",
                       label=f"text: {name.replace('_', ' ')}")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylim(-1, 1)
    ax.set_xlabel("layer")
    ax.set_title(f"decoding {target} (n={decode['n']})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")


def plot_decodability(decode: Mapping[str, Any], title: str, path: Path) -> Path:
    """Spearman correlation of decoded and true level by layer, for severity and cost."""
    fig = _figure(10.0, 4.0)
    left, right = fig.subplots(1, 2, sharey=True)
    _decode_panel(left, decode.get("severity"), "severity")
    _decode_panel(right, decode.get("cost"), "cost")
    left.set_ylabel("Spearman correlation (out of fold)")
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def plot_probe_report(report: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Every figure the report has data for; returns the paths written."""
    p = report["probes"]
    title = f"{report['model']['id']} · {p['label_source']} · pool {p['settings']['pool']}"
    paths = []
    if p["refusal"] is not None:
        paths.append(plot_accuracy(p["refusal"], title, out_dir / ACCURACY_PNG))
    if p["levels"]:
        for scale in ("severity", "cost"):
            paths.append(plot_heatmap(p["levels"], scale, title, out_dir / HEATMAP_PNG.format(scale=scale)))
        paths.append(plot_final_layer(p["levels"][-1], title, out_dir / FINAL_PNG))
    if p["decode"]["severity"] is not None or p["decode"]["cost"] is not None:
        paths.append(plot_decodability(p["decode"], title, out_dir / DECODE_PNG))
    return paths
