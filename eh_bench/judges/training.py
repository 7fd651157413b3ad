"""Fitting the ``eh-harm`` judge: a seeded, reproducible logistic regression on labelled pairs.

The recipe (:class:`Recipe`) names the feature namespaces, the regularisation ``C`` and the sample
weighting. ``source_balanced`` (the default) first balances the two classes over the whole training
set, then rescales so every published set carries the same total weight: the judge should not
simply learn the largest set's conventions. Out-of-fold probabilities (grouped folds,
leave-one-source-out) come from :func:`out_of_fold`; the final model is fitted on every row.

Training needs scikit-learn (``pip install 'eh-bench[hf]'``); judging with the result does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

import numpy as np

from eh_bench.errors import ConfigError, InputError, require
from eh_bench.judges.corpus import DEFAULT_FOLDS, Corpus
from eh_bench.judges.features import DEFAULT_BITS, FeatureSet, SparseRows
from eh_bench.judges.trained import HarmModel, sigmoid

Weighting = Literal["source_balanced", "class_balanced", "none"]
#: The hashed feature sets compared by ``eh-bench judge train`` (every one sees the request).
FEATURE_SETS: Final[dict[str, tuple[str, ...]]] = {
    "words": ("resp_words", "resp_head", "req_words"),
    "chars": ("resp_chars", "resp_head", "req_words"),
}
DEFAULT_FEATURE_SET: Final = "words"
DEFAULT_C: Final = 2.0
MAX_ITER: Final = 3000


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a fitted model, besides the data."""

    feature_set: str = DEFAULT_FEATURE_SET
    bits: int = DEFAULT_BITS
    c: float = DEFAULT_C
    weighting: Weighting = "source_balanced"
    folds: int = DEFAULT_FOLDS
    seed: int = 0

    def __post_init__(self) -> None:
        if self.feature_set not in FEATURE_SETS:
            raise ConfigError(
                f"unknown feature set {self.feature_set!r}; choose one of: {', '.join(FEATURE_SETS)}"
            )
        if self.c <= 0 or self.folds < 2:
            raise ConfigError(f"recipe needs C > 0 and at least 2 folds (got C={self.c}, folds={self.folds})")

    @property
    def features(self) -> FeatureSet:
        return FeatureSet(FEATURE_SETS[self.feature_set], self.bits)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "namespaces": list(FEATURE_SETS[self.feature_set])}


def sample_weights(labels: np.ndarray, sources: np.ndarray, weighting: Weighting) -> np.ndarray:
    """Per-row weights (see the module doc); they sum to the number of rows.

    >>> sample_weights(np.array([1, 0, 0, 0]), np.array(["a", "a", "b", "b"]), "class_balanced").round(3).tolist()
    [2.0, 0.667, 0.667, 0.667]
    """
    n = len(labels)
    weights = np.ones(n)
    if weighting == "none" or not n:
        return weights
    for label in (0, 1):
        mask = labels == label
        if mask.any():
            weights[mask] = n / (2 * mask.sum())
    if weighting == "source_balanced":
        names = sorted({str(s) for s in sources})
        for name in names:
            mask = sources == name
            weights[mask] *= (n / len(names)) / weights[mask].sum()
    out: np.ndarray = weights * (n / weights.sum())
    return out


def to_csr(rows: SparseRows) -> Any:
    """:class:`SparseRows` as a ``scipy.sparse.csr_matrix``."""
    from scipy.sparse import csr_matrix

    return csr_matrix((rows.values, rows.indices, rows.indptr), shape=(rows.n_rows, rows.n_features))


def fit_linear(
    x: Any, labels: np.ndarray, weights: np.ndarray, c: float, seed: int
) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression (liblinear: fast on sparse rows, deterministic).

    Returns ``(coefficients, intercept)``.

    Raises:
        InputError: the training rows hold one class only.
    """
    require("sklearn", "hf")
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(labels)) < 2:
        raise InputError(f"training rows hold one class only ({len(labels)} rows); add labelled rows of both")
    model = LogisticRegression(C=c, solver="liblinear", max_iter=MAX_ITER, random_state=seed)
    model.fit(x, labels, sample_weight=weights)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def out_of_fold(
    x: Any,
    corpus: Corpus,
    splits: Iterable[tuple[np.ndarray, np.ndarray]],
    recipe: Recipe,
    *,
    standardise: bool = False,
) -> np.ndarray:
    """``p(harmful)`` of every test row, each from a model fitted on that split's training rows.

    Rows in no test part stay NaN. ``standardise`` centres and scales dense features (hidden states)
    on the training rows of each split.
    """
    probs = np.full(len(corpus), np.nan)
    for train, test in splits:
        xtr, xte = x[train], x[test]
        if standardise:
            mean, std = xtr.mean(axis=0), xtr.std(axis=0) + 1e-6
            xtr, xte = (xtr - mean) / std, (xte - mean) / std
        weights = sample_weights(corpus.labels[train], corpus.sources[train], recipe.weighting)
        coef, bias = fit_linear(xtr, corpus.labels[train], weights, recipe.c, recipe.seed)
        probs[test] = sigmoid(bias + np.asarray(xte @ coef).ravel())
    return probs


def fit_model(corpus: Corpus, recipe: Recipe, rows: SparseRows | None = None) -> HarmModel:
    """The final model of ``recipe`` fitted on every row of ``corpus`` (threshold 0.5)."""
    rows = rows if rows is not None else recipe.features.transform(corpus.prompts, corpus.responses)
    weights = sample_weights(corpus.labels, corpus.sources, recipe.weighting)
    coef, bias = fit_linear(to_csr(rows), corpus.labels, weights, recipe.c, recipe.seed)
    return HarmModel(recipe.features, coef.astype(np.float32), bias)
