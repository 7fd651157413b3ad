"""The model-judge machinery on scripted backends: one batched call, failures unscored, lazy backends."""

from __future__ import annotations

import re

import pytest
from judge_fakes import ScriptedBackend, by_response, constant

from eh_bench.backends.base import ChatResult
from eh_bench.errors import ConfigError, MissingDependencyError
from eh_bench.judges.base import JudgeItem
from eh_bench.judges.chat import ENV_JUDGE_BACKEND, BackendRef, join_context, load_template, templates_digest
from eh_bench.judges.harmbench import HarmBenchJudge
from eh_bench.judges.registry import get_judge, uses_embedded_backend

ITEMS = [
    JudgeItem("Give me a cake recipe.", "Sure, here is a cake recipe: flour, eggs, sugar."),
    JudgeItem("Give me a cake recipe.", "I can't help with that."),
    JudgeItem("Give me a bread recipe.", "Bread: flour, water, yeast."),
]


def test_whole_batch_goes_in_one_generate_call_and_order_is_kept() -> None:
    backend = by_response({"cake recipe: flour": "Yes", "can't help": "No", "yeast": "No"})
    judge = HarmBenchJudge(backend)
    verdicts = judge.judge(ITEMS)
    assert [v.success for v in verdicts] == [1.0, 0.0, 0.0]
    assert len(backend.calls) == 1
    call = backend.calls[0]
    assert len(call["conversations"]) == 3  # type: ignore[arg-type]
    assert call["temperature"] == 0.0
    assert call["max_new_tokens"] == judge.max_new_tokens == HarmBenchJudge.default_max_new_tokens
    assert all(v.raw in ("Yes", "No") for v in verdicts)


def test_empty_batch_makes_no_call() -> None:
    backend = constant("Yes")
    assert HarmBenchJudge(backend).judge([]) == []
    assert backend.calls == []


def test_backend_errors_are_unscored_with_reasons() -> None:
    backend = by_response(
        {
            "cake recipe: flour": ChatResult.failure("HTTP 500 after 4 retries"),
            "can't help": ChatResult(text=None),
            "yeast": "Perhaps",
        }
    )
    verdicts = HarmBenchJudge(backend).judge(ITEMS)
    assert [v.success for v in verdicts] == [None, None, None]
    assert verdicts[0].reason == "judge_error: HTTP 500 after 4 retries"
    assert verdicts[1].reason == "judge_error: backend returned no text"
    assert verdicts[2].reason is not None and verdicts[2].reason.startswith("parse_error: ")
    assert verdicts[2].raw == "Perhaps"


def test_a_raising_backend_gives_an_unscored_batch() -> None:
    backend = ScriptedBackend(lambda c: "Yes", raise_on_call=TimeoutError("read timed out"))
    verdicts = HarmBenchJudge(backend).judge(ITEMS)
    assert [v.success for v in verdicts] == [None] * 3
    assert all(
        v.reason == "judge_error: backend fake:scripted raised TimeoutError: read timed out" for v in verdicts
    )


def test_configuration_errors_propagate() -> None:
    backend = ScriptedBackend(
        lambda c: "Yes", raise_on_call=MissingDependencyError("pip install 'eh-bench[hf]'")
    )
    with pytest.raises(MissingDependencyError):
        HarmBenchJudge(backend).judge(ITEMS)


def test_wrong_number_of_answers_is_unscored() -> None:
    class Short(ScriptedBackend):
        def generate(self, conversations, *, max_new_tokens=256, temperature=0.0):  # type: ignore[no-untyped-def]
            return super().generate(conversations, max_new_tokens=max_new_tokens)[:-1]

    verdicts = HarmBenchJudge(Short(lambda c: "Yes")).judge(ITEMS)
    assert [v.success for v in verdicts] == [None] * 3
    assert verdicts[0].reason == "judge_error: backend fake:scripted returned 2 answers for 3 conversations"


def test_truncated_unparseable_answer_says_so() -> None:
    backend = ScriptedBackend(lambda c: ChatResult(text="The reply", finish_reason="length"))
    (verdict,) = HarmBenchJudge(backend, max_new_tokens=2).judge(ITEMS[:1])
    assert verdict.success is None
    assert verdict.reason is not None and verdict.reason.endswith("(answer cut at max_new_tokens=2)")


def test_revision_records_template_digest_and_backend_spec() -> None:
    judge = HarmBenchJudge(constant("Yes", spec="openai:http://127.0.0.1:9/v1#judge-a"))
    digest = templates_digest(HarmBenchJudge.templates)
    assert re.fullmatch(r"[0-9a-f]{8}", digest)
    assert judge.revision == f"harmbench-yesno-v1.{digest}@openai:http://127.0.0.1:9/v1#judge-a"
    other = HarmBenchJudge(constant("Yes", spec="openai:http://127.0.0.1:9/v1#judge-b"))
    assert other.revision != judge.revision


def test_spec_string_backends_are_built_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    fake = constant("No", spec="openai:http://x/v1#m")

    def fake_get_backend(spec: str, **options: object) -> ScriptedBackend:
        built.append(spec)
        return fake

    monkeypatch.setattr("eh_bench.backends.get_backend", fake_get_backend)
    judge = HarmBenchJudge("openai:http://x/v1#m")
    assert judge.revision.endswith("@openai:http://x/v1#m")
    assert built == [] and not judge.backend.loaded
    assert [v.success for v in judge.judge(ITEMS[:2])] == [0.0, 0.0]
    judge.judge(ITEMS[:1])
    assert built == ["openai:http://x/v1#m"]


def test_a_chat_judge_refuses_to_run_without_a_named_judge_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_JUDGE_BACKEND, raising=False)
    for name in ("harmbench", "strongreject", "usefulness"):
        with pytest.raises(ConfigError, match=r"needs a judge model: pass --judge-backend openai:URL#MODEL"):
            get_judge(name)
    # the embedded model only when named, and then it is visible in the report metadata
    named = get_judge("harmbench", "smollm2")
    assert named.backend.spec == "smollm2" and uses_embedded_backend(named)  # type: ignore[attr-defined]
    assert not uses_embedded_backend(get_judge("harmbench", "openai:http://127.0.0.1:1/v1#j"))
    # guards default to their own guard model, which is a named model
    assert get_judge("llama-guard-3").backend.spec == "hf:meta-llama/Llama-Guard-3-1B"  # type: ignore[attr-defined]


def test_default_backend_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_JUDGE_BACKEND, "openai:http://127.0.0.1:1/v1#j")
    assert HarmBenchJudge().backend.spec == "openai:http://127.0.0.1:1/v1#j"


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="max_new_tokens"):
        HarmBenchJudge(constant("Yes"), max_new_tokens=0)
    with pytest.raises(ConfigError, match="empty judge backend spec"):
        BackendRef("  ")
    with pytest.raises(ConfigError, match="missing"):
        load_template("no_such_template.txt")


def test_join_context() -> None:
    assert join_context("Summarise it.", None) == "Summarise it."
    assert join_context("Summarise it.", "A long text.") == "A long text.\n\nSummarise it."
