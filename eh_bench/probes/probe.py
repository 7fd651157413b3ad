"""The refusal probe: per layer, a logistic probe and the difference-in-means direction, cross-validated.

For each hidden-state layer, a logistic regression on the standardised states predicts the refusal
label (out of fold, folds grouped by request); its accuracy (threshold 0.5) and AUROC are reported with
seeded bootstrap 95% intervals over items. The difference-in-means direction (mean state of label-1
items minus label-0 items, from the training fold) is the second method: its projection, thresholded at
the midpoint of the two class means, gives a second accuracy and AUROC. Two baselines sit beside them:
both methods re-run on shuffled labels (whole requests permuted within their test fold, so every fold
keeps its class mix), giving the AUROC's chance distribution and a permutation p-value per layer; and
text probes with the same folds (bag of words; with ``lexical`` features, bag of embeddings too).
The bootstrap intervals hold the fitted probes fixed, so they describe evaluation
uncertainty only; the shuffled-label runs, which refit everything, are the test against chance.

The out-of-fold probabilities are kept per layer: :mod:`eh_bench.probes.levels` turns them into the
activation score by severity and cost level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from eh_bench.errors import InputError
from eh_bench.probes import cv, learners
from eh_bench.probes.stats import (
    DEFAULT_N_BOOT,
    Estimate,
    auroc,
    estimate,
    family_p,
    finite_or_none,
    mean_rows,
    permutation_p,
    resample_indices,
)
from eh_bench.probes.text import bow_featurizer

FloatArray = npt.NDArray[np.float64]

#: Each class needs at least this many requests for a probe to be trained.
MIN_PER_CLASS: Final = 4
THRESHOLD: Final = 0.5
#: Shuffled-label re-runs of the refusal probe per layer (each is a full cross-validation).
DEFAULT_PROBE_PERM: Final = 20


class LayerSource(Protocol):
    """Hidden states by layer, rows in item order (the on-disk store and in-memory arrays both fit)."""

    @property
    def n_layers(self) -> int: ...

    def layer(self, index: int) -> FloatArray: ...


@dataclass(frozen=True)
class ArrayLayers:
    """An in-memory :class:`LayerSource`: an ``(n_items, n_layers, dim)`` array."""

    states: FloatArray

    @property
    def n_layers(self) -> int:
        return int(self.states.shape[1])

    def layer(self, index: int) -> FloatArray:
        return np.asarray(self.states[:, index, :], dtype=np.float64)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True)
class BinaryScores:
    """Accuracy and AUROC of one set of out-of-fold predictions, and the shuffled-label AUROCs."""

    accuracy: Estimate
    auroc: Estimate
    n: int
    null_auroc: FloatArray = field(default_factory=lambda: np.empty(0), repr=False)

    @property
    def p_value(self) -> float | None:
        """Permutation p-value of the AUROC against the shuffled-label runs (None without any)."""
        return permutation_p(self.auroc.value, self.null_auroc)

    def as_dict(self) -> dict[str, Any]:
        null = self.null_auroc[np.isfinite(self.null_auroc)]
        return {"accuracy": self.accuracy.as_dict(), "auroc": self.auroc.as_dict(), "n": self.n,
                "shuffled_auroc_mean": _r(finite_or_none(null.mean())) if null.size else None,
                "shuffled_auroc_p95": _r(finite_or_none(np.quantile(null, 0.95))) if null.size else None,
                "p_value": _r(self.p_value)}


@dataclass(frozen=True)
class LayerProbe:
    """One layer: the logistic probe, the difference-in-means direction, the out-of-fold probabilities."""

    layer: int
    logistic: BinaryScores
    mean_difference: BinaryScores
    probability: FloatArray = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "logistic": self.logistic.as_dict(),
                "mean_difference": self.mean_difference.as_dict()}


@dataclass(frozen=True)
class RefusalProbe:
    """Every layer's probe, the text baseline and the layer with the best logistic AUROC."""

    n: int
    n_positive: int
    folds: int
    n_perm: int
    layers: list[LayerProbe]
    text_baselines: dict[str, BinaryScores]

    @property
    def best_layer(self) -> int | None:
        found = self.best("logistic")
        return None if found is None else found[0]

    def best(self, method: str) -> tuple[int, BinaryScores, float | None] | None:
        """(layer, scores, family-wise p) of the layer with the highest AUROC for ``method``.

        The family-wise p-value compares that AUROC with each shuffled run's best AUROC over all
        layers, so picking the best of many layers is paid for. None when no layer has an AUROC.
        """
        scores = [getattr(p, method) for p in self.layers]
        found = [(s.auroc.value, i) for i, s in enumerate(scores) if s.auroc.value is not None]
        if not found:
            return None
        value, layer = max(found)
        return layer, scores[layer], family_p(value, [s.null_auroc for s in scores])

    def as_dict(self) -> dict[str, Any]:
        best = {}
        for method in ("logistic", "mean_difference"):
            found = self.best(method)
            best[method] = None if found is None else {"layer": found[0], "auroc": _r(found[1].auroc.value),
                                                       "p_family": _r(found[2])}
        return {"n": self.n, "n_positive": self.n_positive, "folds": self.folds, "n_perm": self.n_perm,
                "best": best, "text_baselines": {k: v.as_dict() for k, v in self.text_baselines.items()},
                "layers": [p.as_dict() for p in self.layers]}


def binary_scores(
    scores: FloatArray, labels: npt.NDArray[np.bool_], threshold: float, n_boot: int, seed: int,
    null_auroc: FloatArray | None = None,
) -> BinaryScores:
    """Accuracy (``scores >= threshold``) and AUROC with bootstrap intervals (``n_boot`` resamples, ``seed``).

    Items without a prediction (NaN) are left out of both. The same seed and item count draw the same
    resamples, so the intervals of different layers are paired. The intervals hold the fitted probes
    fixed (evaluation uncertainty only); ``null_auroc`` (shuffled-label runs) is the chance reference.
    """
    null = np.empty(0) if null_auroc is None else null_auroc
    keep = np.isfinite(scores)
    s, y = scores[keep], labels[keep]
    if s.size == 0:
        return BinaryScores(Estimate(None, None, None), Estimate(None, None, None), 0, null)
    correct = ((s >= threshold) == y).astype(np.float64)
    if n_boot == 0:
        return BinaryScores(estimate(mean_rows(correct), None), estimate(auroc(s, y), None), int(s.size), null)
    rows = resample_indices(s.size, n_boot, seed)
    return BinaryScores(
        estimate(mean_rows(correct), mean_rows(correct[rows])),
        estimate(auroc(s, y), auroc(s[rows], y[rows])),
        int(s.size),
        null,
    )


def _column_aurocs(scores: FloatArray, labels: FloatArray) -> FloatArray:
    """AUROC of each column of ``scores`` against the same column of ``labels`` (NaN scores left out)."""
    out = []
    for j in range(labels.shape[1]):
        keep = np.isfinite(scores[:, j])
        out.append(float(auroc(scores[keep, j], labels[keep, j])))
    return np.asarray(out, dtype=np.float64)


def check_labels(labels: npt.ArrayLike, groups: Sequence[str], minimum: int = MIN_PER_CLASS) -> npt.NDArray[np.bool_]:
    """The labels as booleans; :class:`InputError` saying what is missing when a class is too small."""
    y = np.asarray(labels).astype(bool)
    g = np.asarray(groups)
    counts = {name: np.unique(g[y == value]).size for name, value in (("label 1", True), ("label 0", False))}
    small = {k: v for k, v in counts.items() if v < minimum}
    if small:
        raise InputError(
            f"a refusal probe needs at least {minimum} requests per class; got "
            + ", ".join(f"{v} with {k}" for k, v in counts.items())
            + " (use the contrast label source, or more prompts)"
        )
    return y


def probe_refusal(
    source: LayerSource,
    labels: npt.ArrayLike,
    groups: Sequence[str],
    texts: Sequence[str],
    *,
    lexical: FloatArray | None = None,
    k: int = cv.DEFAULT_FOLDS,
    c: float = learners.DEFAULT_C,
    seed: int = 0,
    n_boot: int = DEFAULT_N_BOOT,
    n_perm: int = DEFAULT_PROBE_PERM,
) -> RefusalProbe:
    """Probe every layer of ``source`` for ``labels`` (1 = refused / harmful). See the module docstring.

    Args:
        source: hidden states by layer, one row per item.
        labels: 0/1 per item.
        groups: request id per item (folds keep a request together).
        texts: the prompt of each item (the bag-of-words baseline).
        lexical: ``(n, dim)`` bag-of-embeddings features (a second text baseline), or None.
        k: folds; c: logistic inverse penalty; seed: folds, shuffles and bootstrap.
        n_boot: bootstrap resamples (0: no intervals).
        n_perm: shuffled-label re-runs of both methods per layer (0: none).
    """
    with learners.few_blas_threads():
        return _probe(source, check_labels(labels, groups), groups, texts, lexical, k, c, seed, n_boot, n_perm)


def _probe(source: LayerSource, y: npt.NDArray[np.bool_], groups: Sequence[str], texts: Sequence[str],
           lexical: FloatArray | None, k: int, c: float, seed: int, n_boot: int, n_perm: int) -> RefusalProbe:
    folds = cv.grouped_folds(y.astype(int), groups, k, seed)
    blocks = cv.fold_blocks(folds, y.size)
    shuffled = cv.shuffled_targets(y, groups, blocks, n_perm, seed + 2)[:, 1:]
    columns = np.column_stack([y.astype(np.float64), shuffled])  # real labels first, then the shuffles
    layers = []
    for index in range(source.n_layers):
        featurize = cv.slicer(source.layer(index))
        prob = learners.logistic_oof(featurize, columns, folds, c)
        projection = learners.mean_difference_oof(featurize, columns, folds)
        layers.append(LayerProbe(
            index,
            binary_scores(prob[:, 0], y, THRESHOLD, n_boot, seed, _column_aurocs(prob[:, 1:], shuffled)),
            binary_scores(projection[:, 0], y, 0.0, n_boot, seed, _column_aurocs(projection[:, 1:], shuffled)),
            prob[:, 0],
        ))
    featurizers = {"bag_of_words": bow_featurizer(texts)}
    if lexical is not None:
        featurizers["bag_of_embeddings"] = cv.slicer(np.asarray(lexical, dtype=np.float64))
    text = {}
    for name, featurize in featurizers.items():
        prob = learners.logistic_oof(featurize, columns, folds, c)
        text[name] = binary_scores(prob[:, 0], y, THRESHOLD, n_boot, seed, _column_aurocs(prob[:, 1:], shuffled))
    return RefusalProbe(int(y.size), int(y.sum()), len(folds), n_perm, layers, text)
