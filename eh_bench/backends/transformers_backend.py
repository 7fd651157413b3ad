"""In-process transformers chat backend: chat template, left padding, batched ``generate``.

Conversations are templated with ``tokenizer.apply_chat_template(..., add_generation_prompt=True)``,
sorted by length so a batch wastes little padding, padded on the left and generated together.
Greedy when ``temperature == 0``; seeded sampling otherwise. A conversation that cannot be templated
or is too long comes back as an error; so does every item of a batch whose ``generate`` failed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eh_bench.backends.base import ChatResult, FinishReason, Message, check_generation_args
from eh_bench.errors import ConfigError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

DEFAULT_BATCH_SIZE = 8
BATCH_SIZE_ENV = "EH_BATCH_SIZE"
THREADS_ENV = "EH_TORCH_THREADS"


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask, which containers narrow; else ``os.cpu_count``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def configure_torch_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads: ``threads``, else ``$EH_TORCH_THREADS``, else at most the usable CPUs.

    torch defaults to the host's core count, which oversubscribes a CPU-limited container; more
    threads than cores only slows small models down.

    Returns:
        The thread count now in effect.
    """
    import torch

    wanted = threads if threads is not None else int(os.environ.get(THREADS_ENV, "0") or 0)
    if wanted < 0:
        raise ConfigError(f"threads must be >= 1 (got {wanted}); unset {THREADS_ENV} for the default")
    if not wanted:
        wanted = min(torch.get_num_threads(), available_cpus())
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return int(torch.get_num_threads())


def _default_batch_size() -> int:
    raw = os.environ.get(BATCH_SIZE_ENV, "")
    try:
        return int(raw) if raw else DEFAULT_BATCH_SIZE
    except ValueError:
        raise ConfigError(f"{BATCH_SIZE_ENV}={raw!r} is not an integer") from None


class TransformersBackend:
    """A causal LM with a chat template, run in this process.

    Args:
        model: a model folder (see :func:`eh_bench.backends.embedded.resolve_model`) or Hub id.
        spec: the spec string recorded in reports (default ``hf:<model>``).
        batch_size: conversations per ``generate`` call (default ``$EH_BATCH_SIZE`` or 8).
        dtype: torch dtype name for the weights.
        device: torch device.
        threads: torch intra-op threads (see :func:`configure_torch_threads`).
        seed: torch seed set before each sampled (temperature > 0) call.
        max_input_tokens: longest templated prompt accepted (default: the model's context minus
            ``max_new_tokens``).
    """

    def __init__(
        self,
        model: Path | str,
        *,
        spec: str | None = None,
        batch_size: int | None = None,
        dtype: str = "float32",
        device: str = "cpu",
        threads: int | None = None,
        seed: int = 0,
        max_input_tokens: int | None = None,
    ) -> None:
        from eh_bench.backends.embedded import load_model_and_tokenizer

        if device == "cpu":
            configure_torch_threads(threads)
        loaded, tokenizer = load_model_and_tokenizer(model, dtype=dtype, device=device)
        self._init(loaded, tokenizer, spec or f"hf:{model}", batch_size, seed, max_input_tokens)

    @classmethod
    def from_loaded(
        cls,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        spec: str,
        batch_size: int | None = None,
        seed: int = 0,
        max_input_tokens: int | None = None,
    ) -> TransformersBackend:
        """Wrap an already-loaded model and tokenizer (e.g. shared with the probes); neither is modified
        beyond ``model.train(False)``."""
        self = cls.__new__(cls)
        model.train(False)
        self._init(model, tokenizer, spec, batch_size, seed, max_input_tokens)
        return self

    def _init(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        spec: str,
        batch_size: int | None,
        seed: int,
        max_input_tokens: int | None,
    ) -> None:
        size = _default_batch_size() if batch_size is None else batch_size
        if size < 1:
            raise ConfigError(f"batch_size must be >= 1 (got {size})")
        if not getattr(tokenizer, "chat_template", None):
            raise ConfigError(f"backend {spec!r}: the tokenizer has no chat template; use an instruct model")
        self.model: Any = model
        self.tokenizer: Any = tokenizer
        self.batch_size = size
        self.seed = seed
        self.max_input_tokens = max_input_tokens
        self._spec = spec
        self._eos_ids = self._stop_ids()
        # Padding is done by hand (left), so a shared tokenizer is never mutated.
        pad = tokenizer.pad_token_id
        self._pad_id = int(pad) if isinstance(pad, int) else self._eos_ids[0]

    @property
    def spec(self) -> str:
        """The spec string that selects this backend."""
        return self._spec

    def _stop_ids(self) -> list[int]:
        ids: set[int] = set()
        for source in (self.model.generation_config.eos_token_id, self.tokenizer.eos_token_id):
            if isinstance(source, int):
                ids.add(source)
            elif isinstance(source, list):
                ids.update(int(x) for x in source)
        if not ids:
            raise ConfigError(f"backend {self._spec!r}: the model defines no end-of-turn token")
        return sorted(ids)

    def _context_limit(self, max_new_tokens: int) -> int:
        if self.max_input_tokens is not None:
            return self.max_input_tokens
        context = getattr(self.model.config, "max_position_embeddings", None)
        return int(context) - max_new_tokens if isinstance(context, int) else 1 << 30

    def encode(self, conversation: Sequence[Message]) -> list[int]:
        """Token ids of a conversation under the chat template, ready for the assistant's turn."""
        text = self.tokenizer.apply_chat_template(
            [{"role": m["role"], "content": m["content"]} for m in conversation],
            add_generation_prompt=True,
            tokenize=False,
        )
        if not isinstance(text, str):
            raise TypeError(f"chat template returned {type(text).__name__}, not text")
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return [int(i) for i in ids]

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> list[ChatResult]:
        """One result per conversation, in order (see the module docstring for failure handling)."""
        check_generation_args(max_new_tokens, temperature)
        results: list[ChatResult | None] = [None] * len(conversations)
        limit = self._context_limit(max_new_tokens)
        todo: list[tuple[int, list[int]]] = []
        for index, conversation in enumerate(conversations):
            try:
                ids = self.encode(conversation)
            except Exception as exc:  # a template may reject roles or orderings
                results[index] = ChatResult.failure(f"chat template failed: {type(exc).__name__}: {exc}")
                continue
            if len(ids) > limit:
                results[index] = ChatResult.failure(
                    f"prompt is {len(ids)} tokens, over this backend's limit of {limit}"
                )
            else:
                todo.append((index, ids))
        todo.sort(key=lambda item: len(item[1]), reverse=True)
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            try:
                outputs = self._generate_batch([ids for _, ids in chunk], max_new_tokens, temperature)
            except Exception as exc:  # out of memory, device errors: report, keep going
                outputs = [ChatResult.failure(f"generate failed: {type(exc).__name__}: {exc}")] * len(chunk)
            for (index, _), result in zip(chunk, outputs, strict=True):
                results[index] = result
        return [r if r is not None else ChatResult.failure("no result") for r in results]

    def _generate_batch(
        self, batch: list[list[int]], max_new_tokens: int, temperature: float
    ) -> list[ChatResult]:
        import torch
        from transformers import GenerationConfig

        pad = self._pad_id
        width = max(len(ids) for ids in batch)
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in batch], dtype=torch.long)
        mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in batch], dtype=torch.long)
        sample = temperature > 0
        config: dict[str, Any] = {
            "max_new_tokens": max_new_tokens,
            "do_sample": sample,
            "pad_token_id": pad,
            "eos_token_id": self._eos_ids,
        }
        if sample:
            config.update(temperature=temperature, top_p=1.0, top_k=0)
            torch.manual_seed(self.seed)
        device = self.model.device
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids.to(device),
                attention_mask=mask.to(device),
                generation_config=GenerationConfig(**config),  # type: ignore[no-untyped-call]
            )
        results = []
        for row in out[:, width:].tolist():
            stop = next((i for i, tok in enumerate(row) if tok in self._eos_ids), None)
            tokens = row if stop is None else row[:stop]
            reason: FinishReason = "stop" if stop is not None else "length"
            text = str(self.tokenizer.decode(tokens, skip_special_tokens=True))
            results.append(ChatResult(text=text, finish_reason=reason))
        return results
