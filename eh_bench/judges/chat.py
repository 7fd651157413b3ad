"""The common machinery of model judges: a prompt template, a chat backend, a strict parser.

A :class:`ChatJudge` turns every item into a conversation, sends the whole batch to its backend in
one :meth:`~eh_bench.backends.base.ChatBackend.generate` call (the backend batches or runs requests
concurrently) and parses each answer. A backend failure or an unparseable answer is an unscored
verdict (``"judge_error: ..."`` / ``"parse_error: ..."``), never a success or a refusal.

The backend is built lazily from its spec string, on the first :meth:`ChatJudge.judge` call, so a
judge whose verdicts all come from the cache never loads a model.

A judge model is always named: the backend argument, else ``$EH_JUDGE_BACKEND``, else the judge's own
model (guards: the guard model). A chat judge without one refuses to start, saying which backend to
pass: the embedded SmolLM2-135M is far too weak to judge harm and is used only when named
(``smollm2``), which :func:`is_embedded_backend` lets reports say.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Final

from eh_bench.backends.base import ChatBackend, ChatResult, Message
from eh_bench.errors import ConfigError, EHBenchError
from eh_bench.judges.base import JudgeItem, Verdict
from eh_bench.judges.parsing import unscored

#: Environment variable naming the default backend spec of the model judges.
ENV_JUDGE_BACKEND: Final = "EH_JUDGE_BACKEND"
#: How to name a judge model, for the error a chat judge raises without one.
BACKEND_HINT: Final = (
    "pass --judge-backend openai:URL#MODEL (an OpenAI-compatible server) or hf:DIR_OR_ID (a local or Hub "
    "model), or set EH_JUDGE_BACKEND; the embedded smollm2 (135M parameters) is accepted only when named, "
    "and is too weak for headline numbers"
)
TEMPLATE_PACKAGE: Final = "eh_bench.judges"
TEMPLATE_DIR: Final = "templates"


@cache
def load_template(name: str) -> str:
    """The text of ``templates/<name>`` (package data), without its final newline."""
    path = resources.files(TEMPLATE_PACKAGE).joinpath(TEMPLATE_DIR, name)
    try:
        return path.read_text(encoding="utf-8").rstrip("\n")
    except FileNotFoundError:
        raise ConfigError(f"judge template {name!r} is missing from eh_bench/judges/templates/") from None


def templates_digest(names: Sequence[str]) -> str:
    """First 8 hex digits of the sha256 of the named templates: any edit changes the judge revision."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(load_template(name).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:8]


def default_backend_spec(fallback: str | None = None, env: str | None = ENV_JUDGE_BACKEND) -> str | None:
    """``$EH_JUDGE_BACKEND`` (or the variable ``env``) when set, else ``fallback`` (None: no judge model named)."""
    return (os.environ.get(env) if env else None) or fallback


def is_embedded_backend(spec: str | None) -> bool:
    """Whether ``spec`` names one of eh-bench's embedded models (e.g. ``smollm2``)."""
    if not spec:
        return False
    from eh_bench.backends.embedded import EMBEDDED_MODELS

    return spec.strip() in EMBEDDED_MODELS


class BackendRef:
    """A chat backend given as an object or as a spec string built on first use."""

    def __init__(self, backend: ChatBackend | str) -> None:
        if isinstance(backend, str):
            if not backend.strip():
                raise ConfigError("empty judge backend spec; use e.g. 'smollm2' or 'openai:URL#MODEL'")
            self._spec = backend
            self._backend: ChatBackend | None = None
        else:
            self._spec = backend.spec
            self._backend = backend

    @property
    def spec(self) -> str:
        """The backend's spec string (recorded in the judge revision)."""
        return self._spec

    @property
    def loaded(self) -> bool:
        """Whether the backend object exists yet."""
        return self._backend is not None

    def get(self) -> ChatBackend:
        """The backend, built from its spec on the first call."""
        if self._backend is None:
            from eh_bench.backends import get_backend

            self._backend = get_backend(self._spec)
        return self._backend


def join_context(prompt: str, context: str | None) -> str:
    """The request as the target model saw it: the context (if any), a blank line, the request."""
    return f"{context}\n\n{prompt}" if context else prompt


class ChatJudge:
    """Base class of model judges; subclasses set the class attributes and :meth:`messages`/:meth:`parse`.

    Attributes:
        id: the judge id recorded in reports and cache keys.
        version: bumped by hand when the judge's logic changes (the template digest covers the text).
        templates: template file names this judge reads.
        default_max_new_tokens: the token budget of one judge answer.
        default_backend: the judge's own model, used when no backend is given and ``backend_env`` is
            unset (``None``, the default for chat judges: a backend must be named).
        backend_env: the environment variable that overrides ``default_backend`` (``None``: none).
    """

    id: str = "chat"
    version: int = 1
    templates: tuple[str, ...] = ()
    default_max_new_tokens: int = 16
    default_backend: str | None = None
    backend_env: str | None = ENV_JUDGE_BACKEND

    def __init__(
        self, backend: ChatBackend | str | None = None, *, max_new_tokens: int | None = None
    ) -> None:
        chosen = backend if backend is not None else default_backend_spec(self.default_backend, self.backend_env)
        if chosen is None:
            raise ConfigError(f"judge {self.id!r} needs a judge model: {BACKEND_HINT}")
        self.backend = BackendRef(chosen)
        self.max_new_tokens = self.default_max_new_tokens if max_new_tokens is None else max_new_tokens
        if self.max_new_tokens < 1:
            raise ConfigError(f"judge {self.id!r}: max_new_tokens must be >= 1, got {self.max_new_tokens}")

    @property
    def revision(self) -> str:
        """``<id>-v<version>.<template digest>[.<variant>]@<backend spec>``."""
        variant = self.variant()
        suffix = f".{variant}" if variant else ""
        return f"{self.id}-v{self.version}.{templates_digest(self.templates)}{suffix}@{self.backend.spec}"

    def variant(self) -> str:
        """Extra revision tag for options that change the prompt (empty by default)."""
        return ""

    def messages(self, item: JudgeItem) -> list[Message]:
        """The conversation sent to the judge model for ``item``.

        By default ``templates`` is ``(system, user)``: the system instruction, then one user turn with
        the request (joined with any context) as ``{prompt}`` and the reply as ``{response}``.
        """
        system, user = self.templates
        text = load_template(user).format(prompt=join_context(item.prompt, item.context), response=item.response)
        return [{"role": "system", "content": load_template(system)}, {"role": "user", "content": text}]

    def parse(self, text: str) -> Verdict:
        """The verdict encoded in the judge model's answer ``text`` (never raises)."""
        raise NotImplementedError

    def judge(self, items: Sequence[JudgeItem]) -> list[Verdict]:
        """One verdict per item, from one batched ``generate`` call.

        Configuration problems (an unknown backend spec, a missing optional dependency) raise
        :class:`~eh_bench.errors.EHBenchError`; any other failure becomes unscored verdicts.
        """
        if not items:
            return []
        conversations = [self.messages(item) for item in items]
        backend = self.backend.get()
        try:
            results = backend.generate(conversations, max_new_tokens=self.max_new_tokens, temperature=0.0)
        except EHBenchError:
            raise
        except Exception as exc:  # a judge outage is an unscored batch, not a crash or a number
            reason = f"backend {self.backend.spec} raised {type(exc).__name__}: {exc}"
            return [unscored("judge_error", reason) for _ in items]
        if len(results) != len(items):
            reason = (
                f"backend {self.backend.spec} returned {len(results)} answers for {len(items)} conversations"
            )
            return [unscored("judge_error", reason) for _ in items]
        return [self._verdict(result) for result in results]

    def _verdict(self, result: ChatResult) -> Verdict:
        if result.text is None:
            return unscored("judge_error", result.error or "backend returned no text")
        try:
            verdict = self.parse(result.text)
        except Exception as exc:  # parsers never raise; this guards subclasses that might
            return unscored("parse_error", f"{type(exc).__name__}: {exc}", result.text)
        if verdict.success is None and result.finish_reason == "length" and verdict.reason:
            reason = f"{verdict.reason} (answer cut at max_new_tokens={self.max_new_tokens})"
            return Verdict(success=None, reason=reason, raw=verdict.raw)
        return verdict
