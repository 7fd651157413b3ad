"""Agreement of a judge's binary verdicts with reference verdicts, with request-clustered bootstrap CIs.

Statistics (the positive class is "harmful" / "jailbroken"; all in [0, 1] except kappa in [-1, 1];
higher is better for every one):

- Cohen's kappa ``(p_o - p_e) / (1 - p_e)``, with ``p_o`` the observed agreement and ``p_e`` the
  agreement expected from the two marginals; the binary case of the quadratic-weighted kappa in
  :mod:`eh_bench.labeling.agreement` (it is checked against it in the tests).
- accuracy ``(tp + tn) / n``; precision ``tp / (tp + fp)``; recall ``tp / (tp + fn)``.

A statistic that is undefined (no pairs, no predicted positives, ``p_e = 1``) is ``None``, never 0.
Confidence intervals are percentile intervals of a seeded bootstrap that resamples *requests* (all
responses to one request together), since responses to one request are not independent.

>>> s = binary_stats(np.array([1, 0, 1, 0]), np.array([1, 0, 0, 0]))
>>> (s["n"], s["kappa"], s["accuracy"], s["precision"], s["recall"])
(4, 0.5, 0.75, 1.0, 0.5)
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

STATS: Final = ("kappa", "accuracy", "precision", "recall")
DEFAULT_N_BOOT: Final = 1000
CI_LEVEL: Final = 0.95


def _from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> dict[str, np.ndarray]:
    """Vectorised statistics from confusion counts (NaN where undefined)."""
    n = tp + fp + fn + tn
    with np.errstate(divide="ignore", invalid="ignore"):
        p_o = (tp + tn) / n
        ref_pos, pred_pos = (tp + fn) / n, (tp + fp) / n
        p_e = ref_pos * pred_pos + (1 - ref_pos) * (1 - pred_pos)
        kappa = np.where(np.isclose(p_e, 1.0), np.nan, (p_o - p_e) / (1 - p_e))
        return {
            "kappa": kappa,
            "accuracy": p_o,
            "precision": tp / (tp + fp),
            "recall": tp / (tp + fn),
        }


def _counts(reference: np.ndarray, predicted: np.ndarray) -> tuple[int, int, int, int]:
    r, p = reference.astype(bool), predicted.astype(bool)
    return int((r & p).sum()), int((~r & p).sum()), int((r & ~p).sum()), int((~r & ~p).sum())


def _clean(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def binary_stats(reference: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Point statistics of 0/1 ``predicted`` against 0/1 ``reference`` (see the module doc)."""
    tp, fp, fn, tn = _counts(reference, predicted)
    stats = _from_counts(*(np.array([float(c)]) for c in (tp, fp, fn, tn)))
    n = tp + fp + fn + tn
    return {
        "n": n,
        **{name: _clean(stats[name][0]) for name in STATS},
        "reference_rate": (tp + fn) / n if n else None,
        "judge_rate": (tp + fp) / n if n else None,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
    }


def bootstrap_ci(
    reference: np.ndarray,
    predicted: np.ndarray,
    groups: np.ndarray,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
) -> dict[str, list[float] | None]:
    """Percentile CIs (:data:`CI_LEVEL`) of every statistic, resampling whole groups (requests).

    Each replicate draws as many groups as there are, with replacement, and sums their confusion
    counts. A statistic undefined in over half the replicates gets ``None``.
    """
    if n_boot < 1 or not len(reference):
        return dict.fromkeys(STATS)
    _, inverse = np.unique(groups.astype(str), return_inverse=True)
    n_groups = int(inverse.max()) + 1
    r, p = reference.astype(bool), predicted.astype(bool)
    cells = np.stack([r & p, ~r & p, r & ~p, ~r & ~p], axis=1).astype(np.float64)
    per_group = np.zeros((n_groups, 4))
    np.add.at(per_group, inverse, cells)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=n_boot).astype(np.float64)
    counts = draws @ per_group
    stats = _from_counts(counts[:, 0], counts[:, 1], counts[:, 2], counts[:, 3])
    alpha = (1 - CI_LEVEL) / 2
    out: dict[str, list[float] | None] = {}
    for name in STATS:
        values = stats[name][np.isfinite(stats[name])]
        if len(values) * 2 < n_boot:
            out[name] = None
            continue
        low, high = np.quantile(values, [alpha, 1 - alpha])
        out[name] = [float(low), float(high)]
    return out


def agreement(
    reference: np.ndarray,
    predicted: np.ndarray,
    groups: np.ndarray,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
) -> dict[str, Any]:
    """:func:`binary_stats` plus ``ci`` from :func:`bootstrap_ci`."""
    return {
        **binary_stats(reference, predicted),
        "ci": bootstrap_ci(reference, predicted, groups, n_boot=n_boot, seed=seed),
    }


def breakdown(
    reference: np.ndarray,
    predicted: np.ndarray,
    groups: np.ndarray,
    by: dict[str, np.ndarray],
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
) -> dict[str, Any]:
    """Agreement overall (``all``) and per value of each labelling in ``by`` (e.g. source, model).

    Returns:
        ``{"all": {...}, "<by name>": {"<value>": {...}, ...}, ...}``.
    """
    out: dict[str, Any] = {"all": agreement(reference, predicted, groups, n_boot=n_boot, seed=seed)}
    for name, labels in by.items():
        out[name] = {
            str(value): agreement(
                reference[labels == value], predicted[labels == value], groups[labels == value],
                n_boot=n_boot, seed=seed,
            )
            for value in sorted({str(v) for v in labels})
        }  # fmt: skip
    return out
