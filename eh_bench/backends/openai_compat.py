"""OpenAI-compatible chat backend: async httpx, a concurrency limit, retries with backoff, timeouts.

Any server with ``POST /v1/chat/completions`` works (vLLM, llama.cpp ``llama-server``, Ollama,
OpenAI, OpenRouter, ...). Per conversation:

- at most ``concurrency`` requests are in flight (an :class:`asyncio.Semaphore`);
- 429, 5xx, timeouts and connection errors are retried up to ``max_retries`` times, waiting
  ``backoff * 2**attempt`` seconds (jittered, capped at :data:`MAX_BACKOFF_S`; a numeric
  ``Retry-After`` header replaces that wait, under the same cap);
- other 4xx and malformed answers fail at once;
- every failure comes back as ``ChatResult(error=...)``; nothing is raised per item.

The API key comes from ``api_key``, else ``$EH_OPENAI_API_KEY``, else ``$OPENAI_API_KEY``; it is sent as
a bearer token and never written to results or errors.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import random
import ssl
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import httpx

from eh_bench.backends.base import ChatResult, FinishReason, Message, check_generation_args
from eh_bench.errors import ConfigError

API_KEY_ENVS = ("EH_OPENAI_API_KEY", "OPENAI_API_KEY")
CONCURRENCY_ENV = "EH_OPENAI_CONCURRENCY"
TIMEOUT_ENV = "EH_OPENAI_TIMEOUT"
DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
CHAT_PATH = "/chat/completions"
RETRY_STATUSES = frozenset({408, 409, 425, 429})
ERROR_BODY_CHARS = 300

T = TypeVar("T")


def chat_url(base: str) -> str:
    """The chat-completions endpoint for a server URL given with or without ``/v1``.

    >>> chat_url("http://127.0.0.1:8000")
    'http://127.0.0.1:8000/v1/chat/completions'
    >>> chat_url("https://api.example.com/v1/")
    'https://api.example.com/v1/chat/completions'
    >>> chat_url("http://h:1/v1/chat/completions")
    'http://h:1/v1/chat/completions'
    """
    url = base.strip().rstrip("/")
    if url.endswith(CHAT_PATH):
        return url
    if url.rsplit("/", 1)[-1].startswith("v") and url.rsplit("/", 1)[-1][1:].isdigit():
        return url + CHAT_PATH
    return url + "/v1" + CHAT_PATH


def parse_openai_target(target: str, spec: str) -> tuple[str, str]:
    """Split ``URL#MODEL`` (the part of an ``openai:`` spec after the scheme) into its two halves.

    >>> parse_openai_target("http://127.0.0.1:8000/v1#qwen3", "openai:...")
    ('http://127.0.0.1:8000/v1/chat/completions', 'qwen3')
    """
    url, sep, model = target.rpartition("#")
    if not sep or not url or not model.strip():
        raise ConfigError(f"backend spec {spec!r} needs a URL and a model: openai:URL#MODEL")
    parsed = httpx.URL(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"backend spec {spec!r}: {url!r} is not an http(s) URL")
    return chat_url(url), model.strip()


#: Seconds :func:`check_reachable` waits for a server to answer.
PROBE_TIMEOUT_S = 5.0


def check_reachable(spec: str, what: str = "backend", timeout: float = PROBE_TIMEOUT_S) -> None:
    """Refuse an ``openai:URL#MODEL`` backend whose server cannot be reached, before any work is done.

    One ``GET .../models`` (which vLLM, llama.cpp, Ollama and OpenAI serve); any HTTP answer, even an
    error status, means the server is there: only a connection failure or a timeout is refused.

    Raises:
        ConfigError: naming the spec, the URL and what went wrong.
    """
    url, _ = parse_openai_target(spec.partition(":")[2], spec)
    models = url[: -len(CHAT_PATH)] + "/models"
    try:
        httpx.get(models, timeout=timeout)
    except httpx.TransportError as exc:
        reason = str(exc) or type(exc).__name__
        raise ConfigError(
            f"{what} {spec} cannot be reached at {models} ({reason}); start the server or fix the spec"
        ) from None


def run_sync(coro: Awaitable[T]) -> T:
    """Run a coroutine to completion from sync code, whether or not an event loop is running here.

    With no running loop this is :func:`asyncio.run`; inside one (a notebook, an async caller) the
    coroutine runs on a fresh loop in a worker thread, since the running loop cannot be re-entered.
    """

    async def wrapper() -> T:
        return await coro

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wrapper())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, wrapper()).result()


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None


class _Retryable(Exception):
    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class OpenAIChatBackend:
    """A client of one model on an OpenAI-compatible server.

    Args:
        url: the server (``http://host:port``, ``.../v1`` or the full ``.../chat/completions`` URL).
        model: the ``model`` field of each request.
        spec: the spec string recorded in reports (default ``openai:URL#MODEL``).
        concurrency: requests in flight at once (default ``$EH_OPENAI_CONCURRENCY`` or 8).
        timeout: seconds per request attempt (default ``$EH_OPENAI_TIMEOUT`` or 120).
        max_retries: retries after the first attempt for 429/5xx/timeouts/connection errors.
        backoff: the first retry's base wait in seconds; doubles each retry.
        api_key: bearer token (default from :data:`API_KEY_ENVS`).
        transport: an ``httpx.AsyncBaseTransport`` (tests, proxies); default: real network.
        extra_body: extra JSON fields sent with every request (e.g. ``{"top_p": 1}``).
    """

    def __init__(
        self,
        url: str,
        model: str,
        *,
        spec: str | None = None,
        concurrency: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff: float | None = None,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        self.url = chat_url(url)
        self.model = model
        self.concurrency = int(
            concurrency if concurrency is not None else _env_number(CONCURRENCY_ENV, DEFAULT_CONCURRENCY)
        )
        self.timeout = float(timeout if timeout is not None else _env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT_S))
        self.max_retries = DEFAULT_MAX_RETRIES if max_retries is None else int(max_retries)
        self.backoff = DEFAULT_BACKOFF_S if backoff is None else float(backoff)
        if self.concurrency < 1 or self.timeout <= 0 or self.max_retries < 0 or self.backoff < 0:
            raise ConfigError(
                f"bad HTTP backend options: concurrency={self.concurrency} (>=1), timeout={self.timeout} (>0), "
                f"max_retries={self.max_retries} (>=0), backoff={self.backoff} (>=0)"
            )
        self._api_key = api_key or next((os.environ[e] for e in API_KEY_ENVS if os.environ.get(e)), None)
        self._transport = transport
        # One TLS context for every call: httpx would otherwise load the CA bundle for each new client
        # (about 20 ms of CPU per generate call, most of an attack run's client-side time).
        self._ssl_context: ssl.SSLContext | None = None
        self.extra_body = dict(extra_body or {})
        self._spec = spec or f"openai:{url}#{model}"

    @property
    def spec(self) -> str:
        """The spec string that selects this backend."""
        return self._spec

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> list[ChatResult]:
        """One result per conversation, in order; usable from sync code with or without a running loop."""
        return run_sync(self.agenerate(conversations, max_new_tokens=max_new_tokens, temperature=temperature))

    async def agenerate(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> list[ChatResult]:
        """The async form of :meth:`generate`: all conversations concurrently, bounded by ``concurrency``."""
        check_generation_args(max_new_tokens, temperature)
        if not conversations:
            return []
        gate = asyncio.Semaphore(self.concurrency)
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        async with httpx.AsyncClient(
            transport=self._transport,
            verify=self._ssl_context,
            timeout=httpx.Timeout(self.timeout),
            limits=limits,
            headers=self._headers(),
        ) as client:

            async def one(conversation: Sequence[Message]) -> ChatResult:
                payload = {
                    **self.extra_body,
                    "model": self.model,
                    "messages": [{"role": m["role"], "content": m["content"]} for m in conversation],
                    "max_tokens": max_new_tokens,
                    "temperature": temperature,
                }
                async with gate:
                    return await self._with_retries(client, payload)

            return list(await asyncio.gather(*(one(c) for c in conversations)))

    async def _with_retries(self, client: httpx.AsyncClient, payload: dict[str, Any]) -> ChatResult:
        last = "no attempt made"
        for attempt in range(self.max_retries + 1):
            try:
                return await self._attempt(client, payload)
            except _Retryable as exc:
                last = str(exc)
                if attempt == self.max_retries:
                    break
                wait = min(MAX_BACKOFF_S, self.backoff * 2**attempt) * random.uniform(0.5, 1.0)
                if exc.wait is not None:
                    wait = min(MAX_BACKOFF_S, exc.wait)
                await asyncio.sleep(wait)
        tries = self.max_retries + 1
        return ChatResult.failure(f"{last} (gave up after {tries} attempt{'s' * (tries > 1)})")

    async def _attempt(self, client: httpx.AsyncClient, payload: dict[str, Any]) -> ChatResult:
        try:
            response = await client.post(self.url, json=payload)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {self.timeout:g}s ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection error: {type(exc).__name__}: {exc}") from None
        status = response.status_code
        if status in RETRY_STATUSES or status >= 500:
            raise _Retryable(f"HTTP {status}: {_snippet(response.text)}", _retry_after(response))
        if status >= 400:
            return ChatResult.failure(f"HTTP {status} from {self.url}: {_snippet(response.text)}")
        return parse_chat_response(response.text)


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_BODY_CHARS else text[:ERROR_BODY_CHARS] + "..."


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to exponential backoff


def parse_chat_response(body: str) -> ChatResult:
    """The first choice's message content of a chat-completions JSON body; an error result otherwise.

    >>> parse_chat_response('{"choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}]}')
    ChatResult(text='Hi', error=None, finish_reason='stop')
    >>> parse_chat_response("<html>").error
    'malformed response: not JSON: <html>'
    """
    try:
        data = json.loads(body)
    except ValueError:
        return ChatResult.failure(f"malformed response: not JSON: {_snippet(body)}")
    if isinstance(data, dict) and "error" in data and "choices" not in data:
        return ChatResult.failure(f"server error: {_snippet(json.dumps(data['error']))}")
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return ChatResult.failure(f"malformed response: no choices[0].message.content in {_snippet(body)}")
    if not isinstance(content, str):
        return ChatResult.failure(
            f"malformed response: message content is {type(content).__name__}, not text"
        )
    reason = choice.get("finish_reason") if isinstance(choice, dict) else None
    finish: FinishReason | None = None
    if reason == "stop":
        finish = "stop"
    elif reason == "length":
        finish = "length"
    return ChatResult(text=content, finish_reason=finish)
