"""Backend spec strings -> backends, through one :class:`~eh_bench.registry.Registry` keyed by scheme.

======================  =====================================================================
spec                    backend
======================  =====================================================================
``smollm2``             the embedded SmolLM2-135M-Instruct (prepared once, in-process)
``hf:DIR_OR_ID``        a transformers causal LM with a chat template (in-process, batched)
``openai:URL#MODEL``    an OpenAI-compatible ``/v1/chat/completions`` server (async, concurrent)
======================  =====================================================================

Backend modules are imported only when their scheme is used, so parsing a spec never loads torch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from eh_bench.backends.base import ChatBackend
from eh_bench.errors import ConfigError
from eh_bench.registry import Registry

#: A factory gets the part of the spec after ``scheme:`` (empty for bare names), the full spec, and
#: the caller's options.
BackendFactory = Callable[..., ChatBackend]

BACKENDS: Registry[BackendFactory] = Registry("backend scheme")

SPEC_FORMS = "smollm2, hf:DIR_OR_ID, openai:URL#MODEL"


def parse_spec(spec: str) -> tuple[str, str]:
    """Split a spec into ``(scheme, target)``; a bare name (``smollm2``) has an empty target.

    >>> parse_spec("openai:http://127.0.0.1:8000/v1#judge")
    ('openai', 'http://127.0.0.1:8000/v1#judge')
    >>> parse_spec("smollm2")
    ('smollm2', '')
    """
    spec = spec.strip()
    if not spec:
        raise ConfigError(f"empty backend spec; use one of: {SPEC_FORMS}")
    scheme, sep, target = spec.partition(":")
    return scheme.lower(), target if sep else ""


def _checked_options(factory: Callable[..., Any], spec: str, options: dict[str, object]) -> None:
    params = inspect.signature(factory).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    allowed = sorted(name for name, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"backend {spec!r} does not take option(s) {', '.join(unknown)}; it takes: {', '.join(allowed)}"
        )


def build_backend(spec: str, **options: Any) -> ChatBackend:
    """Build the backend a spec string names.

    Args:
        spec: ``smollm2``, ``hf:DIR_OR_ID`` or ``openai:URL#MODEL``.
        **options: backend constructor options (``batch_size`` for in-process models;
            ``concurrency``, ``timeout``, ``max_retries`` for HTTP), checked against the backend.

    Raises:
        ConfigError: unknown scheme (the message lists the valid ones), malformed target or option.

    >>> build_backend("vllm:foo")
    Traceback (most recent call last):
    ...
    eh_bench.errors.ConfigError: unknown backend scheme 'vllm'; choose one of: hf, openai, smollm2
    """
    scheme, target = parse_spec(spec)
    factory = BACKENDS.get(scheme)
    _checked_options(factory, spec, options)
    return factory(target, spec.strip(), **options)


def get_backend(spec: str, **options: object) -> ChatBackend:
    """Build the backend named by ``spec``; options go to its constructor (e.g. ``batch_size``)."""
    return build_backend(spec, **options)


def _transformers_factory(
    target: str,
    spec: str,
    *,
    batch_size: int | None = None,
    dtype: str = "float32",
    device: str = "cpu",
    threads: int | None = None,
    seed: int = 0,
    max_input_tokens: int | None = None,
) -> ChatBackend:
    from eh_bench.backends.embedded import EMBEDDED_MODELS, prepare_model, resolve_model
    from eh_bench.backends.transformers_backend import TransformersBackend

    scheme, _ = parse_spec(spec)
    if scheme in EMBEDDED_MODELS:
        if target:
            raise ConfigError(f"backend spec {spec!r}: {scheme} takes no argument; write just {scheme!r}")
        path = prepare_model(scheme)
    else:
        if not target:
            raise ConfigError(f"backend spec {spec!r} names no model; write hf:DIR_OR_ID")
        path = resolve_model(f"hf:{target}")
    return TransformersBackend(
        path,
        spec=spec,
        batch_size=batch_size,
        dtype=dtype,
        device=device,
        threads=threads,
        seed=seed,
        max_input_tokens=max_input_tokens,
    )


def _openai_factory(
    target: str,
    spec: str,
    *,
    concurrency: int | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    backoff: float | None = None,
    api_key: str | None = None,
    transport: Any = None,
) -> ChatBackend:
    from eh_bench.backends.openai_compat import OpenAIChatBackend, parse_openai_target

    url, model = parse_openai_target(target, spec)
    return OpenAIChatBackend(
        url,
        model,
        spec=spec,
        concurrency=concurrency,
        timeout=timeout,
        max_retries=max_retries,
        backoff=backoff,
        api_key=api_key,
        transport=transport,
    )


BACKENDS.register("smollm2")(_transformers_factory)
BACKENDS.register("hf")(_transformers_factory)
BACKENDS.register("openai")(_openai_factory)
