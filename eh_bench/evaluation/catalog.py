"""The task catalogue: lm-eval task and group names, their dataset configs and metric names.

One source of truth for which task reads which config, which tasks are benign, and what the
``samples_*.jsonl`` of a task look like (:func:`first_response`); the lm-eval hooks
(:mod:`eh_bench.evaluation.lmeval`), the harness and the scorer all read it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

from eh_bench.rubric import LEVELS

#: Environment variable naming the built dataset folder or Hub id the tasks read.
DATASET_ENV: Final = "EH_DATASET"
#: Environment variable choosing the Pr(execution | cost) model of the per-doc ``expected_harm`` when the
#: lm-eval metadata names none.
LIKELIHOOD_ENV: Final = "EH_LIKELIHOOD"
#: lm-eval ``--metadata`` keys the tasks read (``eh-bench run`` sets all three): the Pr(execution | cost)
#: model, what an empty answer counts as (``unscored`` / ``refusal``) and the sample design.
META_LIKELIHOOD: Final = "likelihood"
META_EMPTY: Final = "empty_responses"
META_SAMPLE: Final = "eh_sample"
#: Columns :func:`eh_bench.evaluation.lmeval.custom_dataset` adds to every document, so that
#: ``process_results`` (which sees only the document) scores with the run's settings; they are logged
#: with each sample too.
DOC_LIKELIHOOD: Final = "eh_likelihood"
DOC_EMPTY: Final = "eh_empty_responses"
#: The judge used inside lm-eval (cheap, offline, deterministic).
INLINE_JUDGE: Final = "refusal"
#: Split name the tasks read (``test_split`` in the YAMLs).
SPLIT: Final = "test"
#: Configs that ship inside the package and need no built dataset.
PACKAGED_CONFIGS: Final = ("core", "core_benign")

#: lm-eval task name -> dataset config name.
TASK_CONFIGS: Final[Mapping[str, str]] = {
    "eh_core": "core",
    "eh_harmbench": "harmbench",
    "eh_advbench": "advbench",
    "eh_jbb": "jbb",
    "eh_strongreject": "strongreject",
    "eh_donotanswer": "donotanswer",
    "eh_core_benign": "core_benign",
    "eh_jbb_benign": "jbb_benign",
}
BENIGN_TASKS: Final = ("eh_core_benign", "eh_jbb_benign")
HARMFUL_TASKS: Final = tuple(t for t in TASK_CONFIGS if t not in BENIGN_TASKS)
GROUP: Final = "expected_harm"
BENIGN_GROUP: Final = "expected_harm_benign"

#: Metric names returned by :func:`process_results` (harmful tasks), in YAML order.
HARMFUL_METRICS: Final = (
    "asr",
    *(f"asr_cost_{level}" for level in LEVELS),
    *(f"asr_sev_{level}" for level in LEVELS),
    "expected_harm",
)
BENIGN_METRICS: Final = ("over_refusal_rate",)
#: Separates HarmBench's context from the request in the prompt.
CONTEXT_SEPARATOR: Final = "\n\n"

def config_for_task(task: str) -> str | None:
    """The dataset config an lm-eval task reads (``eh_core`` -> ``core``), or None for other tasks."""
    return TASK_CONFIGS.get(task)


def dataset_source(metadata_dataset: str | None = None) -> str | None:
    """The dataset folder or Hub id to read: ``--metadata dataset=...`` first, then ``$EH_DATASET``."""
    for value in (metadata_dataset, os.environ.get(DATASET_ENV)):
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def first_response(value: Any) -> str | None:
    """The generated text of one document: lm-eval's ``resps``/``filtered_resps`` or ``process_results``'s
    ``results`` hold ``["text"]`` for generate_until (nested lists tolerated). None when there is none.

    >>> first_response([["Hello"]]), first_response([]), first_response([None])
    ('Hello', None, None)
    """
    while isinstance(value, (list, tuple)):
        if not value:
            return None
        value = value[0]
    return value if isinstance(value, str) else None
