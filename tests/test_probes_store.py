"""The hidden-state cache: safetensors chunks keyed by model revision and prompt hashes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eh_bench.errors import InputError
from eh_bench.probes.store import INDEX_FILE, StateStore, store_digest

KEY = {"model_id": "m", "revision": "r1", "pool": "last", "max_length": 64, "chat_template_sha256": "t", "dtype": "float32"}


def states(rows: int, layers: int = 3, dim: int = 4, offset: float = 0.0) -> np.ndarray:
    """``(layers, rows, dim)`` with each value telling its row, layer and column apart."""
    grid = np.arange(layers)[:, None, None] * 100 + np.arange(rows)[None, :, None] * 10 + np.arange(dim)[None, None, :]
    return (grid + offset).astype(np.float32)


def test_layers_come_back_in_any_prompt_order_across_chunks(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path, KEY, ["a", "b", "c", "d", "e"])
    store.write_chunk(["a", "b", "c"], states(3))
    store.write_chunk(["d", "e"], states(2, offset=1000))
    store.finish()
    source = store.layers(["e", "a", "c", "a"])
    assert source.n_layers == 3 and source.dim == 4
    layer = source.layer(2)
    assert layer.dtype == np.float64 and layer.shape == (4, 4)
    assert layer[0].tolist() == [1210.0, 1211.0, 1212.0, 1213.0]  # e: row 1 of the second chunk
    assert layer[1].tolist() == layer[3].tolist() == [200.0, 201.0, 202.0, 203.0]  # a, twice
    with pytest.raises(InputError, match="layer 3 is out of range"):
        source.layer(3)
    with pytest.raises(InputError, match="1 prompt"):
        store.layers(["a", "zzz"])


def test_a_later_run_reuses_the_folder_and_a_new_revision_does_not(tmp_path: Path) -> None:
    assert store_digest(KEY, ["b", "a", "a"]) == store_digest(KEY, ["a", "b"])  # a set, not a list
    first = StateStore.open(tmp_path, KEY, ["a", "b"])
    first.write_chunk(["a", "b"], states(2))
    first.finish({"skipped": {}})
    again = StateStore.open(tmp_path, KEY, ["b", "a"])
    assert again.folder == first.folder and again.complete and again.stored() == {"a", "b"}
    other = StateStore.open(tmp_path, {**KEY, "revision": "r2"}, ["a", "b"])
    assert other.folder != first.folder and not other.complete and other.stored() == set()


def test_a_half_written_store_resumes_and_a_lost_chunk_is_forgotten(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path, KEY, ["a", "b", "c"])
    store.write_chunk(["a"], states(1))
    second = store.write_chunk(["b"], states(1))
    resumed = StateStore.open(tmp_path, KEY, ["a", "b", "c"])
    assert not resumed.complete and resumed.stored() == {"a", "b"}
    second.unlink()
    assert StateStore.open(tmp_path, KEY, ["a", "b", "c"]).stored() == {"a"}
    index = json.loads((store.folder / INDEX_FILE).read_text())
    assert index["key"] == KEY and all("prompt" not in chunk for chunk in index["chunks"])


def test_a_chunk_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path, KEY, ["a", "b"])
    with pytest.raises(InputError, match="chunk of 2 prompts"):
        store.write_chunk(["a", "b"], states(3))
    store.write_chunk(["a"], states(1))
    with pytest.raises(InputError, match=r"\(layers, dim\) \(3, 5\)"):
        store.write_chunk(["b"], states(1, dim=5))
