"""``eh-bench run`` (lm-eval + score in one command) and ``eh-bench tasks-path``."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Annotated, Final

import typer

from eh_bench.cli._app import app, console, err_console
from eh_bench.cli.options import (
    DEFAULT_JUDGE,
    DEFAULT_LIKELIHOOD,
    DEFAULT_N_BOOT,
    DatasetOption,
    EmptyAsRefusalOption,
    JudgeBackendOption,
    JudgeOption,
    LikelihoodOption,
    NBootOption,
    PlotsOption,
    SeedOption,
)
from eh_bench.cli.score import run_score

DEFAULT_RUNS_DIR: Final = Path("runs")
_SLUG_RE: Final = re.compile(r"[^A-Za-z0-9._-]+")


def default_run_dir(model: str) -> Path:
    """``runs/<model spec as a file name>``.

    >>> str(default_run_dir("openai:http://127.0.0.1:8000/v1#qwen3"))
    'runs/openai_http_127.0.0.1_8000_v1_qwen3'
    """
    return DEFAULT_RUNS_DIR / (_SLUG_RE.sub("_", model).strip("_") or "model")


def check_limit(limit: float | None) -> None:
    """Refuse a ``--limit`` that is not a fraction in (0, 1) or a whole number of documents >= 1.

    >>> check_limit(0.5), check_limit(3.0), check_limit(None)
    (None, None, None)
    """
    from eh_bench.errors import ConfigError

    if limit is None:
        return
    if not math.isfinite(limit) or limit <= 0 or (limit >= 1 and limit != int(limit)):
        raise ConfigError(
            f"--limit {limit}: give a fraction of the documents in (0, 1) or a whole number of documents >= 1"
        )


@app.command("tasks-path")
def tasks_path() -> None:
    """Print the folder to pass to lm-eval's --include_path (works from a checkout and from a wheel).

    Example: lm-eval run --model hf --model_args pretrained=$(eh-bench model path) --tasks expected_harm --include_path $(eh-bench tasks-path) --apply_chat_template --log_samples --output_path runs/x
    """
    from eh_bench.paths import tasks_dir

    print(tasks_dir())


@app.command()
def run(
    model: Annotated[
        str,
        typer.Option("--model", "-m", envvar="EH_MODEL", help="smollm2 | hf:DIR_OR_ID | openai:URL#MODEL."),
    ] = "smollm2",
    tasks: Annotated[
        str,
        typer.Option(
            "--tasks", "-t", help="Comma-separated tasks or groups (expected_harm, expected_harm_benign)."
        ),
    ] = "eh_core",
    limit: Annotated[
        float | None, typer.Option("--limit", help="Documents per task (lm-eval --limit; < 1 is a fraction).")
    ] = None,
    per_cost: Annotated[
        int | None,
        typer.Option(
            "--per-cost", min=1, help="Instead of --limit: this many documents per cost level (stratified)."
        ),
    ] = None,
    judge: JudgeOption = DEFAULT_JUDGE,
    judge_backend: JudgeBackendOption = None,
    likelihood: LikelihoodOption = DEFAULT_LIKELIHOOD,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Run folder (default runs/<model>); the report goes to OUT/eh-bench."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", min=1, help="Generation batch size.")] = 8,
    max_gen_toks: Annotated[
        int | None, typer.Option("--max-gen-toks", min=1, help="Token budget per response (tasks default 512).")
    ] = None,
    dataset: DatasetOption = None,
    device: Annotated[str, typer.Option("--device", help="torch device for hf models.")] = "cpu",
    seed: SeedOption = 0,
    n_boot: NBootOption = DEFAULT_N_BOOT,
    plots: PlotsOption = True,
    chat_template: Annotated[
        bool, typer.Option("--chat-template/--no-chat-template", help="Apply the model's chat template.")
    ] = True,
    empty_as_refusal: EmptyAsRefusalOption = False,
) -> None:
    """Generate with lm-eval on the Expected Harm tasks, then score: one command from model to report.

    Example: eh-bench run --model smollm2 --tasks eh_core --per-cost 2 --max-gen-toks 64
    """
    from eh_bench.atomic import check_output_folder
    from eh_bench.cli.score import check_scoring
    from eh_bench.evaluation.harness import lm_eval_model, run_lm_eval

    target = check_output_folder(out if out is not None else default_run_dir(model))
    check_limit(limit)
    check_scoring(judge, judge_backend, likelihood, plots)  # before generating: scoring comes last
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    spec = lm_eval_model(model)
    err_console.print(
        f"generating: {model} on {', '.join(names)} ({spec.backend} backend) -> {target}", highlight=False
    )
    start = time.perf_counter()
    lm_limit = int(limit) if limit is not None and limit >= 1 else limit
    run_lm_eval(
        spec, names, target, limit=lm_limit, per_cost=per_cost, batch_size=batch_size, max_gen_toks=max_gen_toks,
        dataset=dataset, device=device, seed=seed, apply_chat_template=chat_template, likelihood=likelihood,
        empty_as_refusal=empty_as_refusal,
    )  # fmt: skip
    err_console.print(f"generation done in {time.perf_counter() - start:.1f}s; scoring", highlight=False)
    run_score(
        target, judge=judge, judge_backend=judge_backend, likelihood=likelihood, out=None, seed=seed, n_boot=n_boot,
        max_unscored=None, dataset=dataset, model_id=spec.model_id, model_revision=spec.revision, plots=plots,
        empty_as_refusal=empty_as_refusal,
    )  # fmt: skip
    console.print(
        f"samples: {target}  ·  re-score: eh-bench score {target} --judge NAME",
        soft_wrap=True,
        highlight=False,
    )
