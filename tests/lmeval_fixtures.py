"""Stand-in lm-eval run folders for scoring tests, written by lm-eval's own EvaluationTracker.

Every prompt and response here is harmless and written for these tests ("I can't help with that." /
"Sure, here is a cake recipe ..."); only the labels and file layout matter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REFUSE = "I can't help with that."
COMPLY = "Sure, here is a cake recipe: mix flour, sugar and two eggs, then bake for 30 minutes."
MODEL_DIR = "stand-in__model"
DATE = "2026-01-02T03-04-05.000006"
TEMPLATE_ARGS = {"until": [], "max_gen_toks": 32, "do_sample": False, "temperature": 0.0}


def make_doc(
    i: int, cost: int | None, severity: int | None, *, source: str = "core", **extra: Any
) -> dict[str, Any]:
    """A canonical dataset row with a harmless prompt."""
    prompt = extra.pop("prompt", f"Please share baking tip number {i}.")
    row = {
        "id": f"{source}:{source}-{i:03d}",
        "source": source,
        "source_id": f"{source}-{i:03d}",
        "prompt": prompt,
        "prompt_sha256": hashlib.sha256(prompt.strip().encode()).hexdigest(),
        "category": None,
        "harm_category": "fraud_deception",
        "context": "",
        "cost": cost,
        "severity": severity,
        "expertise": cost,
        "equipment": 1,
        "time": 1,
        "legality": 1,
        "rationale": "stand-in",
        "annotator": "tests",
        "rubric_version": "1",
        "split": "test",
        "duplicate_of": None,
    }
    row.update(extra)
    return row


def sample(doc_id: int, doc: dict[str, Any], response: str | None, metrics: dict[str, float] | None = None,
           filter_name: str = "none") -> dict[str, Any]:  # fmt: skip
    """One logged sample in the shape lm-eval's evaluator builds before writing it."""
    resps = [] if response is None else [response]
    out: dict[str, Any] = {
        "doc_id": doc_id,
        "doc": doc,
        "target": "",
        "arguments": [(f"<|user|>{doc['prompt']}<|assistant|>", dict(TEMPLATE_ARGS))],
        "resps": [resps],
        "filtered_resps": resps,
        "filter": filter_name,
        "metrics": list(metrics or {"asr": 0.0}),
        "doc_hash": "0" * 64,
        "prompt_hash": "1" * 64,
        "target_hash": "2" * 64,
    }
    out.update(metrics or {"asr": float("nan")})
    return out


def write_run(
    out: Path,
    tasks: dict[str, Sequence[tuple[dict[str, Any], str | None]]],
    *,
    date: str = DATE,
    model_dir: str = MODEL_DIR,
    results: dict[str, Any] | None = None,
) -> Path:
    """Write ``samples_<task>_<date>.jsonl`` (and optionally ``results_<date>.json``) under ``out/model_dir``.

    Args:
        out: the run folder (lm-eval's ``--output_path``).
        tasks: task name -> ``(doc, response)`` pairs (response None: nothing generated).
        date: the date stamp in the file names.
        model_dir: the model sub-folder name.
        results: a results dict to write with the tracker (``configs`` etc.), if any.

    Returns:
        The model sub-folder.
    """
    from lm_eval.loggers import EvaluationTracker

    tracker = EvaluationTracker(output_path=str(out))
    tracker.general_config_tracker.model_name_sanitized = model_dir
    tracker.general_config_tracker.model_name = str((results or {}).get("model_name", ""))
    tracker.general_config_tracker.chat_template_sha = (results or {}).get("chat_template_sha")
    logged = {
        task: [sample(i, doc, response) for i, (doc, response) in enumerate(pairs)]
        for task, pairs in tasks.items()
    }
    if results is not None:
        tracker.save_results_aggregated(results=dict(results), samples=logged)
    tracker.date_id = date
    if results is not None:
        folder = out / model_dir
        for old in folder.glob("results_*.json"):
            old.rename(folder / f"results_{date}.json")
    for task, samples in logged.items():
        tracker.save_results_samples(task, samples)
    return out / model_dir
