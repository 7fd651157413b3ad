"""Cross-validation for the probes: stratified k-fold grouped by request, and shuffled labels.

Every prediction a probe is scored on comes from a model that never saw that request: folds are
grouped by request (items with the same prompt share a fold) and stratified on the label. Shuffled
labels move whole requests within their test fold, so a shuffled run is stratified as the real one.
The learners that fit inside the folds are in :mod:`eh_bench.probes.learners`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from eh_bench.errors import InputError

FloatArray = npt.NDArray[np.float64]
Fold = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]
#: ``featurize(train_idx, test_idx) -> (X_train, X_test)``: features built from the training fold only.
Featurizer = Callable[[npt.NDArray[np.intp], npt.NDArray[np.intp]], tuple[FloatArray, FloatArray]]

DEFAULT_FOLDS: Final = 5


def grouped_folds(labels: npt.ArrayLike, groups: Sequence[str], k: int = DEFAULT_FOLDS, seed: int = 0) -> list[Fold]:
    """Stratified k-fold splits that keep every group (request) inside one fold.

    Args:
        labels: the class or level of each item (stratification target).
        groups: the request each item belongs to (e.g. its prompt's sha256).
        k: the number of folds (lowered to the number of groups, or to the largest class's size, when
            there are fewer).
        seed: shuffling seed.

    Raises:
        InputError: one class only, or no class with two requests.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(labels)
    g = np.asarray(groups)
    if y.shape[0] != g.shape[0]:
        raise InputError(f"labels ({y.shape[0]}) and groups ({g.shape[0]}) differ in length")
    n_groups = np.unique(g).size
    _, counts = np.unique(y, return_counts=True)
    splits = min(k, n_groups, int(counts.max()) if counts.size else 0)
    if counts.size < 2 or splits < 2:
        raise InputError(
            f"cross-validation needs two classes and two requests in one of them (got {counts.size} class(es), "
            f"{n_groups} request(s)); use more prompts or another label source"
        )
    splitter = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=seed)
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
