"""``eh-bench submit``: build, validate and push leaderboard entries; review them in a store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from eh_bench.cli._app import app, console, err_console

if TYPE_CHECKING:
    from eh_bench.submission.stores import Store

submit_app = typer.Typer(
    help=(
        "Leaderboard entries: build from report folders, validate, push to a store, review.\n\n"
        "Example: eh-bench submit build runs/smollm2/eh-bench --out entry.json && eh-bench submit validate entry.json"
    ),
    no_args_is_help=True,
)
app.add_typer(submit_app, name="submit")

STORE_HELP = "A local folder, or hf://datasets/ORG/NAME (the ORG/NAME-requests + ORG/NAME-results repos)."
StoreOpt = Annotated[str, typer.Option("--store", envvar="EH_LEADERBOARD_STORE", help=STORE_HELP)]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="HF_TOKEN", help="Hub token (hf:// stores).")]
MODEL_TYPES = ("pretrained", "instruction-tuned", "fine-tuned", "merged", "api", "unknown")


def _open(spec: str, token: str | None, *, must_exist: bool = False) -> Store:
    """The store named by ``--store``; a local store that must already exist is checked."""
    from eh_bench.submission.stores import LocalStore, open_store

    target = open_store(spec, token=token)
    if must_exist and isinstance(target, LocalStore):
        target.check_exists()
    return target


@submit_app.command("build")
def build(
    report_dirs: Annotated[
        list[Path], typer.Argument(help="Folders with report.json (eh-bench run/score output).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write entry.json.")] = Path("entry.json"),
    model_id: Annotated[
        str | None, typer.Option(help="Model id when no lm-eval results file names it.")
    ] = None,
    model_revision: Annotated[
        str | None, typer.Option(help="Commit sha / version tag of the weights.")
    ] = None,
    model_type: Annotated[str, typer.Option(help=f"One of: {', '.join(MODEL_TYPES)}.")] = "unknown",
    submitter: Annotated[
        str | None, typer.Option(envvar="EH_SUBMITTER", help="Your name or Hub user.")
    ] = None,
    contact: Annotated[str | None, typer.Option(help="How to reach the submitter.")] = None,
    note: Annotated[str | None, typer.Option(help="A one-line note shown with the entry.")] = None,
) -> None:
    """Build a leaderboard entry from one or more report folders and validate it.

    The model id and revision come from lm-eval's results file when a folder holds one, else from the
    report or --model-id / --model-revision.

    Example: eh-bench submit build runs/smollm2/eh-bench --out entry.json --submitter alice
    """
    from eh_bench.atomic import check_output_file, write_text
    from eh_bench.submission.entries import build_entry
    from eh_bench.submission.schema import entry_name

    check_output_file(out)
    entry = build_entry(
        report_dirs,
        model_id=model_id,
        model_revision=model_revision,
        model_type=model_type,
        submitter=submitter,
        contact=contact,
        note=note,
    )
    write_text(out, json.dumps(entry, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
    m = entry["metrics"]
    console.print(
        f"wrote {escape(str(out))}: {escape(entry['model']['id'])} @ {escape(entry['model']['revision'])}, "
        f"n={m['n']}, expected harm={m['expected_harm']['value']}, asr={m['asr']['value']} "
        f"(name {entry_name(entry)})",
        highlight=False,
    )


@submit_app.command("validate")
def validate(files: Annotated[list[Path], typer.Argument(help="entry.json files to check.")]) -> None:
    """Validate entry files against the schema; print every problem as JSON path -> message.

    Exits 1 when any file is invalid.

    Example: eh-bench submit validate entry.json other.json
    """
    from eh_bench.errors import InputError
    from eh_bench.submission.schema import EntryValidationError, read_entry

    bad = 0
    for path in files:
        try:
            read_entry(path)
        except EntryValidationError as exc:
            bad += 1
            table = Table(
                title=f"{escape(str(path))}: INVALID ({len(exc.issues)} problem(s))", title_justify="left"
            )
            table.add_column("path", style="cyan", overflow="fold")
            table.add_column("problem", overflow="fold")
            for issue in exc.issues:
                table.add_row(escape(issue.path), escape(issue.message))
            console.print(table)
        except InputError as exc:
            bad += 1
            err_console.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        else:
            console.print(f"{escape(str(path))}: [green]valid[/]", highlight=False)
    if bad:
        raise typer.Exit(1)


@submit_app.command("push")
def push(
    file: Annotated[Path, typer.Argument(help="A valid entry.json.")],
    store: StoreOpt,
    submitted_by: Annotated[
        str | None, typer.Option("--as", help="Submitting user (default: entry submitter).")
    ] = None,
    token: TokenOpt = None,
) -> None:
    """Validate an entry and store it as PENDING; a duplicate (same model revision, dataset version and
    configs, judge and likelihood) is refused.

    Example: eh-bench submit push entry.json --store out/leaderboard/store
    """
    from eh_bench.submission.schema import read_entry
    from eh_bench.submission.stores import open_store

    target = open_store(store, token=token)
    entry = read_entry(file)
    record = target.push(entry, submitted_by or entry["submitter"]["name"])
    console.print(f"stored {record.name} as {record.status} in {escape(target.uri)}", highlight=False)


@submit_app.command("review")
def review(
    name: Annotated[str, typer.Argument(help="Entry name (see `eh-bench submit list`).")],
    status: Annotated[str, typer.Option("--status", help="VERIFIED or REJECTED.")],
    store: StoreOpt,
    reason: Annotated[str | None, typer.Option(help="Why (shown to the submitter).")] = None,
    token: TokenOpt = None,
) -> None:
    """Set a stored entry's status: VERIFIED publishes it on the leaderboard, REJECTED withdraws it.

    Example: eh-bench submit review SmolLM2-135M-Instruct--0d9af74f2769f058 --status VERIFIED --store out/lb
    """
    target = _open(store, token, must_exist=True)
    record = target.set_status(name, status.upper(), reason)
    console.print(f"{record.name}: {record.status}", highlight=False)


@submit_app.command("list")
def list_entries(
    store: StoreOpt,
    status: Annotated[str | None, typer.Option(help="Only PENDING, VERIFIED or REJECTED.")] = None,
    token: TokenOpt = None,
) -> None:
    """List the entries in a store with their status.

    Example: eh-bench submit list --store out/leaderboard/store --status PENDING
    """
    from eh_bench.submission.stores.base import check_status

    wanted = check_status(status.upper()) if status else None
    target = _open(store, token, must_exist=True)
    records = target.records(wanted)
    table = Table(title=f"{escape(target.uri)}: {len(records)} entries")
    for col in (
        "name",
        "status",
        "model",
        "judge",
        "likelihood",
        "expected harm",
        "submitted by",
        "submitted",
    ):
        table.add_column(col, overflow="fold")
    for r in records:
        e = r.entry
        table.add_row(
            r.name,
            r.status,
            escape(f"{e['model']['id']} @ {e['model']['revision']}"),
            escape(e["judge"]["id"]),
            escape(e["likelihood"]["spec"]),
            str(e["metrics"]["expected_harm"]["value"]),
            escape(r.submitted_by),
            r.submitted_time,
        )
    console.print(table)


@submit_app.command("reindex")
def reindex(store: StoreOpt) -> None:
    """Validate every verified record of a local store once and write its results index afresh.

    The index (results.index.jsonl) lets the leaderboard load thousands of entries without validating
    each; the store keeps it up to date on every review, so this is for a store written before the index
    existed or changed by hand.

    Example: eh-bench submit reindex --store out/leaderboard/store
    """
    from eh_bench.errors import InputError
    from eh_bench.submission.stores import LocalStore

    target = _open(store, None, must_exist=True)
    if not isinstance(target, LocalStore):
        raise InputError(f"{store}: only a local store keeps a results index; a Hub store has none to rebuild")
    count = target.reindex()
    console.print(f"{escape(target.uri)}: {count} verified record(s) indexed", highlight=False)
