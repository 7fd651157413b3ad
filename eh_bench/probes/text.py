"""The text baseline: bag-of-words features of the prompt, built from the training fold only.

A probe on hidden states can succeed by reading wording rather than meaning (in a hand-written prompt
set, a request's opening words can give its cost away). The same learner is therefore run on these
features, with the same folds, and the hidden states are credited only with what they add beyond it.

Features: binary word unigrams and bigrams (lower-cased), plus the first :data:`LEAD_WORDS` words as
position-tagged tokens (``lead1=write``, ``lead2=write a``, ...) so that an opening-words cue is
available to the baseline as directly as any other word.

>>> lead_tokens("Write a short poem about rain", 2)
['__lead1=write', '__lead2=write a']
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from eh_bench.probes.cv import Featurizer, FloatArray

#: Opening words encoded with their position.
LEAD_WORDS: Final = 3
#: A word or bigram must occur in at least this many training prompts to become a feature.
MIN_DF: Final = 2
WORD_RE: Final = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """Lower-cased word tokens of ``text``."""
    return WORD_RE.findall(text.lower())


def lead_tokens(text: str, lead: int = LEAD_WORDS) -> list[str]:
    """Tokens for the first ``lead`` words: ``__leadK=`` followed by the first K words."""
    tokens = words(text)
    return [f"__lead{k}={' '.join(tokens[:k])}" for k in range(1, min(lead, len(tokens)) + 1)]


def document_tokens(text: str, lead: int = LEAD_WORDS) -> list[str]:
    """Every feature token of one prompt: words, word bigrams and the lead tokens."""
    tokens = words(text)
    bigrams = [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
    return [*tokens, *bigrams, *lead_tokens(text, lead)]


def bag_of_words(
    train: Sequence[str], test: Sequence[str], *, min_df: int = MIN_DF, lead: int = LEAD_WORDS
) -> tuple[FloatArray, FloatArray]:
    """Binary bag-of-words matrices for ``train`` and ``test``, with a vocabulary from ``train`` only.

    A vocabulary with no token kept (tiny training sets) falls back to ``min_df=1``; with still none,
    both matrices get one constant column, so a learner on them predicts the training mean.
    """
    train_docs = [set(document_tokens(t, lead)) for t in train]
    counts: dict[str, int] = {}
    for doc in train_docs:
        for token in doc:
            counts[token] = counts.get(token, 0) + 1
    vocab = sorted(t for t, c in counts.items() if c >= min_df) or sorted(counts)
    index = {t: i for i, t in enumerate(vocab)}

    def encode(docs: Sequence[set[str]]) -> FloatArray:
        out = np.zeros((len(docs), max(1, len(index))), dtype=np.float64)
        for row, doc in enumerate(docs):
            for token in doc:
                col = index.get(token)
                if col is not None:
                    out[row, col] = 1.0
        return out

    return encode(train_docs), encode([set(document_tokens(t, lead)) for t in test])


def bow_featurizer(texts: Sequence[str], *, min_df: int = MIN_DF, lead: int = LEAD_WORDS) -> Featurizer:
    """A :data:`~eh_bench.probes.cv.Featurizer` of bag-of-words features for ``texts``."""
    items = list(texts)

    def featurize(train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        return bag_of_words([items[i] for i in train], [items[i] for i in test], min_df=min_df, lead=lead)

    return featurize
