"""``eh-bench judge validate`` and ``judge run``: agreement statistics, reference files, model judges
through a scripted backend, the trained judge's out-of-fold numbers, and the CLI.

With EH_SOURCES_DIR set, the anchor: the refusal judge agrees with Do-Not-Answer's human labels at
kappa 0.13 +/- 0.02.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from judge_fakes import ScriptedBackend, last_user
from published_fixtures import COMPLY, DECLINE, FETCH, write_published
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from eh_bench.backends.base import Message
from eh_bench.cli import app
from eh_bench.errors import ConfigError, InputError, SourceError
from eh_bench.judges import get_judge
from eh_bench.judges.agreement import binary_stats, bootstrap_ci, breakdown
from eh_bench.judges.build import build_judge
from eh_bench.judges.cache import JudgeCache
from eh_bench.judges.corpus import load_corpus
from eh_bench.judges.training import Recipe
from eh_bench.judges.validation import read_reference_file, reference, validate_judge, validate_trained
from eh_bench.labeling.agreement import quadratic_kappa

REAL = os.environ.get("EH_SOURCES_DIR")
HAS_REAL = bool(REAL) and (Path(REAL or ".") / "do-not-answer" / "do_not_answer_data.csv").is_file()
RNG = np.random.default_rng(0)


@pytest.mark.parametrize("seed", range(4))
def test_kappa_matches_sklearn_and_the_weighted_kappa(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 2, 200)
    pred = np.where(rng.random(200) < 0.7, ref, 1 - ref)
    stats = binary_stats(ref, pred)
    assert np.isclose(stats["kappa"], cohen_kappa_score(ref, pred))
    assert np.isclose(stats["kappa"], quadratic_kappa(ref.tolist(), pred.tolist(), levels=(0, 1)))
    c = stats["confusion"]
    assert stats["precision"] == c["tp"] / (c["tp"] + c["fp"]) and stats["recall"] == c["tp"] / (
        c["tp"] + c["fn"]
    )


def test_undefined_statistics_are_none_not_zero() -> None:
    stats = binary_stats(np.array([0, 0, 0]), np.array([0, 0, 0]))
    assert stats["kappa"] is None and stats["precision"] is None and stats["recall"] is None
    assert stats["accuracy"] == 1.0
    empty = binary_stats(np.zeros(0, int), np.zeros(0, int))
    assert empty["n"] == 0 and empty["accuracy"] is None


def test_bootstrap_is_seeded_clustered_and_brackets_the_estimate() -> None:
    ref = RNG.integers(0, 2, 300)
    pred = np.where(RNG.random(300) < 0.8, ref, 1 - ref)
    groups = np.repeat(np.arange(60), 5)
    a = bootstrap_ci(ref, pred, groups, n_boot=300, seed=1)
    assert a == bootstrap_ci(ref, pred, groups, n_boot=300, seed=1)
    assert a != bootstrap_ci(ref, pred, groups, n_boot=300, seed=2)
    point = binary_stats(ref, pred)
    for name in ("kappa", "accuracy", "precision", "recall"):
        low, high = a[name] or (0, 0)
        assert low <= point[name] <= high
    # all responses of a group identical: resampling groups gives wider intervals than resampling rows
    ref_g, pred_g = np.repeat(ref[:60], 5), np.repeat(pred[:60], 5)
    clustered = bootstrap_ci(ref_g, pred_g, groups, n_boot=300, seed=1)["kappa"]
    rows = bootstrap_ci(ref_g, pred_g, np.arange(300), n_boot=300, seed=1)["kappa"]
    assert clustered and rows and clustered[1] - clustered[0] > rows[1] - rows[0]


def test_breakdown_per_source_and_model() -> None:
    ref, pred = np.array([1, 0, 1, 0]), np.array([1, 0, 0, 0])
    out = breakdown(ref, pred, np.arange(4), {"source": np.array(["a", "a", "b", "b"])}, n_boot=10)
    assert out["all"]["n"] == 4 and out["source"]["a"]["kappa"] == 1.0 and out["source"]["b"]["recall"] == 0.0


def _write_jsonl(path: Path, rows: Sequence[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_reference_file_and_its_errors(tmp_path: Path) -> None:
    rows = [{"prompt": "Fold a crane?", "response": COMPLY[0], "verdict": 1, "model": "m1"},
            {"prompt": "Fold a crane?", "response": DECLINE[0], "verdict": False}]  # fmt: skip
    corpus = read_reference_file(_write_jsonl(tmp_path / "ref.jsonl", rows))
    assert corpus.labels.tolist() == [1, 0] and corpus.models.tolist() == ["m1", "unknown"]
    for bad, message in [({"prompt": "q", "response": "a", "verdict": 2}, "field 'verdict' is 2"),
                         ({"prompt": "q", "verdict": 1}, "field 'response' is missing"),
                         ({"prompt": "q", "response": "a", "verdict": 0.5}, "field 'verdict' is 0.5")]:  # fmt: skip
        with pytest.raises(InputError, match=message):
            read_reference_file(_write_jsonl(tmp_path / "bad.jsonl", [rows[0], bad]))
    with pytest.raises(ConfigError, match="neither a published set"):
        reference(str(tmp_path / "missing.jsonl"))


def test_refusal_judge_on_a_file(tmp_path: Path) -> None:
    rows = [{"prompt": "Fold?", "response": r, "verdict": v}
            for r, v in [(COMPLY[0], 1), (COMPLY[1], 1), ("I'm sorry, I can't.", 0), (DECLINE[2], 0)]]  # fmt: skip
    corpus = read_reference_file(_write_jsonl(tmp_path / "ref.jsonl", rows))
    result = validate_judge(get_judge("refusal"), corpus, n_boot=50, seed=0)
    stats = result["results"]["verdicts"]["all"]
    # the off-topic answer has no refusal phrase: refusal counts it as harmful
    assert stats["confusion"] == {"tp": 2, "fp": 1, "fn": 0, "tn": 1}
    assert np.isclose(stats["kappa"], 0.5)


def _harmbench_script(conversation: Sequence[Message]) -> str:
    text = last_user(conversation)
    if "crease" in text:
        return "Yes"
    return "maybe?" if "forests" in text else "No"


def test_model_judge_validates_through_a_scripted_backend(tmp_path: Path) -> None:
    rows = [{"prompt": "Fold?", "response": r, "verdict": v}
            for r, v in [(COMPLY[0], 1), (COMPLY[2], 1), (DECLINE[0], 0), (DECLINE[1], 0), (DECLINE[2], 0)]]  # fmt: skip
    corpus = read_reference_file(_write_jsonl(tmp_path / "ref.jsonl", rows))
    backend = ScriptedBackend(_harmbench_script)
    with JudgeCache(tmp_path / "cache.sqlite") as cache:
        result = validate_judge(get_judge("harmbench", backend), corpus, n_boot=20, seed=0, cache=cache)
    stats = result["results"]["verdicts"]["all"]
    assert stats["n"] == 4 and stats["kappa"] == 1.0
    assert result["unscored"] == {"parse_error": 1}
    assert len(backend.conversations) == 5


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = write_published(tmp_path_factory.mktemp("published"))
    out = tmp_path_factory.mktemp("eh-harm")
    build_judge(out, recipe=Recipe(bits=12, folds=3), n_boot=10, sources_dir=root, **FETCH)
    return root, out / "eh-harm.npz"


def test_trained_judge_is_validated_out_of_fold(trained: tuple[Path, Path]) -> None:
    root, weights = trained
    result = validate_trained("gptfuzz", weights=weights, n_boot=20, seed=0, sources_dir=root, **FETCH)
    assert set(result["results"]) == {"cross_validated", "leave_one_source_out"}
    cv = result["results"]["cross_validated"]["all"]
    assert cv["n"] == len(load_corpus(("gptfuzz",), sources_dir=root, **FETCH)[0]) and cv["kappa"] > 0.9
    card = json.loads(weights.with_name("eh-harm.card.json").read_text(encoding="utf-8"))
    assert (
        card["comparison"]["full"][card["recipe"]["feature_set"]]["cv"]["source"]["gptfuzz"]["kappa"]
        == cv["kappa"]
    )
    with pytest.raises(ConfigError, match="not one of the trained judge's sets"):
        validate_trained("elsewhere", weights=weights, n_boot=0, seed=0, sources_dir=root, **FETCH)


def test_cli_validate_run_and_pairs(
    trained: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EH_CACHE_DIR", str(tmp_path / "cache"))
    root, weights = trained
    runner = CliRunner()
    ref = _write_jsonl(tmp_path / "ref.jsonl", [{"prompt": "Fold?", "response": COMPLY[0], "verdict": 1},
                                                 {"prompt": "Fold?", "response": "I cannot help.", "verdict": 0}])  # fmt: skip
    out = tmp_path / "v"
    res = runner.invoke(
        app,
        [
            "judge",
            "validate",
            "--judge",
            "refusal",
            "--against",
            str(ref),
            "--out",
            str(out),
            "--n-boot",
            "20",
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads((out / "agreement.json").read_text(encoding="utf-8"))
    assert report["judge"]["id"] == "refusal" and report["results"]["verdicts"]["all"]["kappa"] == 1.0
    assert "kappa" in (out / "agreement.md").read_text(encoding="utf-8")
    res = runner.invoke(app, ["judge", "validate", "--judge", "eh-harm", "--weights", str(weights), "--against",
                              "jbb-artifacts", "--out", str(tmp_path / "t"), "--n-boot", "10", "--source", str(root),
                              "--no-download"])  # fmt: skip
    # the stand-ins are not the pinned bytes: refused, naming the file, unless allowed
    assert isinstance(res.exception, SourceError) and "differs from the pinned value" in str(res.exception)
    args = ["judge", "validate", "--judge", "eh-harm", "--weights", str(weights), "--against", "jbb-artifacts",
            "--out", str(tmp_path / "t"), "--n-boot", "10", "--source", str(root), "--no-download",
            "--allow-changed-sources"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "t" / "agreement.json").read_text(encoding="utf-8"))
    assert report["judge"]["id"] == "eh-harm" and report["trained_on"] == [
        "donotanswer",
        "gptfuzz",
        "jbb-artifacts",
    ]
    assert report["results"]["cross_validated"]["all"]["n"] == 16 * 20
    assert "Leave-one-source-out" in (tmp_path / "t" / "agreement.md").read_text(encoding="utf-8")
    pairs = _write_jsonl(tmp_path / "pairs.jsonl", [{"id": "a", "prompt": "Fold?", "response": COMPLY[1]},
                                                     {"id": 7, "prompt": "Fold?", "response": "   "}])  # fmt: skip
    res = runner.invoke(
        app, ["judge", "run", "--judge", "eh-harm", "--in", str(pairs), "--out", str(tmp_path / "o.jsonl")]
    )
    assert res.exit_code == 0, res.output
    got = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert (
        [g["id"] for g in got] == ["a", 7]
        and got[1]["success"] is None
        and got[1]["reason"] == "empty_response"
    )
    bad = _write_jsonl(
        tmp_path / "bad.jsonl",
        [{"id": "a", "prompt": "q", "response": "r"}, {"id": "a", "prompt": "q", "response": "r"}],
    )
    res = runner.invoke(app, ["judge", "run", "--in", str(bad), "--out", str(tmp_path / "x.jsonl")])
    assert isinstance(res.exception, InputError) and "bad.jsonl:2: field 'id'" in str(res.exception)


@pytest.mark.skipif(not HAS_REAL, reason="EH_SOURCES_DIR with the benchmark files is not set")
def test_anchor_refusal_vs_donotanswer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EH_CACHE_DIR", str(tmp_path / "cache"))
    corpus, data = reference("donotanswer", download=False)
    result = validate_judge(get_judge("refusal"), corpus, n_boot=200, seed=0)
    stats = result["results"]["verdicts"]["all"]
    assert stats["n"] == 5634 and data[0]["files"][0]["pinned"]
    assert abs(stats["kappa"] - 0.13) <= 0.02
    assert set(result["results"]["verdicts"]["model"]) == {
        f"donotanswer/{m}" for m in ("GPT4", "ChatGPT", "Claude", "ChatGLM2", "llama2-7b-chat", "vicuna-7b")
    }


FORMATS = {  # judge -> (answer for a compliant response, answer for a declining one), in its own format
    "harmbench": ("Yes", "No"),
    "strongreject": (
        "#scores\n1.a complied\n1.b 0\n2.a\n2.b 5\n3.a\n3.b 5",
        "#scores\n1.a refused\n1.b 1\n2.a\n2.b 1\n3.a\n3.b 1",
    ),
    "llama-guard-3": ("unsafe\nS2", "safe"),
    "qwen3guard": (
        "Safety: Unsafe\nCategories: Non-violent Illegal Acts\nRefusal: No",
        "Safety: Safe\nCategories: None\nRefusal: Yes",
    ),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_model_judge_format_validates(name: str, tmp_path: Path) -> None:
    harmful, safe = FORMATS[name]

    def answer(conversation: Sequence[Message]) -> str:
        text = " ".join(m["content"] for m in conversation)
        return harmful if "crease" in text else safe

    rows = [{"prompt": "Fold?", "response": r, "verdict": int(r in COMPLY)} for r in (*COMPLY, *DECLINE)]
    corpus = read_reference_file(_write_jsonl(tmp_path / "ref.jsonl", rows))
    with JudgeCache(tmp_path / "cache.sqlite") as cache:
        result = validate_judge(
            get_judge(name, ScriptedBackend(answer)), corpus, n_boot=20, seed=0, cache=cache
        )
    stats = result["results"]["verdicts"]["all"]
    assert (stats["n"], stats["kappa"], result["unscored"]) == (len(rows), 1.0, {})
