"""Backend spec strings: parsing, the registry, option checks. No model is loaded here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eh_bench.backends import ChatBackend, get_backend
from eh_bench.backends.openai_compat import OpenAIChatBackend
from eh_bench.backends.registry import BACKENDS, build_backend, parse_spec
from eh_bench.errors import ConfigError, EHBenchError


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("smollm2", ("smollm2", "")),
        ("  smollm2 ", ("smollm2", "")),
        ("hf:/models/x", ("hf", "/models/x")),
        ("HF:org/name", ("hf", "org/name")),
        ("openai:http://h:8000/v1#m", ("openai", "http://h:8000/v1#m")),
    ],
)
def test_parse_spec(spec: str, expected: tuple[str, str]) -> None:
    assert parse_spec(spec) == expected


def test_registered_schemes() -> None:
    assert BACKENDS.names() == ["hf", "openai", "smollm2"]


@pytest.mark.parametrize("spec", ["vllm:x", "gpt-4o", "llamacpp:/m.gguf"])
def test_unknown_scheme_lists_the_valid_ones(spec: str) -> None:
    with pytest.raises(ConfigError, match=r"unknown backend scheme .*choose one of: hf, openai, smollm2"):
        build_backend(spec)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "empty backend spec"),
        ("   ", "empty backend spec"),
        ("smollm2:extra", "takes no argument"),
        ("hf:", "names no model"),
        ("hf:/no/such/model/dir", "not a model folder"),
        ("hf:./relative/missing", "not a model folder"),
        ("hf:a/b/c", "not a model folder"),
    ],
)
def test_malformed_specs_are_config_errors(spec: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        get_backend(spec)


def test_unknown_option_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"does not take option\(s\) batch_size; it takes: .*concurrency"):
        get_backend("openai:http://127.0.0.1:9/v1#m", batch_size=4)
    with pytest.raises(ConfigError, match=r"does not take option\(s\) concurrency; it takes: .*batch_size"):
        get_backend("smollm2", concurrency=4)


def test_openai_spec_builds_the_http_backend() -> None:
    backend = get_backend("openai:http://127.0.0.1:9/v1#judge", concurrency=2, timeout=3.0)
    assert isinstance(backend, OpenAIChatBackend)
    assert isinstance(backend, ChatBackend)
    assert backend.spec == "openai:http://127.0.0.1:9/v1#judge"
    assert backend.url == "http://127.0.0.1:9/v1/chat/completions"
    assert (backend.model, backend.concurrency, backend.timeout) == ("judge", 2, 3.0)


def test_http_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EH_OPENAI_CONCURRENCY", "5")
    monkeypatch.setenv("EH_OPENAI_TIMEOUT", "7.5")
    backend = get_backend("openai:http://127.0.0.1:9#m")
    assert isinstance(backend, OpenAIChatBackend)
    assert (backend.concurrency, backend.timeout) == (5, 7.5)
    monkeypatch.setenv("EH_OPENAI_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="EH_OPENAI_TIMEOUT"):
        get_backend("openai:http://127.0.0.1:9#m")


def test_hub_id_offline_without_cache_is_an_actionable_error(tmp_path: Path) -> None:
    # A fresh process: huggingface_hub reads HF_HUB_OFFLINE at import.
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    code = (
        "from eh_bench.backends.embedded import resolve_model\n"
        "from eh_bench.errors import ConfigError\n"
        "try:\n    resolve_model('hf:some-org/some-model')\n"
        "except ConfigError as exc:\n    print('CONFIG', exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "CONFIG" in out.stdout and "some-org/some-model" in out.stdout and "hf:DIR" in out.stdout


def test_errors_are_eh_bench_errors() -> None:
    with pytest.raises(EHBenchError):
        get_backend("nope:x")
