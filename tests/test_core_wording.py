"""The core set's wording must not give its cost away, and its labels follow the rubric v2 rule.

A bag-of-words classifier is trained, with repeated stratified 5-fold cross-validation, to predict a core
request's cost level (5 balanced classes: chance is 20%) from (a) the request's first three words and
(b) the whole request minus its *topic words* (words used by the requests of one harm category only).
Either reaching more than 30% accuracy means the wording carries the cost, so a probe or a model could
key on it. Words that are not topic words and that only one cost level uses are refused outright.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from eh_bench import rubric

DATA_DIR = Path(__file__).parents[1] / "eh_bench" / "data"
#: Highest cross-validated accuracy allowed (chance is 1 / 5).
MAX_ACCURACY = 0.30
N_SPLITS, N_REPEATS, SEED = 5, 5, 0
#: A word in at least this many requests, all of one cost level, is a cue word.
MIN_CUE_USES = 3
#: Each cost level opens its requests in at least this many ways, none used by more than MAX_OPENER_SHARE.
MIN_OPENERS_PER_LEVEL = 15
MAX_OPENER_SHARE = 0.2
_WORD = re.compile(r"[a-z]+")


def load(name: str) -> list[dict[str, Any]]:
    lines = (DATA_DIR / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


CORE = load("core")
TOKENS = [_WORD.findall(r["prompt"].lower()) for r in CORE]
COSTS = np.array([r["cost"] for r in CORE])


def topic_words() -> set[str]:
    """Words that occur in the requests of exactly one harm category."""
    categories: dict[str, set[str]] = defaultdict(set)
    for tokens, row in zip(TOKENS, CORE, strict=True):
        for word in tokens:
            categories[word].add(row["harm_category"])
    return {w for w, cats in categories.items() if len(cats) == 1}


def _with_bigrams(doc: str) -> list[str]:
    tokens = doc.split()
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


def cv_accuracy(docs: list[list[str]]) -> dict[str, float]:
    """Mean cross-validated accuracy of two bag-of-words classifiers predicting cost from ``docs``."""
    folds = RepeatedStratifiedKFold(n_splits=N_SPLITS, n_repeats=N_REPEATS, random_state=SEED)
    out = {}
    for name, model in (("logistic", LogisticRegression(max_iter=2000)), ("naive_bayes", MultinomialNB())):
        pipe = make_pipeline(CountVectorizer(analyzer=_with_bigrams), model)
        out[name] = float(cross_val_score(pipe, [" ".join(d) for d in docs], COSTS, cv=folds).mean())
    return out


def test_costs_are_balanced_so_chance_is_one_fifth() -> None:
    assert Counter(COSTS.tolist()) == {level: len(CORE) // 5 for level in rubric.LEVELS}


def test_first_three_words_do_not_predict_cost() -> None:
    scores = cv_accuracy([t[:3] for t in TOKENS])
    print(f"cost from the first three words: {scores} (chance 0.20)")
    assert max(scores.values()) <= MAX_ACCURACY, scores


def test_prompt_minus_topic_words_does_not_predict_cost() -> None:
    topic = topic_words()
    scores = cv_accuracy([[w for w in t if w not in topic] for t in TOKENS])
    print(f"cost from the prompt minus topic words: {scores} (chance 0.20)")
    assert max(scores.values()) <= MAX_ACCURACY, scores


def test_no_cue_word_belongs_to_one_cost_level() -> None:
    topic = topic_words()
    levels: dict[str, Counter[int]] = defaultdict(Counter)
    for tokens, cost in zip(TOKENS, COSTS.tolist(), strict=True):
        for word in set(tokens) - topic:
            levels[word][cost] += 1
    cues = {w: dict(c) for w, c in levels.items() if sum(c.values()) >= MIN_CUE_USES and len(c) == 1}
    assert not cues, cues


@pytest.mark.parametrize("level", rubric.LEVELS)
def test_every_cost_level_opens_in_varied_ways(level: int) -> None:
    openers = Counter(" ".join(t[:3]) for t, cost in zip(TOKENS, COSTS.tolist(), strict=True) if cost == level)
    assert len(openers) >= MIN_OPENERS_PER_LEVEL, openers
    assert max(openers.values()) <= MAX_OPENER_SHARE * sum(openers.values()), openers.most_common(3)


@pytest.mark.parametrize("name", ["core", "core_benign"])
def test_core_costs_follow_the_factor_rule(name: str) -> None:
    for i, row in enumerate(load(name), start=1):
        label = rubric.validate_label(row, where=f"{name}.jsonl:{i}")
        assert rubric.cost_rule_problem(label) is None, f"{name}.jsonl:{i}: {rubric.cost_rule_problem(label)}"


def test_core_rationales_do_not_echo_their_request() -> None:
    for row, prompt in zip(CORE, TOKENS, strict=True):
        own = _WORD.findall(row["rationale"].lower())
        runs = {tuple(prompt[i : i + 5]) for i in range(len(prompt) - 4)}
        assert not any(tuple(own[i : i + 5]) in runs for i in range(len(own))), row["source_id"]
        long = [w for w in own if len(w) > 3]
        assert sum(w in set(prompt) for w in long) < 0.5 * len(long), row["source_id"]
