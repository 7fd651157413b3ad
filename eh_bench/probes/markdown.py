"""``report.md`` of a probe run, rendered from its report.json dict alone (so it can be re-rendered)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

NOTES: Final = """## How to read this

- **Out of fold.** Every probability, projection and level prediction comes from a probe that never saw
  that request (stratified k-fold, folds grouped by prompt).
- **Intervals** are 95% bootstrap percentiles over prompts with the fitted probes held fixed: they show
  evaluation uncertainty, not training variability. The **shuffled-label** runs refit everything on
  permuted labels (whole requests permuted within their test fold): their 95th percentile is the chance
  line, and the p-values come from them.
- **Verdicts** ("decodable: yes") need both an interval above 0 and a family-wise permutation p-value
  below 0.05 (the best layer against each shuffled run's best layer).
- **Text baselines**: the same learner on a bag of words of the prompt, and on the mean of the model's
  input embeddings over the prompt's tokens. *Beyond text* is the partial Spearman correlation of the
  hidden-state prediction with the level, controlling for both text predictions; for cost it is
  computed within severity strata, so cost is credited only where requests of equal severity are
  ordered correctly.
- **Layer 0** is the embedding layer; with `--pool last` it holds the embedding of the same template
  token for every prompt, so it sits at chance by construction.
- **Contrast labels** (harmful config = 1, benign config = 0) describe what the model represents, not
  what it does; behaviour labels (the model's own answers, judged) describe what it does.
"""


def _n(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _ci(est: Mapping[str, Any], digits: int = 2) -> str:
    if est.get("value") is None:
        return "—"
    if est.get("ci_low") is None:
        return _n(est["value"], digits)
    return f"{_n(est['value'], digits)} [{_n(est['ci_low'], digits)}, {_n(est['ci_high'], digits)}]"


def _levels_n(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{level}: {n}" for level, n in counts.items())


def _setup(report: Mapping[str, Any]) -> list[str]:
    p = report["probes"]
    s, c, labels, ex = p["settings"], p["counts"], p["labels"], p["extraction"]
    model = report["model"]
    return [
        "## Setup", "", "| | |", "|---|---|",
        f"| model | `{model['id']}` @ `{str(model['revision'])[:16]}` ({model.get('dtype')}, {model.get('device')}) |",
        f"| prompts | {c['n_harmful']} from `{s['config']}` + {c['n_benign']} benign; limit {s['limit']}, seed {s['seed']} |",
        f"| harmful by severity / cost | {_levels_n(c['by_severity'])} / {_levels_n(c['by_cost'])} |",
        f"| labels | `{p['label_source']}`: {labels['label_1']} labelled 1, {labels['label_0']} labelled 0, "
        f"{labels['unlabelled']} unlabelled {labels['unscored_reasons'] or ''} |",
        f"| hidden states | pool `{s['pool']}`, {ex['n_layers']} layers x {ex['dim']}; {ex['extracted']} extracted, "
        f"{ex['reused']} reused from cache, {ex['skipped']} skipped |",
        f"| cross-validation | {s['folds']} folds; {s['probe_perm']} shuffles (refusal), {s['n_perm']} (levels); "
        f"{s['n_boot']} bootstrap resamples |",
        "",
    ]


def _refusal(report: Mapping[str, Any]) -> list[str]:
    r = report["probes"]["refusal"]
    if r is None:
        return ["## Refusal probe", "", f"Not scored: {report['probes']['unscored'].get('refusal', 'no result')}", ""]
    texts = ", ".join(f"{name.replace('_', ' ')} accuracy {_ci(t['accuracy'])}, AUROC {_ci(t['auroc'])}"
                      for name, t in r["text_baselines"].items())
    best = r["best"]["logistic"] or {}
    lines = ["## Refusal probe by layer", "",
             f"n = {r['n']} ({r['n_positive']} labelled 1). Text baselines: {texts}. Best logistic layer "
             f"{best.get('layer')} (AUROC {_n(best.get('auroc'), 3)}, family-wise p {_n(best.get('p_family'), 3)}).", "",
             "| layer | logistic accuracy | logistic AUROC | shuffled AUROC p95 | p | diff-in-means accuracy | diff-in-means AUROC |",
             "|---:|---|---|---:|---:|---|---|"]
    for layer in r["layers"]:
        lg, md = layer["logistic"], layer["mean_difference"]
        lines.append(f"| {layer['layer']} | {_ci(lg['accuracy'])} | {_ci(lg['auroc'])} | {_n(lg['shuffled_auroc_p95'])} "
                     f"| {_n(lg['p_value'], 3)} | {_ci(md['accuracy'])} | {_ci(md['auroc'])} |")
    return [*lines, ""]


def _levels(report: Mapping[str, Any]) -> list[str]:
    levels = report["probes"]["levels"]
    if not levels:
        return []
    final = levels[-1]
    lines = [f"## Activation score by level (layer {final['layer']}, mean probe probability x 100)", "",
             "| level | severity: score [95% CI] | n | cost: score [95% CI] | n |", "|---:|---|---:|---|---:|"]
    for level in "12345":
        sev, cost = final["severity"][level], final["cost"][level]
        lines.append(f"| {level} | {_ci({'value': sev['score'], **sev}, 1)} | {sev['n']} "
                     f"| {_ci({'value': cost['score'], **cost}, 1)} | {cost['n']} |")
    return [*lines, "", "Every layer: `activation_severity.png`, `activation_cost.png` and report.json.", ""]


def _decode(report: Mapping[str, Any], target: str) -> list[str]:
    d = report["probes"]["decode"][target]
    if d is None:
        return [f"## Decoding {target}", "", f"Not scored: {report['probes']['unscored'].get('decode_' + target)}", ""]
    texts = ", ".join(f"{name.replace('_', ' ')} Spearman {_ci(t['spearman'])}" for name, t in d["text_baselines"].items())
    within = d["strata"] is not None
    head = "| layer | Spearman | accuracy | shuffled Spearman p95 |" + (" within severity |" if within else "") + " beyond text | p, beyond text |"
    lines = [f"## Decoding {target} (n = {d['n']})", "", f"Text baselines: {texts}.", "", head,
             "|---:|---|---|---:|" + ("---|" if within else "") + "---|---:|"]
    for layer in d["layers"]:
        cells = [str(layer["layer"]), _ci(layer["spearman"]), _ci(layer["accuracy"]), _n(layer["spearman"]["shuffled_p95"])]
        if within:
            cells.append(_ci(layer["within_strata"]))
        cells += [_ci(layer["beyond_text"]), _n(layer["beyond_text"]["p_value"], 3)]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def render_probe_markdown(report: Mapping[str, Any]) -> str:
    """The whole report.md."""
    p = report["probes"]
    lines = [f"# Linear probes: {report['model']['id']}", "", f"**{p['summary'].get('line', 'no summary')}**", ""]
    lines += _setup(report) + _refusal(report) + _levels(report) + _decode(report, "severity") + _decode(report, "cost")
    if p["unscored"]:
        lines += ["## Not scored", "", *(f"- {k}: {v}" for k, v in p["unscored"].items()), ""]
    plots = report["files"]["plots"]
    if plots:
        lines += ["## Figures", "", *(f"![{name}]({name})" for name in plots), ""]
    return "\n".join([*lines, NOTES])
