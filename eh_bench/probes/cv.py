"""Cross-validation for the probes: stratified k-fold grouped by request, and out-of-fold predictions.

Every prediction a probe is scored on comes from a model that never saw that request: folds are
grouped by request (items with the same prompt share a fold) and stratified on the label. Features are
standardised inside each training fold. Two learners: L2 logistic regression (binary targets) and
ridge regression with its penalty picked by leave-one-out inside the training fold (ordinal levels,
many targets at once so that shuffled-label baselines share one fit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from eh_bench.errors import InputError

FloatArray = npt.NDArray[np.float64]
Fold = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]
#: ``featurize(train_idx, test_idx) -> (X_train, X_test)``: features built from the training fold only.
Featurizer = Callable[[npt.NDArray[np.intp], npt.NDArray[np.intp]], tuple[FloatArray, FloatArray]]

DEFAULT_FOLDS: Final = 5
#: Inverse L2 strength of the logistic probe on standardised features (small: d >> n is common).
DEFAULT_C: Final = 0.01
LOGISTIC_MAX_ITER: Final = 2000
LOGISTIC_TOL: Final = 1e-6
INTERCEPT_SCALING: Final = 100.0
#: Ridge penalties tried by leave-one-out inside each training fold.
RIDGE_ALPHAS: Final = tuple(float(a) for a in np.logspace(-1, 5, 13))


def grouped_folds(labels: npt.ArrayLike, groups: Sequence[str], k: int = DEFAULT_FOLDS, seed: int = 0) -> list[Fold]:
    """Stratified k-fold splits that keep every group (request) inside one fold.

    Args:
        labels: the class or level of each item (stratification target).
        groups: the request each item belongs to (e.g. its prompt's sha256).
        k: the number of folds (lowered to the number of groups when there are fewer).
        seed: shuffling seed.

    Raises:
        InputError: fewer than two groups, or a class with fewer groups than two.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(labels)
    g = np.asarray(groups)
    if y.shape[0] != g.shape[0]:
        raise InputError(f"labels ({y.shape[0]}) and groups ({g.shape[0]}) differ in length")
    n_groups = np.unique(g).size
    _, counts = np.unique(y, return_counts=True)
    if n_groups < 2 or counts.size < 2:
        raise InputError(
            f"cross-validation needs two classes and two requests (got {counts.size} class(es), "
            f"{n_groups} request(s)); use more prompts or another label source"
        )
    splits = min(k, n_groups)
    splitter = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=seed)
    import warnings

    with warnings.catch_warnings():  # a rare class with fewer members than folds is expected at small n
        warnings.simplefilter("ignore", UserWarning)
        return [(np.asarray(tr, dtype=np.intp), np.asarray(te, dtype=np.intp))
                for tr, te in splitter.split(np.zeros(y.shape[0]), y, g)]


def fold_blocks(folds: Sequence[Fold], n: int, strata: npt.ArrayLike | None = None) -> npt.NDArray[np.int64]:
    """A block id per item: its test fold, crossed with its stratum when ``strata`` is given."""
    block = np.full(n, -1, dtype=np.int64)
    for index, (_, test) in enumerate(folds):
        block[test] = index
    if strata is not None:
        _, codes = np.unique(np.asarray(strata), return_inverse=True)
        block = block * (int(codes.max()) + 1) + codes
    return block


def shuffled_targets(
    levels: npt.ArrayLike, groups: Sequence[str], blocks: npt.ArrayLike | None, n_perm: int, seed: int
) -> FloatArray:
    """``(n, 1 + n_perm)``: the labels, then ``n_perm`` permutations of whole requests' labels.

    A request's items keep one label, and labels move only among requests of the same block. With
    blocks from :func:`fold_blocks`, every fold keeps exactly its label mix (so a shuffled run is
    stratified as the real one is, and pays no extra fold-imbalance bias), and with strata a shuffled
    cost keeps its relation to severity.
    """
    values = np.asarray(levels, dtype=np.float64)
    g = np.asarray(groups)
    names, first, inverse = np.unique(g, return_index=True, return_inverse=True)
    group_levels = values[first]
    group_blocks = np.zeros(names.size) if blocks is None else np.asarray(blocks)[first]
    rng = np.random.default_rng(seed)
    columns = [values]
    for _ in range(n_perm):
        permuted = group_levels.copy()
        for b in np.unique(group_blocks):
            where = np.flatnonzero(group_blocks == b)
            permuted[where] = group_levels[rng.permutation(where)]
        columns.append(permuted[inverse])
    return np.column_stack(columns)


def slicer(features: FloatArray) -> Featurizer:
    """A featurizer that takes rows of a fixed matrix (hidden states of one layer)."""
    return lambda train, test: (features[train], features[test])


def _standardise(train: FloatArray, test: FloatArray) -> tuple[FloatArray, FloatArray]:
    mean = train.mean(axis=0)
    scale = train.std(axis=0)
    scale[scale < 1e-12] = 1.0
    return (train - mean) / scale, (test - mean) / scale


def logistic_oof(featurize: Featurizer, y: npt.ArrayLike, folds: Sequence[Fold], c: float = DEFAULT_C) -> FloatArray:
    """Out-of-fold probability of class 1 from an L2 logistic regression on standardised features."""
    from sklearn.linear_model import LogisticRegression

    labels = np.asarray(y).astype(int)
    out = np.full(labels.shape[0], np.nan)
    for train, test in folds:
        x_tr, x_te = _standardise(*featurize(train, test))
        if np.unique(labels[train]).size < 2:  # one class to learn from: these items stay unpredicted
            continue
        # liblinear is an order of magnitude faster here; a large intercept scaling leaves the
        # intercept practically unpenalised, matching lbfgs to ~1e-3 in probability.
        model = LogisticRegression(C=c, solver="liblinear", intercept_scaling=INTERCEPT_SCALING,
                                   tol=LOGISTIC_TOL, max_iter=LOGISTIC_MAX_ITER)
        model.fit(x_tr, labels[train])
        out[test] = model.predict_proba(x_te)[:, 1]
    return out


def mean_difference(features: FloatArray, y: npt.ArrayLike) -> FloatArray:
    """The difference-in-means direction: mean of class-1 rows minus mean of class-0 rows (unnormalised)."""
    labels = np.asarray(y).astype(bool)
    return np.asarray(features[labels].mean(axis=0) - features[~labels].mean(axis=0), dtype=np.float64)


def mean_difference_oof(featurize: Featurizer, y: npt.ArrayLike, folds: Sequence[Fold]) -> FloatArray:
    """Out-of-fold projection on the difference-in-means direction of each training fold.

    Each fold's projection is centred on the midpoint of the two training class means and divided by
    the training projections' standard deviation, so > 0 predicts class 1 and folds share one scale.
    """
    labels = np.asarray(y).astype(bool)
    out = np.full(labels.shape[0], np.nan)
    for train, test in folds:
        x_tr, x_te = featurize(train, test)
        pos = labels[train]
        if pos.all() or not pos.any():
            continue
        direction = mean_difference(x_tr, pos)
        midpoint = float((x_tr[pos].mean(axis=0) + x_tr[~pos].mean(axis=0)) @ direction) / 2.0
        spread = float((x_tr @ direction).std()) or 1.0
        out[test] = (x_te @ direction - midpoint) / spread
    return out


def ridge_oof(featurize: Featurizer, targets: FloatArray, folds: Sequence[Fold]) -> FloatArray:
    """Out-of-fold ridge predictions for every column of ``targets`` (``(n,)`` or ``(n, m)``).

    The penalty is chosen per column by efficient leave-one-out inside the training fold, so a column
    of shuffled labels gets its own best penalty, exactly as the real labels do.
    """
    from sklearn.linear_model import RidgeCV

    y = np.asarray(targets, dtype=np.float64)
    out = np.full(y.shape, np.nan)
    for train, test in folds:
        x_tr, x_te = _standardise(*featurize(train, test))
        model: Any = RidgeCV(alphas=RIDGE_ALPHAS, alpha_per_target=y.ndim > 1)
        model.fit(x_tr, y[train])
        out[test] = model.predict(x_te)
    return out
