"""Labelled (request, response) pairs for training and validating judges, and the folds over them.

A :class:`Corpus` holds parallel arrays built from published response sets (only rows with a
response and a reference verdict). Folds are *grouped by request*: every response to one request
lands in the same fold, so no request is seen in training and in testing. Leave-one-source-out
splits train on all sets but one and test on the one left out.

>>> c = Corpus.from_rows([PublishedResponse("s", "m", "direct", f"s:{i % 3}", "q", "a", i % 2) for i in range(6)])
>>> sorted(sorted(set(c.groups[test])) for _, test in grouped_folds(c, k=3, seed=0))
[['s|s:0'], ['s|s:1'], ['s|s:2']]
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eh_bench.errors import InputError
from eh_bench.sources.published import PublishedResponse, load_published

#: Default number of cross-validation folds.
DEFAULT_FOLDS = 5
Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Corpus:
    """Parallel arrays of judgeable pairs: request, response, reference label, set, model, request id."""

    prompts: list[str]
    responses: list[str]
    labels: np.ndarray
    sources: np.ndarray
    models: np.ndarray
    groups: np.ndarray

    @classmethod
    def from_rows(cls, rows: Iterable[PublishedResponse]) -> Corpus:
        """Keep the :attr:`~PublishedResponse.judgeable` rows (a response and a verdict)."""
        kept = [r for r in rows if r.judgeable]
        return cls(
            prompts=[r.prompt for r in kept],
            responses=[r.response or "" for r in kept],
            labels=np.array([r.verdict for r in kept], dtype=np.int8),
            sources=np.array([r.source for r in kept], dtype=object),
            models=np.array([r.model for r in kept], dtype=object),
            groups=np.array([f"{r.source}|{r.request_id}" for r in kept], dtype=object),
        )

    def __len__(self) -> int:
        return len(self.prompts)

    def subset(self, index: np.ndarray) -> Corpus:
        """The rows at ``index`` (an integer array), in that order."""
        idx = [int(i) for i in index]
        return Corpus(
            prompts=[self.prompts[i] for i in idx],
            responses=[self.responses[i] for i in idx],
            labels=self.labels[index],
            sources=self.sources[index],
            models=self.models[index],
            groups=self.groups[index],
        )

    def source_names(self) -> list[str]:
        """The sets present, sorted."""
        return sorted({str(s) for s in self.sources})


def _stable_rank(values: Sequence[str], seed: int) -> np.ndarray:
    """A seeded, platform-independent order key per value (sha256 of seed and value)."""
    return np.array(
        [int.from_bytes(hashlib.sha256(f"{seed}|{v}".encode()).digest()[:8], "big") for v in values]
    )


def grouped_folds(corpus: Corpus, k: int = DEFAULT_FOLDS, seed: int = 0) -> list[Split]:
    """``k`` (train, test) index splits; all rows of one request share a fold.

    Groups are ordered by a seeded hash and dealt to folds round-robin within each set, so every fold
    holds a share of every set.

    Raises:
        InputError: fewer distinct requests than folds.
    """
    names = sorted({str(g) for g in corpus.groups})
    if len(names) < k:
        raise InputError(f"{len(names)} distinct requests cannot fill {k} folds; lower the fold count")
    fold_of: dict[str, int] = {}
    for source in sorted({str(s) for s in corpus.sources}):
        members = sorted({str(g) for g, s in zip(corpus.groups, corpus.sources, strict=True) if s == source})
        order = np.argsort(_stable_rank(members, seed), kind="stable")
        for position, i in enumerate(order):
            fold_of[members[int(i)]] = position % k
    fold = np.array([fold_of[str(g)] for g in corpus.groups])
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(k)]


def leave_one_source_out(corpus: Corpus) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """``(held-out set, train index, test index)`` for every set in the corpus."""
    for source in corpus.source_names():
        held = corpus.sources == source
        yield source, np.flatnonzero(~held), np.flatnonzero(held)


def stratified_sample(corpus: Corpus, per_source: int, seed: int = 0) -> np.ndarray:
    """Indices of up to ``per_source`` rows of each set, label shares kept (seeded, sorted).

    Each (set, label) stratum gives ``round(per_source * share)`` rows (at least one when it is
    non-empty), chosen by a seeded hash of the row position.
    """
    chosen: list[np.ndarray] = []
    for source in corpus.source_names():
        rows = np.flatnonzero(corpus.sources == source)
        take_all = len(rows) <= per_source
        for label in (0, 1):
            stratum = rows[corpus.labels[rows] == label]
            if not len(stratum):
                continue
            n = len(stratum) if take_all else max(1, round(per_source * len(stratum) / len(rows)))
            order = np.argsort(_stable_rank([str(i) for i in stratum], seed), kind="stable")
            chosen.append(stratum[order[:n]])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=int)


#: The published sets a judge is trained and validated on.
TRAINING_SETS = ("donotanswer", "gptfuzz", "jbb-artifacts")


def load_corpus(sets: Sequence[str] = TRAINING_SETS, **fetch: Any) -> tuple[Corpus, list[dict[str, Any]]]:
    """The judgeable pairs of published ``sets`` and each set's provenance (with row counts).

    Args:
        sets: names of :data:`~eh_bench.sources.published.PUBLISHED` sets.
        **fetch: passed to :func:`~eh_bench.sources.published.load_published` (``sources_dir``, ...).
    """
    rows: list[PublishedResponse] = []
    provenance: list[dict[str, Any]] = []
    for name in sets:
        loaded = load_published(name, **fetch)
        kept = [r for r in loaded.rows if r.judgeable]
        rows += kept
        harmful = sum(r.verdict or 0 for r in kept)
        provenance.append(
            {**loaded.provenance(), "rows": len(kept), "harmful_share": harmful / max(1, len(kept))}
        )
    return Corpus.from_rows(rows), provenance
