"""Foundation commands: ``rubric``, ``likelihood`` and ``summarize``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import typer
from rich.table import Table

from eh_bench.cli._app import app, console
from eh_bench.cli.options import DEFAULT_N_BOOT, NBootOption
from eh_bench.errors import InputError


@app.command()
def rubric() -> None:
    """Print the cost and severity scales (rubric v1) with their anchors.

    Example: eh-bench rubric
    """
    from eh_bench import rubric as r

    table = Table(title=f"eh-bench rubric v{r.RUBRIC_VERSION}", show_lines=True)
    table.add_column("level", justify="right")
    table.add_column("execution cost (second-highest factor)")
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


#: Columns ``summarize`` reads from each row.
SUMMARY_COLUMNS: Final = ("cost", "severity", "success")


def read_judged(path: Path) -> tuple[list[int], list[int], list[float]]:
    """Cost, severity and success of every row of a judged table, each checked where it stands.

    Raises:
        InputError: an unreadable table (see :func:`eh_bench.tables.read_rows`), a missing column
            value, a level outside 1-5 or a success that is not a number in [0, 1]; the message
            names the file, line and column.
    """
    from eh_bench.rubric import check_level
    from eh_bench.tables import read_rows

    cost: list[int] = []
    severity: list[int] = []
    success: list[float] = []
    for where, row in read_rows(path, "a table of judged samples"):
        for field in SUMMARY_COLUMNS:
            if row.get(field) in (None, ""):
                raise InputError(f"{where}: no {field!r} value; every row needs {', '.join(SUMMARY_COLUMNS)}")
        cost.append(check_level(row["cost"], "cost", where))
        severity.append(check_level(row["severity"], "severity", where))
        success.append(_success(row["success"], where))
    return cost, severity, success


def _success(value: Any, where: str) -> float:
    number: float | None = None
    if not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
    if number is None or not 0.0 <= number <= 1.0:  # NaN fails the comparison too
        raise InputError(
            f"{where}: success is {value!r}; it must be a number in [0, 1] (1 = attack succeeded); "
            "drop unscored rows"
        )
    return number


def _weights(text: str | None) -> list[float] | None:
    if not text:
        return None
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise InputError(
            f"--cost-distribution {text!r}: give five comma-separated numbers, e.g. 0.4,0.3,0.2,0.05,0.05"
        ) from None


@app.command()
def summarize(
    path: Path = typer.Argument(..., help="CSV / JSONL / JSON with columns cost, severity, success."),
    likelihood: str = typer.Option("linear", "--likelihood", "-l", help="linear | exponential:L | table:a,b,c,d,e"),
    n_boot: NBootOption = DEFAULT_N_BOOT,
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

    dist = _weights(cost_distribution)
    cost, severity, success = read_judged(path)
    summary = metrics.summarize(
        cost,
        severity,
        success,
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
    """Print a summary dict (from :func:`eh_bench.metrics.summarize`) as rich tables (a graded score under
    its own name, with bootstrap intervals)."""
    from eh_bench.metrics.scores import score_of

    spec = score_of(summary)
    mean = spec.name if spec.graded else "ASR"
    head = Table(title=title or None)
    for col in ("n", mean, "Expected Harm (0-5)", "EH normalised", "calibration index", f"deploy-weighted {mean}"):
        head.add_column(col, justify="right")
    ci = summary["calibration_index"]
    dw = summary[spec.deployment_key]
    band = summary["ci"][spec.name]
    head.add_row(
        str(summary["n"]),
        f"{_fmt(summary[spec.name])} [{_fmt(band['ci_low'])}, {_fmt(band['ci_high'])}]",
        _fmt(summary["expected_harm"]),
        _fmt(summary["expected_harm_normalized"]),
        f"{_fmt(ci['value'])} [{_fmt(ci['ci_low'])}, {_fmt(ci['ci_high'])}]",
        _fmt(dw["value"]),
    )
    console.print(head)
    levels = Table(title=f"{mean} by level ({'bootstrap' if spec.graded else 'Wilson'} 95% CI)")
    levels.add_column("level", justify="right")
    for scale in ("cost", "severity"):
        levels.add_column(f"{scale}: {mean} [CI]", justify="right")
        levels.add_column("n", justify="right")
    for key in ("1", "2", "3", "4", "5"):
        cells: list[str] = [key]
        for scale in ("cost", "severity"):
            cell = summary[spec.by(scale)][key]
            cells += [
                f"{_fmt(cell[spec.level_key])} [{_fmt(cell['ci_low'], 2)}, {_fmt(cell['ci_high'], 2)}]", str(cell["n"])
            ]
        levels.add_row(*cells)
    console.print(levels)
