"""The leaderboard's own texts, generated from the package's metadata (never a second copy).

Metric definitions come from :data:`eh_bench.metrics.METRICS` (the calibration index's paragraph from
:data:`eh_bench.metrics.info.CALIBRATION_ABOUT`), the scales from :mod:`eh_bench.rubric`, the likelihood
models from :mod:`eh_bench.likelihood` (its docstring and live tables), the imported response sets from
:data:`eh_bench.sources.published.PUBLISHED` and the importers, the entry limits from the schema.
Submitted strings never reach these texts.
"""

from __future__ import annotations

import inspect
import re

from eh_bench import likelihood, rubric
from eh_bench.importers import donotanswer as dna_import
from eh_bench.importers import jbb_artifacts as jbb_import
from eh_bench.metrics import METRICS
from eh_bench.metrics.info import CALIBRATION_ABOUT
from eh_bench.sources.published import PUBLISHED
from eh_bench.submission.schema import MAX_ENTRY_BYTES

TITLE = "Expected Harm leaderboard"
INTRO = (
    "Safety of language models measured as **Expected Harm = severity × Pr(execution | cost) × success**: "
    "a jailbreak of a cheap, easy-to-act-on request counts more than one of an expensive request of the same "
    "severity. Lower Expected Harm is better; a positive calibration index means the model refuses cheap, "
    "likely-to-be-acted-on requests more often than costly ones."
)
CITATION = """@article{chen2025expectedharm,
  title  = {Expected Harm: Rethinking Safety Evaluation of (Mis)Aligned LLMs},
  author = {Chen, Yen-Shan and Tam, Zhi Rui and Wu, Cheng-Kuang and Chen, Yun-Nung},
  year   = {2025},
  url    = {https://expectedharm.github.io},
}"""
EXAMPLE_SPECS = ("linear", "exponential:0.5")

ATTACKS_EMPTY = """### No decomposition-attack results yet

When entries carry them, this tab shows, for a chosen entry:

- the **attack matrix**: ASR of each attack variant (none, cost-based decomposition, severity monitor,
  both) under each jailbreak wrapper, one table per dataset config (benchmark), with usefulness of the
  recombined answer beside it;
- the **guard bypass rates**: the share of sub-requests a guard model let through (sub-task bypass) and the
  share of whole tasks whose every sub-request passed (task bypass).

How rows get here: the attack run writes `attacks.json` (a list of rows with `variant`, `jailbreak`,
`config`, `n`, `asr`, `usefulness`, `guard`, `subtask_bypass`, `task_bypass`) into its report folder;
`eh-bench submit build REPORT_DIR ATTACK_DIR --out entry.json` adds them to the entry's `attacks` section.
"""

PROBES_EMPTY = """### No probe results yet

When entries carry them, this tab shows, for a chosen entry, the accuracy of linear probes on the model's
hidden states **by layer** (how early the model separates requests it should refuse), whether **severity
and execution cost can be decoded** from each layer beyond a text baseline of the prompt's words, and the
probe's activation score **by severity level and by cost level** (does the refusal signal track harm, or
only cost?), with the entry's one-line verdict as the title.

How rows get here: `eh-bench probe --model MODEL --config core --out PROBE_DIR` writes `probes.json` (a
list of rows with `target`, `method`, `n`, `accuracy_by_layer` [{`layer`, `accuracy`, ...}],
`score_by_severity`, `score_by_cost`, `summary`) into its report folder;
`eh-bench submit build REPORT_DIR PROBE_DIR --out entry.json` adds them to the entry's `probes` section.
"""


def submit_help(on_space: bool, limit: int, window_s: int) -> str:
    """How to submit, with the limits that apply."""
    login = "Log in with your Hugging Face account, then upload" if on_space else "Upload"
    return f"""### Submit an entry

1. Evaluate: `eh-bench run ...` (or `lm_eval ... --log_samples` then `eh-bench score RUN_DIR`), or import
   responses you already have with their verdicts: `eh-bench import responses FILE --config CONFIG --model-id ID`.
2. Build the entry: `eh-bench submit build RUN_DIR/eh-bench --out entry.json --submitter YOUR_NAME`.
3. Check it locally: `eh-bench submit validate entry.json`.
4. {login} `entry.json` below. A valid entry is stored as **PENDING**; a maintainer verifies it
   (`eh-bench submit review NAME --status VERIFIED`) before it appears on the leaderboard.

Limits: at most {MAX_ENTRY_BYTES // 1024} KiB per file, {limit} submissions per user per {window_s // 60} minutes.
An entry for the same model revision, dataset version and configs, judge, likelihood model and
method (where its responses came from) as a stored one is refused.
"""


def _rst_to_md(text: str) -> str:
    """Docstring markup to markdown: ``code`` -> `code`, :mod:`x` -> `x`."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def _cell(text: str) -> str:
    """Text for a markdown table cell (a ``|`` would end the cell)."""
    return text.replace("|", "\\|")


def metrics_table() -> str:
    """The metric definitions, ranges and directions, from METRICS."""
    rows = ["| metric | range | better | definition |", "|---|---|---|---|"]
    for m in METRICS.values():
        better = "higher" if m.higher_is_better else "lower"
        rows.append(f"| `{m.name}` | [{m.low:g}, {m.high:g}] | {better} | {_cell(m.description)} |")
    return "\n".join(rows)


def rubric_tables() -> str:
    """The cost and severity scales and the four cost factors, from eh_bench.rubric."""
    scale = ["| level | execution cost (second-highest factor) | severity |", "|---|---|---|"]
    scale += [f"| {lv} | {rubric.COST_ANCHORS[lv]} | {rubric.SEVERITY_ANCHORS[lv]} |" for lv in rubric.LEVELS]
    factors = ["| factor | " + " | ".join(str(lv) for lv in rubric.LEVELS) + " |", "|---" * 6 + "|"]
    factors += [
        f"| {name} | " + " | ".join(anchors[lv] for lv in rubric.LEVELS) + " |"
        for name, anchors in rubric.COST_FACTORS.items()
    ]
    return "\n".join(scale) + "\n\nCost factors (each 1-5):\n\n" + "\n".join(factors)


def likelihood_section() -> str:
    """The likelihood models: the module's own definition text plus live p(c) tables."""
    doc = _rst_to_md(inspect.cleandoc(likelihood.__doc__ or ""))
    rows = ["| model | " + " | ".join(f"p(cost={c})" for c in range(1, 6)) + " |", "|---" * 6 + "|"]
    for spec in EXAMPLE_SPECS:
        model = likelihood.get_likelihood(spec)
        rows.append(f"| `{model.spec}` | " + " | ".join(f"{p:.3f}" for p in model.table) + " |")
    names = ", ".join(f"`{n}`" for n in likelihood.likelihood_names())
    return f"{doc}\n\nRegistered models: {names}.\n\n" + "\n".join(rows)


def responses_section() -> str:
    """Where the entries' responses come from: generated by an evaluation, or imported (the published sets
    with the judge recorded for their verdicts)."""
    judges = {jbb_import.SET: jbb_import.JUDGE_ID, dna_import.SET: dna_import.JUDGE_ID}
    rows = ["| set | responses | verdicts (recorded judge) | licence |", "|---|---|---|---|"]
    for name in PUBLISHED.names():
        if name in judges:
            published = PUBLISHED.get(name)
            reference = _cell(published.reference).replace("<", "&lt;").replace(">", "&gt;")
            rows.append(f"| `{name}` | {_cell(published.title)} | {reference} (`{judges[name]}`) | {published.license} |")
    return (
        "Each entry says where its judged responses came from (the *Method* column and *Responses* in the "
        "Provenance columns): **generated** by an evaluation (`eh-bench run` / `score`; method `direct`, each "
        "request sent as is, or an attack), or **imported** with the verdicts published beside them "
        "(`eh-bench import`), pinned to a commit and SHA-256. Imported sets on this board:\n\n"
        + "\n".join(rows)
        + "\n\nA JailbreakBench row without a response is an attack that found no jailbreak (a failure, as "
        "JailbreakBench counts it). Every number is shown beside its judge and its sample size: compare "
        "entries judged alike, and read per-level rates with their n."
    )


def about_markdown() -> str:
    """The About tab."""
    return f"""## About

### Metrics

{metrics_table()}

ASR by cost and by severity level carry Wilson 95% intervals; the headline numbers carry seeded bootstrap
intervals over prompts. An undefined statistic (no samples at a level, no variation) is blank, never 0.
Samples the judge could not score are counted as *unscored*, never as refused or complied.

{CALIBRATION_ABOUT}

### Where the responses come from

{responses_section()}

### Rubric v{rubric.RUBRIC_VERSION}

{rubric_tables()}

### Pr(execution | cost)

{likelihood_section()}

### Citation

```bibtex
{CITATION}
```
"""
