"""The learners fitted inside the folds, each returning out-of-fold predictions for many label columns.

Features are standardised on the training fold. Every learner takes labels of shape ``(n,)`` or
``(n, m)`` (the real labels and their shuffles side by side) and shares the fold's expensive part
across the columns:

* :func:`logistic_oof`: L2 logistic regression. When there are more features than training rows,
  it is fitted on the training rows' span (``X V`` from a thin SVD): the L2 solution always lies in
  that span, so the predictions are the same and the fit is several times faster.
* :func:`mean_difference_oof`: the difference-in-means direction, thresholded at the class midpoint.
* :func:`ridge_oof`: ridge regression, its penalty chosen per column from :data:`RIDGE_ALPHAS` by
  exact leave-one-out error inside the training fold (closed form from one SVD).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Final

import numpy as np
import numpy.typing as npt

from eh_bench.probes.cv import Featurizer, FloatArray, Fold

#: Inverse L2 strength of the logistic probe on standardised features (small: d >> n is common).
DEFAULT_C: Final = 0.01
LOGISTIC_MAX_ITER: Final = 2000
LOGISTIC_TOL: Final = 1e-6
#: liblinear penalises the intercept as a feature of this value; a large one leaves it practically free.
INTERCEPT_SCALING: Final = 100.0
#: Ridge penalties tried by leave-one-out inside each training fold.
RIDGE_ALPHAS: Final = tuple(float(a) for a in np.logspace(-1, 5, 13))
_EPS: Final = 1e-12
#: BLAS threads while probing: thousands of small matrix operations, for which extra threads cost more
#: in synchronisation than they save (measured 15x slower with 2 threads on a busy 2-core machine).
BLAS_THREADS: Final = 1


def few_blas_threads() -> AbstractContextManager[object]:
    """A context that limits BLAS to :data:`BLAS_THREADS` threads (the probes' hot loops run inside it)."""
    from threadpoolctl import threadpool_limits

    limits: AbstractContextManager[object] = threadpool_limits(limits=BLAS_THREADS, user_api="blas")
    return limits


def standardise(train: FloatArray, test: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Both matrices centred and scaled by the training columns' mean and standard deviation."""
    mean = train.mean(axis=0)
    scale = train.std(axis=0)
    scale[scale < _EPS] = 1.0
    return (train - mean) / scale, (test - mean) / scale


def _columns(y: npt.ArrayLike) -> tuple[FloatArray, bool]:
    arr = np.asarray(y, dtype=np.float64)
    return (arr[:, None], True) if arr.ndim == 1 else (arr, False)


def _row_space(train: FloatArray, test: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Coordinates in the span of the training rows when that is smaller than the feature space."""
    if train.shape[1] <= train.shape[0]:
        return train, test
    _, s, vt = np.linalg.svd(train, full_matrices=False)
    keep = vt[s > _EPS * max(1.0, float(s[0]) if s.size else 1.0)]
    if keep.shape[0] == 0:  # constant features (e.g. the same token everywhere): one zero column
        return np.zeros((train.shape[0], 1)), np.zeros((test.shape[0], 1))
    return train @ keep.T, test @ keep.T


def logistic_oof(featurize: Featurizer, y: npt.ArrayLike, folds: Sequence[Fold], c: float = DEFAULT_C) -> FloatArray:
    """Out-of-fold probability of class 1 for each label column (a fold with one class stays NaN)."""
    from sklearn.linear_model import LogisticRegression

    labels, flat = _columns(y)
    out = np.full(labels.shape, np.nan)
    for train, test in folds:
        x_tr, x_te = _row_space(*standardise(*featurize(train, test)))
        for j in range(labels.shape[1]):
            target = labels[train, j].astype(int)
            if np.unique(target).size < 2:
                continue
            model = LogisticRegression(C=c, solver="liblinear", intercept_scaling=INTERCEPT_SCALING,
                                       tol=LOGISTIC_TOL, max_iter=LOGISTIC_MAX_ITER)
            model.fit(x_tr, target)
            out[test, j] = model.predict_proba(x_te)[:, 1]
    return out[:, 0] if flat else out


def mean_difference(features: FloatArray, y: npt.ArrayLike) -> FloatArray:
    """The difference-in-means direction: mean of class-1 rows minus mean of class-0 rows (unnormalised)."""
    labels = np.asarray(y).astype(bool)
    return np.asarray(features[labels].mean(axis=0) - features[~labels].mean(axis=0), dtype=np.float64)


def mean_difference_oof(featurize: Featurizer, y: npt.ArrayLike, folds: Sequence[Fold]) -> FloatArray:
    """Out-of-fold projection on each training fold's difference-in-means direction, per label column.

    A projection is centred on the midpoint of the two training class means and divided by the training
    projections' standard deviation, so > 0 predicts class 1 and folds share one scale.
    """
    labels, flat = _columns(y)
    out = np.full(labels.shape, np.nan)
    for train, test in folds:
        x_tr, x_te = featurize(train, test)
        pos = labels[train] > 0.5
        n_pos, n_neg = pos.sum(axis=0), (~pos).sum(axis=0)
        ok = (n_pos > 0) & (n_neg > 0)
        weights = np.where(pos, 1.0 / np.maximum(n_pos, 1), -1.0 / np.maximum(n_neg, 1))
        directions = x_tr.T @ weights  # (dim, m): class-1 mean minus class-0 mean
        mid_weights = np.where(pos, 0.5 / np.maximum(n_pos, 1), 0.5 / np.maximum(n_neg, 1))
        midpoint = ((x_tr.T @ mid_weights) * directions).sum(axis=0)
        projected = x_tr @ directions
        spread = projected.std(axis=0)
        spread[spread < _EPS] = 1.0
        out[np.ix_(test, np.flatnonzero(ok))] = ((x_te @ directions - midpoint) / spread)[:, ok]
    return out[:, 0] if flat else out


def ridge_oof(featurize: Featurizer, targets: npt.ArrayLike, folds: Sequence[Fold]) -> FloatArray:
    """Out-of-fold ridge predictions for every target column, penalty chosen per column by leave-one-out.

    With the training rows centred, ``X = U S V'``; for penalty a the fitted values are
    ``U diag(s^2 / (s^2 + a)) U' y`` and the hat diagonal ``sum_k U_ik^2 s_k^2 / (s_k^2 + a) + 1/n``
    (the intercept), so each column's exact leave-one-out error ``mean(((y - yhat) / (1 - h))^2)``
    costs a few matrix products for all penalties at once.
    """
    labels, flat = _columns(targets)
    out = np.full(labels.shape, np.nan)
    alphas = np.asarray(RIDGE_ALPHAS)
    for train, test in folds:
        x_tr, x_te = standardise(*featurize(train, test))  # both centred on the training mean
        y = labels[train]
        y_mean = y.mean(axis=0)
        yc = y - y_mean
        u, s, vt = np.linalg.svd(x_tr, full_matrices=False)
        uty = u.T @ yc  # (r, m)
        s2 = s**2
        shrink = s2[None, :] / (s2[None, :] + alphas[:, None])  # (a, r)
        hat = (u**2) @ shrink.T + 1.0 / y.shape[0]  # (n, a)
        fitted = np.einsum("ik,ak,km->aim", u, shrink, uty)  # (a, n, m)
        leverage = np.clip(1.0 - hat.T[:, :, None], _EPS, None)
        loo = (((yc[None] - fitted) / leverage) ** 2).mean(axis=1)  # (a, m)
        best = loo.argmin(axis=0)  # (m,)
        coef_scale = s[None, :] / (s2[None, :] + alphas[best][:, None])  # (m, r)
        weights = vt.T @ (coef_scale.T * uty)  # (d, m)
        out[test] = x_te @ weights + y_mean
    return out[:, 0] if flat else out
