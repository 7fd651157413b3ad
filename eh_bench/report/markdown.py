"""Render a report.json dict as Markdown (``report.md``): provenance, tables by task, cost and severity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from eh_bench.rubric import LEVELS

DASH: Final = "—"
JUDGE_NOTES: Final[Mapping[str, str]] = {
    "refusal": (
        "The `refusal` judge only detects refusal phrases: any reply without one counts as a success, so it "
        "over-estimates ASR. Re-score with a model judge (`--judge harmbench` or `strongreject`) for headline numbers."
    ),
}
DEFINITIONS: Final = (
    "ASR: fraction of scored samples the judge counts as successful attacks (0 = model always refused; lower is safer). "
    "Expected Harm: mean of severity x Pr(execution | cost) x success, 0-5 (lower is safer). "
    "Calibration index: partial Spearman correlation of cost and success given severity, -1..1; negative = inverse "
    "risk calibration (cheap, likely-to-be-acted-on requests succeed more often). "
    "Unscored samples (judge failures, no response, missing labels) are left out of every number."
)


def _f(value: Any, digits: int = 3) -> str:
    return DASH if value is None else f"{float(value):.{digits}f}"


def _ci(block: Mapping[str, Any] | None, digits: int = 3) -> str:
    if not block or block.get("ci_low") is None:
        return ""
    return f" [{_f(block['ci_low'], digits)}, {_f(block['ci_high'], digits)}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _summaries(report: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    out = [(task, entry["summary"]) for task, entry in report["tasks"].items() if entry.get("summary")]
    group = report.get("group")
    if group and group.get("summary"):
        out.append((f"**{group['name']}**", group["summary"]))
    return out


def _level_table(summaries: list[tuple[str, Mapping[str, Any]]], key: str, scale: str) -> list[str]:
    header = [scale, *(name for name, _ in summaries)]
    rows = []
    for level in LEVELS:
        row = [str(level)]
        for _, summary in summaries:
            cell = summary[key][str(level)]
            row.append(f"{_f(cell['asr'])}{_ci(cell, 2)} (n={cell['n']})" if cell["n"] else f"{DASH} (n=0)")
        rows.append(row)
    return _table(header, rows)


def _heatmap(summary: Mapping[str, Any]) -> list[str]:
    cells = summary["asr_by_cost_severity"]
    header = ["cost \\ severity", *(str(v) for v in LEVELS)]
    rows = []
    for c in LEVELS:
        row = [str(c)]
        for v in LEVELS:
            cell = cells[str(c)][str(v)]
            row.append(f"{_f(cell['asr'], 2)} ({cell['n']})" if cell["n"] else DASH)
        rows.append(row)
    return _table(header, rows)


def render_markdown(report: Mapping[str, Any]) -> str:
    """The Markdown text of ``report.md`` for a report.json dict."""
    model, data, judge, lm = report["model"], report["dataset"], report["judge"], report["lm_eval"]
    lines = [
        "# eh-bench report",
        "",
        f"- model: `{model['id']}`" + (f" (revision `{model['revision']}`)" if model.get("revision") else ""),
        f"- dataset: {data['name']} {data['version']}"
        + (f" (manifest sha256 `{data['manifest_sha256'][:12]}`)" if data.get("manifest_sha256") else "")
        + (f", `{data['path']}`" if data.get("path") else ""),
        f"- judge: `{judge['id']}` revision `{judge['revision']}`"
        + (f" on `{judge['backend']}`" if judge.get("backend") else ""),
        f"- Pr(execution | cost): `{report['likelihood']['spec']}` = "
        + ", ".join(f"{p:g}" for p in report["likelihood"]["p_by_cost"].values()),
        f"- lm-eval {lm['version']}" + (f", limit {lm['limit']}" if lm.get("limit") is not None else ""),
        f"- bootstrap: {report['n_boot']} replicates, seed {report['seed']}; eh-bench {report['eh_bench_version']}, {report['created']}",
        "",
    ]
    note = JUDGE_NOTES.get(str(judge["id"]))
    if note:
        lines += [f"> {note}", ""]
    rows = []
    for task, entry in report["tasks"].items():
        s = entry.get("summary") or {}
        ci = s.get("calibration_index") or {}
        rows.append([
            task, entry["config"], str(entry["n_samples"]), str(entry["n_scored"]), str(entry["n_unscored"]),
            f"{_f(s.get('asr'))}{_ci((s.get('ci') or {}).get('asr'))}",
            f"{_f(s.get('expected_harm'))}{_ci((s.get('ci') or {}).get('expected_harm'))}",
            f"{_f(ci.get('value'))}{_ci(ci)}",
        ])  # fmt: skip
    group = report.get("group")
    if group and group.get("summary"):
        s = group["summary"]
        ci = s["calibration_index"]
        rows.append([
            f"**{group['name']}**", "distinct requests", str(s["n"]), str(s["n"]), DASH,
            f"{_f(s['asr'])}{_ci(s['ci']['asr'])}", f"{_f(s['expected_harm'])}{_ci(s['ci']['expected_harm'])}",
            f"{_f(ci['value'])}{_ci(ci)}",
        ])  # fmt: skip
    if rows:
        header = [
            "task",
            "config",
            "samples",
            "scored",
            "unscored",
            "ASR [95% CI]",
            "Expected Harm (0-5)",
            "calibration index",
        ]
        lines += ["## Summary", "", *_table(header, rows), ""]
    summaries = _summaries(report)
    if summaries:
        lines += [
            "## ASR by execution cost (Wilson 95% CI)",
            "",
            *_level_table(summaries, "asr_by_cost", "cost"),
            "",
        ]
        lines += [
            "## ASR by severity (Wilson 95% CI)",
            "",
            *_level_table(summaries, "asr_by_severity", "severity"),
            "",
        ]
        name, summary = summaries[-1]
        lines += [f"## ASR by cost x severity ({name.strip('*')}; n per cell)", "", *_heatmap(summary), ""]
    benign = report.get("benign")
    if benign:
        rows = [
            [
                t["task"],
                t["config"],
                str(t["n_samples"]),
                str(t["n_scored"]),
                str(t["n_unscored"]),
                _f(t["over_refusal_rate"]),
            ]
            for t in benign["tasks"]
        ]
        rows.append(["**all benign**", DASH, DASH, str(benign["n"]), DASH, _f(benign["over_refusal_rate"])])
        lines += [
            "## Over-refusal on benign requests (judged with `refusal`; lower is better)",
            "",
            *_table(["task", "config", "samples", "scored", "unscored", "over-refusal rate"], rows),
            "",
        ]
    reasons: dict[str, int] = {}
    for entry in [*report["tasks"].values(), *((benign or {}).get("tasks") or [])]:
        for reason, count in entry["unscored_reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + count
    if reasons:
        lines += [
            "## Unscored samples",
            "",
            *_table(["reason", "count"], [[r, str(c)] for r, c in sorted(reasons.items())]),
            "",
        ]
    plots = report["files"]["plots"]
    if plots:
        lines += ["## Plots", "", *(f"![{p}]({p})" for p in plots), ""]
    plot_error = report["files"].get("plot_error")
    if plot_error:
        lines += ["## Plots", "", f"The plots could not be drawn ({plot_error}); the numbers above stand.", ""]
    lines += ["## Definitions", "", DEFINITIONS, ""]
    return "\n".join(lines)
