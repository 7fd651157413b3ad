"""Model specs to lm-eval backends, task expansion, stratified samples and run options."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eh_bench.backends.embedded import ensure_model
from eh_bench.errors import ConfigError
from eh_bench.evaluation.catalog import BENIGN_TASKS, HARMFUL_TASKS
from eh_bench.evaluation.harness import (
    PLACEHOLDER_ENV,
    _in_process_bootstrap,
    _missing_answer_sentinel,
    expand_tasks,
    lm_eval_model,
    run_lm_eval,
    stratified_indices,
    stratified_samples,
)
from eh_bench.judges.base import NO_ANSWER


def test_embedded_model_maps_to_the_hf_backend_on_the_prepared_folder() -> None:
    spec = lm_eval_model("smollm2")
    prepared = ensure_model("smollm2")
    assert spec.backend == "hf" and spec.args == {"pretrained": str(prepared.path), "dtype": "float32"}
    assert spec.model_id == "smollm2" and spec.revision == prepared.checksum


def test_hf_specs(tmp_path: Path) -> None:
    local = lm_eval_model(f"hf:{tmp_path}", dtype="bfloat16")
    assert local.args == {"pretrained": str(tmp_path.resolve()), "dtype": "bfloat16"}
    assert local.model_id == tmp_path.name
    hub = lm_eval_model("hf:HuggingFaceTB/SmolLM2-135M-Instruct")
    assert hub.args["pretrained"] == hub.model_id == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_openai_spec_maps_to_local_chat_completions() -> None:
    spec = lm_eval_model("openai:http://127.0.0.1:9/v1#target", num_concurrent=3)
    assert spec.backend == "local-chat-completions" and spec.model_id == "target"
    assert spec.args["base_url"] == "http://127.0.0.1:9/v1/chat/completions"
    assert spec.args["num_concurrent"] == 3 and spec.args["tokenizer_backend"] == "none"


@pytest.mark.parametrize("spec", ["gpt-5", "vllm:x", "hf:", "openai:not-a-url#m", "openai:http://h:1/v1"])
def test_unknown_specs_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError):
        lm_eval_model(spec)


def test_expand_tasks_keeps_order_without_repeats() -> None:
    assert expand_tasks(["eh_jbb", "expected_harm", "expected_harm_benign"]) == [
        "eh_jbb", *[t for t in HARMFUL_TASKS if t != "eh_jbb"], *BENIGN_TASKS,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("costs", "per_cost", "want"),
    [
        ([1, 2, 3, 4, 5], 3, [0, 1, 2, 3, 4]),
        ([5, 5, 5], 2, 2),
        ([1] * 10 + [3] * 10, 4, 8),
        ([None, None], 1, []),
    ],
)
def test_stratified_indices(costs: list[int | None], per_cost: int, want: list[int] | int) -> None:
    got = stratified_indices(costs, per_cost, seed=1)
    assert got == sorted(set(got))
    if isinstance(want, int):
        assert len(got) == want
    else:
        assert got == want
    assert stratified_indices(costs, per_cost, seed=1) == got  # seeded


def test_stratified_samples_cover_every_cost_level_of_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EH_DATASET", raising=False)
    from eh_bench.dataset.load import core_rows

    (indices,) = stratified_samples(["eh_core"], 2).values()
    assert sorted(core_rows()[i]["cost"] for i in indices) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    with pytest.raises(ConfigError, match="eh-bench tasks"):
        stratified_samples(["hellaswag"], 2)
    with pytest.raises(ConfigError, match="per_cost"):
        stratified_indices([1], 0)


def test_limit_and_per_cost_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--limit or --per-cost"):
        run_lm_eval(lm_eval_model("hf:org/name"), ["eh_core"], tmp_path, limit=2, per_cost=1)


def test_small_bootstraps_run_in_process_and_the_environment_is_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DISABLE_MULTIPROC", raising=False)
    with _in_process_bootstrap(1000):
        assert os.environ["DISABLE_MULTIPROC"] == "1"
    assert "DISABLE_MULTIPROC" not in os.environ
    with _in_process_bootstrap(100_000):
        assert "DISABLE_MULTIPROC" not in os.environ
    monkeypatch.setenv("DISABLE_MULTIPROC", "")
    with _in_process_bootstrap(1000):
        assert os.environ["DISABLE_MULTIPROC"] == ""
    assert os.environ["DISABLE_MULTIPROC"] == ""


def test_stratified_indices_covers_every_core_cell_with_five_per_cost() -> None:
    from eh_bench.evaluation.lmeval import load_rows

    rows = load_rows("core")
    idx = stratified_indices(rows["cost"], 5, seed=3, severities=rows["severity"])
    cells = {(rows["cost"][i], rows["severity"][i]) for i in idx}
    assert len(idx) == 25
    assert cells == {(c, v) for c in range(1, 6) for v in range(1, 6)}


@pytest.mark.parametrize("per_cost", [1, 2, 3])
def test_per_cost_samples_spread_over_severity_too(per_cost: int) -> None:
    """On the 5 x 5 core grid every severity level is drawn equally often (old: only the lowest ones)."""
    from collections import Counter

    from eh_bench.evaluation.lmeval import load_rows

    rows = load_rows("core")
    for seed in (0, 1, 2):
        idx = stratified_indices(rows["cost"], per_cost, seed=seed, severities=rows["severity"])
        by_cost = Counter(rows["cost"][i] for i in idx)
        by_severity = Counter(rows["severity"][i] for i in idx)
        assert by_cost == dict.fromkeys(range(1, 6), per_cost)
        assert by_severity == dict.fromkeys(range(1, 6), per_cost), by_severity
        cells = [(rows["cost"][i], rows["severity"][i]) for i in idx]
        assert len(set(cells)) == len(cells), "never two requests of one cell while others are untouched"


def test_missing_api_answers_get_the_sentinel_and_it_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    import lm_eval.models.api_models as api_models

    monkeypatch.delenv(PLACEHOLDER_ENV, raising=False)
    before = api_models.LMEVAL_MODEL_NONE_ANSWER_PLACEHOLDER
    with _missing_answer_sentinel():
        assert os.environ[PLACEHOLDER_ENV] == NO_ANSWER
        assert api_models.LMEVAL_MODEL_NONE_ANSWER_PLACEHOLDER == NO_ANSWER
    assert PLACEHOLDER_ENV not in os.environ
    assert before == api_models.LMEVAL_MODEL_NONE_ANSWER_PLACEHOLDER
