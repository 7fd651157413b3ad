"""Hidden states of every layer for chat-templated prompts, batched, streamed into the chunk store.

Each prompt is one user turn under the model's chat template with the assistant's turn opened
(``add_generation_prompt=True``): the same token ids the model sees before it answers. The states are
read from the model's backbone (no language-model head), ``output_hidden_states=True``: the embeddings
plus one per layer (31 for SmolLM2-135M's 30 layers). Pooling:

* ``last`` (default): the last token before generation, the position whose state decides the answer;
* ``mean``: the mean over every token of the templated prompt.

Prompts are sorted by length and padded on the left (position ids count real tokens only), so a batch
wastes little work and the last position is every prompt's last token. Pooled states go into one
reused buffer of ``chunk_rows`` prompts, written as a safetensors chunk each time it is full: memory
does not grow with the number of prompts. A prompt longer than ``max_length`` tokens is skipped with a reason.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from eh_bench.errors import ConfigError
from eh_bench.probes.store import DEFAULT_CHUNK_ROWS, StateStore

Pool = Literal["last", "mean"]
POOLS: Final = ("last", "mean")
DEFAULT_POOL: Final = "last"
DEFAULT_BATCH_SIZE: Final = 8
#: Longest templated prompt (tokens) extracted; longer ones are skipped, never truncated.
DEFAULT_MAX_LENGTH: Final = 1024


def template_sha256(tokenizer: Any) -> str:
    """sha256 of the tokenizer's chat template (part of the cache key)."""
    template = getattr(tokenizer, "chat_template", None) or ""
    return hashlib.sha256(str(template).encode("utf-8")).hexdigest()


def check_pool(pool: str) -> Pool:
    """``pool`` if it is a known pooling, else :class:`ConfigError` listing them."""
    if pool == "last":
        return "last"
    if pool == "mean":
        return "mean"
    raise ConfigError(f"unknown pooling {pool!r}; choose one of: {', '.join(POOLS)}")


def batch_states(model: Any, batch: Sequence[Sequence[int]], pad_id: int, pool: Pool) -> npt.NDArray[np.float32]:
    """``(layers, len(batch), dim)`` pooled hidden states of one batch of token-id lists."""
    import torch

    width = max(len(ids) for ids in batch)
    input_ids = torch.tensor([[pad_id] * (width - len(ids)) + list(ids) for ids in batch], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in batch], dtype=torch.long)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    device = model.device
    with torch.inference_mode():
        out = model.base_model(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                               position_ids=positions.to(device), output_hidden_states=True, use_cache=False)
        if pool == "last":
            pooled = torch.stack([h[:, -1, :] for h in out.hidden_states])
        else:
            weights = mask.to(device=device, dtype=out.hidden_states[0].dtype).unsqueeze(-1)
            pooled = torch.stack([(h * weights).sum(1) / weights.sum(1) for h in out.hidden_states])
    return np.asarray(pooled.float().cpu().numpy(), dtype=np.float32)


def bag_of_embeddings(model: Any, tokenizer: Any, texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """``(len(texts), dim)``: the mean of the model's input embeddings over each text's own tokens.

    No chat template and no forward pass: the prompt's lexical content as the model's vocabulary
    encodes it, with nothing mixed in from context. Used as the stronger text baseline.
    """
    import torch

    table = model.get_input_embeddings().weight
    out = np.zeros((len(texts), int(table.shape[1])), dtype=np.float64)
    with torch.inference_mode():
        for row, text in enumerate(texts):
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            if ids:
                out[row] = table[torch.tensor(ids, dtype=torch.long, device=table.device)].float().mean(0).cpu().numpy()
    return out


@dataclass
class ExtractStats:
    """What one extraction did: prompts extracted, reused and skipped (with reasons), and how long it took."""

    extracted: int = 0
    reused: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    tokens: int = 0


def extract_to_store(
    model: Any,
    encode: Callable[[str], list[int]],
    prompts: Mapping[str, str],
    store: StateStore,
    *,
    pad_id: int,
    pool: Pool = DEFAULT_POOL,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_length: int = DEFAULT_MAX_LENGTH,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> ExtractStats:
    """Extract every prompt of ``prompts`` (sha256 -> user turn) not yet in ``store``, then finish it.

    Args:
        model: a causal LM (its ``base_model`` is run).
        encode: user turn -> token ids under the chat template, generation prompt included.
        prompts: the prompts by their sha256.
        store: the cache folder to fill.
        pad_id: the padding token id.
        pool, batch_size, max_length, chunk_rows: see the module docstring.
        progress: called with (done, total) after each batch.
    """
    if batch_size < 1 or chunk_rows < 1 or max_length < 1:
        raise ConfigError(f"batch_size, chunk_rows and max_length must be >= 1 (got {batch_size}, {chunk_rows}, {max_length})")
    start = time.perf_counter()
    stats = ExtractStats(skipped=dict(store.index.get("skipped") or {}))
    have = store.stored()
    stats.reused = sum(1 for h in prompts if h in have)
    todo: list[tuple[str, list[int]]] = []
    for sha, text in prompts.items():
        if sha in have or sha in stats.skipped:
            continue
        ids = encode(text)
        if len(ids) > max_length:
            stats.skipped[sha] = f"prompt is {len(ids)} tokens under the chat template, over --max-length {max_length}"
        else:
            todo.append((sha, ids))
    todo.sort(key=lambda item: len(item[1]), reverse=True)
    buffer: npt.NDArray[np.float32] | None = None  # one chunk, allocated once and reused
    rows: list[str] = []
    for begin in range(0, len(todo), batch_size):
        batch = todo[begin : begin + batch_size]
        states = batch_states(model, [ids for _, ids in batch], pad_id, pool)
        if buffer is None:
            buffer = np.empty((states.shape[0], chunk_rows, states.shape[2]), dtype=np.float32)
        stats.tokens += sum(len(ids) for _, ids in batch)
        taken = 0
        while taken < len(batch):  # a batch may straddle two chunks
            room = min(chunk_rows - len(rows), len(batch) - taken)
            buffer[:, len(rows) : len(rows) + room] = states[:, taken : taken + room]
            rows += [sha for sha, _ in batch[taken : taken + room]]
            taken += room
            if len(rows) == chunk_rows:
                store.write_chunk(rows, buffer)
                rows = []
        if progress is not None:
            progress(min(begin + batch_size, len(todo)), len(todo))
    if rows and buffer is not None:
        store.write_chunk(rows, buffer[:, : len(rows)])
    stats.extracted = len(todo)
    store.finish({"skipped": stats.skipped})
    stats.seconds = time.perf_counter() - start
    return stats
