"""Foundation commands: ``rubric``, ``likelihood`` and ``summarize``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from eh_bench.cli._app import app, console
from eh_bench.errors import InputError


@app.command()
def rubric() -> None:
    """Print the cost and severity scales (rubric v1) with their anchors.

    Example: eh-bench rubric
    """
    from eh_bench import rubric as r

    table = Table(title=f"eh-bench rubric v{r.RUBRIC_VERSION}", show_lines=True)
    table.add_column("level", justify="right")
    table.add_column("execution cost (holistic)")
    table.add_column("severity")
    for level in r.LEVELS:
        table.add_row(str(level), r.COST_ANCHORS[level], r.SEVERITY_ANCHORS[level])
    console.print(table)
    factors = Table(title="cost factors (each 1-5)")
    factors.add_column("factor")
    for level in r.LEVELS:
        factors.add_column(str(level))
    for name, anchors in r.COST_FACTORS.items():
        factors.add_row(name, *(anchors[level] for level in r.LEVELS))
    console.print(factors)


@app.command()
def likelihood(
    spec: str = typer.Argument("linear", help="linear | exponential[:LAMBDA] | table:a,b,c,d,e"),
) -> None:
    """Show Pr(execution | cost) of a likelihood model for cost levels 1-5.

    Example: eh-bench likelihood exponential:0.7
    """
    from eh_bench.likelihood import get_likelihood

    model = get_likelihood(spec)
    table = Table(title=f"Pr(execution | cost): {model.spec}")
    table.add_column("cost", justify="right")
    table.add_column("p", justify="right")
    for level, p in enumerate(model.table, start=1):
        table.add_row(str(level), f"{p:.4f}")
    console.print(table)


def read_table(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV, JSON-lines or JSON (list of objects) file."""
    import csv

    if not path.is_file():
        raise InputError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        return list(csv.DictReader(text.splitlines()))
    if path.suffix == ".json":
        data = json.loads(text)
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a JSON list of objects")
        return data
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
    return rows


@app.command()
def summarize(
    path: Path = typer.Argument(..., help="CSV / JSONL / JSON with columns cost, severity, success."),
    likelihood: str = typer.Option("linear", "--likelihood", "-l", help="linear | exponential:L | table:a,b,c,d,e"),
    n_boot: int = typer.Option(1000, help="Bootstrap replicates for the CIs (0: none)."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    cost_distribution: str = typer.Option(
        None, help="Five comma-separated weights for deployment-weighted ASR (default uniform)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the full summary as JSON."),
) -> None:
    """Summarise a table of judged samples into Expected Harm, ASR by cost/severity and calibration.

    Example: eh-bench summarize judged.csv --likelihood exponential:0.5 --json
    """
    from eh_bench import metrics

    rows = read_table(path)
    for field in ("cost", "severity", "success"):
        missing = [i for i, row in enumerate(rows) if row.get(field) in (None, "")]
        if missing:
            raise InputError(f"{path}: row {missing[0] + 1} has no {field!r} column value")
    dist = [float(x) for x in cost_distribution.split(",")] if cost_distribution else None
    summary = metrics.summarize(
        [r["cost"] for r in rows],
        [r["severity"] for r in rows],
        [r["success"] for r in rows],
        likelihood=likelihood,
        n_boot=n_boot,
        seed=seed,
        cost_distribution=dist,
    )
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        print_summary(summary, title=str(path))


def _fmt(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def print_summary(summary: dict[str, Any], title: str = "") -> None:
    """Print a summary dict (from :func:`eh_bench.metrics.summarize`) as rich tables."""
    head = Table(title=title or None)
    for col in ("n", "ASR", "Expected Harm (0-5)", "EH normalised", "calibration index", "deploy-weighted ASR"):
        head.add_column(col, justify="right")
    ci = summary["calibration_index"]
    dw = summary["deployment_weighted_asr"]
    head.add_row(
        str(summary["n"]),
        f"{_fmt(summary['asr'])} [{_fmt(summary['ci']['asr']['ci_low'])}, {_fmt(summary['ci']['asr']['ci_high'])}]",
        _fmt(summary["expected_harm"]),
        _fmt(summary["expected_harm_normalized"]),
        f"{_fmt(ci['value'])} [{_fmt(ci['ci_low'])}, {_fmt(ci['ci_high'])}]",
        _fmt(dw["value"]),
    )
    console.print(head)
    levels = Table(title="ASR by level (Wilson 95% CI)")
    levels.add_column("level", justify="right")
    for scale in ("cost", "severity"):
        levels.add_column(f"{scale}: ASR [CI]", justify="right")
        levels.add_column("n", justify="right")
    for key in ("1", "2", "3", "4", "5"):
        cells: list[str] = [key]
        for scale in ("asr_by_cost", "asr_by_severity"):
            cell = summary[scale][key]
            cells += [f"{_fmt(cell['asr'])} [{_fmt(cell['ci_low'], 2)}, {_fmt(cell['ci_high'], 2)}]", str(cell["n"])]
        levels.add_row(*cells)
    console.print(levels)
