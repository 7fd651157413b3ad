"""Scripted chat backends for judge tests: they implement the ChatBackend protocol without a model."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eh_bench.backends.base import ChatResult, Message

Answer = str | ChatResult | Exception


def last_user(conversation: Sequence[Message]) -> str:
    """The content of the conversation's last user turn ('' if none)."""
    return next((m["content"] for m in reversed(conversation) if m["role"] == "user"), "")


class ScriptedBackend:
    """Answers each conversation with ``answer(conversation)``; records every ``generate`` call.

    An ``Exception`` returned by ``answer`` becomes ``ChatResult.failure`` for that conversation; set
    ``raise_on_call`` to make ``generate`` itself raise.
    """

    def __init__(
        self,
        answer: Callable[[Sequence[Message]], Answer],
        spec: str = "fake:scripted",
        raise_on_call: BaseException | None = None,
    ) -> None:
        self._answer = answer
        self._spec = spec
        self.raise_on_call = raise_on_call
        self.calls: list[dict[str, object]] = []

    @property
    def spec(self) -> str:
        return self._spec

    @property
    def conversations(self) -> list[Sequence[Message]]:
        """Every conversation received, over all calls."""
        return [c for call in self.calls for c in call["conversations"]]  # type: ignore[attr-defined]

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> list[ChatResult]:
        self.calls.append(
            {
                "conversations": list(conversations),
                "max_new_tokens": max_new_tokens,
                "temperature": temperature,
            }
        )
        if self.raise_on_call is not None:
            raise self.raise_on_call
        out = []
        for conversation in conversations:
            answer = self._answer(conversation)
            if isinstance(answer, ChatResult):
                out.append(answer)
            elif isinstance(answer, Exception):
                out.append(ChatResult.failure(str(answer)))
            else:
                out.append(ChatResult(text=answer, finish_reason="stop"))
        return out


def constant(text: str, spec: str = "fake:scripted") -> ScriptedBackend:
    """A backend that always answers ``text``."""
    return ScriptedBackend(lambda _conversation: text, spec=spec)


def by_response(table: dict[str, Answer], spec: str = "fake:scripted") -> ScriptedBackend:
    """A backend answering ``table[key]`` for the first key found anywhere in the conversation."""

    def answer(conversation: Sequence[Message]) -> Answer:
        content = "\n".join(m["content"] for m in conversation)
        for key, value in table.items():
            if key in content:
                return value
        raise AssertionError(f"no scripted answer for {content[:80]!r}")

    return ScriptedBackend(answer, spec=spec)
