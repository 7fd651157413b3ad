"""The hidden-state cache: safetensors chunks in a folder keyed by model revision and prompt hashes.

A folder holds ``chunk-00000.safetensors``, ... (one tensor ``hidden`` of shape ``(layers, rows, dim)``,
float32, so one layer of one chunk is a contiguous read) and ``index.json``: the key fields, the
layer count and width, and for each chunk the sha256 of every prompt it holds (never the prompt
itself). The folder name is a digest of the key (model id and revision, pooling, maximum length,
chat template hash, dtype) and of the sorted set of prompt hashes, so any later run with the same
model revision and prompts reuses it, whatever its output folder. Chunks are recorded in the index as
they are written: a run that stops half-way resumes from the prompts it already has.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from eh_bench.atomic import write_bytes, write_text
from eh_bench.errors import InputError

FloatArray = npt.NDArray[np.float64]
STORE_VERSION: Final = 1
INDEX_FILE: Final = "index.json"
CHUNK_FILE: Final = "chunk-{:05d}.safetensors"
TENSOR: Final = "hidden"
#: Prompts per chunk file: bounds the memory of a write and of nothing else.
DEFAULT_CHUNK_ROWS: Final = 128
STORE_SUBDIR: Final = "probes"


def store_digest(key: Mapping[str, Any], prompt_hashes: Sequence[str]) -> str:
    """sha256 over the key fields and the sorted distinct prompt hashes (order of prompts is irrelevant)."""
    payload = json.dumps({"version": STORE_VERSION, "key": dict(key), "prompts": sorted(set(prompt_hashes))},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _atomic_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=1) + "\n")


class StateStore:
    """One cache folder: write chunks, then read any layer back in any prompt order."""

    def __init__(self, folder: Path, key: Mapping[str, Any]) -> None:
        self.folder = folder
        self.key = dict(key)
        self.index: dict[str, Any] = {"version": STORE_VERSION, "key": self.key, "n_layers": None, "dim": None,
                                      "chunks": [], "complete": False}
        found = self._read_index()
        if found is not None:
            self.index = found

    @classmethod
    def open(cls, root: Path, key: Mapping[str, Any], prompt_hashes: Sequence[str]) -> StateStore:
        """The store for ``key`` and these prompts under ``root`` (created when new)."""
        folder = root / store_digest(key, prompt_hashes)[:24]
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder, key)

    def _read_index(self) -> dict[str, Any] | None:
        path = self.folder / INDEX_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != STORE_VERSION or data.get("key") != self.key:
            return None  # an older layout or another key: start over
        kept = [c for c in data.get("chunks", []) if (self.folder / str(c.get("file"))).is_file()]
        return {**data, "chunks": kept, "complete": bool(data.get("complete")) and kept == data.get("chunks")}

    @property
    def complete(self) -> bool:
        return bool(self.index["complete"])

    def stored(self) -> set[str]:
        """Prompt hashes already written."""
        return {h for chunk in self.index["chunks"] for h in chunk["rows"]}

    def write_chunk(self, rows: Sequence[str], hidden: npt.NDArray[np.float32]) -> Path:
        """Write one chunk (``hidden``: ``(layers, len(rows), dim)``) and record it in the index."""
        from safetensors.numpy import save

        if hidden.ndim != 3 or hidden.shape[1] != len(rows):
            raise InputError(f"chunk of {len(rows)} prompts has hidden states of shape {hidden.shape}")
        shape = (int(hidden.shape[0]), int(hidden.shape[2]))
        known = (self.index["n_layers"], self.index["dim"])
        if known != (None, None) and tuple(known) != shape:
            raise InputError(f"{self.folder}: chunk has (layers, dim) {shape}, the store {known}")
        name = CHUNK_FILE.format(len(self.index["chunks"]))
        write_bytes(self.folder / name, save({TENSOR: np.ascontiguousarray(hidden, dtype=np.float32)}))
        self.index.update(n_layers=shape[0], dim=shape[1])
        self.index["chunks"].append({"file": name, "rows": list(rows)})
        _atomic_json(self.folder / INDEX_FILE, self.index)
        return self.folder / name

    def finish(self, extra: Mapping[str, Any] | None = None) -> None:
        """Mark the store complete (every prompt written), recording ``extra`` (e.g. skipped prompts)."""
        self.index.update(complete=True, **dict(extra or {}))
        _atomic_json(self.folder / INDEX_FILE, self.index)

    def layers(self, prompt_hashes: Sequence[str]) -> StoredLayers:
        """A :class:`~eh_bench.probes.probe.LayerSource` over these prompts, in this order."""
        return StoredLayers(self, list(prompt_hashes))


class StoredLayers:
    """Reads one layer at a time from every chunk: memory is one ``(n_prompts, dim)`` array per call."""

    def __init__(self, store: StateStore, prompt_hashes: list[str]) -> None:
        where = {h: (c, r) for c, chunk in enumerate(store.index["chunks"]) for r, h in enumerate(chunk["rows"])}
        missing = [h for h in prompt_hashes if h not in where]
        if missing:
            raise InputError(f"{store.folder}: {len(missing)} prompt(s) have no stored hidden states; re-extract")
        self.store = store
        self.hashes = prompt_hashes
        self._where = [where[h] for h in prompt_hashes]

    @property
    def n_layers(self) -> int:
        return int(self.store.index["n_layers"])

    @property
    def dim(self) -> int:
        return int(self.store.index["dim"])

    def layer(self, index: int) -> FloatArray:
        """``(n_prompts, dim)`` float64 states of layer ``index`` (0 = embeddings)."""
        from safetensors import safe_open

        if not 0 <= index < self.n_layers:
            raise InputError(f"layer {index} is out of range; the store has layers 0-{self.n_layers - 1}")
        out = np.empty((len(self.hashes), self.dim), dtype=np.float64)
        by_chunk: dict[int, list[tuple[int, int]]] = {}
        for pos, (chunk, row) in enumerate(self._where):
            by_chunk.setdefault(chunk, []).append((pos, row))
        for chunk, pairs in by_chunk.items():
            path = self.store.folder / self.store.index["chunks"][chunk]["file"]
            with safe_open(str(path), framework="np") as handle:
                block = handle.get_slice(TENSOR)[index]
            positions, rows = zip(*pairs, strict=True)
            out[list(positions)] = block[list(rows)]
        return out
