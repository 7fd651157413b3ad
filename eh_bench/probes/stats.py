"""Rank statistics and seeded bootstrap intervals for the probes, vectorised over resamples.

Every statistic takes arrays whose last axis is the items, so one call scores the observed data
(``shape (n,)``) and all bootstrap resamples at once (``shape (B, n)``). A statistic that is undefined
on some row (no variance, one class only) is NaN there; intervals are taken over the defined rows and
are ``None`` when too few are defined. Nothing undefined ever becomes 0.

>>> import numpy as np
>>> round(float(association(np.array([1, 2, 3, 4.0]), np.array([1, 3, 2, 4.0]))), 2)
0.8
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

FloatArray = npt.NDArray[np.float64]

DEFAULT_N_BOOT: Final = 1000
ALPHA: Final = 0.05
#: Variance below this (on ranks or residuals) counts as none: the statistic is undefined.
_TINY: Final = 1e-12
#: An interval needs at least this share of bootstrap rows on which the statistic is defined.
MIN_DEFINED_SHARE: Final = 0.5


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a percentile bootstrap interval (any of them None when undefined)."""

    value: float | None
    ci_low: float | None
    ci_high: float | None

    def as_dict(self, scale: float = 1.0, digits: int = 4) -> dict[str, float | None]:
        """``{"value", "ci_low", "ci_high"}``, multiplied by ``scale`` and rounded."""
        return {k: _round(v, scale, digits) for k, v in (("value", self.value), ("ci_low", self.ci_low),
                                                          ("ci_high", self.ci_high))}


def _round(value: float | None, scale: float, digits: int) -> float | None:
    return None if value is None else round(value * scale, digits)


def finite_or_none(value: Any) -> float | None:
    """A Python float, or None for NaN / infinity / None."""
    if value is None:
        return None
    out = float(value)
    return out if np.isfinite(out) else None


def _ranks_within(values: FloatArray, strata: npt.NDArray[Any] | None) -> FloatArray:
    """Average ranks along the last axis, centred on their mean within each stratum (all items: one)."""
    if strata is None:
        ranks = rankdata(values, axis=-1)
        return np.asarray(ranks - ranks.mean(axis=-1, keepdims=True), dtype=np.float64)
    out = np.zeros(values.shape, dtype=np.float64)
    for level in np.unique(strata):
        member = strata == level
        masked = np.where(member, values, np.inf)  # outsiders rank after every member
        ranks = rankdata(masked, axis=-1)
        count = member.sum(axis=-1, keepdims=True)
        mean = (count + 1) / 2.0
        out += np.where(member, ranks - mean, 0.0)
    return out


def _residual(y: FloatArray, x: FloatArray) -> FloatArray:
    """``y`` minus its least-squares fit on ``x`` (both centred), along the last axis."""
    sxx = (x * x).sum(axis=-1, keepdims=True)
    beta = np.divide((x * y).sum(axis=-1, keepdims=True), sxx, out=np.zeros_like(sxx), where=sxx > _TINY)
    return np.asarray(y - beta * x, dtype=np.float64)


def association(
    pred: npt.ArrayLike,
    true: npt.ArrayLike,
    *,
    strata: npt.ArrayLike | None = None,
    control: npt.ArrayLike | Sequence[npt.ArrayLike] | None = None,
) -> FloatArray:
    """Spearman correlation of ``pred`` and ``true``, optionally within strata and partial on controls.

    Ranks are taken (and centred) within each stratum, so ``strata=severity`` asks whether cost is
    ordered correctly among requests of the same severity. With ``control`` (e.g. a text baseline's
    prediction, or a list of them), the ranks of both ``pred`` and ``true`` are first residualised on the
    controls' ranks (jointly): the result is what ``pred`` says about ``true`` beyond the controls (a
    partial Spearman correlation).

    Returns:
        The correlation per row (NaN where a residual has no variance).
    """
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(true, dtype=np.float64)
    s = None if strata is None else np.asarray(strata)
    rp, rt = _ranks_within(p, s), _ranks_within(t, s)
    controls = [] if control is None else list(control) if isinstance(control, (list, tuple)) else [control]
    basis: list[FloatArray] = []
    for c in controls:  # Gram-Schmidt: residualising on each orthogonalised control = on all jointly
        rc = _ranks_within(np.asarray(c, dtype=np.float64), s)
        for b in basis:
            rc = _residual(rc, b)
        basis.append(rc)
        rp, rt = _residual(rp, rc), _residual(rt, rc)
    vp, vt = (rp * rp).sum(axis=-1), (rt * rt).sum(axis=-1)
    ok = (vp > _TINY * rp.shape[-1]) & (vt > _TINY * rt.shape[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (rp * rt).sum(axis=-1) / np.sqrt(vp * vt)
    return np.asarray(np.where(ok, np.clip(corr, -1.0, 1.0), np.nan), dtype=np.float64)


def auroc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> FloatArray:
    """Area under the ROC curve (Mann-Whitney, ties count half) along the last axis; NaN with one class."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    ranks = rankdata(s, axis=-1)
    n_pos = y.sum(axis=-1).astype(np.float64)
    n_neg = y.shape[-1] - n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        u = (ranks * y).sum(axis=-1) - n_pos * (n_pos + 1) / 2.0
        out = u / (n_pos * n_neg)
    return np.asarray(np.where((n_pos > 0) & (n_neg > 0), out, np.nan), dtype=np.float64)


def mean_rows(values: npt.ArrayLike) -> FloatArray:
    """Mean along the last axis (used for accuracy and scores)."""
    return np.asarray(np.asarray(values, dtype=np.float64).mean(axis=-1), dtype=np.float64)


def resample_indices(n: int, n_boot: int, seed: int, strata: npt.ArrayLike | None = None) -> npt.NDArray[np.intp]:
    """``(n_boot, n)`` item indices drawn with replacement (within each stratum when given), seeded."""
    rng = np.random.default_rng(seed)
    if strata is None:
        return rng.integers(0, n, size=(n_boot, n))
    s = np.asarray(strata)
    out = np.empty((n_boot, n), dtype=np.intp)
    for level in np.unique(s):
        where = np.flatnonzero(s == level)
        out[:, where] = where[rng.integers(0, where.size, size=(n_boot, where.size))]
    return out


def interval(samples: npt.ArrayLike, alpha: float = ALPHA) -> tuple[float | None, float | None]:
    """Percentile interval over the defined (finite) samples; ``(None, None)`` when too few are defined."""
    values = np.asarray(samples, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if values.size == 0 or finite.size < max(2, MIN_DEFINED_SHARE * values.size):
        return None, None
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def estimate(point: npt.ArrayLike, boot: npt.ArrayLike | None, alpha: float = ALPHA) -> Estimate:
    """An :class:`Estimate` from a point value and its bootstrap replicates (None: no interval)."""
    value = finite_or_none(np.asarray(point, dtype=np.float64).item())
    if value is None or boot is None:
        return Estimate(value, None, None)
    low, high = interval(boot, alpha)
    return Estimate(value, low, high)


def permutation_p(value: float | None, null: npt.ArrayLike) -> float | None:
    """``(1 + #{null >= value}) / (1 + #null)`` over the defined null values; None without either.

    >>> permutation_p(0.9, [0.1, 0.2, 0.95])
    0.5
    """
    values = np.asarray(null, dtype=np.float64)
    values = values[np.isfinite(values)]
    if value is None or values.size == 0:
        return None
    return float((1 + (values >= value - 1e-12).sum()) / (1 + values.size))


def family_p(value: float | None, nulls: list[FloatArray]) -> float | None:
    """Permutation p-value of the best of several layers: ``value`` against each run's maximum over them.

    ``nulls`` holds one array per layer, aligned by shuffled run (run j of every layer used the same
    shuffled labels). Picking the best layer is thereby paid for.
    """
    if value is None or not nulls or nulls[0].size == 0:
        return None
    stacked = np.vstack([np.where(np.isfinite(n), n, -np.inf) for n in nulls])
    return permutation_p(value, stacked.max(axis=0))
