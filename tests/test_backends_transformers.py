"""The in-process transformers backend on the real embedded SmolLM2 (tiny generations)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eh_bench.backends import ChatBackend, Message, get_backend
from eh_bench.backends.transformers_backend import (
    TransformersBackend,
    available_cpus,
    configure_torch_threads,
)
from eh_bench.errors import ConfigError

pytestmark = pytest.mark.slow

# Different lengths, so the batch is re-ordered and left-padded.
PROMPTS = ["Hi.", "Please describe, in one short sentence, what a rainbow is.", "Name a fruit."]
MAX_NEW = 8


def user(text: str) -> list[Message]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def backend() -> Iterator[TransformersBackend]:
    built = get_backend("smollm2", batch_size=4)
    assert isinstance(built, TransformersBackend)
    yield built


def test_is_a_chat_backend_with_its_spec(backend: TransformersBackend) -> None:
    assert isinstance(backend, ChatBackend)
    assert backend.spec == "smollm2"
    assert backend.tokenizer.padding_side == "left"


def test_batched_greedy_equals_one_at_a_time_in_order(backend: TransformersBackend) -> None:
    conversations = [user(p) for p in PROMPTS]
    batched = backend.generate(conversations, max_new_tokens=MAX_NEW)
    single = [backend.generate([c], max_new_tokens=MAX_NEW)[0] for c in conversations]
    assert all(r.ok and r.error is None and r.text for r in batched)
    assert [r.text for r in batched] == [r.text for r in single]
    assert all(r.finish_reason in ("stop", "length") for r in batched)


def test_generation_respects_max_new_tokens(backend: TransformersBackend) -> None:
    [result] = backend.generate([user("Tell me a long story about a cat.")], max_new_tokens=3)
    assert result.text is not None and result.finish_reason == "length"
    assert 0 < len(backend.tokenizer(result.text, add_special_tokens=False)["input_ids"]) <= 4


def test_system_message_changes_the_prompt(backend: TransformersBackend) -> None:
    plain = backend.encode(user("Say hello."))
    with_system: list[Message] = [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "Say hello."},
    ]
    system = backend.encode(with_system)
    assert plain != system
    text = backend.tokenizer.decode(system)
    assert "Answer in French." in text and text.rstrip().endswith("assistant")


def test_sampling_is_seeded_and_reproducible(backend: TransformersBackend) -> None:
    first = backend.generate([user("Say hello.")], max_new_tokens=MAX_NEW, temperature=1.0)
    second = backend.generate([user("Say hello.")], max_new_tokens=MAX_NEW, temperature=1.0)
    assert first[0].ok and first == second


def test_too_long_prompt_fails_alone(backend: TransformersBackend) -> None:
    short = TransformersBackend.from_loaded(
        backend.model, backend.tokenizer, spec="smollm2", batch_size=2, max_input_tokens=40
    )
    long_prompt = "Please repeat: " + "cake " * 60
    results = short.generate([user("Say hello."), user(long_prompt)], max_new_tokens=4)
    assert results[0].ok
    assert (
        results[1].text is None
        and results[1].error is not None
        and "over this backend's limit" in results[1].error
    )


def test_empty_batch(backend: TransformersBackend) -> None:
    assert backend.generate([]) == []


def test_bad_arguments_raise(backend: TransformersBackend) -> None:
    with pytest.raises(ConfigError, match="max_new_tokens"):
        backend.generate([user("x")], max_new_tokens=0)
    with pytest.raises(ConfigError, match="temperature"):
        backend.generate([user("x")], temperature=-0.5)
    with pytest.raises(ConfigError, match="batch_size"):
        TransformersBackend.from_loaded(backend.model, backend.tokenizer, spec="smollm2", batch_size=0)


def test_torch_threads_never_exceed_the_usable_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        assert configure_torch_threads(1) == 1
        monkeypatch.setenv("EH_TORCH_THREADS", "2")
        assert configure_torch_threads() == 2
        monkeypatch.delenv("EH_TORCH_THREADS")
        torch.set_num_threads(available_cpus() + 4)
        assert configure_torch_threads() == available_cpus()
    finally:
        torch.set_num_threads(before)
