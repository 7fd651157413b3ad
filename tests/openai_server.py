"""A scripted OpenAI-compatible chat server for tests: real HTTP on 127.0.0.1, a free port, one thread.

Usage::

    from openai_server import drop, fail, malformed, serve, slow   # tests/ is on sys.path under pytest

    script = {
        "Say hello": "Hello!",               # a plain assistant reply
        "flaky": [fail(500), "ok"],          # 1st request -> HTTP 500, then "ok" (the last step repeats)
        "busy": [fail(429, retry_after=0), "ok"],
        "sleepy": slow(5.0, "late"),         # answers after 5 s (client timeouts)
        "broken": malformed("{not json"),    # HTTP 200 whose body is not JSON
        "hangup": drop(),                    # closes the connection without answering
    }
    with serve(script) as server:
        backend = get_backend(server.spec("judge"), backoff=0.01)
        results = backend.generate([[{"role": "user", "content": "Say hello"}]])
        assert results[0].text == "Hello!" and server.requests[0]["body"]["model"] == "judge"

Matching: each request's *last user message* is compared with the script's keys, exact match first,
then the first key (in insertion order) contained in it. A key's value is a step or a list of steps
consumed one per matching request. Unmatched requests get ``default`` (an HTTP 400 naming the content,
so a missing script entry fails loudly). ``script`` may also be a function of the parsed JSON body
returning a step. A step given as ``str`` is a normal reply with that content.

The server answers ``POST /v1/chat/completions`` (any path ending in ``/chat/completions``) and
``GET /v1/models``. It records every request (``server.requests``: path, parsed body, headers) and
the most requests it had in flight at once (``server.max_in_flight``). Leaving the ``with`` block shuts
it down, cutting short any ``slow`` reply still waiting.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Step:
    """One scripted answer.

    Attributes:
        text: assistant message content of a normal (HTTP 200) answer.
        status: HTTP status code.
        body: raw response body, sent instead of the generated JSON (malformed answers, error bodies).
        delay: seconds to wait before answering.
        drop: close the connection without any answer.
        headers: extra response headers (``Retry-After``).
        finish_reason: the choice's ``finish_reason``.
    """

    text: str | None = None
    status: int = 200
    body: str | None = None
    delay: float = 0.0
    drop: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"


POLL_INTERVAL_S = 0.02

StepLike = Step | str
Script = Mapping[str, StepLike | Sequence[StepLike]] | Callable[[dict[str, Any]], StepLike]


def reply(text: str, *, finish_reason: str = "stop", delay: float = 0.0) -> Step:
    """A normal answer with ``text`` as the assistant's message."""
    return Step(text=text, finish_reason=finish_reason, delay=delay)


def fail(status: int = 500, body: str | None = None, *, retry_after: float | None = None) -> Step:
    """An HTTP error answer (default body: an OpenAI-style error object)."""
    headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
    error = json.dumps({"error": {"message": f"scripted failure {status}", "type": "server_error"}})
    return Step(status=status, body=error if body is None else body, headers=headers)


def slow(seconds: float, then: StepLike = "late answer") -> Step:
    """``then``, sent after ``seconds`` (longer than a client's timeout makes it time out)."""
    step = _as_step(then)
    return Step(step.text, step.status, step.body, seconds, step.drop, step.headers, step.finish_reason)


def malformed(body: str = "{not json") -> Step:
    """An HTTP 200 answer whose body is ``body`` verbatim (not valid chat-completions JSON)."""
    return Step(body=body)


def drop() -> Step:
    """Close the connection without answering (a connection error for the client)."""
    return Step(drop=True)


def _as_step(step: StepLike) -> Step:
    return Step(text=step) if isinstance(step, str) else step


def last_user_content(body: Mapping[str, Any]) -> str:
    """The content of the last ``user`` message of a chat-completions request ('' if none)."""
    messages = body.get("messages") or []
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


class ScriptedServer:
    """A running server; use :func:`serve` rather than building one directly."""

    def __init__(self, script: Script, default: StepLike | None = None) -> None:
        self.script = script
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL_S},  # how fast stop() returns
            name="openai-test-server",
            daemon=True,
        )

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def spec(self, model: str = "test-model") -> str:
        """A backend spec for this server: ``openai:http://127.0.0.1:PORT/v1#MODEL``."""
        return f"openai:{self.base_url}#{model}"

    def count(self, key: str) -> int:
        """How many requests matched script key ``key`` so far."""
        with self._lock:
            return self._counts.get(key, 0)

    def choose(self, body: dict[str, Any]) -> Step:
        """The step answering ``body`` (see the module docstring for the matching rules)."""
        if callable(self.script):
            return _as_step(self.script(body))
        content = last_user_content(body)
        keys = [k for k in self.script if k == content] or [k for k in self.script if k in content]
        if not keys:
            if self.default is not None:
                return _as_step(self.default)
            return fail(400, json.dumps({"error": {"message": f"no scripted reply for {content!r}"}}))
        key = keys[0]
        value = self.script[key]
        with self._lock:
            seen = self._counts.get(key, 0)
            self._counts[key] = seen + 1
        if isinstance(value, (str, Step)):
            return _as_step(value)
        steps = list(value)
        return _as_step(steps[min(seen, len(steps) - 1)])

    def start(self) -> None:
        """Begin serving in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, wake sleeping replies, close the socket and join the thread."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


def _completion(step: Step, body: Mapping[str, Any]) -> str:
    return json.dumps(
        {
            "id": f"chatcmpl-test-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": step.text},
                    "finish_reason": step.finish_reason,
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # silence per-request logging
            return

        def _send(self, status: int, text: str, headers: Mapping[str, str] | None = None) -> None:
            data = text.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                self.close_connection = True

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(
                    200, json.dumps({"object": "list", "data": [{"id": "test-model", "object": "model"}]})
                )
            else:
                self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            with server._lock:
                server.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))
                return
            if not isinstance(body, dict):
                self._send(400, json.dumps({"error": {"message": "request body is not a JSON object"}}))
                return
            server._enter()
            try:
                step = server.choose(body)
                if step.delay and server._stopping.wait(step.delay):
                    self.close_connection = True
                    return
                if step.drop:
                    self.close_connection = True
                    return
                text = step.body if step.body is not None else _completion(step, body)
                self._send(step.status, text, step.headers)
            finally:
                server._leave()

    return Handler


@contextlib.contextmanager
def serve(script: Script, *, default: StepLike | None = None) -> Iterator[ScriptedServer]:
    """Run a :class:`ScriptedServer` for the ``with`` block; stopped (and its thread joined) on exit.

    Args:
        script: key -> step(s), or a function of the request body returning a step.
        default: the answer to requests no key matches (default: HTTP 400 naming the content).
    """
    server = ScriptedServer(script, default)
    server.start()
    try:
        yield server
    finally:
        server.stop()
