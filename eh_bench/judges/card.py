"""The trained judge's card: data, split, agreement, cost and limits, as JSON and markdown.

The JSON (``eh-harm.card.json``) is the record (recipe, data provenance, revision, every agreement
number); the markdown (``eh-harm.card.md``) is rendered from it for people. Tables read the
comparison produced by :func:`eh_bench.judges.comparison.compare`.
"""

from __future__ import annotations

from typing import Any, Final

from eh_bench.judges.comparison import HIDDEN, REFUSAL

LIMITS: Final = (
    "Trained on three public sets whose verdicts mean different things: Do-Not-Answer's human "
    "'harmful' label (mostly safe answers to sensitive questions), GPTFuzz's hand label 'the response "
    "complies' and the JailbreakBench judge's 'jailbroken' (an LLM's verdict, not a person's).",
    "A linear model over hashed word n-grams: it keys on wording (refusal phrases, the shape of a "
    "compliant answer), not on meaning; a harmful answer worded like a refusal, or a refusal worded "
    "like compliance, fools it. Read leave-one-source-out kappa as its agreement on responses unlike "
    "its training data.",
    "English only; responses are read up to 4,000 characters.",
    "An empty response or an empty request is unscored (reason empty_response / empty_request).",
)


def _f(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _ci(stats: dict[str, Any], name: str) -> str:
    ci = stats.get("ci", {}).get(name)
    point = _f(stats.get(name))
    return point if not ci else f"{point} [{ci[0]:.2f}, {ci[1]:.2f}]"


def comparison_table(block: dict[str, Any]) -> list[str]:
    """Markdown rows: per feature set, CV kappa, LOSO kappa per held-out set and their mean, cost."""
    names = [n for n in block if isinstance(block[n], dict) and "loso" in block[n]]
    if not names:
        return []
    held = list(block[names[0]]["loso"]["held_out"])
    head = [
        "feature set", "n", "CV kappa", *(f"LOSO kappa: {h}" for h in held), "LOSO mean", "LOSO pooled",
        "us/response",
    ]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in names:
        e = block[name]
        cells = [
            name,
            str(e["n"]),
            _ci(e["cv"]["all"], "kappa"),
            *(_ci(e["loso"]["held_out"][h], "kappa") for h in held),
            _f(e["loso"]["mean_kappa"]),
            _f(e["loso"]["pooled"]["kappa"]),
            _f(e["cost_us_per_response"], 0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def agreement_rows(title: str, block: dict[str, Any]) -> list[str]:
    """Markdown rows of one agreement breakdown (``all``, per source, per model)."""
    head = ["scope", "n", "kappa [95% CI]", "accuracy", "precision", "recall", "reference rate", "judge rate"]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    scopes = [("all", block["all"])]
    for key in ("source", "model"):
        scopes += [(name, stats) for name, stats in block.get(key, {}).items()]
    for name, s in scopes:
        cells = [name, str(s["n"]), _ci(s, "kappa"), _ci(s, "accuracy"), _ci(s, "precision"),
                 _ci(s, "recall"), _f(s["reference_rate"]), _f(s["judge_rate"])]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def beats_refusal(comparison: dict[str, Any], feature_set: str) -> bool:
    """Whether a feature set's mean leave-one-source-out kappa is above the refusal judge's on the same rows
    (the rule for making the trained judge the default)."""
    mine = comparison["full"][feature_set]["loso"]["mean_kappa"]
    base = comparison["full"][REFUSAL]["loso"]["mean_kappa"]
    return mine is not None and base is not None and bool(mine > base)


def verdict_lines(comparison: dict[str, Any], feature_set: str) -> list[str]:
    """Plain sentences: the trained judge against the refusal judge on the same rows."""
    mine, ref = comparison["full"][feature_set], comparison["full"][REFUSAL]
    wins = beats_refusal(comparison, feature_set)
    return [
        f"Against the refusal judge on the same {mine['n']:,} pairs: leave-one-source-out kappa, mean over "
        f"the held-out sets, {_f(mine['loso']['mean_kappa'])} vs {_f(ref['loso']['mean_kappa'])} "
        f"({'higher' if wins else 'not higher'}); pooled over the held-out predictions "
        f"{_f(mine['loso']['pooled']['kappa'])} vs {_f(ref['loso']['pooled']['kappa'])} (accuracy "
        f"{_f(mine['loso']['pooled']['accuracy'])} vs {_f(ref['loso']['pooled']['accuracy'])}); "
        f"cross-validated {_f(mine['cv']['all']['kappa'])} vs {_f(ref['cv']['all']['kappa'])}.",
        "",
        "The rule for the default judge is the mean leave-one-source-out kappa: "
        + ("eh-harm beats the refusal judge on it." if wins else
           "eh-harm does not beat the refusal judge on it, so `refusal` stays the default and eh-harm is "
           "available as `--judge eh-harm`."),
    ]  # fmt: skip


def render_card(card: dict[str, Any]) -> str:
    """The markdown card from the JSON card."""
    comp = card["comparison"]
    chosen = comp["full"][card["recipe"]["feature_set"]]
    ref = comp["full"][REFUSAL]
    lines = [
        f"# {card['judge']['id']}: a CPU harm judge trained on human- and judge-labelled responses",
        "",
        f"- revision (`eh-harm.` + sha256 of the weight arrays): `{card['judge']['revision']}`",
        f"- recipe: feature set `{card['recipe']['feature_set']}` ({', '.join(card['recipe']['namespaces'])}), "
        f"{2 ** card['recipe']['bits']:,} hashed columns per namespace, logistic regression C={card['recipe']['c']}, "
        f"weighting `{card['recipe']['weighting']}`, threshold {card['judge']['threshold']}, seed {card['recipe']['seed']}",
        f"- cost: {_f(chosen['cost_us_per_response'], 0)} us per response on this machine "
        f"(refusal judge: {_f(ref['cost_us_per_response'], 1)} us)",
        f"- weights: {card['judge']['nonzero_weights']:,} non-zero numbers; no text of any training response",
        "",
        "## Data",
        "",
        "| set | rows used | harmful share | reference verdict | fingerprint |",
        "|---|---|---|---|---|",
    ]
    for d in card["data"]:
        lines.append(
            f"| {d['set']} | {d['rows']} | {_f(d['harmful_share'])} | {d['reference']} | `{d['fingerprint'][:16]}` |"
        )
    lines += [
        "",
        "## Split",
        "",
        f"Cross-validation: {card['recipe']['folds']} folds grouped by request (no request in both train and "
        "test; every fold holds a share of every set). Leave-one-source-out: train on two sets, test on the "
        "third. The shipped weights are then fitted on every row.",
        "",
        "## Agreement",
        "",
        "Feature sets compared on the same folds (the shipped one has the highest mean leave-one-source-out "
        "kappa; the refusal judge needs no training, so its two numbers are its agreement on those rows):",
        "",
        *comparison_table(comp["full"]),
        "",
    ]
    sub = comp.get("subsample")
    if sub:
        lines += [
            f"On a stratified subsample of {sub['per_source']} pairs per set (label shares kept), with SmolLM2 "
            f"hidden states (`{HIDDEN}`: request and response, truncated to 40 + 88 tokens, two mean-pooled layers):",
            "",
            *comparison_table(sub),
            "",
        ]
    lines += [*verdict_lines(comp, card["recipe"]["feature_set"]), ""]
    lines += agreement_rows("Cross-validated (grouped by request)", chosen["cv"])
    lines += agreement_rows(f"Refusal judge on the same rows ({REFUSAL})", ref["cv"])
    lines += ["## Limits", "", *(f"- {item}" for item in LIMITS), ""]
    return "\n".join(lines)
