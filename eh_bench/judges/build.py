"""``eh-bench judge train``: compare feature sets, fit the best on every row, write weights and card.

Output folder::

    eh-harm.npz         the weights (numbers only; its sha256 over the arrays is the revision)
    eh-harm.card.json   recipe, data provenance, revision and every agreement number
    eh-harm.card.md     the same for people

Everything is seeded: the same data, recipe and seed give the same folds, weights and revision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np

from eh_bench.atomic import write_all
from eh_bench.backends.embedded import cache_root
from eh_bench.judges.card import render_card
from eh_bench.judges.comparison import Log, compare
from eh_bench.judges.corpus import TRAINING_SETS, Corpus, load_corpus, stratified_sample
from eh_bench.judges.trained import JUDGE_ID
from eh_bench.judges.training import Recipe, fit_model

WEIGHTS_NAME: Final = f"{JUDGE_ID}.npz"
CARD_JSON: Final = f"{JUDGE_ID}.card.json"
CARD_MD: Final = f"{JUDGE_ID}.card.md"
CARD_VERSION: Final = 1
HIDDEN_CACHE_NAME: Final = "judge-hidden-features.npz"


@dataclass(frozen=True)
class BuildResult:
    """Where the artifact went, its revision and the card."""

    weights: Path
    card_json: Path
    card_md: Path
    revision: str
    card: dict[str, Any]


def _data_entry(provenance: dict[str, Any], data: Corpus) -> dict[str, Any]:
    """A set's provenance with the rows actually used and their harmful share."""
    mask = data.sources == provenance["set"]
    share = float(data.labels[mask].mean()) if mask.any() else None
    return {**provenance, "rows": int(mask.sum()), "harmful_share": share}


def build_judge(
    out: Path,
    *,
    recipe: Recipe | None = None,
    sets: tuple[str, ...] = TRAINING_SETS,
    per_source: int | None = None,
    hidden_per_source: int = 0,
    hidden_cache: Path | None = None,
    n_boot: int = 1000,
    corpus: tuple[Corpus, list[dict[str, Any]]] | None = None,
    log: Log = lambda _: None,
    **fetch: Any,
) -> BuildResult:
    """Train, compare and write the ``eh-harm`` artifact into ``out``.

    Args:
        out: output folder (created).
        recipe: the base recipe; its feature set is replaced by the comparison's best.
        sets: published sets to train on.
        per_source: train on a stratified sample of this many pairs per set (quick runs, tests).
        hidden_per_source: also compare SmolLM2 hidden states on this many pairs per set (0: skip).
        hidden_cache: ``.npz`` cache of hidden-state vectors (default :data:`HIDDEN_CACHE_NAME` in the
            eh-bench cache folder, never beside the weights, which ship with the package).
        n_boot: bootstrap replicates of every CI.
        corpus: pre-loaded ``(corpus, provenance)`` instead of loading ``sets``.
        log: progress messages.
        **fetch: passed to :func:`~eh_bench.sources.published.load_published`.
    """
    recipe = recipe or Recipe()
    data, provenance = corpus if corpus is not None else load_corpus(sets, **fetch)
    if per_source is not None:
        data = data.subset(stratified_sample(data, per_source, recipe.seed))
    log(f"training data: {len(data)} pairs from {', '.join(data.source_names())}")
    comparison = compare(
        data, recipe, hidden_per_source=hidden_per_source,
        hidden_cache=hidden_cache or cache_root() / HIDDEN_CACHE_NAME, n_boot=n_boot, log=log,
    )  # fmt: skip
    chosen = replace(recipe, feature_set=comparison["best"])
    log(f"fitting {JUDGE_ID} on every row with feature set {chosen.feature_set!r}")
    model = fit_model(data, chosen)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / WEIGHTS_NAME
    revision = model.save(weights)
    card = {
        "card_version": CARD_VERSION,
        "judge": {
            "id": JUDGE_ID,
            "revision": revision,
            "threshold": model.threshold,
            "nonzero_weights": int(np.count_nonzero(model.weights)),
        },
        "recipe": chosen.as_dict(),
        "data": [_data_entry(p, data) for p in provenance],
        "sample_per_source": per_source,
        "comparison": comparison,
    }
    card_json, card_md = out / CARD_JSON, out / CARD_MD
    write_all({card_json: json.dumps(card, indent=1) + "\n", card_md: render_card(card)})
    return BuildResult(weights, card_json, card_md, revision, card)
