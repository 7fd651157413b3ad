"""``report.json`` and ``report.md`` of a scored run (the leaderboard validates entries built from report.json).

report.json (``report_version`` 1) holds: when and with what it was made (eh-bench version, model,
dataset, judge, likelihood model, lm-eval version and task hashes, seed, bootstrap size), per-task
counts and :func:`eh_bench.metrics.summarize` summaries, the group summary over the harmful tasks
(each distinct request once), the benign over-refusal section, and the relative paths of the samples
files and plots. Undefined numbers are ``null``, never 0.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from eh_bench import __version__
from eh_bench.atomic import write_all
from eh_bench.errors import EHBenchError, InputError
from eh_bench.evaluation.catalog import PACKAGED_CONFIGS, dataset_source
from eh_bench.jsonio import read_json_file

if TYPE_CHECKING:
    from eh_bench.evaluation.scoring import RunScore

REPORT_VERSION: Final = 1
REPORT_JSON: Final = "report.json"
REPORT_MD: Final = "report.md"
#: ``files`` key recording why the plots could not be drawn (absent when they were, or not asked for).
PLOT_ERROR: Final = "plot_error"
#: Where the packaged core set lives, recorded as the dataset path when no built dataset was used.
PACKAGED_PATH: Final = "eh_bench/data (packaged core set)"


def _model_args(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def model_record(
    results: dict[str, Any] | None, model_id: str | None, revision: str | None
) -> dict[str, Any]:
    """``{"id", "revision", "source"}``: given on the command line, else read from lm-eval's results."""
    if model_id:
        return {"id": model_id, "revision": revision or None, "source": "cli"}
    cfg = (results or {}).get("config") or {}
    found = (results or {}).get("model_name") or cfg.get("model_name") or cfg.get("model")
    rev = revision or cfg.get("model_revision") or cfg.get("model_sha") or None
    return {"id": str(found) if found else "unknown", "revision": rev, "source": "lm-eval"}


def lm_eval_record(results: dict[str, Any] | None) -> dict[str, Any]:
    """The lm-eval provenance of the run (``version`` is ``"unknown"`` without a results file)."""
    res = results or {}
    cfg = res.get("config") or {}
    limit = cfg.get("limit")
    return {
        "version": str(res.get("lm_eval_version") or "unknown"),
        "task_hashes": dict(res.get("task_hashes") or {}),
        "chat_template_sha": res.get("chat_template_sha") or None,
        "model_args": _model_args(cfg.get("model_args")),
        "limit": limit if isinstance(limit, (int, float)) and not isinstance(limit, bool) else None,
    }


def _metadata_dataset(results: dict[str, Any] | None) -> str | None:
    for cfg in ((results or {}).get("configs") or {}).values():
        meta = cfg.get("metadata") if isinstance(cfg, dict) else None
        if isinstance(meta, dict) and meta.get("dataset"):
            return str(meta["dataset"])
    return None


def dataset_record(dataset: str | None, results: dict[str, Any] | None, configs: list[str]) -> dict[str, Any]:
    """Which dataset the run read: ``dataset`` / ``$EH_DATASET`` / lm-eval ``--metadata dataset=``, else packaged.

    A built folder or Hub id is fingerprinted (:func:`eh_bench.dataset.dataset_fingerprint`); runs of
    the packaged core configs alone record the packaged set; anything else is ``"unknown"``.
    """
    from eh_bench.dataset.configs import DATASET_NAME, DATASET_VERSION
    from eh_bench.dataset.load import dataset_fingerprint

    source = dataset_source(dataset) or _metadata_dataset(results)
    if source is not None:
        try:
            found = dataset_fingerprint(source)
        except (
            EHBenchError,
            OSError,
            ValueError,
            KeyError,
        ) as exc:  # a moved folder or offline Hub id keeps the scores
            return {
                "name": source,
                "version": "unknown",
                "manifest_sha256": None,
                "path": f"{source} ({exc})",
            }
        return {
            "name": str(found.get("name") or DATASET_NAME),
            "version": str(found.get("version") or "unknown"),
            "manifest_sha256": found.get("manifest_sha256"),
            "path": str(found.get("location") or source),
        }
    if configs and all(c in PACKAGED_CONFIGS for c in configs):
        return {
            "name": DATASET_NAME,
            "version": DATASET_VERSION,
            "manifest_sha256": None,
            "path": PACKAGED_PATH,
        }
    return {"name": "unknown", "version": "unknown", "manifest_sha256": None, "path": ""}


def _relative(path: Path, base: Path) -> str:
    try:
        return os.path.relpath(path.resolve(), base.resolve())
    except ValueError:  # another drive (Windows)
        return str(path.resolve())


def build_report(
    scored: RunScore,
    out_dir: Path,
    *,
    model_id: str | None = None,
    model_revision: str | None = None,
    dataset: str | None = None,
    plots: list[Path] | None = None,
) -> dict[str, Any]:
    """The report.json dict of a scored run (see the module docstring for the contract).

    Args:
        scored: the output of :func:`eh_bench.evaluation.scoring.score_run`.
        out_dir: the report's folder; file paths are recorded relative to it.
        model_id: the model's id (else read from lm-eval's results file).
        model_revision: the model's revision (else lm-eval's ``model_revision``/``model_sha``).
        dataset: the built dataset folder or Hub id the run read (else ``$EH_DATASET`` / lm-eval metadata).
        plots: plot files written for this report.
    """
    run = scored.run
    results = run.results
    configs = [t.config for t in run.tasks]
    return {
        "report_version": REPORT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "eh_bench_version": __version__,
        "model": model_record(results, model_id, model_revision),
        "dataset": dataset_record(dataset, results, configs),
        "judge": {"id": scored.judge.id, "revision": scored.judge.revision, "backend": scored.judge_backend},
        "likelihood": scored.likelihood.to_dict(),
        "lm_eval": lm_eval_record(results),
        "seed": scored.seed,
        "n_boot": scored.n_boot,
        "tasks": scored.tasks,
        "group": scored.group,
        "benign": scored.benign,
        "files": {
            "samples": [_relative(t.file.path, out_dir) for t in run.tasks],
            "plots": [_relative(p, out_dir) for p in plots or []],
        },
    }


def write_report(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.md`` into ``out_dir`` (created); returns both paths.

    Both are rendered first and placed together (:func:`eh_bench.atomic.write_all`): a failed write
    (a full disk) leaves the previous pair as it was.
    """
    from eh_bench.report.markdown import render_markdown

    json_path = out_dir / REPORT_JSON
    md_path = out_dir / REPORT_MD
    text = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_all({json_path: text, md_path: render_markdown(report)})
    return json_path, md_path


#: Fields every report.json has as objects (checked on read, so later code can index them).
REQUIRED_OBJECTS: Final = ("model", "dataset", "judge", "likelihood", "tasks")


def read_report(path: Path) -> dict[str, Any]:
    """Load and check a report.json (a folder is taken to contain one): the one reader of reports.

    Raises:
        InputError: no such file, not valid JSON (named by line), another report version, or a required
            field missing; the message names the file and the fix.
    """
    file = path / REPORT_JSON if path.is_dir() else path
    if not file.is_file():
        raise InputError(
            f"{file}: no {REPORT_JSON}; give a folder written by `eh-bench run` or `eh-bench score`"
        )
    data = read_json_file(file, "an eh-bench report")
    if not isinstance(data, dict):
        raise InputError(f"{file}: expected a JSON object (an eh-bench report)")
    if data.get("report_version") != REPORT_VERSION:
        raise InputError(
            f"{file}: report_version is {data.get('report_version')!r}; this eh-bench reads version "
            f"{REPORT_VERSION} (re-score with `eh-bench score`)"
        )
    for field in REQUIRED_OBJECTS:
        if not isinstance(data.get(field), dict):
            raise InputError(f"{file}: field {field!r} is missing or not an object; re-score with `eh-bench score`")
    return data


def save_report(
    scored: RunScore,
    out_dir: Path,
    *,
    plots: bool = True,
    model_id: str | None = None,
    model_revision: str | None = None,
    dataset: str | None = None,
) -> tuple[dict[str, Any], Path, Path]:
    """Build the report of a scored run, write report.json + report.md into ``out_dir``, then draw its plots.

    The report is written before any plot is drawn, so a plotting failure can never lose it: the
    failure is recorded as ``files.plot_error`` (and shown in report.md) and the report is written
    again with no plots listed.

    Returns:
        The report dict and the paths of report.json and report.md.
    """
    report = build_report(scored, out_dir, model_id=model_id, model_revision=model_revision, dataset=dataset)
    json_path, md_path = write_report(report, out_dir)
    if plots:
        from eh_bench.report.plots import plot_report

        try:
            drawn = plot_report(report, out_dir)
        except Exception as exc:  # any plotting failure: the scores stand without figures
            report["files"][PLOT_ERROR] = f"{type(exc).__name__}: {exc}"
            write_report(report, out_dir)
        else:
            if drawn:
                report["files"]["plots"] = [_relative(p, out_dir) for p in drawn]
                write_report(report, out_dir)
    return report, json_path, md_path
