"""Write docs/IMPORTED_RESPONSES.md: ASR by execution cost and Expected Harm of the 22 imported
(model, attack) pairs, and what they say about Inverse Risk Calibration on real models.

The pairs are the JailbreakBench attack artifacts (4 attacks x 4 target models, the JailbreakBench
judge's verdicts) and the Do-Not-Answer responses of six models (human harmful labels), imported exactly
as ``eh-bench import`` does, with the shipped cost and severity labels. Only aggregates are written:
rates, counts and intervals; no request and no response text.

Usage:
    EH_SOURCES_DIR=../shared/sources .venv/bin/python scripts/analyze_imports.py [--out docs/IMPORTED_RESPONSES.md]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eh_bench.importers import ImportOptions, ImportResult, import_donotanswer, import_jbb_artifacts
from eh_bench.importers.build import VERDICTS_FILE
from eh_bench.metrics import wilson_interval

LEVELS = ("1", "2", "3", "4", "5")
#: Cost levels compared in the robustness check: cheap (1-2) against costly (3-5).
LOW, HIGH = (1, 2), (3, 4, 5)
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "IMPORTED_RESPONSES.md"


@dataclass(frozen=True)
class Pair:
    """One imported (model, attack) report and its per-row verdicts (cost, severity, success)."""

    set: str
    result: ImportResult
    rows: list[tuple[int, int, float]]

    @property
    def summary(self) -> dict[str, Any]:
        return self.result.summary


def _rows(folder: Path) -> list[tuple[int, int, float]]:
    out = []
    for line in (folder / VERDICTS_FILE).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["success"] is not None:
            out.append((int(row["cost"]), int(row["severity"]), float(row["success"])))
    return out


def _f(x: float | None, digits: int = 2) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _ci(value: float | None, lo: float | None, hi: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{_f(value, digits)} [{_f(lo, digits)}, {_f(hi, digits)}]"


def rate(rows: Sequence[tuple[int, int, float]], costs: tuple[int, ...]) -> tuple[float, int, float, float]:
    """(ASR, n, Wilson low, Wilson high) of the rows at ``costs``."""
    hits = [s for c, _, s in rows if c in costs]
    n = len(hits)
    if not n:
        return math.nan, 0, math.nan, math.nan
    lo, hi = wilson_interval(sum(hits), n)
    return sum(hits) / n, n, float(lo), float(hi)


def newcombe(a: tuple[float, int, float, float], b: tuple[float, int, float, float]) -> tuple[float, float, float]:
    """Difference a - b of two proportions with Newcombe's hybrid score interval (from Wilson bounds)."""
    p1, _, l1, u1 = a
    p2, _, l2, u2 = b
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def informative(summary: dict[str, Any]) -> bool:
    """Whether ASR varies at all: a pair that never (or always) succeeds says nothing about calibration."""
    return summary["asr"] is not None and 0.0 < summary["asr"] < 1.0


def trend(summary: dict[str, Any]) -> str:
    """What a pair's calibration index says: inverse (CI below 0), calibrated (above), or neither."""
    cal = summary["calibration_index"]
    if not informative(summary):
        return "no variation"
    if cal["value"] is None:
        return "undefined"
    if cal["ci_high"] is not None and cal["ci_high"] < 0:
        return "inverse"
    if cal["ci_low"] is not None and cal["ci_low"] > 0:
        return "calibrated"
    return "no clear trend"


def load(n_boot: int, seed: int, work: Path) -> list[Pair]:
    opts = ImportOptions(n_boot=n_boot, seed=seed, plots=False)
    pairs = [Pair("jbb-artifacts", r, _rows(r.folder)) for r in import_jbb_artifacts(work / "jbb", opts)]
    pairs += [Pair("donotanswer", r, _rows(r.folder)) for r in import_donotanswer(work / "dna", opts)]
    return pairs


def _name(p: Pair) -> str:
    return f"`{p.result.model_id}`"


def headline_table(pairs: list[Pair]) -> list[str]:
    out = ["| set | model | method | judge | n | ASR [95% CI] | Expected Harm [95% CI] | calibration index [95% CI] | trend |",
           "|---|---|---|---|---:|---|---|---|---|"]  # fmt: skip
    for p in pairs:
        s, ci = p.summary, p.summary["ci"]
        cal = s["calibration_index"]
        out.append(
            f"| {p.set} | {_name(p)} | {p.result.method} | {p.result.report['judge']['id']} | {s['n']} | "
            f"{_ci(s['asr'], ci['asr']['ci_low'], ci['asr']['ci_high'])} | "
            f"{_ci(s['expected_harm'], ci['expected_harm']['ci_low'], ci['expected_harm']['ci_high'], 3)} | "
            f"{_ci(cal['value'], cal['ci_low'], cal['ci_high'], 3)} | {trend(s)} |"
        )
    return out


def cost_table(pairs: list[Pair]) -> list[str]:
    out = ["| set | model | method | " + " | ".join(f"cost {k}" for k in LEVELS) + " |",
           "|---|---|---|" + "---|" * len(LEVELS)]  # fmt: skip
    for p in pairs:
        cells = []
        for k in LEVELS:
            c = p.summary["asr_by_cost"][k]
            cells.append(f"{_ci(c['asr'], c['ci_low'], c['ci_high'])} (n={c['n']})" if c["n"] else "— (n=0)")
        out.append(f"| {p.set} | {_name(p)} | {p.result.method} | " + " | ".join(cells) + " |")
    return out


def contrast_table(pairs: list[Pair]) -> tuple[list[str], list[tuple[Pair, float, float, float]]]:
    out = ["| set | model | method | ASR cost 1-2 (n) | ASR cost 3-5 (n) | difference (1-2 minus 3-5) [95% CI] |",
           "|---|---|---|---|---|---|"]  # fmt: skip
    diffs = []
    for p in pairs:
        low, high = rate(p.rows, LOW), rate(p.rows, HIGH)
        d, lo, hi = newcombe(low, high)
        diffs.append((p, d, lo, hi))
        out.append(f"| {p.set} | {_name(p)} | {p.result.method} | {_f(low[0])} ({low[1]}) | {_f(high[0])} ({high[1]}) | "
                   f"{_ci(d, lo, hi)} |")  # fmt: skip
    return out, diffs


def level_counts(pairs: list[Pair], name: str) -> str:
    first = next(p for p in pairs if p.set == name)
    return " / ".join(str(first.summary["asr_by_cost"][k]["n"]) for k in LEVELS)


def set_findings(name: str, title: str, pairs: list[Pair], diffs: list[tuple[Pair, float, float, float]]) -> list[str]:
    """Counts and a verdict for one set, generated from its pairs' intervals."""
    chosen = [(p, d, lo, hi) for p, d, lo, hi in diffs if p.set == name and informative(p.summary)]
    flat = sum(1 for p in pairs if p.set == name and not informative(p.summary))
    trends = [trend(p.summary) for p, *_ in chosen]
    idx_inverse, idx_calibrated = trends.count("inverse"), trends.count("calibrated")
    cheap_more = sum(1 for *_, lo, _ in chosen if lo > 0)
    costly_more = sum(1 for *_, hi in chosen if hi < 0)
    cheap_points = sum(1 for _, d, _, _ in chosen if d > 0)
    costly_points = sum(1 for _, d, _, _ in chosen if d < 0)
    values = [p.summary["calibration_index"]["value"] for p, *_ in chosen if p.summary["calibration_index"]["value"] is not None]
    mean_index = sum(values) / len(values) if values else None
    clear = [abs(p.summary["calibration_index"]["value"]) for p, *_ in chosen
             if trend(p.summary) in ("inverse", "calibrated")]  # fmt: skip
    size = f", at most {max(clear):.3f} per cost level" if clear else ""
    towards_cheap, towards_costly = idx_inverse + cheap_more, idx_calibrated + costly_more
    if towards_cheap and not towards_costly:
        verdict = "consistent with Inverse Risk Calibration (cheap requests succeed more often)"
    elif towards_costly and not towards_cheap:
        verdict = "the opposite of Inverse Risk Calibration: where the difference is clear, costly requests succeed more often"
    elif not towards_cheap and not towards_costly:
        verdict = "no detectable relation between cost and ASR"
    else:
        verdict = "mixed: clear differences in both directions"
    return [
        f"- **{title}**: {len(chosen)} pairs where ASR varies ({flat} never or always succeed and are left out). "
        f"ASR is higher on costly (cost 3-5) than on cheap (cost 1-2) requests in {costly_points} point estimates "
        f"and lower in {cheap_points}; the interval of the difference excludes 0 in {costly_more} pair(s) towards "
        f"costly and {cheap_more} towards cheap. The calibration index's interval lies above 0 in "
        f"{idx_calibrated} pair(s) and below 0 in {idx_inverse}{size} (mean index {_f(mean_index, 3)} per cost level). "
        f"Reading: {verdict}.",
    ]


def findings(pairs: list[Pair], diffs: list[tuple[Pair, float, float, float]]) -> list[str]:
    return [
        *set_findings("jbb-artifacts", "JailbreakBench attacks (JailbreakBench judge)", pairs, diffs),
        *set_findings("donotanswer", "Do-Not-Answer, direct requests (human labels)", pairs, diffs),
    ]


def render(pairs: list[Pair], n_boot: int, seed: int) -> str:
    contrast, diffs = contrast_table(pairs)
    dna = [p for p in pairs if p.set == "donotanswer"]
    rates = [p.summary["asr"] for p in dna]
    dna_range = f"{min(rates):.1%} to {max(rates):.1%}"
    counts = dna[0].summary["asr_by_cost"]
    cheap_share = (counts["1"]["n"] + counts["2"]["n"]) / dna[0].summary["n"]
    labels = pairs[0].result.report["dataset"]
    first = {p.set: p.result.report["dataset"] for p in reversed(pairs)}
    label_hashes = ", ".join(f"`{str(d.get('labels_sha256'))[:16]}` ({name})" for name, d in sorted(first.items()))
    jbb_sets = sorted({p.result.report["responses"]["revision"][:12] for p in pairs if p.set == "jbb-artifacts"})
    return "\n".join([
        "# Real models on the Expected Harm scale: the imported response sets",
        "",
        "<!-- Generated by scripts/analyze_imports.py; do not edit by hand. -->",
        "",
        "Twenty-two (model, attack) pairs of real model responses with published verdicts, imported with "
        "`eh-bench import` and scored with eh-bench's cost and severity labels: the **JailbreakBench attack "
        f"artifacts** (JailbreakBench/artifacts @ {', '.join(jbb_sets)}; 4 attacks x 4 target models x 100 "
        "behaviours; verdict: the JailbreakBench judge's `jailbroken`; a row where the attack submitted no prompt "
        "counts as a failure, as JailbreakBench counts it) and the **Do-Not-Answer** responses of six models "
        "(939 questions; verdict: the human `harmful` label). Only aggregates are shown.",
        "",
        f"Labels: eh-bench {labels['version']}, rubric {labels.get('rubric_version')}, label files sha256 "
        f"{label_hashes} (LLM-assisted, with a blind second pass on a stratified sample; not validated by people). "
        f"Prompts per cost level 1/2/3/4/5: JailbreakBench {level_counts(pairs, 'jbb-artifacts')}, "
        f"Do-Not-Answer {level_counts(pairs, 'donotanswer')}: costly requests are few, so the intervals at cost "
        "4-5 are wide. Pr(execution | cost) is the default `linear` model; bootstrap intervals use "
        f"{n_boot} replicates (seed {seed}); per-level ASR intervals are Wilson 95%.",
        "",
        "## What the data show",
        "",
        *findings(pairs, diffs),
        "",
        "Caveats: the two sets use different judges (a model judge, human annotators), so compare within a set; "
        "the 16 JailbreakBench pairs share the same 100 behaviours, so they are not independent evidence; an "
        "attack's ASR depends on its own prompts and query budget; harmful rates on Do-Not-Answer are low "
        f"({dna_range}) and {cheap_share:.0%} of its questions are labelled cost 1-2, so its contrasts have little "
        "power; and the cost labels, not the models, decide which requests count as cheap.",
        "",
        "## Headline numbers",
        "",
        "The calibration index is the change in ASR per cost level with severity held fixed (> 0: ASR rises "
        "with cost; < 0: inverse risk calibration); *trend* reads its interval.",
        "",
        *headline_table(pairs),
        "",
        "## ASR by execution cost (Wilson 95% CI, n prompts)",
        "",
        *cost_table(pairs),
        "",
        "## Cheap against costly requests",
        "",
        "A check that does not depend on the index: ASR on cost 1-2 against cost 3-5 (pooled over severity).",
        "",
        *contrast,
        "",
        "Regenerate: `EH_SOURCES_DIR=../shared/sources .venv/bin/python scripts/analyze_imports.py`.",
        "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        pairs = load(args.n_boot, args.seed, Path(tmp))
        text = render(pairs, args.n_boot, args.seed)
    if len(pairs) != 22:
        sys.exit(f"expected 22 imported pairs, got {len(pairs)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(pairs)} pairs)")


if __name__ == "__main__":
    main()
