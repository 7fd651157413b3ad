"""One probe run, end to end: prompts -> hidden states (cached) -> labels -> probe, levels, decodability.

:func:`run_probes` is what ``eh-bench probe`` calls; :mod:`eh_bench.probes.report` turns its result into
report.json, probes.json and report.md. A step that cannot be scored (one label class, too few levels)
is recorded with its reason and the others still run; nothing undefined becomes a number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from eh_bench.errors import ConfigError, InputError
from eh_bench.probes import cv, extract, labels, learners, sets
from eh_bench.probes.decode import DEFAULT_N_PERM, TargetDecode, decode_target
from eh_bench.probes.levels import LevelScores, activation_levels
from eh_bench.probes.probe import DEFAULT_PROBE_PERM, RefusalProbe, probe_refusal
from eh_bench.probes.stats import DEFAULT_N_BOOT
from eh_bench.probes.store import STORE_SUBDIR, StateStore
from eh_bench.probes.summary import decodability_summary

Log = Callable[[str], None]
SNAPSHOT_DIR: Final = "snapshots"


@dataclass(frozen=True)
class ProbeSettings:
    """Every choice of a run (the CLI flags one to one); recorded in the report."""

    model: str = "smollm2"
    config: str = "core"
    contrast: str | None = sets.DEFAULT_CONTRAST
    label_source: str = labels.DEFAULT_LABEL_SOURCE
    limit: int | None = None
    pool: str = extract.DEFAULT_POOL
    device: str = "cpu"
    dtype: str = "float32"
    batch_size: int = extract.DEFAULT_BATCH_SIZE
    max_length: int = extract.DEFAULT_MAX_LENGTH
    folds: int = cv.DEFAULT_FOLDS
    c: float = learners.DEFAULT_C
    n_perm: int = DEFAULT_N_PERM
    probe_perm: int = DEFAULT_PROBE_PERM
    n_boot: int = DEFAULT_N_BOOT
    seed: int = 0
    dataset: str | None = None
    judge: str = "refusal"
    judge_backend: str | None = None
    likelihood: str = "linear"
    max_new_tokens: int = labels.DEFAULT_MAX_NEW_TOKENS
    cache_dir: Path | None = None
    model_id: str | None = None
    model_revision: str | None = None

    def record(self) -> dict[str, Any]:
        """The settings as JSON-ready values."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in self.__dict__.items()}


@dataclass
class ProbeRun:
    """Everything a run found, with the reasons of any step left unscored."""

    settings: ProbeSettings
    model: dict[str, Any]
    items: list[sets.ProbeItem]
    labels: labels.Labels
    extraction: dict[str, Any]
    refusal: RefusalProbe | None = None
    levels: list[LevelScores] = field(default_factory=list)
    severity: TargetDecode | None = None
    cost: TargetDecode | None = None
    unscored: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def _folder_fingerprint(folder: Path) -> str:
    """A revision for a local model folder: the Hub snapshot commit, else a hash of file names, sizes, times."""
    parts = folder.resolve().parts
    if SNAPSHOT_DIR in parts[:-1]:
        return parts[parts.index(SNAPSHOT_DIR) + 1]
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        info = path.stat()
        digest.update(f"{path.relative_to(folder)} {info.st_size} {info.st_mtime_ns}\n".encode())
    return "stat-" + digest.hexdigest()[:40]


def resolve_probe_model(settings: ProbeSettings) -> tuple[Path, dict[str, Any]]:
    """The model folder and its record (id, revision, spec) for a local model spec."""
    from eh_bench.backends.embedded import EMBEDDED_MODELS, ensure_model, resolve_model

    spec = settings.model
    if spec in EMBEDDED_MODELS:
        prepared = ensure_model(spec)
        path, model_id, revision = prepared.path, spec, prepared.checksum
    elif spec.startswith("hf:"):
        path = resolve_model(spec)
        model_id = path.name if Path(spec[3:]).expanduser().is_dir() else spec[3:]
        revision = _folder_fingerprint(path)
    else:
        raise ConfigError(f"probes read hidden states, so --model needs local weights: smollm2 or hf:DIR_OR_ID (got {spec!r})")
    record = {"id": settings.model_id or model_id, "revision": settings.model_revision or revision,
              "source": "cli", "spec": spec, "dtype": settings.dtype, "device": settings.device}
    return path, record


def _levels(items: list[sets.ProbeItem], name: str) -> np.ndarray:
    return np.array([np.nan if getattr(i, name) is None else float(getattr(i, name)) for i in items])


def run_probes(settings: ProbeSettings, log: Log | None = None) -> ProbeRun:
    """Run every step of a probe analysis (see the module docstring)."""
    from eh_bench.backends.embedded import cache_root, load_model_and_tokenizer
    from eh_bench.backends.transformers_backend import TransformersBackend, configure_torch_threads

    say = log or (lambda _msg: None)
    source = labels.check_source(settings.label_source)
    pool = extract.check_pool(settings.pool)
    contrast = settings.contrast if source == "contrast" else None
    chosen = sets.probe_set(settings.config, contrast=contrast, limit=settings.limit, dataset=settings.dataset,
                            seed=settings.seed)
    path, model = resolve_probe_model(settings)
    if settings.device == "cpu":
        configure_torch_threads()
    loaded, tokenizer = load_model_and_tokenizer(path, dtype=settings.dtype, device=settings.device)
    backend = TransformersBackend.from_loaded(loaded, tokenizer, spec=settings.model, batch_size=settings.batch_size)
    model["chat_template_sha256"] = extract.template_sha256(tokenizer)
    items = chosen.items
    key = {"model_id": model["id"], "revision": model["revision"], "pool": pool, "max_length": settings.max_length,
           "chat_template_sha256": model["chat_template_sha256"], "dtype": settings.dtype,
           "extractor": "backbone output_hidden_states, left padding"}
    root = (settings.cache_dir or cache_root() / STORE_SUBDIR).expanduser()
    store = StateStore.open(root, key, [i.sha256 for i in items])
    say(f"hidden states of {len({i.sha256 for i in items})} prompts -> {store.folder}")
    stats = extract.extract_to_store(
        loaded, lambda text: backend.encode([{"role": "user", "content": text}]),
        {i.sha256: i.text for i in items}, store, pad_id=int(tokenizer.pad_token_id), pool=pool,
        batch_size=settings.batch_size, max_length=settings.max_length,
    )
    extraction = {"store": str(store.folder), "extracted": stats.extracted, "reused": stats.reused,
                  "skipped": len(stats.skipped), "seconds": round(stats.seconds, 3), "tokens": stats.tokens,
                  "n_layers": store.index["n_layers"], "dim": store.index["dim"]}
    if source == "contrast":
        found = labels.contrast_labels(items, contrast)
    else:
        from eh_bench.judges.registry import get_judge

        say(f"generating and judging {len(items)} answers with {settings.judge}")
        judge = get_judge(settings.judge, settings.judge_backend)
        found = labels.behaviour_labels(items, backend, judge, max_new_tokens=settings.max_new_tokens)
    run = ProbeRun(settings, model, items, found, extraction)
    lexical = dict(zip((i.sha256 for i in items), extract.bag_of_embeddings(loaded, tokenizer, [i.text for i in items]),
                       strict=True))
    _analyse(run, store, set(stats.skipped), lexical, say)
    return run


def _analyse(run: ProbeRun, store: StateStore, skipped: set[str], lexical: dict[str, np.ndarray], say: Log) -> None:
    def lex(chosen: list[sets.ProbeItem]) -> np.ndarray:
        return np.vstack([lexical[i.sha256] for i in chosen])

    s = run.settings
    usable = [(i, v) for i, v in zip(run.items, run.labels.values, strict=True) if i.sha256 not in skipped]
    probe_items = [i for i, v in usable if v is not None]
    say(f"refusal probe on {len(probe_items)} prompts, {store.index['n_layers']} layers")
    try:
        run.refusal = probe_refusal(
            store.layers([i.sha256 for i in probe_items]), [v for _, v in usable if v is not None],
            [i.sha256 for i in probe_items], [i.text for i in probe_items], lexical=lex(probe_items),
            k=s.folds, c=s.c, seed=s.seed, n_boot=s.n_boot, n_perm=s.probe_perm,
        )
        run.levels = activation_levels([p.probability for p in run.refusal.layers], _levels(probe_items, "severity"),
                                       _levels(probe_items, "cost"), [i.harmful for i in probe_items],
                                       n_boot=s.n_boot, seed=s.seed)
    except InputError as exc:
        run.unscored["refusal"] = str(exc)
    harmful = [i for i, _ in usable if i.harmful and i.severity is not None]
    for target in ("severity", "cost"):
        chosen = [i for i in harmful if getattr(i, target) is not None]
        say(f"decoding {target} from {len(chosen)} prompts ({s.n_perm} shuffles)")
        try:
            result = decode_target(
                store.layers([i.sha256 for i in chosen]), _levels(chosen, target), [i.sha256 for i in chosen],
                [i.text for i in chosen], target=target, strata=_levels(chosen, "severity") if target == "cost" else None,
                strata_name="severity" if target == "cost" else None, lexical=lex(chosen), k=s.folds, n_perm=s.n_perm,
                n_boot=s.n_boot, seed=s.seed,
            )
        except InputError as exc:
            run.unscored[f"decode_{target}"] = str(exc)
            continue
        setattr(run, target, result)
    run.summary = decodability_summary(str(run.model["id"]), run.severity, run.cost)
