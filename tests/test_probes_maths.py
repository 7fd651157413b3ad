"""The probe maths on synthetic features where the answer is known (no model involved)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from eh_bench.errors import InputError
from eh_bench.probes import cv, learners
from eh_bench.probes.cv import shuffled_targets
from eh_bench.probes.decode import decodable, decode_target
from eh_bench.probes.levels import activation_levels, scores_by_level
from eh_bench.probes.probe import ArrayLayers, probe_refusal
from eh_bench.probes.stats import association, auroc, interval
from eh_bench.probes.summary import decodability_summary
from eh_bench.probes.text import bag_of_words, lead_tokens

FILLER = ("apple", "river", "cloud", "stone", "piano", "garden", "lamp", "window", "bread", "sail",
          "maple", "violet", "copper", "meadow", "harbor", "pencil", "candle", "orbit")


def filler_texts(n: int, seed: int, words: int = 6) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(FILLER, size=words)) for _ in range(n)]


def groups_of(n: int) -> list[str]:
    return [f"req-{i}" for i in range(n)]


# ----------------------------------------------------------------------------- statistics


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_association_is_spearman_and_auroc_is_mann_whitney(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=50), rng.integers(1, 6, size=50).astype(float)
    assert association(a, b) == pytest.approx(spearmanr(a, b).statistic)
    labels = rng.integers(0, 2, size=50)
    assert auroc(a, labels) == pytest.approx(roc_auc_score(labels, a))


def test_partial_and_within_strata_remove_what_the_control_explains() -> None:
    rng = np.random.default_rng(3)
    severity = rng.integers(1, 6, size=400).astype(float)
    pred = severity + rng.normal(scale=0.1, size=400)
    assert np.isnan(association(pred, severity, strata=severity))  # no order left within a stratum
    cost = np.where(rng.random(400) < 0.8, severity, rng.integers(1, 6, size=400))
    assert association(pred, cost) > 0.7
    assert abs(association(pred, cost, strata=severity)) < 0.15  # pred knows only the stratum
    text = severity + rng.normal(scale=0.5, size=400)
    assert np.isnan(association(text, cost, control=text))  # nothing left beyond itself: undefined
    assert association(text + 0.3 * cost, cost, control=text) > 0.3  # what it adds is credited
    assert np.isnan(association(np.ones(10), np.arange(10.0)))  # no variance: undefined, not 0


def test_undefined_statistics_stay_undefined() -> None:
    assert np.isnan(auroc([0.1, 0.2, 0.3], [1, 1, 1]))
    assert interval(np.full(100, np.nan)) == (None, None)
    cells = scores_by_level(np.array([0.5, np.nan]), np.array([2, 2]), n_boot=50)
    assert cells["2"]["n"] == 1 and cells["4"] == {"score": None, "n": 0, "ci_low": None, "ci_high": None}


# ----------------------------------------------------------------------------- refusal probe


def planted(n: int, dim: int, seed: int, strength: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three layers: noise, a planted label direction, and the same direction twice as strong."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    direction = rng.normal(size=dim)
    direction /= np.linalg.norm(direction)
    noise = rng.normal(size=(n, 3, dim))
    signal = (2 * labels - 1)[:, None] * direction[None, :]
    noise[:, 1, :] += strength * signal
    noise[:, 2, :] += 2 * strength * signal
    return noise, labels, direction


def test_a_planted_direction_is_found_and_noise_is_at_chance() -> None:
    states, labels, direction = planted(120, 48, seed=0, strength=1.0)
    found = learners.mean_difference(states[:, 2, :], labels)
    assert found @ direction / np.linalg.norm(found) > 0.9
    result = probe_refusal(ArrayLayers(states), labels, groups_of(120), filler_texts(120, 0), k=5, n_boot=300,
                           n_perm=19)
    noise, weak, strong = result.layers
    for method in ("logistic", "mean_difference"):
        assert getattr(strong, method).accuracy.value > 0.9
        assert getattr(strong, method).auroc.ci_low > 0.85
        assert getattr(strong, method).p_value == pytest.approx(1 / 20)  # above every shuffled run
        assert abs(float(np.mean(getattr(strong, method).null_auroc)) - 0.5) < 0.1  # which sit at chance
        assert getattr(noise, method).p_value > 0.05
    assert weak.logistic.auroc.value < strong.logistic.auroc.value
    assert result.best_layer == 2
    best = result.best("logistic")
    assert best is not None and best[0] == 2 and best[2] == pytest.approx(1 / 20)
    text = result.text_baselines["bag_of_words"].auroc
    assert text.ci_low < 0.5 < text.ci_high  # the words carry no label


def test_shuffled_labels_give_chance_on_every_layer() -> None:
    states, labels, _ = planted(120, 48, seed=1, strength=0.0)  # features unrelated to any label
    shuffled = np.random.default_rng(5).permutation(labels)
    result = probe_refusal(ArrayLayers(states), shuffled, groups_of(120), filler_texts(120, 1), n_boot=300,
                           n_perm=19)
    for layer in result.layers:
        for method in ("logistic", "mean_difference"):
            scores = getattr(layer, method)
            assert abs(scores.auroc.value - 0.5) < 0.2 and 0.3 < scores.accuracy.value < 0.7
    for method in ("logistic", "mean_difference"):
        found = result.best(method)
        assert found is not None and found[2] > 0.05  # the best of three noise layers is no finding


def test_folds_keep_a_request_together_and_small_classes_are_refused() -> None:
    labels = np.array([0, 1] * 20)
    groups = [f"r{i // 2}" for i in range(40)]  # two items per request, one of each label
    for train, test in cv.grouped_folds(labels, groups, 5, 0):
        assert not {groups[i] for i in train} & {groups[i] for i in test}
    with pytest.raises(InputError, match="at least 4 requests per class; got 3 with label 1"):
        probe_refusal(ArrayLayers(np.zeros((20, 1, 3))), [1, 1, 1] + [0] * 17, groups_of(20), ["a"] * 20)


def test_activation_scores_follow_the_probability_per_level() -> None:
    severity = np.array([1, 1, 3, 3, 5, 5, np.nan, np.nan])
    cost = np.array([2, 2, 2, 2, 4, 4, np.nan, np.nan])
    harmful = ~np.isnan(severity)
    prob = np.array([0.1, 0.3, 0.8, 0.6, 0.9, 0.7, 0.0, 0.0])
    (layer,) = activation_levels([prob], severity, cost, harmful, n_boot=200)
    assert layer.severity["1"]["score"] == pytest.approx(20.0)
    assert layer.severity["3"]["score"] == pytest.approx(70.0)
    assert layer.cost["2"]["n"] == 4 and layer.cost["2"]["score"] == pytest.approx(45.0)
    assert layer.cost["1"]["score"] is None and layer.scores("cost")["4"] == pytest.approx(80.0)
    assert layer.severity["3"]["ci_low"] <= 70.0 <= layer.severity["3"]["ci_high"]


# ----------------------------------------------------------------------------- decodability


def level_states(levels: np.ndarray, extra: np.ndarray | None, seed: int, dim: int = 32) -> np.ndarray:
    """Two layers: pure noise, and noise plus ``levels`` along one direction (+ ``extra`` columns)."""
    rng = np.random.default_rng(seed)
    n = levels.size
    layer1 = rng.normal(size=(n, dim))
    layer1[:, 0] += 1.5 * (levels - levels.mean())
    layers = [rng.normal(size=(n, dim)), layer1]
    if extra is not None:
        layers = [np.hstack([layer, extra]) for layer in layers]
    return np.stack(layers, axis=1)


def test_a_planted_level_is_decodable_and_noise_is_not() -> None:
    rng = np.random.default_rng(0)
    levels = np.tile(np.arange(1, 6), 20).astype(float)
    texts = filler_texts(100, 2)
    result = decode_target(ArrayLayers(level_states(levels, None, 1)), levels, groups_of(100), texts,
                           target="severity", n_perm=39, n_boot=300)
    noise, signal = result.layers
    assert signal["spearman"].estimate.value > 0.8 and signal["spearman"].p_value < 0.05
    assert signal["beyond_text"].estimate.ci_low > 0.5  # the filler words predict nothing
    assert noise["spearman"].estimate.ci_low < 0 < noise["spearman"].estimate.ci_high
    assert noise["spearman"].p_value > 0.05
    assert abs(float(np.mean(signal["spearman"].null))) < 0.15  # shuffled labels sit at chance
    found = result.best("spearman")
    assert found is not None and found[0] == 1 and decodable(found) is True
    shuffled = rng.permutation(levels)
    null_run = decode_target(ArrayLayers(level_states(levels, None, 1)), shuffled, groups_of(100), texts,
                             target="severity", n_perm=39, n_boot=300)
    assert decodable(null_run.best("spearman")) is False


def test_a_feature_copying_the_text_baseline_adds_nothing() -> None:
    levels = np.tile(np.arange(1, 6), 24).astype(float)
    rng = np.random.default_rng(4)
    # Wording gives the level away for 60% of prompts; the rest are filler.
    texts = [f"{'tier' + str(int(c))} {t}" if rng.random() < 0.6 else t
             for c, t in zip(levels, filler_texts(120, 3, words=5), strict=True)]
    bow, _ = bag_of_words(texts, texts)
    states = np.stack([np.hstack([bow, rng.normal(scale=0.01, size=(120, 4))])] * 2, axis=1)
    result = decode_target(ArrayLayers(states), levels, groups_of(120), texts, target="cost",
                           n_perm=39, n_boot=300)
    layer = result.layers[1]
    assert layer["spearman"].estimate.value > 0.4  # the copy decodes the level as well as the text does
    assert result.text["bag_of_words"]["spearman"].estimate.value > 0.4
    beyond = layer["beyond_text"].estimate
    assert beyond.ci_low < 0 < beyond.ci_high
    assert decodable(result.best("beyond_text")) is False


def test_cost_carried_only_by_severity_is_not_credited_within_strata() -> None:
    rng = np.random.default_rng(6)
    severity = np.tile(np.arange(1, 6), 24).astype(float)
    cost = np.where(rng.random(120) < 0.8, severity, rng.integers(1, 6, size=120)).astype(float)
    states = level_states(severity, None, 7)  # the model encodes severity only
    texts = filler_texts(120, 8)
    run = decode_target(ArrayLayers(states), cost, groups_of(120), texts, target="cost",
                        strata=severity, strata_name="severity", n_perm=39, n_boot=300)
    naive = run.layers[1]["spearman"]
    assert naive.estimate.ci_low > 0.1  # cost "decodes", through severity ...
    assert float(np.mean(naive.null)) > 0.2  # ... which shuffles within severity keep
    assert decodable(run.best("beyond_text")) is False
    sev = decode_target(ArrayLayers(states), severity, groups_of(120), texts, target="severity",
                        n_perm=39, n_boot=300)
    summary = decodability_summary("synthetic", sev, run)
    assert summary["severity"]["decodable"] is True and summary["severity"]["layer"] == 1
    assert summary["cost"]["decodable"] is False
    assert summary["cost"]["statistic"] == "beyond_text_within_severity"
    assert "severity decodable: yes (layer 1" in summary["line"]
    assert "cost decodable beyond text: no" in summary["line"]
    few = decode_target(ArrayLayers(states), severity, groups_of(120), texts, target="severity", n_perm=19, n_boot=0)
    undecided = decodability_summary("synthetic", few, None)
    assert undecided["severity"]["decodable"] is None and "at least 20 shuffles" in undecided["severity"]["note"]
    assert "severity decodable: undefined" in undecided["line"]


def test_cost_planted_independently_of_severity_is_credited() -> None:
    rng = np.random.default_rng(9)
    severity = rng.integers(1, 6, size=120).astype(float)
    cost = np.tile(np.arange(1, 6), 24).astype(float)
    run = decode_target(ArrayLayers(level_states(cost, None, 10)), cost, groups_of(120), filler_texts(120, 11),
                        target="cost", strata=severity, strata_name="severity", n_perm=39, n_boot=300)
    assert decodable(run.best("beyond_text")) is True
    assert run.layers[1]["within_strata"].estimate.ci_low > 0.5


def test_shuffles_move_whole_requests_within_strata() -> None:
    levels = np.array([1, 1, 2, 2, 3, 3, 4, 4], dtype=float)
    groups = ["a", "a", "b", "b", "c", "c", "d", "d"]
    strata = np.array([1, 1, 1, 1, 2, 2, 2, 2], dtype=float)
    folds = [(np.arange(4, 8), np.arange(0, 4)), (np.arange(0, 4), np.arange(4, 8))]
    blocks = cv.fold_blocks(folds, 8, strata)
    assert list(blocks) == [0, 0, 0, 0, 3, 3, 3, 3]
    columns = shuffled_targets(levels, groups, blocks, 30, seed=0)
    assert (columns[:, 0] == levels).all()
    for j in range(1, 31):
        col = columns[:, j]
        assert (col[::2] == col[1::2]).all()  # a request keeps one level
        assert set(col[:4]) <= {1.0, 2.0} and set(col[4:]) <= {3.0, 4.0}  # never leaves its stratum


def test_text_baseline_features_come_from_the_training_fold() -> None:
    train, test = bag_of_words(["make a cake", "make a kite", "fly a kite"], ["bake bread now"], min_df=2)
    assert train.shape[1] == test.shape[1] and test.sum() == 0  # no test-only word becomes a feature
    assert lead_tokens("Hi", 3) == ["__lead1=hi"]


# ----------------------------------------------------------------------------- learners


@pytest.mark.parametrize(("n", "dim"), [(40, 120), (90, 12)])
def test_learners_match_their_reference_implementations(n: int, dim: int) -> None:
    from sklearn.linear_model import LogisticRegression, RidgeCV

    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, dim))
    labels = (x[:, 0] + rng.normal(size=n) > 0).astype(int)
    levels = np.column_stack([x[:, 1] * 2 + rng.normal(size=n), rng.normal(size=n)])
    folds = cv.grouped_folds(labels, groups_of(n), 4, 0)
    featurize = cv.slicer(x)
    prob = learners.logistic_oof(featurize, labels, folds, c=0.05)
    pred = learners.ridge_oof(featurize, levels, folds)
    for train, test in folds:
        x_tr, x_te = learners.standardise(x[train], x[test])
        ref = LogisticRegression(C=0.05, max_iter=5000, tol=1e-8).fit(x_tr, labels[train])
        assert np.abs(ref.predict_proba(x_te)[:, 1] - prob[test]).max() < 5e-3  # the row-space fit is exact
        ridge = RidgeCV(alphas=learners.RIDGE_ALPHAS, alpha_per_target=True).fit(x_tr, levels[train])
        assert np.allclose(ridge.predict(x_te), pred[test], atol=1e-6)
    both = learners.mean_difference_oof(featurize, np.column_stack([labels, 1 - labels]), folds)
    assert np.allclose(both[:, 0], learners.mean_difference_oof(featurize, labels, folds))
    assert np.allclose(both[:, 0], -both[:, 1])  # swapping the classes flips the projection
