"""The trained judge: hashed features, the fitted model, its artifact and card, and the registered judge.

Training runs on harmless stand-ins with a planted signal (tests/published_fixtures.py), small hash
blocks and few bootstrap replicates, so the whole file takes seconds.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from published_fixtures import COMPLY, DECLINE, FETCH, write_published

from eh_bench.errors import ConfigError
from eh_bench.judges import JudgeItem, get_judge
from eh_bench.judges.build import build_judge
from eh_bench.judges.corpus import Corpus, grouped_folds, leave_one_source_out, load_corpus, stratified_sample
from eh_bench.judges.features import FeatureSet, ngram_hashes
from eh_bench.judges.trained import DEFAULT_WEIGHTS, HarmModel, TrainedJudge
from eh_bench.judges.training import Recipe, fit_model, out_of_fold, sample_weights, to_csr
from eh_bench.sources.published import PublishedResponse

SMALL = Recipe(bits=12, folds=3)


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_published(tmp_path_factory.mktemp("published"))


@pytest.fixture(scope="module")
def corpus(stand_ins: Path) -> Corpus:
    return load_corpus(sources_dir=stand_ins, **FETCH)[0]


def test_features_batch_equals_rows_and_unit_norm() -> None:
    fs = FeatureSet(("resp_words", "resp_head", "resp_chars", "req_words", "overlap"), bits=10)
    prompts, responses = ["Fold a crane?", "Bake bread?", "Knit?"], ["Sure: fold it.", "", "I will not."]
    batch = fs.transform(prompts, responses)
    for i in range(3):
        one = fs.transform([prompts[i]], [responses[i]])
        lo, hi = batch.indptr[i], batch.indptr[i + 1]
        assert batch.indices[lo:hi].tolist() == one.indices.tolist()
        assert np.allclose(batch.values[lo:hi], one.values)
    block = 1 << 10
    first = fs.transform(prompts[:1], responses[:1])
    for k in range(4):  # each hashed namespace has unit length
        mask = (first.indices >= k * block) & (first.indices < (k + 1) * block)
        assert np.isclose(np.linalg.norm(first.values[mask]), 1.0)
    assert fs.transform(["Fold a crane?"], ["x"]).n_features == 4 * block + 2


def test_ngrams_stay_inside_their_row() -> None:
    codes = np.array([1, 2, 3], dtype=np.uint64)
    hashes, rows = ngram_hashes(codes, np.array([2, 1]), 1, 2, np.uint64(7))
    assert rows.tolist() == [0, 0, 1, 0]  # three unigrams, one bigram (1,2); never (2,3)
    joined, _ = ngram_hashes(codes, np.array([3]), 1, 2, np.uint64(7))
    assert set(hashes.tolist()) < set(joined.tolist())


def test_request_changes_features() -> None:
    fs = FeatureSet(("resp_head", "req_words"), bits=10)
    a = fs.transform(["Fold a crane?"], ["Sure."])
    b = fs.transform(["Bake bread?"], ["Sure."])
    assert a.indices[a.indices < 1024].tolist() == b.indices[b.indices < 1024].tolist()
    assert a.indices.tolist() != b.indices.tolist()


@pytest.mark.parametrize(
    ("namespaces", "bits"),
    [(("nope",), 12), ((), 12), (("req_words", "req_words"), 12), (("req_words",), 30)],
)
def test_feature_set_refuses_bad_specs(namespaces: tuple[str, ...], bits: int) -> None:
    with pytest.raises(ConfigError):
        FeatureSet(namespaces, bits)


def test_folds_are_grouped_seeded_and_cover_every_row(corpus: Corpus) -> None:
    folds = grouped_folds(corpus, k=3, seed=1)
    assert sorted(np.concatenate([t for _, t in folds]).tolist()) == list(range(len(corpus)))
    for train, test in folds:
        assert not set(corpus.groups[train]) & set(corpus.groups[test])
        assert set(corpus.sources[test]) == set(corpus.source_names())
    again = grouped_folds(corpus, k=3, seed=1)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again, strict=True))
    assert any((a[1] != b[1]).any() for a, b in zip(folds, grouped_folds(corpus, k=3, seed=2), strict=True))
    held = [s for s, _, _ in leave_one_source_out(corpus)]
    assert held == ["donotanswer", "gptfuzz", "jbb-artifacts"]


def test_stratified_sample_keeps_label_shares(corpus: Corpus) -> None:
    index = stratified_sample(corpus, 30, seed=0)
    sub = corpus.subset(index)
    for source in corpus.source_names():
        full_share = corpus.labels[corpus.sources == source].mean()
        assert (sub.sources == source).sum() <= 31
        assert abs(sub.labels[sub.sources == source].mean() - full_share) < 0.1


def test_sample_weights_balance_sources_and_classes() -> None:
    labels = np.array([1, 0, 0, 0, 1, 0])
    sources = np.array(["a", "a", "a", "a", "b", "b"])
    w = sample_weights(labels, sources, "source_balanced")
    assert np.isclose(w.sum(), 6) and np.isclose(w[sources == "a"].sum(), w[sources == "b"].sum())
    assert (sample_weights(labels, sources, "none") == 1).all()


def test_planted_signal_is_learned_out_of_fold(corpus: Corpus) -> None:
    x = to_csr(SMALL.features.transform(corpus.prompts, corpus.responses))
    probs = out_of_fold(x, corpus, grouped_folds(corpus, SMALL.folds, 0), SMALL)
    assert not np.isnan(probs).any()
    assert ((probs >= 0.5) == corpus.labels.astype(bool)).mean() > 0.95


def test_fit_is_reproducible_and_saves_weights_only(corpus: Corpus, tmp_path: Path) -> None:
    a, b = fit_model(corpus, SMALL), fit_model(corpus, SMALL)
    assert a.revision == b.revision
    assert fit_model(corpus, replace(SMALL, c=0.1)).revision != a.revision
    path = tmp_path / "w.npz"
    assert a.save(path) == a.revision == HarmModel.load(path).revision
    with np.load(path) as data:
        assert sorted(data.files) == [
            "bias",
            "bits",
            "format",
            "indices",
            "namespaces",
            "threshold",
            "values",
        ]
        assert data["values"].dtype == np.float32


def test_judge_verdicts_and_unscored(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    fit_model(corpus, SMALL).save(path)
    judge = get_judge("eh-harm", weights=str(path))
    assert (
        isinstance(judge, TrainedJudge) and judge.revision == f"eh-harm.{HarmModel.load(path).weights_sha256}"
    )
    items = [JudgeItem("How do I fold a swan?", COMPLY[0]), JudgeItem("How do I fold a swan?", DECLINE[0]),
             JudgeItem("How do I fold a swan?", "  "), JudgeItem(" ", COMPLY[0])]  # fmt: skip
    verdicts = judge.judge(items)
    assert [v.success for v in verdicts] == [1.0, 0.0, None, None]
    assert [v.reason for v in verdicts[2:]] == ["empty_response", "empty_request"]
    assert verdicts[0].reason is not None and verdicts[0].reason.startswith("p_harmful=")
    strict = TrainedJudge(weights=str(path), threshold=0.999999)
    assert strict.revision != judge.revision and strict.judge(items[:1])[0].success == 0.0


def test_missing_or_bad_weights(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="eh-harm weights not found"):
        HarmModel.load(tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, format=np.array("other"))
    with pytest.raises(
        ConfigError, match=r"bad.npz: not an eh-harm weights file .*expected eh-harm-weights-1"
    ):
        HarmModel.load(bad)


def test_build_writes_artifact_and_card_without_text(stand_ins: Path, tmp_path: Path) -> None:
    result = build_judge(tmp_path / "out", recipe=SMALL, n_boot=20, sources_dir=stand_ins, **FETCH)
    card = json.loads(result.card_json.read_text(encoding="utf-8"))
    assert card["judge"]["revision"] == result.revision == HarmModel.load(result.weights).revision
    full = card["comparison"]["full"]
    assert set(full) == {"words", "chars", "refusal (baseline)"}
    assert card["comparison"]["best"] in ("words", "chars")
    assert full["words"]["cv"]["all"]["kappa"] > 0.9
    assert set(full["words"]["loso"]["held_out"]) == {"donotanswer", "gptfuzz", "jbb-artifacts"}
    assert [d["set"] for d in card["data"]] == ["donotanswer", "gptfuzz", "jbb-artifacts"]
    markdown = result.card_md.read_text(encoding="utf-8")
    assert "LOSO mean" in markdown and result.revision in markdown
    for path in (result.weights, result.card_json, result.card_md):  # no response text anywhere
        blob = path.read_bytes()
        assert not any(text[:40].encode() in blob for text in COMPLY + DECLINE)


def test_shipped_weights_load_and_match_their_card() -> None:
    judge = TrainedJudge()
    card = json.loads(DEFAULT_WEIGHTS.with_name("eh-harm.card.json").read_text(encoding="utf-8"))
    assert judge.revision == card["judge"]["revision"]
    assert card["recipe"]["feature_set"] == card["comparison"]["best"]
    verdicts = judge.judge([JudgeItem("How do I fold a crane?", "I'm sorry, but I can't help with that.")])
    assert verdicts[0].success == 0.0


def test_corpus_keeps_only_judgeable_rows() -> None:
    rows = [PublishedResponse("s", "m", "direct", "s:1", "q", None, 0), PublishedResponse("s", "m", "direct", "s:1", "q", "a", None),
            PublishedResponse("s", "m", "direct", "s:1", "q", "a", 1)]  # fmt: skip
    assert len(Corpus.from_rows(rows)) == 1


def test_shipped_judge_runs_without_extras() -> None:
    from test_import import run_blocked

    proc = run_blocked(
        "from eh_bench.judges import get_judge, JudgeItem\n"
        "j = get_judge('eh-harm')\n"
        "print(j.judge([JudgeItem('Fold a crane?', 'I am sorry, I cannot help with that.')])[0].success)"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0.0"]


@pytest.mark.slow
def test_hidden_state_features_cache_and_comparison(corpus: Corpus, tmp_path: Path) -> None:
    from eh_bench.judges.comparison import HIDDEN, compare
    from eh_bench.judges.hidden import HIDDEN_SIZE, LAYERS, HiddenFeatures, cached_transform

    features = HiddenFeatures(threads=2)
    pairs = [("How do I fold a crane?", COMPLY[0]), ("How do I fold a crane?", DECLINE[0])]
    cache = tmp_path / "hidden.npz"
    x = cached_transform(features, pairs, cache)
    assert x.shape == (2, len(LAYERS) * HIDDEN_SIZE) and np.isfinite(x).all()
    other_request = features.transform([("How do I bake bread?", COMPLY[0])])[0]
    assert not np.allclose(x[0], other_request, atol=1e-3)  # the vector depends on the request too
    computed: list[int] = []
    real = features.transform
    features.transform = lambda p, progress=None: computed.append(len(p)) or real(p, progress)  # type: ignore[method-assign]
    again = cached_transform(features, [*pairs, ("Knit a scarf?", DECLINE[1])], cache)
    assert computed == [1] and np.allclose(again[:2], x)
    assert not any(text[:30].encode() in cache.read_bytes() for text in COMPLY + DECLINE)
    result = compare(corpus, SMALL, hidden_per_source=10, hidden_cache=tmp_path / "h2.npz", n_boot=10)
    sub = result["subsample"]
    assert sub["per_source"] == 10 and {HIDDEN, "words", "chars", "refusal (baseline)"} <= set(sub)
    assert sub[HIDDEN]["n"] == sub["words"]["n"] and sub[HIDDEN]["cost_us_per_response"] > 0
    assert set(sub[HIDDEN]["loso"]["held_out"]) == {"donotanswer", "gptfuzz", "jbb-artifacts"}
