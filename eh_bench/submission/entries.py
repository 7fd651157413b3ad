"""Build a leaderboard entry from one or more evaluation report folders (``report.json``).

The headline metrics come from the one report that has them (the ``expected_harm`` group summary, or
the summary of its single task). Every report must name the same dataset, judge and likelihood model.
Attack and probe rows come from ``attacks.json`` / ``probes.json`` beside a report (or the report's
own ``attacks`` / ``probes`` keys) when those capabilities have produced them.

The model id and revision are read from lm-eval's ``results_*.json`` when a report folder holds one
(a Hub model id and its ``model_sha``), else from the report, else from the caller (``--model-id`` /
``--model-revision``); a flag that contradicts the lm-eval file is an error, and no id or no revision
at all is an error that says which flag to pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from eh_bench.errors import InputError
from eh_bench.evaluation.samples import load_results
from eh_bench.jsonio import read_json_file
from eh_bench.metrics.scores import score_of
from eh_bench.report.document import REPORT_JSON as REPORT_FILE
from eh_bench.report.document import UNRECORDED, read_report
from eh_bench.submission.schema import ENTRY_VERSION, EntryValidationError, check_entry

ATTACKS_FILE: Final = "attacks.json"
PROBES_FILE: Final = "probes.json"
LM_EVAL_RESULTS_GLOB: Final = "results_*.json"
#: lm-eval result folders sit at most this deep below a report folder.
LM_EVAL_MAX_DEPTH: Final = 3
DEFAULT_SUBMITTER: Final = "anonymous"
UNKNOWN: Final = "unknown"
TASK_METRIC_FIELDS: Final = ("asr", "expected_harm", "expected_harm_normalized")
#: Fields of a report's ``responses`` record an entry carries (besides the scalar ``parameters``).
RESPONSE_FIELDS: Final = (
    "origin", "method", "attack_type", "set", "repository", "revision", "file", "sha256", "pinned", "license",
    "verdicts",
)  # fmt: skip


@dataclass(frozen=True)
class LoadedReport:
    """One report folder: its report.json and the optional attack/probe rows beside it."""

    folder: Path
    report: dict[str, Any]
    attacks: list[Any]
    probes: list[Any]


def load_report(folder: Path) -> LoadedReport:
    """Read ``folder/report.json`` (and ``attacks.json`` / ``probes.json`` when present)."""
    report = read_report(folder / REPORT_FILE)
    rows: dict[str, list[Any]] = {}
    for key, name in (("attacks", ATTACKS_FILE), ("probes", PROBES_FILE)):
        path = folder / name
        value = read_json_file(path, f"a list of {key} rows") if path.is_file() else report.get(key) or []
        if not isinstance(value, list):
            raise InputError(f"{path}: expected a JSON list of {key} rows")
        rows[key] = value
    return LoadedReport(folder, report, rows["attacks"], rows["probes"])


# ----------------------------------------------------------------------------- model identity


def find_lm_eval_results(folder: Path, report: Mapping[str, Any] | None = None) -> list[Path]:
    """lm-eval ``results_*.json`` files of a report: under ``folder`` (up to 3 levels down) and beside
    the samples files the report lists (``eh-bench score`` writes its report next to the lm-eval run).
    Sorted by file name (lm-eval names them by date), so the newest is last."""
    found = {
        p.resolve() for p in folder.rglob(LM_EVAL_RESULTS_GLOB)
        if p.is_file() and len(p.relative_to(folder).parts) <= LM_EVAL_MAX_DEPTH + 1
    }
    samples = ((report or {}).get("files") or {}).get("samples") or []
    for rel in samples if isinstance(samples, list) else []:
        parent = (folder / str(rel)).parent
        if parent.is_dir():
            found.update(p.resolve() for p in parent.glob(LM_EVAL_RESULTS_GLOB) if p.is_file())
    return sorted(found, key=lambda p: p.name)


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or "\\" in name or Path(name).expanduser().exists()


def _usable(value: Any) -> str | None:
    """A report's model id / revision, unless it is missing, ``unknown`` or a local path."""
    if not isinstance(value, str) or not value.strip() or value.strip().lower() == UNKNOWN:
        return None
    return None if _looks_like_path(value) else value.strip()


def model_from_lm_eval(path: Path) -> tuple[str | None, str | None, int | None]:
    """(Hub model id, commit sha, parameter count) from an lm-eval results file; None where unknown.

    A model loaded from a local folder has no Hub id (its ``model_name`` is a path): id is None.
    """
    data = load_results(path)
    config = data.get("config") if isinstance(data, dict) else None
    config = config if isinstance(config, dict) else {}
    name = data.get("model_name") if isinstance(data, dict) else None
    model_id = name if isinstance(name, str) and name and not _looks_like_path(name) else None
    sha = config.get("model_sha")
    revision = sha if isinstance(sha, str) and sha else None
    params = config.get("model_num_parameters")
    parameters = params if isinstance(params, int) and not isinstance(params, bool) and params > 0 else None
    return model_id, revision, parameters


def _pick(field: str, from_file: str | None, from_flag: str | None, from_report: str | None, file: Path | None) -> str | None:
    if from_file and from_flag and from_file != from_flag:
        raise InputError(
            f"--model-{field} {from_flag!r} contradicts the lm-eval results file {file} ({from_file!r}); "
            f"drop --model-{field} or build from the right folder"
        )
    return from_file or from_flag or from_report


def resolve_model(
    reports: Sequence[LoadedReport], model_id: str | None, model_revision: str | None
) -> dict[str, Any]:
    """The entry's ``model`` section (see the module docstring for the order of sources)."""
    results = sorted({p for r in reports for p in find_lm_eval_results(r.folder, r.report)}, key=lambda p: p.name)
    file = results[-1] if results else None
    file_id, file_rev, parameters = model_from_lm_eval(file) if file else (None, None, None)
    rep = reports[0].report["model"]
    rep_id, rep_rev = _usable(rep.get("id")), _usable(rep.get("revision"))
    where = ", ".join(str(r.folder) for r in reports)
    final_id = _pick("id", file_id, model_id, rep_id, file)
    if not final_id:
        raise InputError(
            f"no model id for {where}: no lm-eval results file names a Hub model and report.json has no "
            "model.id (or only a local path); pass --model-id ORG/NAME"
        )
    final_rev = _pick("revision", file_rev, model_revision, rep_rev, file)
    if not final_rev:
        raise InputError(
            f"no model revision for {final_id!r} ({where}): lm-eval recorded no model_sha and report.json "
            "has no model.revision; pass --model-revision (a commit sha or version tag)"
        )
    from_lm_eval = bool(file_id) or (final_id == rep_id and rep.get("source") == "lm-eval" and not model_id)
    imported = not from_lm_eval and not model_id and final_id == rep_id and rep.get("source") == "import"
    return {
        "id": final_id,
        "revision": final_rev,
        "parameters": parameters,
        "source": "lm-eval" if from_lm_eval else "import" if imported else "cli",
    }


# ----------------------------------------------------------------------------- metrics


def _estimate(summary: Mapping[str, Any], name: str) -> dict[str, Any]:
    ci = summary.get("ci", {}).get(name, {})
    return {"value": summary[name], "ci_low": ci.get("ci_low"), "ci_high": ci.get("ci_high")}


def metrics_from_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's metric fields from an :func:`eh_bench.metrics.summarize` dict.

    0/1 verdicts give ``asr``, ``asr_by_cost`` ... and ``deployment_weighted_asr``; a graded judge's
    summary gives ``score`` (its name, range, mean and bootstrap interval), ``score_by_cost`` ... and
    ``deployment_weighted_score`` instead, never ``asr``.
    """
    spec = score_of(summary)
    cal, dw = summary["calibration_index"], summary[spec.deployment_key]
    headline = {"name": spec.name, "graded": spec.graded, "low": spec.low, "high": spec.high,
                **_estimate(summary, spec.name)}  # fmt: skip
    out: dict[str, Any] = {"n": summary["n"], "score": headline}
    if not spec.graded:
        out["asr"] = _estimate(summary, "asr")
    out["expected_harm"] = _estimate(summary, "expected_harm")
    out["expected_harm_normalized"] = _estimate(summary, "expected_harm_normalized")
    for scale in ("cost", "severity", "cost_severity"):
        out[spec.by(scale)] = summary[spec.by(scale)]
    out["calibration_index"] = {
        k: cal[k] for k in ("value", "ci_low", "ci_high", "method", "undefined_replicates") if k in cal
    }
    out[spec.deployment_key] = {
        k: dw[k] for k in ("value", "ci_low", "ci_high", "weights", "missing_levels", "undefined_replicates") if k in dw
    }
    if "bootstrap" in summary:
        out["bootstrap"] = summary["bootstrap"]
    return out


def _headline(reports: Sequence[LoadedReport]) -> tuple[LoadedReport, dict[str, Any], list[str]]:
    """(report, summary, task names) of the one report that carries headline metrics."""
    benign_tasks = {
        str(t.get("task")) for r in reports for t in ((r.report.get("benign") or {}).get("tasks") or [])
        if isinstance(t, dict)
    }
    found = []
    for r in reports:
        group = r.report.get("group")
        harmful = [t for t in r.report["tasks"] if t not in benign_tasks]
        if isinstance(group, dict) and isinstance(group.get("summary"), dict):
            found.append((r, group["summary"], harmful))
        elif len(harmful) == 1:
            found.append((r, r.report["tasks"][harmful[0]]["summary"], harmful))
        elif harmful:
            raise InputError(
                f"{r.folder / REPORT_FILE}: {len(harmful)} tasks but no group summary; evaluate the "
                "expected_harm group (or one task) so the entry has one set of headline metrics"
            )
    if len(found) != 1:
        names = ", ".join(str(r.folder) for r, _, _ in found) or "none of the folders"
        raise InputError(
            f"exactly one report folder must carry headline metrics, found {len(found)} ({names}); "
            "build one entry per evaluation"
        )
    return found[0]


def _task_rows(report: Mapping[str, Any], tasks: Sequence[str]) -> dict[str, Any]:
    rows = {}
    for name in tasks:
        task = report["tasks"][name]
        summary = task.get("summary") or {}
        cal = summary.get("calibration_index") or {}
        spec = score_of(summary)
        rows[name] = {
            "config": task.get("config"),
            "n_samples": task.get("n_samples", 0),
            "n_scored": task.get("n_scored", 0),
            "n_unscored": task.get("n_unscored", 0),
            "n_empty": task.get("n_empty", 0),
            **{field: summary.get(field) for field in TASK_METRIC_FIELDS},
            "score": summary.get(spec.name),
            "calibration_index": cal.get("value"),
        }
    return rows


def sample_section(report: Mapping[str, Any], where: Path) -> dict[str, Any]:
    """The entry's ``dataset.sample``: full set, ``--limit N`` or ``--per-cost K`` with its seed.

    Raises:
        InputError: a report of generated responses that does not record its design (an older report,
            or one scored without lm-eval's results file): a subsample must never pass for a full run.
    """
    found = report.get("sample")
    imported = (report.get("responses") or {}).get("origin") == "imported"
    design = found.get("design") if isinstance(found, Mapping) else None
    if design in (None, UNRECORDED) and not imported:
        raise InputError(
            f"{where / REPORT_FILE}: the report does not record which requests were evaluated (full set, "
            "--limit or --per-cost); score the whole lm-eval --output_path folder (with its results_*.json) "
            "with this eh-bench version"
        )
    if not isinstance(found, Mapping):
        return {"design": UNRECORDED, "limit": None, "per_cost": None, "seed": None}
    return {k: found.get(k) for k in ("design", "limit", "per_cost", "seed")}


def _scored_configs(report: Mapping[str, Any], tasks: Sequence[str]) -> list[str]:
    """The dataset configs of the tasks that were scored (a task with no summary is not behind any number)."""
    return sorted({str(report["tasks"][t].get("config") or t) for t in tasks if report["tasks"][t].get("summary")})


def _model_type(given: str, report: Mapping[str, Any]) -> str:
    """The caller's model type, else the report's (an import knows API models from open weights)."""
    found = report["model"].get("type")
    return found if given == UNKNOWN and isinstance(found, str) and found else given


def responses_section(report: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's ``responses``: where the judged responses came from (a report without the record
    was generated by the run, each request sent as is)."""
    found = report.get("responses")
    if not isinstance(found, Mapping):
        return {"origin": "generated", "method": "direct"}
    out = {k: found.get(k) for k in RESPONSE_FIELDS if k in found}
    params = found.get("parameters")
    if isinstance(params, Mapping):
        out["parameters"] = {str(k): v for k, v in params.items() if v is None or isinstance(v, (str, int, float, bool))}
    return out


def _check_same(reports: Sequence[LoadedReport]) -> None:
    first = reports[0]
    for other in reports[1:]:
        for section, fields in (("dataset", ("name", "version")), ("judge", ("id", "revision")), ("likelihood", ("spec",))):
            a = [first.report[section].get(f) for f in fields]
            b = [other.report[section].get(f) for f in fields]
            if a != b:
                raise InputError(
                    f"{first.folder} and {other.folder} differ in {section} ({a} vs {b}); an entry joins "
                    "reports of one dataset, judge and likelihood model only"
                )


# ----------------------------------------------------------------------------- entry


def build_entry(
    report_dirs: Sequence[Path],
    *,
    model_id: str | None = None,
    model_revision: str | None = None,
    model_type: str = "unknown",
    submitter: str | None = None,
    contact: str | None = None,
    note: str | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """Build a leaderboard entry from report folders; validated against the schema unless told not to.

    Raises:
        InputError: a missing or malformed report, reports that disagree, no model id or revision.
        EntryValidationError: the built entry breaks the schema (e.g. a model id over 256 characters).
    """
    if not report_dirs:
        raise InputError("give at least one REPORT_DIR (a folder with report.json)")
    reports = [load_report(Path(d)) for d in report_dirs]
    _check_same(reports)
    head, summary, tasks = _headline(reports)
    rep = head.report
    metrics = metrics_from_summary(summary)
    unscored: dict[str, int] = {}
    for name in tasks:
        for reason, count in (rep["tasks"][name].get("unscored_reasons") or {}).items():
            unscored[str(reason)] = unscored.get(str(reason), 0) + int(count)
    metrics["n_unscored"] = sum(int(rep["tasks"][t].get("n_unscored", 0)) for t in tasks)
    metrics["n_empty"] = sum(int(rep["tasks"][t].get("n_empty", 0)) for t in tasks)
    metrics["unscored_reasons"] = unscored
    benign = rep.get("benign")
    metrics["over_refusal_rate"] = (
        {"value": benign.get("over_refusal_rate"), "n": benign.get("n", 0)} if isinstance(benign, dict) else None
    )
    metrics["tasks"] = _task_rows(rep, tasks)
    lm_eval = rep.get("lm_eval") or {}
    dataset = rep["dataset"]
    lk = rep["likelihood"]
    entry: dict[str, Any] = {
        "entry_version": ENTRY_VERSION,
        "model": {**resolve_model(reports, model_id, model_revision), "type": _model_type(model_type, rep)},
        "responses": responses_section(rep),
        "dataset": {
            "name": dataset.get("name"),
            "version": dataset.get("version"),
            "manifest_sha256": dataset.get("manifest_sha256"),
            "labels_sha256": dataset.get("labels_sha256"),
            "configs": _scored_configs(rep, tasks),
            "sample": sample_section(rep, head.folder),
        },
        "judge": {
            **{k: rep["judge"].get(k) for k in ("id", "revision", "backend")},
            "benign": rep.get("benign_judge") if isinstance(rep.get("benign_judge"), dict) else None,
        },
        "likelihood": {k: lk.get(k) for k in ("name", "spec", "params", "p_by_cost")},
        "metrics": metrics,
        "attacks": [row for r in reports for row in r.attacks],
        "probes": [row for r in reports for row in r.probes],
        "provenance": {
            "eh_bench_version": rep.get("eh_bench_version"),
            "lm_eval_version": lm_eval.get("version"),
            "task_hashes": {t: h for t, h in (lm_eval.get("task_hashes") or {}).items() if h},
            "chat_template_sha": lm_eval.get("chat_template_sha"),
            "model_args": lm_eval.get("model_args"),
            "limit": lm_eval.get("limit"),
            "seed": rep.get("seed"),
            "n_boot": rep.get("n_boot"),
            "date": rep.get("created"),
            "rubric_version": dataset.get("rubric_version"),
            "empty_responses": (rep.get("scoring") or {}).get("empty_responses"),
            "max_unscored_per_task": (rep.get("scoring") or {}).get("max_unscored_per_task"),
        },
        "submitter": {"name": submitter or DEFAULT_SUBMITTER, "contact": contact, "note": note},
    }
    if validate:
        issues = check_entry(entry)
        if issues:
            raise EntryValidationError(", ".join(str(d) for d in report_dirs), issues)
    return entry
