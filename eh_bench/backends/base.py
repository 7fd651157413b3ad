"""The chat-backend protocol and the spec-string parser.

Spec strings (the same everywhere in the CLI):

- ``smollm2``: the embedded SmolLM2-135M-Instruct (transformers, in-process);
- ``hf:DIR_OR_ID``: any transformers causal LM with a chat template, in-process and batched;
- ``openai:URL#MODEL``: an OpenAI-compatible ``/v1/chat/completions`` server (async, concurrent).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict, runtime_checkable

from eh_bench.errors import ConfigError


class Message(TypedDict):
    """One chat turn."""

    role: str
    content: str


FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class ChatResult:
    """A backend's answer to one conversation: text, or the error that prevented it (never both None).

    ``finish_reason`` is ``"stop"`` (the model ended its turn), ``"length"`` (cut at
    ``max_new_tokens``) or None when unknown or failed.
    """

    text: str | None
    error: str | None = None
    finish_reason: FinishReason | None = None

    @property
    def ok(self) -> bool:
        """True when the backend produced text."""
        return self.text is not None

    @classmethod
    def failure(cls, error: str) -> ChatResult:
        """A failed result carrying ``error`` (never an empty text)."""
        return cls(text=None, error=error)


@runtime_checkable
class ChatBackend(Protocol):
    """Anything that answers a batch of conversations. Failures come back as ``ChatResult.error``."""

    @property
    def spec(self) -> str:
        """The spec string that selects this backend (recorded in reports)."""
        ...

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> list[ChatResult]:
        """One result per conversation, in order."""
        ...


def check_generation_args(max_new_tokens: int, temperature: float) -> None:
    """Refuse a token budget below 1 or a temperature that is negative or not finite (shared by every backend)."""
    if max_new_tokens < 1:
        raise ConfigError(f"max_new_tokens must be >= 1 (got {max_new_tokens})")
    if not math.isfinite(temperature) or temperature < 0:
        raise ConfigError(f"temperature must be a finite number >= 0 (got {temperature})")
