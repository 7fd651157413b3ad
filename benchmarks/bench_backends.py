"""Embedded-model preparation time, and the transformers backend's speed next to plain ``generate``.

1. ``prepare``: a cold build of the SmolLM2 folder into a temporary cache, then a warm (verified)
   reuse of it.
2. ``generate``: the same N chat prompts, greedy, ``--max-new-tokens`` each, at batch 1 and batch 8,
   through (a) plain transformers (template, left-pad, ``model.generate`` by hand) and (b)
   ``TransformersBackend.generate``, both on one loaded model, alternating, best of ``--repeat``. Both
   produce the same tokens, so tokens/s counts the plain run's generated (non-pad) tokens.

Prints tokens/s and the ratio backend / plain (goal: <= 1.05; the backend adds only templating,
sorting and decoding).

Example: .venv/bin/python benchmarks/bench_backends.py --n 8 --max-new-tokens 32
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from eh_bench.backends import Message
from eh_bench.backends.embedded import ensure_model, load_model_and_tokenizer, prepare_model
from eh_bench.backends.transformers_backend import TransformersBackend, configure_torch_threads

PROMPTS = (
    "Say hello.",
    "Name a fruit.",
    "Give me a cake recipe.",
    "What is the capital of France?",
    "Describe a rainbow in one sentence.",
    "Write a haiku about tea.",
    "List three colours.",
    "How do plants make food?",
)


def conversations(n: int) -> list[list[Message]]:
    return [[{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}] for i in range(n)]


def plain_generate(model: Any, tokenizer: Any, convs: list[list[Message]], batch: int, max_new: int) -> int:
    """Plain transformers: template, left-pad, generate; returns the generated (non-pad) token count."""
    import torch

    tokens = 0
    texts = [tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in convs]
    for start in range(0, len(texts), batch):
        enc = tokenizer(
            texts[start : start + batch], return_tensors="pt", padding=True, add_special_tokens=False
        )
        with torch.inference_mode():
            out = model.generate(
                **enc, max_new_tokens=max_new, do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
        new = out[:, enc["input_ids"].shape[1] :]
        for row in new.tolist():
            stop = next((i for i, t in enumerate(row) if t == tokenizer.eos_token_id), None)
            tokens += len(row) if stop is None else stop + 1
    return tokens


def interleaved(plain: Any, ours: Any, repeat: int) -> tuple[float, float, Any]:
    """Best-of-``repeat`` seconds of two callables run alternately (so load spikes hit both)."""
    plain_times, our_times, value = [], [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = plain()
        plain_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours()
        our_times.append(time.perf_counter() - start)
    return min(plain_times), min(our_times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8, help="prompts per run")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-prepare", action="store_true", help="skip the cold build timing")
    args = parser.parse_args()
    print(f"torch threads: {configure_torch_threads()}, load average at start: {os.getloadavg()[0]:.2f}")

    if not args.skip_prepare:
        with tempfile.TemporaryDirectory(prefix="eh-bench-prepare-") as tmp:
            cold = ensure_model("smollm2", Path(tmp))
            warm = ensure_model("smollm2", Path(tmp))
        print(f"prepare: cold build {cold.seconds:.1f} s, warm verified reuse {warm.seconds:.2f} s")
        print(f"checksum {cold.checksum} (reuse identical: {warm.checksum == cold.checksum})")

    model, tokenizer = load_model_and_tokenizer(prepare_model("smollm2"))
    convs = conversations(args.n)
    print(f"\n{args.n} prompts, greedy, max_new_tokens={args.max_new_tokens}, best of {args.repeat}")
    print(
        f"{'batch':>5} {'plain s':>8} {'backend s':>10} {'plain tok/s':>12} {'backend tok/s':>14} {'ratio':>6}"
    )
    for batch in (1, 8):
        backend = TransformersBackend.from_loaded(model, tokenizer, spec="smollm2", batch_size=batch)
        plain_s, backend_s, tokens = interleaved(
            lambda b=batch: plain_generate(model, tokenizer, convs, b, args.max_new_tokens),
            lambda be=backend: be.generate(convs, max_new_tokens=args.max_new_tokens),
            args.repeat,
        )
        print(
            f"{batch:>5} {plain_s:>8.2f} {backend_s:>10.2f} {tokens / plain_s:>12.1f} "
            f"{tokens / backend_s:>14.1f} {backend_s / plain_s:>6.2f}"
        )


if __name__ == "__main__":
    main()
