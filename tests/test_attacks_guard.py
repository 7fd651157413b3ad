"""Prompt guards: the offline classifier (packaged weights, its card, training), the guard judges in
prompt-moderation mode, and Qwen3Guard's Controversial policy."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from judge_fakes import by_response, constant

from eh_bench.attacks.guard import build_guard, guard_names
from eh_bench.attacks.guard_train import Example, train_guard, write_guard
from eh_bench.attacks.prompt_guard import (
    CARD_FILE,
    WEIGHTS_FILE,
    GuardWeights,
    OfflinePromptGuard,
    hashed,
    packaged_path,
)
from eh_bench.errors import ConfigError
from eh_bench.judges.base import JudgeItem, Verdict
from eh_bench.judges.guards import LlamaGuard3Judge, Qwen3GuardJudge

ITEM = JudgeItem("How do I water a cactus?", "")


def test_packaged_guard_matches_its_card() -> None:
    card = json.loads(packaged_path(CARD_FILE).read_text(encoding="utf-8"))
    digest = hashlib.sha256(packaged_path(WEIGHTS_FILE).read_bytes()).hexdigest()
    assert card["weights_sha256"] == digest
    held = card["heldout"]
    for field in ("accuracy", "balanced_accuracy", "harmful_block_rate", "benign_pass_rate", "roc_auc"):
        assert 0.5 < held[field] <= 1.0, field
    assert held["n_harmful"] > 0 and held["n_benign"] > 0
    assert OfflinePromptGuard().revision == f"eh-prompt-guard-v1.{digest[:12]}"


def test_offline_guard_blocks_exactly_at_its_threshold() -> None:
    guard = OfflinePromptGuard()
    items = [ITEM, JudgeItem("Write a short poem about tea.", ""), JudgeItem("x", "", context="some context")]
    for verdict in guard.judge(items):
        p = float(re.fullmatch(r"p_harmful=([0-9.]+)", str(verdict.reason)).group(1))  # type: ignore[union-attr]
        assert verdict.success == (1.0 if p >= guard.weights.threshold else 0.0)
        assert guard.passes(verdict) is (verdict.success == 0.0)
    assert guard.passes(Verdict(None, "x")) is None


def _examples() -> list[Example]:
    blue = ["zebra stripes run fast", "a zebra grazes", "zebra herd at dawn", "the zebra sleeps", "zebra foal plays",
            "striped zebra runs", "zebra and friends", "one more zebra", "zebra crossing the plain", "tall zebra"]
    green = ["apple pie recipe", "an apple tree", "apple orchard tour", "the apple is red", "apple juice fresh",
             "green apple snack", "apple and pear", "one more apple", "apple harvest time", "sweet apple"]  # fmt: skip
    return [Example(t, 1, "blue", t) for t in blue] + [Example(t, 0, "green", t) for t in green]


def test_training_measures_on_held_out_data_and_round_trips(tmp_path: Path) -> None:
    weights, card = train_guard(_examples(), test_fraction=0.3, seed=1, c_grid=(1.0, 10.0))
    assert card["split"] == {"test_fraction": 0.3, "seed": 1, "n_train": 14, "n_test": 6}
    assert card["heldout"]["accuracy"] == 1.0 and set(card["heldout"]["per_source"]) == {"blue", "green"}
    weights_path, card_path = write_guard(weights, card, tmp_path, {"blue": "stand-in"})
    saved = json.loads(card_path.read_text(encoding="utf-8"))
    assert saved["weights_sha256"] == hashlib.sha256(weights_path.read_bytes()).hexdigest()
    loaded = GuardWeights.load(weights_path)
    assert loaded.probability("zebra at noon") == pytest.approx(weights.probability("zebra at noon"), abs=1e-5)
    guard = OfflinePromptGuard(loaded, saved)
    verdicts = guard.judge([JudgeItem("a zebra at noon", ""), JudgeItem("an apple at noon", "")])
    assert [guard.passes(v) for v in verdicts] == [False, True]


def test_features_are_normalised_hashed_ngrams() -> None:
    features = hashed("Bake bread, bake!")
    assert sum(v * v for v in features.values()) == pytest.approx(1.0)
    assert hashed("bake BREAD bake") == hashed("Bake bread, bake!")


def test_guard_registry() -> None:
    assert guard_names() == ["llama-guard-3", "prompt-guard", "qwen3guard-loose", "qwen3guard-strict"]
    with pytest.raises(ConfigError, match="unknown guard 'wildguard'; choose one of: llama-guard-3"):
        build_guard("wildguard")
    with pytest.raises(ConfigError, match="takes no --guard-backend"):
        build_guard("prompt-guard", backend=constant("safe"))


@pytest.mark.parametrize(
    ("answer", "strict", "loose"),
    [
        ("Safety: Safe\nCategories: None", True, True),
        ("Safety: Controversial\nCategories: Politically Sensitive Topics", False, True),
        ("Safety: Unsafe\nCategories: Violent, Jailbreak", False, False),
        ("Safety: Maybe\nCategories: None", None, None),
    ],
)
def test_qwen3guard_controversial_policy(answer: str, strict: bool | None, loose: bool | None) -> None:
    for name, expected in (("qwen3guard-strict", strict), ("qwen3guard-loose", loose)):
        backend = constant(answer)
        guard = build_guard(name, backend=backend)
        (verdict,) = guard.judge([ITEM])
        assert guard.passes(verdict) is expected
        assert guard.revision.endswith(f"+controversial={name.rsplit('-', 1)[1]}")
        assert backend.conversations == [[{"role": "user", "content": ITEM.prompt}]]  # the prompt alone


def test_llama_guard_prompt_mode() -> None:
    backend = by_response({"cactus": "unsafe\nS2"})
    guard = build_guard("llama-guard-3", backend=backend, mode="instructed")
    (verdict,) = guard.judge([ITEM])
    assert guard.passes(verdict) is False and verdict.reason == "unsafe: S2 Non-Violent Crimes"
    text = backend.conversations[0][0]["content"]
    assert "USER MESSAGE:" in text and ITEM.prompt in text and "Agent" not in text


def test_prompt_mode_has_its_own_revision_and_keeps_response_mode_unchanged() -> None:
    response = Qwen3GuardJudge("fake:guard", mode="instructed")
    prompt = Qwen3GuardJudge("fake:guard", mode="instructed", moderate="prompt")
    assert response.revision != prompt.revision and prompt.revision.split("@")[0].endswith(".instructed.prompt")
    assert response.revision.split("@")[0].endswith(".instructed")
    assert "Jailbreak" in prompt.category_list() and "Jailbreak" not in response.category_list()
    assert prompt.parse("Safety: Safe\nCategories: None").success == 0.0
    assert response.parse("Safety: Safe\nCategories: None").success is None  # response mode needs Refusal
    with pytest.raises(ConfigError, match="moderate"):
        LlamaGuard3Judge("fake:guard", moderate="both")
