"""The one-line decodability summary per model: is severity decodable, is cost decodable beyond text?

Severity is judged on its raw decodability (best layer's Spearman correlation); cost on what the
hidden states add over the bag-of-words baseline, within severity strata when they were available
(the best layer's partial Spearman correlation). Either is "yes" only when its bootstrap interval lies
above 0 and the family-wise permutation p-value (best layer against the shuffled-label maximum over
all layers) is below 0.05; it is "undefined" when no layer gave a value, or when there were too few
shuffles for any p-value to fall below 0.05 (fewer than 20).
"""

from __future__ import annotations

from typing import Any

from eh_bench.probes.decode import TargetDecode, decodable
from eh_bench.probes.stats import ALPHA

#: Fewer shuffles cannot give a family-wise p-value below ALPHA: the verdict is then undefined.
MIN_SHUFFLES = round(1 / ALPHA)

#: Which statistic decides each target's verdict.
HEADLINE = {"severity": "spearman", "cost": "beyond_text"}
STAT_LABELS = {
    "spearman": "Spearman",
    "beyond_text": "partial Spearman beyond text",
    "within_strata": "Spearman within severity",
}


TEXT_LABELS = {"bag_of_words": "words", "bag_of_embeddings": "embeddings"}


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _verdict(flag: bool | None) -> str:
    return "undefined" if flag is None else "yes" if flag else "no"


def target_summary(decode: TargetDecode | None, statistic: str) -> dict[str, Any]:
    """The verdict of one target on ``statistic``: decodable, best layer, value, interval, p-values."""
    if decode is None:
        return {"decodable": None, "note": "not scored", "statistic": statistic, "layer": None, "value": None, "ci_low": None,
                "ci_high": None, "p_family": None, "text_baselines": {}, "n": 0}
    found = decode.best(statistic)
    text = {name: stats["spearman"].estimate.as_dict()["value"] for name, stats in decode.text.items()}
    enough = decode.n_perm >= MIN_SHUFFLES
    out: dict[str, Any] = {
        "decodable": decodable(found) if enough else None,
        "note": None if enough else f"a verdict needs at least {MIN_SHUFFLES} shuffles (--n-perm); got {decode.n_perm}",
        "statistic": statistic + ("_within_" + decode.strata if statistic == "beyond_text" and decode.strata else ""),
        "layer": None, "value": None, "ci_low": None, "ci_high": None, "p_family": None,
        "text_baselines": text,
        "n": decode.n,
    }
    if found is not None:
        layer, stat, p_family = found
        out.update(layer=layer, **stat.estimate.as_dict(), p_family=None if p_family is None else round(p_family, 4))
    return out


def summary_line(model: str, severity: dict[str, Any], cost: dict[str, Any]) -> str:
    """``MODEL: severity decodable: yes (layer L, Spearman v [lo, hi]; text v); cost ...: no (...)``."""

    def detail(part: dict[str, Any], label: str) -> str:
        if part["value"] is None:
            return "no layer gave a value"
        texts = ", ".join(f"{TEXT_LABELS.get(k, k)} {_num(v)}" for k, v in part["text_baselines"].items())
        return (f"layer {part['layer']}, {label} {_num(part['value'])} [{_num(part['ci_low'])}, "
                f"{_num(part['ci_high'])}], family-wise p {_num(part['p_family'], 3)}; "
                f"text baselines Spearman: {texts or 'none'}")

    cost_label = STAT_LABELS["beyond_text"] + (" within severity" if "within" in cost["statistic"] else "")
    return (f"{model}: severity decodable: {_verdict(severity['decodable'])} "
            f"({detail(severity, STAT_LABELS['spearman'])}); "
            f"cost decodable beyond text: {_verdict(cost['decodable'])} ({detail(cost, cost_label)})")


def decodability_summary(model: str, severity: TargetDecode | None, cost: TargetDecode | None) -> dict[str, Any]:
    """``{"severity", "cost", "line"}`` for the report (see the module docstring for the rules)."""
    sev = target_summary(severity, HEADLINE["severity"])
    cst = target_summary(cost, HEADLINE["cost"])
    return {"severity": sev, "cost": cst, "line": summary_line(model, sev, cst)}
