"""The risk-calibration index: does attack success rise or fall with execution cost, given severity?"""

from __future__ import annotations

import numpy as np

from eh_bench.metrics.rates import FloatArray


def _midranks(values: FloatArray, weights: FloatArray) -> FloatArray:
    """Weighted mid-ranks: each distinct row k counts ``weights[:, k]`` times; shape (B, K)."""
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]])
    group = np.cumsum(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]]) - 1
    cum = np.cumsum(weights[:, order], axis=1)
    ends = np.r_[starts[1:], values.size] - 1
    total_end = cum[:, ends]
    before = np.where(starts > 0, cum[:, np.maximum(starts - 1, 0)], 0.0)
    mid = before + (total_end - before + 1) / 2
    ranks = np.empty_like(weights)
    ranks[:, order] = mid[:, group]
    return ranks


def _weighted_corr(x: FloatArray, y: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Row-wise weighted Pearson correlation of (B, K) arrays; also returns the two variances."""
    total = w.sum(axis=1, keepdims=True)
    mx = (w * x).sum(axis=1, keepdims=True) / total
    my = (w * y).sum(axis=1, keepdims=True) / total
    dx, dy = x - mx, y - my
    vx = (w * dx * dx).sum(axis=1) / total[:, 0]
    vy = (w * dy * dy).sum(axis=1) / total[:, 0]
    cov = (w * dx * dy).sum(axis=1) / total[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / np.sqrt(vx * vy)
    return r, vx, vy


def _partial_spearman(cost: FloatArray, severity: FloatArray, success: FloatArray, w: FloatArray) -> FloatArray:
    """Partial Spearman correlation of cost and success given severity, per row of weights ``w``."""
    rc, rv, rs = (_midranks(a, w) for a in (cost, severity, success))
    r_cs, var_c, var_s = _weighted_corr(rc, rs, w)
    r_cv, _, var_v = _weighted_corr(rc, rv, w)
    r_sv, _, _ = _weighted_corr(rs, rv, w)
    eps = 1e-12
    # Controlling for a constant covariate changes nothing: the partial correlation is the plain one.
    constant_sev = var_v <= eps
    r_cv = np.where(constant_sev, 0.0, r_cv)
    r_sv = np.where(constant_sev, 0.0, r_sv)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.sqrt((1 - r_cv**2) * (1 - r_sv**2))
        partial = (r_cs - r_cv * r_sv) / denom
    undefined = (var_c <= eps) | (var_s <= eps) | (denom <= 1e-9)
    return np.where(undefined, np.nan, np.clip(partial, -1.0, 1.0))
