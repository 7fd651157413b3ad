"""Decodability: can a level (severity, cost) be read linearly from a layer, beyond the prompt's words?

The paper's claim, that a model represents severity but not execution cost, is tested directly. For
each layer, a ridge regression on the standardised hidden states predicts the level (1-5, treated as
ordinal: the score is the Spearman correlation of predicted and true level; accuracy rounds the
prediction to the nearest level). Predictions are out of fold (folds grouped by request and
stratified on the level). Two baselines run through the same folds and learner:

* **shuffled labels**: the whole pipeline re-run on ``n_perm`` permutations of the levels (of whole
  requests, within their test fold so that every fold keeps its level mix, and within strata when
  there are strata), giving per-layer null values, a permutation
  p-value, and a family-wise p-value for the best layer (the permutations' maximum over layers);
* **text**: a bag-of-words model of the prompt (:mod:`eh_bench.probes.text`) and, when given, a
  bag-of-embeddings model (the mean of the model's own input embeddings over the prompt's tokens: its
  lexical content with no context mixing, a stronger text baseline than 50 training prompts of words).

The hidden states are credited only with what they add over the text baselines: ``beyond_text`` is the
partial Spearman correlation of their prediction with the level, controlling for every text model's
prediction jointly. With ``strata`` (severity, when decoding cost), ranks are taken within each stratum, so
cost is only credited where it is ordered correctly among requests of equal severity. Intervals are
seeded bootstrap percentiles over items, with the predictions held fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from eh_bench.errors import InputError
from eh_bench.probes import cv, learners
from eh_bench.probes.cv import shuffled_targets
from eh_bench.probes.probe import LayerSource
from eh_bench.probes.stats import (
    ALPHA,
    DEFAULT_N_BOOT,
    Estimate,
    association,
    estimate,
    family_p,
    finite_or_none,
    mean_rows,
    permutation_p,
    resample_indices,
)
from eh_bench.probes.text import bow_featurizer

FloatArray = npt.NDArray[np.float64]
DEFAULT_N_PERM: Final = 100
STATISTICS: Final = ("spearman", "accuracy", "within_strata", "beyond_text")
MIN_LEVEL, MAX_LEVEL = 1, 5


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True)
class Statistic:
    """One statistic at one layer: the estimate, its shuffled-label null and permutation p-value."""

    estimate: Estimate
    null: FloatArray = field(repr=False)

    @property
    def p_value(self) -> float | None:
        """Permutation p-value: the share of shuffled runs at least as large (with the +1 correction)."""
        return permutation_p(self.estimate.value, self.null)

    def as_dict(self) -> dict[str, Any]:
        finite = self.null[np.isfinite(self.null)]
        return {**self.estimate.as_dict(),
                "shuffled_mean": _r(finite_or_none(finite.mean())) if finite.size else None,
                "shuffled_p95": _r(finite_or_none(np.quantile(finite, 0.95))) if finite.size else None,
                "p_value": _r(self.p_value)}


@dataclass(frozen=True)
class TargetDecode:
    """Decodability of one target (``severity`` or ``cost``): text baseline and every layer."""

    target: str
    strata: str | None
    n: int
    folds: int
    n_perm: int
    text: dict[str, dict[str, Statistic]]
    layers: list[dict[str, Statistic]]

    def best(self, name: str) -> tuple[int, Statistic, float | None] | None:
        """(layer, statistic, family-wise p) of the layer with the largest ``name``; None if undefined."""
        values = [(s[name].estimate.value, i) for i, s in enumerate(self.layers) if s[name].estimate.value is not None]
        if not values:
            return None
        value, layer = max(values)
        return layer, self.layers[layer][name], family_p(value, [s[name].null for s in self.layers])

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "strata": self.strata, "n": self.n, "folds": self.folds,
                "n_perm": self.n_perm,
                "text_baselines": {name: {k: v.as_dict() for k, v in stats.items()} for name, stats in self.text.items()},
                "layers": [{"layer": i, **{k: v.as_dict() for k, v in s.items()}} for i, s in enumerate(self.layers)]}


def _rounded(pred: FloatArray) -> FloatArray:
    return np.asarray(np.clip(np.rint(pred), MIN_LEVEL, MAX_LEVEL), dtype=np.float64)


def _statistics(pred: FloatArray, targets: FloatArray, text_preds: list[FloatArray], strata: FloatArray | None,
                boot: npt.NDArray[np.intp]) -> dict[str, Statistic]:
    """Every statistic of ``pred`` (``(n, 1 + n_perm)``; column 0 observed, the rest shuffled)."""
    p, t = pred.T, targets.T  # rows: observed then each permutation
    hits = (_rounded(p) == t).astype(np.float64)
    values: dict[str, tuple[FloatArray, FloatArray]] = {
        "spearman": (association(p, t), association(p[0][boot], t[0][boot])),
        "accuracy": (mean_rows(hits), mean_rows(hits[0][boot])),
    }
    if strata is not None:
        values["within_strata"] = (association(p, t, strata=strata),
                                   association(p[0][boot], t[0][boot], strata=strata[boot]))
    if text_preds:
        controls = [c.T for c in text_preds]
        values["beyond_text"] = (
            association(p, t, strata=strata, control=controls),
            association(p[0][boot], t[0][boot], strata=None if strata is None else strata[boot],
                        control=[c[0][boot] for c in controls]),
        )
    return {name: Statistic(estimate(obs[0], rep if boot.size else None), obs[1:]) for name, (obs, rep) in values.items()}


def decode_target(
    source: LayerSource,
    levels: npt.ArrayLike,
    groups: Sequence[str],
    texts: Sequence[str],
    *,
    target: str,
    strata: npt.ArrayLike | None = None,
    strata_name: str | None = None,
    lexical: FloatArray | None = None,
    k: int = cv.DEFAULT_FOLDS,
    n_perm: int = DEFAULT_N_PERM,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
) -> TargetDecode:
    """Decodability of ``levels`` from every layer of ``source``, against both baselines (module docstring).

    Args:
        source: hidden states by layer, rows in the order of ``levels``.
        levels: the level (1-5) of each item.
        groups: request id per item; texts: the prompt per item (the text baseline).
        target: the name reported (``severity`` / ``cost``).
        strata: a second level per item to decode within (severity, when decoding cost).
        lexical: ``(n, dim)`` bag-of-embeddings features per item (a second text baseline), or None.
        k, n_perm, n_boot, seed: folds, label permutations, bootstrap resamples, seed.
    """
    y = np.asarray(levels, dtype=np.float64)
    s = None if strata is None else np.asarray(strata, dtype=np.float64)
    if not np.isfinite(y).all() or (s is not None and not np.isfinite(s).all()):
        raise InputError(f"decoding {target}: every item needs a level (and a stratum); drop unlabelled items first")
    with learners.few_blas_threads():
        return _decode(source, y, groups, texts, target, s, strata_name, lexical, k, n_perm, n_boot, seed)


def _decode(source: LayerSource, y: FloatArray, groups: Sequence[str], texts: Sequence[str], target: str,
            s: FloatArray | None, strata_name: str | None, lexical: FloatArray | None, k: int, n_perm: int,
            n_boot: int, seed: int) -> TargetDecode:
    folds = cv.grouped_folds(y, groups, k, seed)
    targets = shuffled_targets(y, groups, cv.fold_blocks(folds, y.size, s), n_perm, seed + 2)
    boot = resample_indices(y.size, n_boot, seed + 3) if n_boot else np.empty((0, y.size), dtype=np.intp)
    featurizers = {"bag_of_words": bow_featurizer(texts)}
    if lexical is not None:
        featurizers["bag_of_embeddings"] = cv.slicer(np.asarray(lexical, dtype=np.float64))
    text_preds = {name: learners.ridge_oof(f, targets, folds) for name, f in featurizers.items()}
    text = {name: _statistics(pred, targets, [], s, boot) for name, pred in text_preds.items()}
    controls = list(text_preds.values())
    layers = [_statistics(learners.ridge_oof(cv.slicer(source.layer(i)), targets, folds), targets, controls, s, boot)
              for i in range(source.n_layers)]
    return TargetDecode(target, strata_name if s is not None else None, int(y.size), len(folds), n_perm, text, layers)


def decodable(found: tuple[int, Statistic, float | None] | None, alpha: float = ALPHA) -> bool | None:
    """Whether a best-layer statistic is credible: interval above 0 and family-wise p below ``alpha``.

    None when the statistic is undefined at every layer (nothing to decide on).
    """
    if found is None:
        return None
    _, stat, p_family = found
    low = stat.estimate.ci_low
    return bool(low is not None and low > 0 and p_family is not None and p_family < alpha)
