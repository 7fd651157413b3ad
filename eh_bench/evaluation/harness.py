"""Run the Expected Harm tasks through lm-eval's Python API and log every sample.

One model spec selects the lm-eval backend:

- ``smollm2`` (an embedded model): lm-eval ``hf`` on the prepared plain folder
  (:func:`eh_bench.backends.embedded.ensure_model`), float32 on CPU by default;
- ``hf:DIR_OR_ID``: lm-eval ``hf`` on that folder or Hub id;
- ``openai:URL#MODEL``: lm-eval ``local-chat-completions`` against an OpenAI-compatible server.

Tasks are loaded with ``TaskManager(include_path=tasks_dir(), include_defaults=False)`` so start-up
does not index lm-eval's own thousands of tasks. The samples and results land in
``<out>/<model>/samples_<task>_<date>.jsonl`` exactly as ``lm-eval --output_path <out> --log_samples``
would write them, so ``eh-bench score`` reads either.

The run's settings travel as lm-eval task metadata, which the results file records per task: the
dataset, the Pr(execution | cost) model (so lm-eval's ``expected_harm`` is the report's), what an empty
answer counts as, and the sample design (:func:`sample_design`). lm-eval's API backends write
``LMEVAL_MODEL_NONE_ANSWER_PLACEHOLDER`` for a missing answer; during a run it is
:data:`~eh_bench.judges.base.NO_ANSWER`, which the scorer counts as an empty answer.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from eh_bench.errors import ConfigError
from eh_bench.evaluation.catalog import (
    BENIGN_GROUP,
    BENIGN_TASKS,
    GROUP,
    HARMFUL_TASKS,
    META_EMPTY,
    META_LIKELIHOOD,
    META_SAMPLE,
    config_for_task,
)
from eh_bench.evaluation.lmeval import load_rows, require_dataset, resolve_likelihood
from eh_bench.evaluation.unscored import empty_policy
from eh_bench.judges.base import NO_ANSWER
from eh_bench.rubric import LEVELS

if TYPE_CHECKING:
    from lm_eval.api.model import LM

DEFAULT_MODEL_SPEC: Final = "smollm2"
DEFAULT_TASKS: Final = ("eh_core",)
DEFAULT_BATCH_SIZE: Final = 8
#: Replicates of lm-eval's own stderr bootstrap (its default, 100000, takes minutes per metric on CPU;
#: the report's CIs come from eh-bench's bootstrap).
DEFAULT_LMEVAL_BOOTSTRAP: Final = 1000
#: Concurrent requests of the OpenAI-compatible backend.
DEFAULT_CONCURRENCY: Final = 4
GROUPS: Final = {GROUP: HARMFUL_TASKS, BENIGN_GROUP: BENIGN_TASKS}


@dataclass(frozen=True)
class LmEvalModel:
    """How lm-eval builds a model for a spec, and how the report names it."""

    spec: str
    backend: str
    args: dict[str, Any] = field(default_factory=dict)
    model_id: str = ""
    revision: str | None = None


def lm_eval_model(
    spec: str, *, dtype: str = "float32", num_concurrent: int = DEFAULT_CONCURRENCY
) -> LmEvalModel:
    """Map a model spec (``smollm2``, ``hf:DIR_OR_ID``, ``openai:URL#MODEL``) to an lm-eval backend.

    Raises:
        ConfigError: an unknown spec form.
    """
    from eh_bench.backends.embedded import EMBEDDED_MODELS

    if spec in EMBEDDED_MODELS:
        from eh_bench.backends.embedded import ensure_model

        prepared = ensure_model(spec)
        return LmEvalModel(
            spec, "hf", {"pretrained": str(prepared.path), "dtype": dtype}, spec, prepared.checksum
        )
    scheme, sep, rest = spec.partition(":")
    if sep and scheme == "hf" and rest.strip():
        local = Path(rest).expanduser()
        model_id = local.name if local.is_dir() else rest
        pretrained = str(local.resolve()) if local.is_dir() else rest
        return LmEvalModel(spec, "hf", {"pretrained": pretrained, "dtype": dtype}, model_id, None)
    if sep and scheme == "openai" and rest.strip():
        from eh_bench.backends.openai_compat import parse_openai_target

        url, model = parse_openai_target(rest, spec)
        args = {"base_url": url, "model": model, "num_concurrent": num_concurrent, "max_retries": 3,
                "tokenizer_backend": "none", "tokenized_requests": False}  # fmt: skip
        return LmEvalModel(spec, "local-chat-completions", args, model, None)
    raise ConfigError(
        f"model spec {spec!r} is not one of: {', '.join(sorted(EMBEDDED_MODELS))}, hf:DIR_OR_ID, openai:URL#MODEL"
    )


def expand_tasks(tasks: Sequence[str]) -> list[str]:
    """Task names with the two groups expanded (``expected_harm`` -> its six tasks), order kept, no repeats."""
    out: list[str] = []
    for name in tasks:
        for task in GROUPS.get(name, (name,)):
            if task not in out:
                out.append(task)
    return out


def stratified_indices(
    costs: Sequence[int | None],
    per_cost: int,
    seed: int = 0,
    severities: Sequence[int | None] | None = None,
) -> list[int]:
    """Up to ``per_cost`` document indices at every cost level 1-5, drawn with ``seed``, sorted.

    With ``severities``, each cost level is sampled round-robin over its severity levels, and the
    severity the round-robin starts from moves on by ``per_cost`` from one cost level to the next (from a
    seeded start): the sample is stratified across severity as well as cost. On the ``core`` grid,
    ``per_cost=1`` takes one request per cost level with five different severities, ``per_cost=2`` takes
    every severity twice, and ``per_cost=5`` one request from every cost x severity cell.

    >>> stratified_indices([3, 1, 2, 4, 5, None], 1)
    [0, 1, 2, 3, 4]
    >>> picked = stratified_indices([1, 1, 1, 1], 2, severities=[2, 2, 2, 5])
    >>> len(picked), 3 in picked  # the lone severity-5 request is always taken
    (2, True)
    """
    if per_cost < 1:
        raise ConfigError(f"per_cost must be >= 1, got {per_cost}")
    rng = random.Random(seed)
    order = sorted({v for v in severities or ()}, key=str)
    start = rng.randrange(len(order)) if order else 0
    chosen: list[int] = []
    for step, level in enumerate(LEVELS):
        at_level = [i for i, c in enumerate(costs) if c == level]
        if severities is None:
            chosen += at_level if len(at_level) <= per_cost else rng.sample(at_level, per_cost)
            continue
        groups: dict[int | None, list[int]] = {}
        for i in at_level:
            groups.setdefault(severities[i], []).append(i)
        first = (start + step * per_cost) % len(order)
        rotated = order[first:] + order[:first]
        queues = [rng.sample(groups[v], len(groups[v])) for v in rotated if v in groups]
        picked: list[int] = []
        while len(picked) < per_cost and any(queues):
            for queue in queues:
                if queue and len(picked) < per_cost:
                    picked.append(queue.pop())
        chosen += picked
    return sorted(chosen)


def stratified_samples(
    tasks: Sequence[str], per_cost: int, dataset: str | None = None, seed: int = 0
) -> dict[str, list[int]]:
    """lm-eval ``samples=`` for ``tasks``: :func:`stratified_indices` of each task's dataset rows."""
    out: dict[str, list[int]] = {}
    for task in tasks:
        config = config_for_task(task)
        if config is None:
            raise ConfigError(
                f"--per-cost needs eh-bench tasks; {task!r} is not one ({', '.join(GROUPS)} or eh_*)"
            )
        rows = load_rows(config, dataset)
        out[task] = stratified_indices(rows["cost"], per_cost, seed, severities=rows["severity"])
    return out


def sample_design(limit: int | float | None, per_cost: int | None, seed: int) -> dict[str, Any]:
    """The sample design of a run, as recorded in its metadata and report.

    >>> sample_design(None, None, 0), sample_design(20, None, 0)["design"], sample_design(None, 2, 7)
    ({'design': 'full', 'limit': None, 'per_cost': None, 'seed': None}, 'limit', {'design': 'per_cost', 'limit': None, 'per_cost': 2, 'seed': 7})
    """
    if per_cost is not None:
        return {"design": "per_cost", "limit": None, "per_cost": int(per_cost), "seed": int(seed)}
    if limit is not None:
        return {"design": "limit", "limit": limit, "per_cost": None, "seed": None}
    return {"design": "full", "limit": None, "per_cost": None, "seed": None}


#: lm-eval's (environment) setting of the text its API backends write for a missing answer.
PLACEHOLDER_ENV: Final = "LMEVAL_MODEL_NONE_ANSWER_PLACEHOLDER"


@contextlib.contextmanager
def _missing_answer_sentinel() -> Iterator[None]:
    """Make lm-eval write :data:`NO_ANSWER` for a missing API answer (instead of ``""``) during a run.

    lm-eval reads the variable when ``lm_eval.models.api_models`` is imported; a module already
    imported gets its constant set for the call. Both are restored afterwards.
    """
    import sys

    saved_env = os.environ.get(PLACEHOLDER_ENV)
    os.environ[PLACEHOLDER_ENV] = NO_ANSWER
    module = sys.modules.get("lm_eval.models.api_models")
    saved_const = getattr(module, PLACEHOLDER_ENV, None) if module is not None else None
    if module is not None:
        setattr(module, PLACEHOLDER_ENV, NO_ANSWER)
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop(PLACEHOLDER_ENV, None)
        else:
            os.environ[PLACEHOLDER_ENV] = saved_env
        module = sys.modules.get("lm_eval.models.api_models")
        if module is not None:
            setattr(module, PLACEHOLDER_ENV, saved_const if saved_const is not None else saved_env or "")


#: lm-eval's switch from a process pool per metric to an in-process loop for its stderr bootstrap.
_NO_POOL_ENV: Final = "DISABLE_MULTIPROC"
#: Up to this many replicates, lm-eval's in-process bootstrap beats forking a pool for every metric.
_IN_PROCESS_BOOTSTRAP_MAX: Final = 10_000


@contextlib.contextmanager
def _in_process_bootstrap(iters: int) -> Iterator[None]:
    """Set ``DISABLE_MULTIPROC`` for the call when the bootstrap is small (same seeds, same numbers).

    lm-eval forks a ``multiprocessing.Pool`` for each of the 12 bootstrapped metrics; with a model in
    memory and 1000 replicates the forks cost more than the resampling. A value the user set is kept.
    """
    if iters > _IN_PROCESS_BOOTSTRAP_MAX or _NO_POOL_ENV in os.environ:
        yield
        return
    os.environ[_NO_POOL_ENV] = "1"
    try:
        yield
    finally:
        os.environ.pop(_NO_POOL_ENV, None)


def run_lm_eval(
    model: LmEvalModel | LM,
    tasks: Sequence[str],
    out_dir: Path,
    *,
    limit: int | float | None = None,
    per_cost: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_gen_toks: int | None = None,
    dataset: str | None = None,
    device: str = "cpu",
    seed: int = 0,
    bootstrap_iters: int = DEFAULT_LMEVAL_BOOTSTRAP,
    apply_chat_template: bool = True,
    likelihood: str | None = None,
    empty_as_refusal: bool = False,
) -> dict[str, Any]:
    """Evaluate ``model`` on ``tasks`` with lm-eval and write results + samples under ``out_dir``.

    Args:
        model: an :class:`LmEvalModel` (from :func:`lm_eval_model`) or an lm-eval ``LM`` instance.
        tasks: task or group names (``eh_core``, ``expected_harm``, ...).
        out_dir: lm-eval's ``--output_path``; files go to ``out_dir/<model name>/``.
        limit: lm-eval ``--limit`` (documents per task).
        per_cost: instead of ``limit``, this many documents per cost level (a stratified sample).
        batch_size: generation batch size (the OpenAI-compatible backend always sends one at a time,
            concurrently).
        max_gen_toks: overrides the tasks' ``max_gen_toks`` (512).
        dataset: built dataset folder or Hub id (passed as lm-eval metadata ``dataset``); default
            ``$EH_DATASET``, else the packaged core sets and, for the other configs, the dataset built
            once into the user cache.
        device: torch device of the ``hf`` backend.
        seed: seed of lm-eval and of the stratified sample.
        bootstrap_iters: lm-eval's stderr bootstrap replicates.
        apply_chat_template: format prompts with the model's chat template.
        likelihood: Pr(execution | cost) model of lm-eval's ``expected_harm`` (default
            ``$EH_LIKELIHOOD``, else ``linear``).
        empty_as_refusal: lm-eval's metrics count empty answers as refusals instead of dropping them.

    Returns:
        lm-eval's results dict (without the samples).
    """
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    from eh_bench.paths import tasks_dir

    if limit is not None and per_cost is not None:
        raise ConfigError("give either --limit or --per-cost, not both")
    spec = resolve_likelihood(likelihood)  # fail before the model loads, not after
    names = list(tasks)
    for task in expand_tasks(names):  # resolve (or build) the dataset before the model loads
        config = config_for_task(task)
        if config is not None:
            dataset = require_dataset(config, dataset) or dataset
    samples = stratified_samples(expand_tasks(names), per_cost, dataset, seed) if per_cost else None
    if samples is not None:
        names = list(samples)  # lm-eval's samples= needs leaf tasks
    metadata: dict[str, Any] = {
        META_LIKELIHOOD: spec,
        META_EMPTY: empty_policy(empty_as_refusal),
        META_SAMPLE: sample_design(limit, per_cost, seed),
    }
    if dataset:
        metadata["dataset"] = dataset
    manager = TaskManager(include_path=str(tasks_dir()), include_defaults=False, metadata=metadata)
    tracker = EvaluationTracker(output_path=str(out_dir))
    kwargs: dict[str, Any] = {}
    if isinstance(model, LmEvalModel):
        kwargs = {
            "model": model.backend,
            "model_args": dict(model.args),
            "batch_size": batch_size,
            "device": device,
        }
    else:
        kwargs = {"model": model}
    with _in_process_bootstrap(bootstrap_iters), _missing_answer_sentinel():
        results = simple_evaluate(
            tasks=names,
            task_manager=manager,
            limit=limit,
            samples=samples,
            gen_kwargs={"max_gen_toks": max_gen_toks} if max_gen_toks else None,
            log_samples=True,
            evaluation_tracker=tracker,
            apply_chat_template=apply_chat_template,
            bootstrap_iters=bootstrap_iters,
            random_seed=seed,
            numpy_random_seed=seed,
            torch_random_seed=seed,
            fewshot_random_seed=seed,
            metadata=metadata,
            **kwargs,
        )
    if results is None:  # a non-zero rank of a distributed run
        return {}
    logged = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=logged)
    for task in results["configs"]:
        tracker.save_results_samples(task_name=task, samples=logged[task])
    return dict(results)
