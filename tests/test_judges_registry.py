"""The judge registry: names, construction, options, backends."""

from __future__ import annotations

import pytest
from judge_fakes import constant
from test_import import run_blocked

from eh_bench.errors import ConfigError
from eh_bench.judges import (
    DEFAULT_JUDGE,
    Judge,
    JudgeItem,
    get_judge,
    judge_info,
    judge_metadata,
    judge_names,
)
from eh_bench.judges.registry import register

EXPECTED = {
    "eh-harm": "eh-harm",
    "harmbench": "harmbench-yesno",
    "llama-guard-3": "llama-guard-3",
    "qwen3guard": "qwen3guard-gen",
    "refusal": "refusal",
    "strongreject": "strongreject-rubric",
    "usefulness": "usefulness-yesno",
}


def test_all_judges_are_registered() -> None:
    assert judge_names() == sorted(EXPECTED)
    assert DEFAULT_JUDGE == "refusal"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_judge_builds_and_satisfies_the_protocol(name: str) -> None:
    backend = None if name in ("refusal", "eh-harm") else constant("x", spec="fake:judge")
    judge = get_judge(name, backend)
    assert isinstance(judge, Judge)
    assert judge.id == EXPECTED[name]
    assert judge.revision.startswith(judge.id)
    if backend is not None:
        assert judge.revision.endswith("@fake:judge")
        assert judge_info(name).uses_backend
    (verdict,) = judge.judge([JudgeItem("Bake a cake?", "x")])
    assert verdict.success is None or 0.0 <= verdict.success <= 1.0


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(
        ConfigError, match="unknown judge 'gpt-judge'; choose one of: eh-harm, harmbench, llama-guard-3"
    ):
        get_judge("gpt-judge")


def test_options_are_checked_and_passed() -> None:
    assert get_judge("harmbench", constant("Yes"), max_new_tokens=3).max_new_tokens == 3  # type: ignore[attr-defined]
    assert get_judge("refusal", window=64).window == 64  # type: ignore[attr-defined]
    assert get_judge("qwen3guard", constant("x"), mode="instructed").mode == "instructed"  # type: ignore[attr-defined]
    with pytest.raises(
        ConfigError, match="judge 'refusal' has no option 'temperature'; its options: window, markers"
    ):
        get_judge("refusal", temperature=0.5)
    with pytest.raises(ConfigError, match="its options: max_new_tokens"):
        get_judge("usefulness", constant("x"), mode="native")


def test_refusal_takes_no_backend() -> None:
    with pytest.raises(ConfigError, match="string-based and takes no backend"):
        get_judge("refusal", "smollm2")


def test_spec_string_backend_is_recorded_without_loading() -> None:
    judge = get_judge("strongreject", "openai:http://127.0.0.1:1/v1#grader")
    assert judge.revision.endswith("@openai:http://127.0.0.1:1/v1#grader")


def test_duplicate_registration_is_refused() -> None:
    with pytest.raises(ConfigError, match="already registered"):
        register("refusal", judge_info("refusal").factory, "again")


def test_judge_metadata_for_reports() -> None:
    assert judge_metadata(get_judge("refusal")) == {
        "id": "refusal",
        "revision": get_judge("refusal").revision,
        "backend": None,
    }
    meta = judge_metadata(get_judge("harmbench", "openai:http://127.0.0.1:1/v1#j"))
    assert meta["id"] == "harmbench-yesno" and meta["backend"] == "openai:http://127.0.0.1:1/v1#j"
    assert meta["revision"] is not None and meta["revision"].endswith("@openai:http://127.0.0.1:1/v1#j")


def test_judges_import_and_run_without_extras() -> None:
    proc = run_blocked(
        "from eh_bench.judges import get_judge, judge_names, refusal_verdict, JudgeItem\n"
        "j = get_judge('harmbench', 'openai:http://127.0.0.1:1/v1#j')\n"
        'print(len(judge_names()), refusal_verdict("I can\'t.").success, j.id)'
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["7", "0.0", "harmbench-yesno"]
