"""Hidden-state extraction: throughput next to a bare forward pass, and peak memory at 100 vs 2,000 prompts.

1. ``throughput``: the same harmless prompts, chat-templated, length-sorted and cut into the same
   batches, through (a) the causal LM's bare forward pass (``model(input_ids, attention_mask)``, the
   tensors built beforehand, nothing kept), (b) the backbone's forward pass (no LM head, no hidden states
   kept), and (c) :func:`eh_bench.probes.extract.extract_to_store` into a fresh store (templating,
   forward with every layer's states, pooling, safetensors chunks on disk). Runs alternate; best of
   ``--repeat``. Goal: (c) / (a) <= 1.2.
2. ``memory``: extraction of ``--small``, ``--mid`` and ``--large`` synthetic prompts, each in a fresh process,
   reporting the peak resident memory during extraction only (the peak counter is reset after the model
   is loaded and warmed up) and the store's size on disk. Goal: flat (the chunk buffer bounds memory).

Example: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_probes.py --n 64 --small 100 --large 2000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SUBJECTS = ("a lighthouse", "autumn leaves", "a bicycle", "tea", "the moon", "a garden", "rain", "a violin",
            "bread", "a harbour", "snow", "a library", "bees", "a kite", "the sea", "a clock")
ASKS = ("Write one sentence about {}.", "Give me two facts about {} for a school quiz, briefly please.",
        "Describe {} to a child in a short friendly paragraph with simple words and one question at the end.",
        "Name {}.")


def prompts(n: int) -> list[str]:
    """``n`` distinct harmless prompts of varied length."""
    return [f"{ASKS[i % len(ASKS)].format(SUBJECTS[(i // len(ASKS)) % len(SUBJECTS)])} (#{i})" for i in range(n)]


def load() -> tuple[Any, Any, Any]:
    from eh_bench.backends.embedded import load_model_and_tokenizer, prepare_model
    from eh_bench.backends.transformers_backend import TransformersBackend, configure_torch_threads

    configure_torch_threads()
    model, tokenizer = load_model_and_tokenizer(prepare_model("smollm2"))
    return model, tokenizer, TransformersBackend.from_loaded(model, tokenizer, spec="smollm2")


def batches(backend: Any, texts: list[str], size: int, pad: int) -> tuple[list[tuple[Any, Any]], int]:
    """The padded tensors extraction would build: length-sorted, left-padded; and the token count."""
    import torch

    ids = sorted((backend.encode([{"role": "user", "content": t}]) for t in texts), key=len, reverse=True)
    out = []
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        width = max(len(x) for x in chunk)
        out.append((torch.tensor([[pad] * (width - len(x)) + x for x in chunk]),
                    torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in chunk])))
    return out, sum(len(x) for x in ids)


def throughput(n: int, batch: int, repeat: int) -> dict[str, Any]:
    import torch

    from eh_bench.probes.extract import extract_to_store
    from eh_bench.probes.store import StateStore

    model, tokenizer, backend = load()
    texts = prompts(n)
    pad = int(tokenizer.pad_token_id)
    prebuilt, tokens = batches(backend, texts, batch, pad)

    def bare() -> None:
        with torch.inference_mode():
            for ids, mask in prebuilt:
                model(input_ids=ids, attention_mask=mask)

    def backbone() -> None:
        with torch.inference_mode():
            for ids, mask in prebuilt:
                model.base_model(input_ids=ids, attention_mask=mask)

    def extraction() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            store = StateStore.open(Path(tmp), {"bench": time.time()}, [str(i) for i in range(n)])
            extract_to_store(model, lambda t: backend.encode([{"role": "user", "content": t}]),
                             {str(i): t for i, t in enumerate(texts)}, store, pad_id=pad, batch_size=batch)

    bare()  # warm-up
    runs: dict[str, list[float]] = {"bare forward (causal LM)": [], "backbone forward": [], "extract_to_store": []}
    for _ in range(repeat):
        for name, fn in zip(runs, (bare, backbone, extraction), strict=True):
            start = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - start)
    return {"n": n, "batch": batch, "tokens": tokens, "runs": runs}


def child(n: int, max_length: int, batch: int) -> None:
    """One memory measurement (run in a fresh process): prints a JSON line."""
    from eh_bench.probes.extract import extract_to_store
    from eh_bench.probes.store import StateStore

    model, tokenizer, backend = load()
    texts = prompts(n)
    encode = lambda t: backend.encode([{"role": "user", "content": t}])  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        warm = StateStore.open(Path(tmp) / "warm", {"warm": 1}, ["w"])
        extract_to_store(model, encode, {"w": texts[0]}, warm, pad_id=int(tokenizer.pad_token_id))
        loaded_kib = rss("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
        store = StateStore.open(Path(tmp) / "store", {"n": n}, [str(i) for i in range(n)])
        start = time.perf_counter()
        stats = extract_to_store(model, encode, {str(i): t for i, t in enumerate(texts)}, store,
                                 pad_id=int(tokenizer.pad_token_id), batch_size=batch, max_length=max_length)
        seconds = time.perf_counter() - start
        disk = sum(p.stat().st_size for p in store.folder.iterdir())
        print(json.dumps({"n": n, "extracted": stats.extracted, "skipped": len(stats.skipped), "tokens": stats.tokens,
                          "seconds": seconds, "loaded_mib": loaded_kib / 1024, "peak_mib": rss("VmHWM") / 1024,
                          "disk_mib": disk / 2**20}))


def rss(field: str) -> int:
    """A ``/proc/self/status`` memory field in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory(sizes: list[int], max_length: int, batch: int) -> list[dict[str, Any]]:
    out = []
    for n in sizes:
        done = subprocess.run([sys.executable, __file__, "--child", str(n), "--max-length", str(max_length),
                               "--batch-size", str(batch)], capture_output=True, text=True, check=True)
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=64, help="prompts for the throughput comparison")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--mid", type=int, default=500, help="a third size between them (0: none)")
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--max-length", type=int, default=96, help="longest templated prompt in the memory runs")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.max_length, args.batch_size)
        return
    t = throughput(args.n, args.batch_size, args.repeat)
    best = {name: min(times) for name, times in t["runs"].items()}
    bare = best["bare forward (causal LM)"]
    print(f"## throughput: {t['n']} prompts, {t['tokens']} templated tokens, batch {t['batch']}, best of {args.repeat}\n")
    print("| step | best s | each run s | tokens/s | ratio to bare forward |\n|---|---:|---|---:|---:|")
    for name, times in t["runs"].items():
        each = ", ".join(f"{x:.2f}" for x in times)
        print(f"| {name} | {best[name]:.2f} | {each} | {t['tokens'] / best[name]:.0f} | {best[name] / bare:.3f} |")
    rows = memory([n for n in (args.small, args.mid, args.large) if n], args.max_length, args.batch_size)
    print(f"\n## memory: extraction only, fresh process each, max length {args.max_length}\n")
    print("| prompts | extracted | tokens | seconds | RSS after load MiB | peak RSS during extraction MiB | store on disk MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['n']} | {r['extracted']} | {r['tokens']} | {r['seconds']:.1f} | {r['loaded_mib']:.0f} "
              f"| {r['peak_mib']:.0f} | {r['disk_mib']:.1f} |")
    small, large = rows[0], rows[-1]
    print(f"\npeak ratio {large['n']} / {small['n']} prompts: {large['peak_mib'] / small['peak_mib']:.3f}; "
          f"growth over load: {small['peak_mib'] - small['loaded_mib']:.0f} MiB vs {large['peak_mib'] - large['loaded_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
