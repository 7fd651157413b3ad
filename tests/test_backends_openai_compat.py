"""The OpenAI-compatible backend against a real local HTTP server with scripted behaviour."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import httpx
import pytest
from openai_server import Step, drop, fail, malformed, reply, serve, slow

from eh_bench.backends import ChatResult, Message, get_backend
from eh_bench.backends.openai_compat import OpenAIChatBackend, chat_url, parse_chat_response, run_sync
from eh_bench.errors import ConfigError

FAST = {"backoff": 0.01, "timeout": 5.0}


def user(text: str) -> list[Message]:
    return [{"role": "user", "content": text}]


def test_replies_come_back_in_order_with_the_request_fields() -> None:
    script = {f"q{i}": reply(f"a{i}", delay=0.05 * (5 - i)) for i in range(5)}
    with serve(script) as server:
        backend = get_backend(server.spec("judge-model"), **FAST)
        results = backend.generate([user(f"q{i}") for i in range(5)], max_new_tokens=7, temperature=0.0)
    assert [r.text for r in results] == [f"a{i}" for i in range(5)]
    assert all(r.ok and r.error is None and r.finish_reason == "stop" for r in results)
    body = server.requests[0]["body"]
    assert body["model"] == "judge-model"
    assert body["max_tokens"] == 7 and body["temperature"] == 0.0
    assert body["messages"][0]["role"] == "user"
    assert server.requests[0]["path"] == "/v1/chat/completions"


def test_concurrency_limit_is_respected() -> None:
    script = {"x": reply("ok", delay=0.2)}
    with serve(script) as server:
        backend = get_backend(server.spec(), concurrency=3, **FAST)
        start = time.perf_counter()
        results = backend.generate([user(f"x{i}") for i in range(9)])
        elapsed = time.perf_counter() - start
    assert all(r.text == "ok" for r in results)
    assert server.max_in_flight == 3
    assert elapsed >= 0.55  # 9 requests of 0.2 s, 3 at a time -> at least 3 rounds


def test_5xx_and_429_are_retried_then_succeed() -> None:
    script: dict[str, list[Step | str]] = {
        "flaky": [fail(500), fail(503), "recovered"],
        "busy": [fail(429, retry_after=0), "done"],
    }
    with serve(script) as server:
        backend = get_backend(server.spec(), max_retries=3, **FAST)
        results = backend.generate([user("flaky"), user("busy")])
    assert [r.text for r in results] == ["recovered", "done"]
    assert server.count("flaky") == 3 and server.count("busy") == 2


def test_persistent_5xx_becomes_an_error_after_the_retries() -> None:
    with serve({"down": fail(502)}) as server:
        backend = get_backend(server.spec(), max_retries=2, **FAST)
        [result] = backend.generate([user("down")])
    assert not result.ok and result.text is None
    assert result.error is not None and "HTTP 502" in result.error and "3 attempts" in result.error
    assert server.count("down") == 3


def test_4xx_is_not_retried() -> None:
    with serve({"bad": fail(401, '{"error": {"message": "invalid api key"}}')}) as server:
        backend = get_backend(server.spec(), max_retries=3, **FAST)
        [result] = backend.generate([user("bad")])
    assert result.error is not None and "HTTP 401" in result.error and "invalid api key" in result.error
    assert server.count("bad") == 1


def test_timeout_is_retried_then_reported() -> None:
    with serve({"sleepy": slow(3.0, "late")}) as server:
        backend = get_backend(server.spec(), timeout=0.3, max_retries=1, backoff=0.01)
        start = time.perf_counter()
        [result] = backend.generate([user("sleepy")])
        elapsed = time.perf_counter() - start
    assert result.error is not None and "timed out" in result.error
    assert server.count("sleepy") == 2
    assert elapsed < 2.5


def test_slow_reply_within_the_timeout_succeeds() -> None:
    with serve({"sleepy": slow(0.3, "on time")}) as server:
        [result] = get_backend(server.spec(), timeout=3.0).generate([user("sleepy")])
    assert result.text == "on time"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("{not json", "not JSON"),
        ('{"choices": []}', "no choices[0].message.content"),
        ('{"choices": [{"message": {}}]}', "no choices[0].message.content"),
        ('{"choices": [{"message": {"content": null}}]}', "NoneType"),
        ('{"error": {"message": "model overloaded"}}', "model overloaded"),
        ("[1, 2]", "no choices[0].message.content"),
    ],
)
def test_malformed_answers_are_errors_and_not_retried(body: str, fragment: str) -> None:
    with serve({"m": malformed(body)}) as server:
        [result] = get_backend(server.spec(), max_retries=3, **FAST).generate([user("m")])
    assert result.text is None and result.error is not None and fragment in result.error
    assert server.count("m") == 1


def test_dropped_connection_is_retried() -> None:
    with serve({"hangup": [drop(), "back"]}) as server:
        [result] = get_backend(server.spec(), max_retries=2, **FAST).generate([user("hangup")])
    assert result.text == "back"
    assert server.count("hangup") == 2


def test_unreachable_server_is_an_error_per_item_not_an_exception() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = get_backend(f"openai:http://127.0.0.1:{port}#m", max_retries=1, **FAST)
    results = backend.generate([user("a"), user("b")])
    assert len(results) == 2
    assert all(r.error is not None and "connection error" in r.error for r in results)


def test_mixed_batch_keeps_failures_separate() -> None:
    with serve({"good": "fine", "bad": fail(500)}) as server:
        results = get_backend(server.spec(), max_retries=0, **FAST).generate([user("good"), user("bad")])
    assert results[0] == ChatResult(text="fine", finish_reason="stop")
    assert results[1].error is not None and "HTTP 500" in results[1].error


def test_length_finish_reason_is_passed_through() -> None:
    with serve({"long": reply("cut", finish_reason="length")}) as server:
        [result] = get_backend(server.spec()).generate([user("long")])
    assert result.finish_reason == "length"


def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("EH_OPENAI_API_KEY", "sk-test-123")
    with serve({"k": "ok"}) as server:
        [result] = get_backend(server.spec()).generate([user("k")])
    assert result.text == "ok"
    assert server.requests[0]["headers"]["Authorization"] == "Bearer sk-test-123"
    assert "sk-test-123" not in get_backend(server.spec()).spec


def test_no_api_key_sends_no_authorization(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("EH_OPENAI_API_KEY", raising=False)
    with serve({"k": "ok"}) as server:
        get_backend(server.spec()).generate([user("k")])
    assert "Authorization" not in server.requests[0]["headers"]


def test_generate_works_inside_a_running_event_loop() -> None:
    with serve({"loop": "inside"}) as server:
        backend = get_backend(server.spec(), **FAST)

        async def caller() -> list[ChatResult]:
            return backend.generate([user("loop")])

        [result] = asyncio.run(caller())
    assert result.text == "inside"


def test_agenerate_is_awaitable() -> None:
    with serve({"a": "async"}) as server:
        backend = OpenAIChatBackend(server.base_url, "m", backoff=0.01)
        [result] = asyncio.run(backend.agenerate([user("a")]))
    assert result.text == "async"


def test_empty_batch_makes_no_request() -> None:
    with serve({}) as server:
        assert get_backend(server.spec()).generate([]) == []
    assert server.requests == []


def test_run_sync_returns_the_coroutine_value() -> None:
    async def seven() -> int:
        return 7

    assert run_sync(seven()) == 7


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://h:1", "http://h:1/v1/chat/completions"),
        ("http://h:1/", "http://h:1/v1/chat/completions"),
        ("http://h:1/v1", "http://h:1/v1/chat/completions"),
        ("https://api.x.com/openai/v2/", "https://api.x.com/openai/v2/chat/completions"),
        ("http://h:1/v1/chat/completions", "http://h:1/v1/chat/completions"),
    ],
)
def test_chat_url(base: str, expected: str) -> None:
    assert chat_url(base) == expected


@pytest.mark.parametrize(
    "spec", ["openai:http://h:1", "openai:http://h:1#", "openai:#model", "openai:ftp://h#m", "openai:"]
)
def test_malformed_openai_specs_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError, match="openai"):
        get_backend(spec)


@pytest.mark.parametrize(
    "options",
    [{"concurrency": 0}, {"timeout": 0}, {"max_retries": -1}, {"backoff": -1.0}],
)
def test_bad_options_are_config_errors(options: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        get_backend("openai:http://127.0.0.1:9#m", **options)


def test_bad_arguments_raise() -> None:
    backend = get_backend("openai:http://127.0.0.1:9#m")
    with pytest.raises(ConfigError, match="max_new_tokens"):
        backend.generate([user("x")], max_new_tokens=0)
    with pytest.raises(ConfigError, match="temperature"):
        backend.generate([user("x")], temperature=-1)


def test_parse_chat_response_reads_the_first_choice() -> None:
    body = '{"choices": [{"message": {"content": "A"}, "finish_reason": "length"}, {"message": {"content": "B"}}]}'
    assert parse_chat_response(body) == ChatResult(text="A", finish_reason="length")


def test_server_script_may_be_a_function_and_has_a_default() -> None:
    def echo(body: dict[str, Any]) -> str:
        return f"{body['model']}: {body['messages'][-1]['content']}"

    with serve(echo) as server:
        results = get_backend(server.spec("m1"), **FAST).generate([user("ping"), user("pong")])
    assert [r.text for r in results] == ["m1: ping", "m1: pong"]
    with serve({"known": "yes"}, default="fallback") as server:
        results = get_backend(server.spec(), **FAST).generate([user("known"), user("other")])
        models = httpx.get(server.base_url + "/models").json()
    assert [r.text for r in results] == ["yes", "fallback"]
    assert models["data"][0]["id"] == "test-model"


def test_unscripted_request_fails_loudly() -> None:
    with serve({"known": "yes"}) as server:
        [result] = get_backend(server.spec(), **FAST).generate([user("a different prompt")])
    assert result.error is not None and "HTTP 400" in result.error and "a different prompt" in result.error
