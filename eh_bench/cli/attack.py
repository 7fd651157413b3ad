"""``eh-bench attack``: run decomposition attacks (``attack run``), show the attack x benchmark matrix
(``attack table``), retrain the offline prompt guard (``attack train-guard``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from eh_bench.attacks.aggregation import DEFAULT_METHOD, DEFAULT_SYNTHESIS_MAX_NEW_TOKENS
from eh_bench.attacks.decomposition import DEFAULT_K, DEFAULT_RETRIES
from eh_bench.attacks.evaluate import DEFAULT_VARIANT
from eh_bench.attacks.guard import DEFAULT_GUARD
from eh_bench.attacks.jailbreaks import DEFAULT_JAILBREAK
from eh_bench.attacks.monitor import (
    DEFAULT_LABEL_MAX_NEW_TOKENS,
    DEFAULT_LABEL_RETRIES,
    DEFAULT_REWRITES,
    DEFAULT_SEVERITY_THRESHOLD,
)
from eh_bench.attacks.run import DEFAULT_CONCURRENCY
from eh_bench.attacks.templates import DEFAULT_MAX_NEW_TOKENS
from eh_bench.cli._app import app, console, err_console
from eh_bench.cli.options import (
    DEFAULT_JUDGE,
    DEFAULT_LIKELIHOOD,
    DEFAULT_N_BOOT,
    DatasetOption,
    JudgeOption,
    LikelihoodOption,
    NBootOption,
    SeedOption,
)

#: Default for ``--max-unscored``: above this share of unscored requests in any attack the command exits 1.
DEFAULT_MAX_UNSCORED: Final = 0.5
SPEC_HELP: Final = "smollm2 | hf:DIR_OR_ID | openai:URL#MODEL"

attack_app = typer.Typer(
    help=(
        "Cost-based decomposition attacks with a severity monitor, jailbreak wrappers and guard bypass.\n\n"
        "Example: eh-bench attack run --target smollm2 --attacker smollm2 --variant cost+monitor "
        "--jailbreak direct --config core --limit 2 --out runs/attack"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    add_completion=False,
)
app.add_typer(attack_app, name="attack")


def _names(values: list[str]) -> tuple[str, ...]:
    """Repeated and comma-separated option values, in order, each once."""
    out: list[str] = []
    for value in values:
        out += [v.strip() for v in value.split(",") if v.strip() and v.strip() not in out]
    return tuple(out)


@attack_app.command("run")
def run(
    target: Annotated[str, typer.Option("--target", "-t", help=f"The model under attack: {SPEC_HELP}.")],
    attacker: Annotated[str, typer.Option("--attacker", "-a", help=f"Decomposer, rewriter, PAIR attacker: {SPEC_HELP}.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (resumed when it holds a run of the same settings).")],
    variant: Annotated[list[str], typer.Option("--variant", "-V", help="none | cost | monitor | cost+monitor (repeat or comma-separate).")] = [DEFAULT_VARIANT],  # noqa: B006
    jailbreak: Annotated[list[str], typer.Option("--jailbreak", "-J", help="direct | refusal_suppression | prefix_injection | roleplay | pair (repeat or comma-separate).")] = [DEFAULT_JAILBREAK],  # noqa: B006
    config: Annotated[str, typer.Option("--config", "-c", help="Dataset config (benchmark) to attack.")] = "core",
    dataset: DatasetOption = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Attack only the first N requests.")] = None,
    monitor: Annotated[str | None, typer.Option("--monitor", help=f"Labeller backend (default: the attacker): {SPEC_HELP}.")] = None,
    judge: JudgeOption = DEFAULT_JUDGE,
    judge_backend: Annotated[str | None, typer.Option("--judge-backend", help="Backend of a model judge (default: the attacker).")] = None,
    usefulness_backend: Annotated[str | None, typer.Option("--usefulness-backend", help="Backend of the usefulness judge (default: the attacker).")] = None,
    guard: Annotated[str, typer.Option("--guard", "-g", help="prompt-guard (offline) | llama-guard-3 | qwen3guard-strict | qwen3guard-loose.")] = DEFAULT_GUARD,
    guard_backend: Annotated[str | None, typer.Option("--guard-backend", help="Backend of a model guard (default: the guard model).")] = None,
    guard_mode: Annotated[str, typer.Option("--guard-mode", help="native (a guard model) | instructed (a chat model).")] = "native",
    k: Annotated[int, typer.Option("--k", help="Sub-tasks per request (the decomposer may give 2..k).")] = DEFAULT_K,
    decompose_retries: Annotated[int, typer.Option("--decompose-retries", min=0, help="Retries of a malformed decomposition.")] = DEFAULT_RETRIES,
    severity_threshold: Annotated[int, typer.Option("--severity-threshold", help="Monitor: rewrite or drop sub-tasks above this severity (1-4).")] = DEFAULT_SEVERITY_THRESHOLD,
    rewrites: Annotated[int, typer.Option("--rewrites", min=0, help="Monitor: rewrites of an over-threshold sub-task before it is dropped.")] = DEFAULT_REWRITES,
    label_retries: Annotated[int, typer.Option("--label-retries", min=0, help="Monitor: retries of a malformed label.")] = DEFAULT_LABEL_RETRIES,
    label_max_new_tokens: Annotated[int, typer.Option("--label-max-new-tokens", min=1, help="Monitor: token budget of a label.")] = DEFAULT_LABEL_MAX_NEW_TOKENS,
    aggregation: Annotated[str, typer.Option("--aggregation", help="concat (the paper) | synthesis (by the attacker).")] = DEFAULT_METHOD,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1, help="Token budget of a target answer.")] = DEFAULT_MAX_NEW_TOKENS,
    attacker_max_new_tokens: Annotated[int, typer.Option("--attacker-max-new-tokens", min=1, help="Token budget of an attacker answer.")] = DEFAULT_MAX_NEW_TOKENS,
    pair_streams: Annotated[int, typer.Option("--pair-streams", min=1, help="PAIR: parallel attacker streams.")] = 3,
    pair_iters: Annotated[int, typer.Option("--pair-iters", min=1, help="PAIR: refinement rounds.")] = 3,
    pair_budget: Annotated[int | None, typer.Option("--pair-budget", min=1, help="PAIR: target queries per goal (default streams x iters).")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Requests in flight (HTTP backends run them in parallel).")] = DEFAULT_CONCURRENCY,
    likelihood: LikelihoodOption = DEFAULT_LIKELIHOOD,
    seed: SeedOption = 0,
    n_boot: NBootOption = DEFAULT_N_BOOT,
    model_id: Annotated[str | None, typer.Option("--model-id", help="The target's model id in the report.")] = None,
    model_revision: Annotated[str | None, typer.Option("--model-revision", help="The target's revision in the report.")] = None,
    max_unscored: Annotated[float, typer.Option("--max-unscored", min=0.0, max=1.0, help="Exit 1 (after writing) when an attack leaves more than this share unscored.")] = DEFAULT_MAX_UNSCORED,
) -> None:  # fmt: skip
    """Attack a config's requests: decompose, monitor, jailbreak, aggregate; judge ASR and usefulness
    against the original request; measure guard bypass on original and sub-task prompts.

    Every model call is journaled in OUT: a stopped run resumes where it stopped when run again with the
    same settings, and repeats no call. The judge defaults to the project's default judge and the guard
    to the offline prompt guard, so the command runs offline as written.

    Example: eh-bench attack run --target smollm2 --attacker smollm2 --variant cost+monitor --jailbreak direct --config core --limit 2 --out /tmp/att
    """
    from eh_bench.attacks.aggregation import check_method
    from eh_bench.attacks.decomposition import check_k
    from eh_bench.attacks.evaluate import AttackSettings, check_variant
    from eh_bench.attacks.monitor import check_threshold
    from eh_bench.attacks.roles import RoleSpecs
    from eh_bench.attacks.run import RunPlan, run_attack
    from eh_bench.attacks.templates import JailbreakOptions

    settings = AttackSettings(
        k=check_k(k), decompose_retries=decompose_retries, severity_threshold=check_threshold(severity_threshold),
        rewrites=rewrites, label_retries=label_retries, label_max_new_tokens=label_max_new_tokens,
        aggregation=check_method(aggregation), max_new_tokens=max_new_tokens,
        attacker_max_new_tokens=attacker_max_new_tokens, synthesis_max_new_tokens=DEFAULT_SYNTHESIS_MAX_NEW_TOKENS,
    )  # fmt: skip
    roles = RoleSpecs(
        target=target, attacker=attacker, monitor=monitor, judge=judge, judge_backend=judge_backend,
        usefulness_backend=usefulness_backend, guard=guard, guard_backend=guard_backend, guard_mode=guard_mode,
    )  # fmt: skip
    plan = RunPlan(
        roles=roles, config=config, variants=tuple(check_variant(v) for v in _names(variant)),
        jailbreaks=_names(jailbreak), settings=settings,
        jailbreak_options=JailbreakOptions(n_streams=pair_streams, n_iter=pair_iters, query_budget=pair_budget),
        dataset=dataset, limit=limit, likelihood=likelihood, n_boot=n_boot, seed=seed, concurrency=concurrency,
        model_id=model_id, model_revision=model_revision,
    )  # fmt: skip
    with Progress(
        TextColumn("attacking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console
    ) as progress:
        task = progress.add_task("attack", total=None)
        result = run_attack(
            plan, out,
            on_start=lambda total: progress.update(task, total=total),
            on_progress=lambda n: progress.advance(task, n),
        )  # fmt: skip
    _print_cells(result.cells)
    made, replayed = result.calls["made"], result.calls["replayed"]
    console.print(
        f"model calls and verdicts: {sum(made.values())} made, {sum(replayed.values())} replayed from the journal "
        f"({', '.join(f'{r} {n}' for r, n in sorted(made.items())) or 'none made'})",
        highlight=False, soft_wrap=True,
    )  # fmt: skip
    console.print(f"results: {out}  ·  matrix: eh-bench attack table {out}", highlight=False, soft_wrap=True)
    worst = max((c["n_unscored"] / c["n"] for c in result.cells if c["n"]), default=0.0)
    if worst > max_unscored:
        err_console.print(
            f"[bold red]error:[/] an attack left {worst:.0%} of its requests unscored (limit {max_unscored:.0%}); "
            "see unscored_reasons in the summaries", highlight=False,
        )  # fmt: skip
        raise typer.Exit(1)


def _fmt(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else "—" if value is None else str(value)


def _print_cells(cells: list[dict[str, object]]) -> None:
    table = Table(title="attacks: rates over scored requests, judged against the original request")
    headers = ("attack", "n", "unsc.", "failed", "ASR", "useful", "guard orig.", "sub byp.", "task byp.", "cost o->s")
    for column in headers:
        table.add_column(column, overflow="fold")
    for c in cells:
        table.add_row(
            f"{c['config']}/{c['variant']}/{c['jailbreak']}", str(c["n"]), str(c["n_unscored"]),
            str(c["n_attack_failed"]), _fmt(c["asr"]), _fmt(c["usefulness"]), _fmt(c["guard_original_pass"]),
            _fmt(c["subtask_bypass"]), _fmt(c["task_bypass"]),
            f"{_fmt(c['mean_original_cost'])}->{_fmt(c['mean_subtask_cost'])}",
        )  # fmt: skip
    console.print(table)


@attack_app.command("table")
def table(
    dirs: Annotated[list[Path], typer.Argument(metavar="DIR...", help="Folders written by eh-bench attack run.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the Markdown here.")] = None,
) -> None:
    """Print the attack x benchmark matrix (ASR, usefulness, sub-task and task bypass; best and second best
    of each benchmark marked) of one target's attack folders, and write it as Markdown.

    Example: eh-bench attack table runs/attack-core runs/attack-jbb --out attack_table.md
    """
    from rich.markdown import Markdown

    from eh_bench.attacks.results import read_cells
    from eh_bench.attacks.table import attack_matrix, render_markdown

    text = render_markdown(attack_matrix([cell for d in dirs for cell in read_cells(d)]))
    console.print(Markdown(text))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        console.print(f"written: {out}", highlight=False)


@attack_app.command("train-guard")
def train_guard(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for prompt_guard.npz and prompt_guard.json.")],
    sources_dir: Annotated[Path | None, typer.Option("--sources", envvar="EH_SOURCES_DIR", help="Benchmark source files.")] = None,
    seed: SeedOption = 0,
) -> None:  # fmt: skip
    """Retrain the offline prompt guard on the dataset's harmful requests against the benign sets, and
    write its weights and card (with held-out accuracy). The packaged guard was made with this command.

    Example: EH_SOURCES_DIR=path/to/sources eh-bench attack train-guard --out eh_bench/attacks/weights
    """
    from eh_bench.attacks import guard_train

    examples, provenance = guard_train.dataset_examples(sources_dir)
    weights, card = guard_train.train_guard(examples, seed=seed)
    weights_path, card_path = guard_train.write_guard(weights, card, out, provenance)
    held = card["heldout"]
    console.print(
        f"held-out: accuracy {held['accuracy']:.3f}, balanced accuracy {held['balanced_accuracy']:.3f}, "
        f"harmful blocked {held['harmful_block_rate']:.3f}, benign passed {held['benign_pass_rate']:.3f}, "
        f"ROC AUC {held['roc_auc']:.3f} ({held['n_harmful']} harmful, {held['n_benign']} benign)",
        highlight=False, soft_wrap=True,
    )  # fmt: skip
    console.print(f"written: {weights_path}, {card_path}", highlight=False)
