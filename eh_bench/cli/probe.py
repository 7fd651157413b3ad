"""``eh-bench probe``: linear probes on a model's hidden states (refusal signal by level, decodability)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final

import typer

from eh_bench.cli._app import app, console, err_console
from eh_bench.cli.options import (
    DEFAULT_JUDGE,
    DEFAULT_LIKELIHOOD,
    DEFAULT_N_BOOT,
    DatasetOption,
    JudgeBackendOption,
    JudgeOption,
    LikelihoodOption,
    NBootOption,
    PlotsOption,
    SeedOption,
)

# Defaults mirror eh_bench.probes (kept literal here so that --help does not import numpy or torch).
DEFAULT_LIMIT_HELP: Final = "Harmful requests to probe, stratified over cost x severity (default: all)."
LABELS_HELP: Final = (
    "Refusal labels: contrast (harmful config = 1 vs the --contrast benign config = 0; for models that "
    "rarely refuse) or behaviour (the model answers, --judge decides refused = 1)."
)
CONTRAST_HELP: Final = "Benign config for contrast labels: core_benign (packaged) or jbb_benign (built dataset)."
POOL_HELP: Final = "last: the last token before generation; mean: mean over the templated prompt's tokens."
JUDGE_NOTE: Final = " With contrast labels it is only recorded (so the report joins an entry scored with it)."


def _f(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def print_probe_report(report: dict[str, Any]) -> None:
    """The headline: summary line, best refusal layer, and the final layer's activation scores."""
    p = report["probes"]
    console.print(f"[bold]{p['summary']['line']}[/]", highlight=False, soft_wrap=True)
    refusal = p["refusal"]
    if refusal is None:
        console.print(f"refusal probe not scored: {p['unscored'].get('refusal')}", highlight=False)
    else:
        best = refusal["best"]["logistic"] or {}
        layer = refusal["layers"][best["layer"]] if best.get("layer") is not None else None
        acc = layer["logistic"]["accuracy"]["value"] if layer else None
        texts = ", ".join(f"{k.replace('_', ' ')} {_f(v['auroc']['value'])}" for k, v in refusal["text_baselines"].items())
        console.print(f"refusal probe ({p['label_source']}, n={refusal['n']}): best layer {best.get('layer')}, "
                      f"AUROC {_f(best.get('auroc'))}, accuracy {_f(acc)}, family-wise p {_f(best.get('p_family'), 3)}; "
                      f"text AUROC: {texts}", highlight=False)
    if p["levels"]:
        final = p["levels"][-1]
        for scale in ("severity", "cost"):
            cells = "  ".join(f"{k}: {_f(v['score'], 1)} (n={v['n']})" for k, v in final[scale].items())
            console.print(f"activation score by {scale} (layer {final['layer']}): {cells}", highlight=False)
    for step, reason in p["unscored"].items():
        console.print(f"[yellow]not scored[/] {step}: {reason}", highlight=False)


@app.command()
def probe(
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder (report.json, probes.json, report.md, PNGs).")],
    model: Annotated[str, typer.Option("--model", "-m", envvar="EH_MODEL", help="smollm2 | hf:DIR_OR_ID.")] = "smollm2",
    config: Annotated[str, typer.Option("--config", "-c", help="Harmful dataset config (core is packaged).")] = "core",
    limit: Annotated[int | None, typer.Option("--limit", help=DEFAULT_LIMIT_HELP)] = None,
    pool: Annotated[str, typer.Option("--pool", help=POOL_HELP)] = "last",
    device: Annotated[str, typer.Option("--device", help="cpu or cuda.")] = "cpu",
    dtype: Annotated[str, typer.Option("--dtype", help="float32, bfloat16 or float16.")] = "float32",
    label_source: Annotated[str, typer.Option("--labels", help=LABELS_HELP)] = "contrast",
    contrast: Annotated[str, typer.Option("--contrast", help=CONTRAST_HELP)] = "core_benign",
    judge: JudgeOption = DEFAULT_JUDGE,
    judge_backend: JudgeBackendOption = None,
    likelihood: LikelihoodOption = DEFAULT_LIKELIHOOD,
    dataset: DatasetOption = None,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", help="Prompts per forward pass.")] = 8,
    max_length: Annotated[int, typer.Option("--max-length", help="Longest templated prompt in tokens (longer: skipped).")] = 1024,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Answer budget for behaviour labels.")] = 64,
    folds: Annotated[int, typer.Option("--folds", help="Cross-validation folds (grouped by request).")] = 5,
    n_perm: Annotated[int, typer.Option("--n-perm", help="Shuffled-label runs for decodability.")] = 100,
    probe_perm: Annotated[int, typer.Option("--probe-perm", help="Shuffled-label runs for the refusal probe.")] = 20,
    n_boot: NBootOption = DEFAULT_N_BOOT,
    seed: SeedOption = 0,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Hidden-state cache (default $EH_CACHE_DIR/probes).")] = None,
    model_id: Annotated[str | None, typer.Option("--model-id", help="Model id for the report.")] = None,
    model_revision: Annotated[str | None, typer.Option("--model-revision", help="Model revision for the report.")] = None,
    plots: PlotsOption = True,
) -> None:
    """Probe every hidden-state layer: refusal probe, activation score by severity and cost, and whether
    severity and cost are decodable beyond shuffled labels and the prompt's text.

    Hidden states are cached by model revision and prompts, so a second run reuses them.
    The judge is used with --labels behaviour.

    Example: eh-bench probe --model smollm2 --config core --limit 60 --out runs/probe
    """
    from eh_bench.atomic import check_output_folder
    from eh_bench.probes.report import save_probe_report
    from eh_bench.probes.run import ProbeSettings, run_probes

    target = check_output_folder(out)
    settings = ProbeSettings(
        model=model, config=config, contrast=contrast, label_source=label_source, limit=limit, pool=pool,
        device=device, dtype=dtype, batch_size=batch_size, max_length=max_length, folds=folds, n_perm=n_perm,
        probe_perm=probe_perm, n_boot=n_boot, seed=seed, dataset=dataset, judge=judge, judge_backend=judge_backend,
        likelihood=likelihood, max_new_tokens=max_new_tokens, cache_dir=cache_dir, model_id=model_id,
        model_revision=model_revision,
    )  # fmt: skip
    run = run_probes(settings, log=lambda msg: err_console.print(msg, highlight=False, soft_wrap=True))
    report, paths = save_probe_report(run, target, plots=plots)
    print_probe_report(report)
    console.print(f"report: {paths['report.json']}  ·  {paths['report.md']}  ·  {paths['probes.json']}",
                  soft_wrap=True, highlight=False)
    if report["files"]["plots"]:
        console.print("plots: " + "  ·  ".join(str(target / p) for p in report["files"]["plots"]),
                      soft_wrap=True, highlight=False)
