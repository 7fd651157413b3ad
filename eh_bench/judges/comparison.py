"""Comparing feature sets for the trained judge on the same folds, against the refusal judge.

For each hashed feature set (:data:`~eh_bench.judges.training.FEATURE_SETS`), on every labelled pair:
out-of-fold predictions from grouped cross-validation (no request in both train and test) and from
leave-one-source-out (train on two sets, test on the third). The refusal judge's verdicts on the
same rows are the baseline. On a stratified subsample (hidden states cost a forward pass of the
embedded model per pair), the hashed sets, the refusal judge and SmolLM2 hidden states are compared
again on one set of folds. The number that picks the shipped feature set is the mean over the held-out
sets of the leave-one-source-out kappa: how the judge does on responses unlike any it was trained on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

import numpy as np

from eh_bench.errors import InputError
from eh_bench.judges.agreement import agreement, binary_stats, breakdown
from eh_bench.judges.corpus import Corpus, grouped_folds, leave_one_source_out, stratified_sample
from eh_bench.judges.refusal import default_refusal_judge
from eh_bench.judges.training import FEATURE_SETS, Recipe, out_of_fold, to_csr

REFUSAL: Final = "refusal (baseline)"
HIDDEN: Final = "smollm2-hidden"
#: Pairs timed to measure the cost per response of a feature set.
TIMING_PAIRS: Final = 500
#: Regularisation of the logistic regression on standardised hidden states (1,152 dense columns).
HIDDEN_C: Final = 0.05
Log = Callable[[str], None]


def _refusal(corpus: Corpus) -> np.ndarray:
    """The refusal judge's 0/1 verdicts (corpus rows have non-blank responses, so none is unscored)."""
    values = default_refusal_judge().success_values(corpus.responses)
    if any(v is None for v in values):
        raise InputError("the refusal judge left a corpus row unscored; corpus rows must have a response")
    return np.array([1 if v else 0 for v in values], dtype=np.int8)


def _loso_block(corpus: Corpus, predicted: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    held: dict[str, Any] = {}
    for source, _, test in leave_one_source_out(corpus):
        held[source] = agreement(
            corpus.labels[test], predicted[test], corpus.groups[test], n_boot=n_boot, seed=seed
        )
    kappas = [h["kappa"] for h in held.values()]
    mean = float(np.mean(kappas)) if kappas and None not in kappas else None
    return {"held_out": held, "mean_kappa": mean, "pooled": binary_stats(corpus.labels, predicted)}


def evaluate(
    corpus: Corpus, cv: np.ndarray, loso: np.ndarray, *, n_boot: int, seed: int, cost_us: float | None
) -> dict[str, Any]:
    """Agreement of out-of-fold 0/1 predictions: CV per source and model, LOSO per held-out set."""
    by = {
        "source": corpus.sources,
        "model": np.array([f"{s}/{m}" for s, m in zip(corpus.sources, corpus.models, strict=True)]),
    }
    return {
        "n": len(corpus),
        "cost_us_per_response": cost_us,
        "cv": breakdown(corpus.labels, cv, corpus.groups, by, n_boot=n_boot, seed=seed),
        "loso": _loso_block(corpus, loso, n_boot, seed),
    }


def _binary(probs: np.ndarray) -> np.ndarray:
    return (probs >= 0.5).astype(np.int8)


def _hashed(corpus: Corpus, recipe: Recipe, n_boot: int, log: Log) -> dict[str, Any]:
    features = recipe.features
    start = time.perf_counter()
    rows = features.transform(corpus.prompts, corpus.responses)
    cost = (time.perf_counter() - start) / max(1, len(corpus)) * 1e6
    x = to_csr(rows)
    log(
        f"{recipe.feature_set}: {rows.indices.size} feature entries, {cost:.0f} us per response; fitting folds"
    )
    cv = out_of_fold(x, corpus, grouped_folds(corpus, recipe.folds, recipe.seed), recipe)
    loso = out_of_fold(x, corpus, ((tr, te) for _, tr, te in leave_one_source_out(corpus)), recipe)
    return evaluate(corpus, _binary(cv), _binary(loso), n_boot=n_boot, seed=recipe.seed, cost_us=cost)


def _refusal_cost(corpus: Corpus) -> float:
    texts = corpus.responses[:TIMING_PAIRS]
    start = time.perf_counter()
    default_refusal_judge().judge_texts(texts)
    return (time.perf_counter() - start) / max(1, len(texts)) * 1e6


def compare(
    corpus: Corpus,
    recipe: Recipe,
    *,
    hidden_per_source: int = 0,
    hidden_cache: Path | None = None,
    n_boot: int = 1000,
    log: Log = lambda _: None,
) -> dict[str, Any]:
    """Every feature set and the refusal baseline on the same folds (see the module doc).

    Returns:
        ``{"full": {name: evaluation}, "subsample": {...} or None, "best": name}``; ``best`` is the
        hashed feature set with the highest mean leave-one-source-out kappa on all rows.
    """
    full: dict[str, Any] = {}
    for name in FEATURE_SETS:
        full[name] = _hashed(corpus, replace(recipe, feature_set=name), n_boot, log)
    ref = _refusal(corpus)
    full[REFUSAL] = evaluate(corpus, ref, ref, n_boot=n_boot, seed=recipe.seed, cost_us=_refusal_cost(corpus))
    best = max(FEATURE_SETS, key=lambda n: full[n]["loso"]["mean_kappa"] or -1.0)
    sub = (
        _subsample(corpus, recipe, hidden_per_source, hidden_cache, n_boot, log)
        if hidden_per_source
        else None
    )
    return {"full": full, "subsample": sub, "best": best}


def _subsample(
    corpus: Corpus, recipe: Recipe, per_source: int, cache: Path | None, n_boot: int, log: Log
) -> dict[str, Any]:
    from eh_bench.judges.hidden import HiddenFeatures, cached_transform

    index = stratified_sample(corpus, per_source, recipe.seed)
    sub = corpus.subset(index)
    log(f"subsample: {len(sub)} pairs ({per_source} per set, label shares kept)")
    out: dict[str, Any] = {"per_source": per_source, "index_seed": recipe.seed}
    cv_splits = grouped_folds(sub, recipe.folds, recipe.seed)
    loso_splits = [(tr, te) for _, tr, te in leave_one_source_out(sub)]
    for name in FEATURE_SETS:
        out[name] = _hashed(sub, replace(recipe, feature_set=name), n_boot, log)
    ref = _refusal(sub)
    out[REFUSAL] = evaluate(sub, ref, ref, n_boot=n_boot, seed=recipe.seed, cost_us=None)
    features = HiddenFeatures()
    pairs = list(zip(sub.prompts, sub.responses, strict=True))
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        log(f"{HIDDEN}: {done[0]} pairs computed")

    if cache is None:
        from eh_bench.backends.embedded import cache_root

        cache = cache_root() / "judge-hidden-features.npz"
    x = cached_transform(features, pairs, cache, progress)
    start = time.perf_counter()
    features.transform(pairs[:8])
    cost = (time.perf_counter() - start) / 8 * 1e6
    dense = replace(recipe, c=HIDDEN_C)
    cv = out_of_fold(x, sub, cv_splits, dense, standardise=True)
    loso = out_of_fold(x, sub, loso_splits, dense, standardise=True)
    out[HIDDEN] = evaluate(sub, _binary(cv), _binary(loso), n_boot=n_boot, seed=recipe.seed, cost_us=cost)
    return out
