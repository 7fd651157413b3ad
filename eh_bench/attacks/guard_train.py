"""Training the offline prompt guard (:mod:`eh_bench.attacks.prompt_guard`) and writing its card.

Data: every harmful request of the dataset (the project's ``core`` set and the public harmful sources)
is class 1; class 0 is every benign look-alike (``core_benign`` and JailbreakBench's benign set) plus
``eh_bench/data/general_benign.txt``, everyday harmless requests written for this guard (without them the
look-alikes alone teach it that any request is harmful). Identical requests (same ``prompt_sha256``)
count once. A stratified held-out split (``test_fraction``, seeded)
is set aside first; the regularisation strength is picked by cross-validated balanced accuracy on the
rest; the model fitted on the training part is the one shipped, so the card's held-out numbers describe
exactly the shipped weights. Classes are weighted inversely to their size (there are far fewer benign
requests).

The card records the data (source file sha256s, counts), the split, the chosen ``C``, and held-out
accuracy, balanced accuracy, the harmful block rate, the benign pass rate, ROC AUC and the block rate
per source. No prompt text is written anywhere: the weights are hashed-feature coefficients.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np

from eh_bench.attacks.prompt_guard import (
    CARD_FILE,
    FEATURIZER_VERSION,
    GUARD_ID,
    N_FEATURES,
    WEIGHTS_FILE,
    GuardWeights,
    feature_matrix,
)
from eh_bench.errors import InputError, require

DEFAULT_TEST_FRACTION: Final = 0.25
DEFAULT_C_GRID: Final = (0.1, 0.3, 1.0, 3.0, 10.0)
CV_FOLDS: Final = 5
#: The guard's own everyday benign requests (package data beside the weights), one per line.
GENERAL_BENIGN_FILE: Final = "general_benign.txt"
GENERAL_BENIGN: Final = "general_benign"


@dataclass(frozen=True)
class Example:
    """One training request: its text, class (1 harmful) and the source it came from."""

    text: str
    label: int
    source: str
    sha256: str


def dataset_examples(sources_dir: str | Path | None = None) -> tuple[list[Example], dict[str, Any]]:
    """The training examples from the packaged core sets and the public sources, plus their provenance.

    Raises:
        SourceError: a public source file is missing or differs from its pinned hash.
    """
    from eh_bench.dataset.core import core_path, read_core
    from eh_bench.sources import HARMFUL_SOURCES, load_source, prompt_sha256

    groups: list[tuple[str, int, list[str]]] = [
        ("core", 1, [r.prompt for r in read_core(False)]),
        ("core_benign", 0, [r.prompt for r in read_core(True)]),
    ]
    provenance: dict[str, Any] = {
        name: hashlib.sha256(core_path(benign).read_bytes()).hexdigest()
        for name, benign in (("core", False), ("core_benign", True))
    }
    for name, label in [*((s, 1) for s in HARMFUL_SOURCES), ("jbb_benign", 0)]:
        loaded = load_source(name, sources_dir=sources_dir)
        groups.append((name, label, [r.prompt for r in loaded.rows]))
        provenance[name] = loaded.file.sha256
    general = Path(str(resources.files("eh_bench").joinpath("data", GENERAL_BENIGN_FILE)))
    groups.append((GENERAL_BENIGN, 0, [line.strip() for line in general.read_text("utf-8").splitlines() if line.strip()]))
    provenance[GENERAL_BENIGN] = hashlib.sha256(general.read_bytes()).hexdigest()
    seen: set[str] = set()
    examples = []
    for name, label, prompts in groups:
        for prompt in prompts:
            digest = prompt_sha256(prompt)
            if digest not in seen:
                seen.add(digest)
                examples.append(Example(prompt, label, name, digest))
    return examples, provenance


def _matrix(texts: Sequence[str]) -> Any:
    from scipy.sparse import csr_matrix

    rows, cols, vals = feature_matrix(texts)
    return csr_matrix((vals, (rows, cols)), shape=(len(texts), N_FEATURES))


def _rate(values: np.ndarray[Any, Any]) -> float | None:
    return float(values.mean()) if values.size else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def train_guard(
    examples: Sequence[Example],
    *,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    seed: int = 0,
    c_grid: Sequence[float] = DEFAULT_C_GRID,
) -> tuple[GuardWeights, dict[str, Any]]:
    """Fit the guard on a training split and measure it on the held-out rest.

    Returns:
        The weights and the card (without ``weights_sha256``, which :func:`write_guard` adds).

    Raises:
        InputError: fewer than two examples of a class, or a test fraction outside (0, 1).
    """
    require("sklearn", "hf")
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

    labels = np.asarray([e.label for e in examples])
    counts = {int(c): int((labels == c).sum()) for c in (0, 1)}
    if min(counts.values()) < CV_FOLDS or not 0 < test_fraction < 1:
        raise InputError(
            f"need at least {CV_FOLDS} examples of each class and 0 < test_fraction < 1 "
            f"(got {counts[1]} harmful, {counts[0]} benign, test_fraction={test_fraction})"
        )
    index = np.arange(len(examples))
    train, test = train_test_split(index, test_size=test_fraction, random_state=seed, stratify=labels)
    x_all = _matrix([e.text for e in examples])
    x_train, y_train, y_test = x_all[train], labels[train], labels[test]

    def model(c: float) -> Any:
        return LogisticRegression(C=c, class_weight="balanced", max_iter=5000, solver="liblinear", random_state=seed)

    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
    cv = {c: float(cross_val_score(model(c), x_train, y_train, cv=folds, scoring="balanced_accuracy").mean())
          for c in c_grid}  # fmt: skip
    best_c = max(c_grid, key=lambda c: (cv[c], -c))
    fitted = model(best_c).fit(x_train, y_train)
    weights = GuardWeights.from_dense(np.asarray(fitted.coef_[0], np.float64), float(fitted.intercept_[0]))
    proba = np.asarray([weights.probability(examples[i].text) for i in test])
    blocked = proba >= weights.threshold
    sources = np.asarray([examples[i].source for i in test])
    per_source = {
        str(name): {"n": int((sources == name).sum()), "block_rate": _round(_rate(blocked[sources == name]))}
        for name in sorted(set(sources.tolist()))
    }
    card = {
        "id": GUARD_ID,
        "featurizer_version": FEATURIZER_VERSION,
        "features": f"word 1-2-grams + char 4-grams, CRC-32 hashed into {N_FEATURES} signed buckets, log counts, L2",
        "model": f"logistic regression (liblinear), class_weight=balanced, C={best_c:g} by {CV_FOLDS}-fold CV",
        "threshold": weights.threshold,
        "cv_balanced_accuracy": {f"{c:g}": round(v, 4) for c, v in cv.items()},
        "data": {"harmful": counts[1], "benign": counts[0], "sources": {}},
        "split": {"test_fraction": test_fraction, "seed": seed, "n_train": len(train), "n_test": len(test)},
        "heldout": {
            "accuracy": round(float((blocked == (y_test == 1)).mean()), 4),
            "balanced_accuracy": round(float(balanced_accuracy_score(y_test, blocked.astype(int))), 4),
            "harmful_block_rate": round(float(blocked[y_test == 1].mean()), 4),
            "benign_pass_rate": round(float((~blocked[y_test == 0]).mean()), 4),
            "roc_auc": round(float(roc_auc_score(y_test, proba)), 4),
            "n_harmful": int((y_test == 1).sum()),
            "n_benign": int((y_test == 0).sum()),
            "per_source": per_source,
        },
        "n_nonzero_weights": int(weights.indices.size),
    }
    return weights, card


def write_guard(weights: GuardWeights, card: dict[str, Any], out_dir: Path, provenance: dict[str, Any]) -> tuple[Path, Path]:
    """Write the weights and the card (with the weights' sha256, the data provenance and the date)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path, card_path = out_dir / WEIGHTS_FILE, out_dir / CARD_FILE
    card = {**card, "weights_sha256": weights.save(weights_path)}
    card["data"] = {**card["data"], "sources": provenance}
    card["trained"] = datetime.now(timezone.utc).date().isoformat()
    card_path.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return weights_path, card_path
