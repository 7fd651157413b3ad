"""Hidden-state features of (request, response) pairs from the embedded SmolLM2-135M.

The pair is laid out as ``Request: <request>\\nResponse: <response>``, the request cut to
:data:`MAX_REQUEST_TOKENS` tokens and the response to :data:`MAX_RESPONSE_TOKENS` (its start, where a
refusal or a compliance shows), and run through the model once. The feature vector is the mean over
the pair's tokens of the hidden states of two layers, :data:`LAYERS` (a middle layer and the last),
concatenated: 2 x 576 floats. The model sees the request, so a helpful answer to a harmless question
can be told from a helpful answer to a harmful one.

Cost: a forward pass of 135M parameters over up to 128 tokens, about 2 pairs/s on 2 shared CPU cores;
far too slow for a default judge, so it is compared on a stratified subsample (see
:mod:`eh_bench.judges.training`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from eh_bench.errors import require

MAX_REQUEST_TOKENS: Final = 40
MAX_RESPONSE_TOKENS: Final = 88
#: Hidden-state layers that are mean-pooled (indices into ``output.hidden_states``; 0 = embeddings).
LAYERS: Final = (15, -1)
DEFAULT_BATCH: Final = 16
#: Pairs computed between two saves of the feature cache.
CHECKPOINT: Final = 128
#: The embedded model's hidden size (SmolLM2-135M).
HIDDEN_SIZE: Final = 576


class HiddenFeatures:
    """Computes pair features with a causal LM (default: the embedded SmolLM2, loaded lazily).

    Args:
        model_path: a model folder (default: the embedded model, prepared on first use).
        batch_size: pairs per forward pass.
        threads: torch CPU threads (``None`` keeps torch's setting).
    """

    def __init__(
        self, model_path: str | None = None, *, batch_size: int = DEFAULT_BATCH, threads: int | None = None
    ) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.threads = threads
        self._loaded: tuple[Any, Any] | None = None

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            require("torch", "hf")
            import torch

            from eh_bench.backends.embedded import ensure_model, load_model_and_tokenizer

            if self.threads:
                torch.set_num_threads(self.threads)
            path = self.model_path or str(ensure_model().path)
            self._loaded = load_model_and_tokenizer(path)
        return self._loaded

    def _ids(self, tokenizer: Any, prompt: str, response: str) -> list[int]:
        def enc(text: str) -> list[int]:
            return list(tokenizer(text, add_special_tokens=False)["input_ids"])

        return (
            enc("Request: ")
            + enc(prompt)[:MAX_REQUEST_TOKENS]
            + enc("\nResponse: ")
            + enc(response)[:MAX_RESPONSE_TOKENS]
        )

    def transform(
        self, pairs: Sequence[tuple[str, str]], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Features of ``(prompt, response)`` pairs: float32 array of shape ``(len(pairs), 2 * hidden)``."""
        import torch

        model, tokenizer = self._load()
        pad = int(tokenizer.pad_token_id)
        out: list[np.ndarray] = []
        for start in range(0, len(pairs), self.batch_size):
            batch = [self._ids(tokenizer, p, r) for p, r in pairs[start : start + self.batch_size]]
            width = max(len(ids) for ids in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, seq in enumerate(batch):  # left padding, like generation
                ids[row, width - len(seq) :] = torch.tensor(seq, dtype=torch.long)
                mask[row, width - len(seq) :] = 1
            with torch.inference_mode():
                hidden = model.model(
                    input_ids=ids, attention_mask=mask, output_hidden_states=True
                ).hidden_states
            weights = mask.unsqueeze(-1).to(hidden[0].dtype)
            pooled = [(hidden[layer] * weights).sum(1) / weights.sum(1) for layer in LAYERS]
            out.append(torch.cat(pooled, dim=1).float().numpy())
            if progress is not None:
                progress(len(batch))
        if not out:
            return np.zeros((0, len(LAYERS) * HIDDEN_SIZE), dtype=np.float32)
        return np.concatenate(out).astype(np.float32)


#: Changes whenever the layout, truncation or pooling above changes (it keys the feature cache).
FEATURE_VERSION: Final = f"v1-r{MAX_REQUEST_TOKENS}-a{MAX_RESPONSE_TOKENS}-l{'.'.join(map(str, LAYERS))}"


def pair_key(prompt: str, response: str) -> str:
    """sha256 of the feature version and the length-prefixed pair (the cache key of one pair)."""
    payload = f"{FEATURE_VERSION}|{len(prompt)}:{prompt}|{len(response)}:{response}"
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def cached_transform(
    features: HiddenFeatures,
    pairs: Sequence[tuple[str, str]],
    cache_file: Path,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """:meth:`HiddenFeatures.transform` through an ``.npz`` cache of per-pair vectors.

    Only pairs missing from the cache are computed; the cache is rewritten (atomically) with them.
    The file holds vectors and hashed keys, never text; it is saved every :data:`CHECKPOINT` pairs, so
    an interrupted run resumes where it stopped.
    """
    keys = [pair_key(p, r) for p, r in pairs]
    known: dict[str, np.ndarray] = {}
    if cache_file.is_file():
        with np.load(cache_file) as data:
            known = dict(zip((str(k) for k in data["keys"]), data["vectors"], strict=True))
    missing = sorted({k: i for i, k in enumerate(keys) if k not in known}.items())
    for start in range(0, len(missing), CHECKPOINT):
        chunk = missing[start : start + CHECKPOINT]
        fresh = features.transform([pairs[i] for _, i in chunk], progress)
        known.update({k: v for (k, _), v in zip(chunk, fresh, strict=True)})
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(cache_file.name + ".tmp.npz")
        np.savez(tmp, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
        os.replace(tmp, cache_file)
    if not keys:
        return np.zeros((0, len(LAYERS) * HIDDEN_SIZE), dtype=np.float32)
    return np.stack([known[k] for k in keys]).astype(np.float32)
