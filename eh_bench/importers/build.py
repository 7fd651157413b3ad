"""Imported responses -> a report folder, through the scorer and the report writer of ``eh-bench score``.

Each imported row becomes one sample of a :class:`~eh_bench.evaluation.samples.TaskSamples` (the
request's cost and severity from the config's labels), so :func:`~eh_bench.evaluation.scoring.score_run`
applies the same unscored accounting, per-task gate and summaries as for a generated run, and
:func:`~eh_bench.report.document.save_report` writes the same ``report.json`` / ``report.md``.

Rows that came with a verdict are judged by a :class:`ReferenceJudge`: the sample's response column
holds a per-row key (``row:17``), never the response, and the judge returns the verdict stored for that
key. Rows without a verdict keep their response text in memory and go to a real judge.

Besides the report, the folder holds ``verdicts.jsonl``: one line per imported row with its row number,
request id, cost, severity, success (or why it is unscored) and the set's own per-row fields (action
class, query counts). It holds no prompt and no response: imported responses are read at run time only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from eh_bench.judges.base import JudgeItem, Verdict

if TYPE_CHECKING:
    from eh_bench.evaluation.scoring import RunScore
    from eh_bench.importers.requests import RequestIndex
    from eh_bench.judges.base import Judge

VERDICTS_FILE: Final = "verdicts.jsonl"
#: Prefix of the per-row key that stands in for the response of a row with a reference verdict.
ROW_KEY: Final = "row:"
#: Unscored reason of a row whose request is not in the config.
UNMATCHED: Final = "unmatched_request"
#: At most this many unmatched rows are listed in report.json (all are counted).
MAX_LISTED: Final = 1000


@dataclass(frozen=True)
class ReferenceJudge:
    """The verdicts that came with the responses (a publisher's judge, human annotators), as a judge.

    ``verdicts`` maps a row key (``row:17``) to its success (0/1, or None = unscored). It is not
    cacheable: looking a verdict up is all it does.
    """

    id: str
    revision: str
    verdicts: Mapping[str, float | None] = field(default_factory=dict, repr=False)
    cacheable: bool = False

    def judge(self, items: Sequence[JudgeItem]) -> list[Verdict]:
        out = []
        for item in items:
            if item.response not in self.verdicts:
                out.append(Verdict(None, "no_reference_verdict: the row has no verdict to read"))
                continue
            value = self.verdicts[item.response]
            out.append(Verdict(value, None if value is not None else "no_reference_verdict"))
        return out


@dataclass
class ImportedRow:
    """One imported row before scoring.

    Attributes:
        row: 1-based row (record) number in the imported file, for messages.
        request_id: the dataset id it answers (None when it matched no request).
        response: the response text (rows judged here), or None when there is none.
        verdict: the reference success 0/1 when the row came with one.
        extra: per-row fields kept in ``verdicts.jsonl`` (no text).
        unmatched: what the row named when its request was not found (id or ``sha256:...``).
    """

    row: int
    request_id: str | None
    response: str | None
    verdict: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    unmatched: str | None = None


@dataclass(frozen=True)
class ImportTask:
    """What is being imported: the lm-eval-style task it stands for, the model, and its provenance."""

    task: str
    model_id: str
    model_revision: str
    responses: dict[str, Any]
    model_type: str = "unknown"


def _samples(rows: Sequence[ImportedRow], index: RequestIndex, task: str, out: Path, keyed: bool) -> Any:
    from eh_bench.evaluation.samples import SamplesFile, TaskSamples

    date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%S")
    samples = TaskSamples(task=task, file=SamplesFile(out / VERDICTS_FILE, task, date), benign=False)
    for r in rows:
        request = index.requests.get(r.request_id) if r.request_id is not None else None
        samples.doc_ids.append(r.row)
        # One sample per answer: a request answered several times (HarmBench test cases) counts each time.
        samples.ids.append(f"{request.id}@row{r.row}" if request else None)
        samples.duplicate_of.append(None)
        samples.prompts.append(request.prompt if request else "")
        samples.contexts.append(request.context if request else None)
        samples.costs.append(request.cost if request else None)
        samples.severities.append(request.severity if request else None)
        if keyed:
            samples.responses.append(f"{ROW_KEY}{r.row}")
        else:
            samples.responses.append(r.response)
    return samples


def score_rows(
    rows: Sequence[ImportedRow],
    index: RequestIndex,
    task: str,
    out: Path,
    judge: Judge,
    *,
    judge_backend: str | None = None,
    likelihood: str = "linear",
    seed: int = 0,
    n_boot: int = 1000,
    max_unscored: float | None = None,
    progress: bool = False,
) -> RunScore:
    """Score imported rows with :func:`~eh_bench.evaluation.scoring.score_run`.

    With a :class:`ReferenceJudge` every row is looked up by its key; with any other judge the rows'
    response texts are judged. Rows whose request is unknown or unlabelled are unscored
    (``missing_label``) and count against ``max_unscored`` like any unscored sample.
    """
    from eh_bench.evaluation.samples import RunSamples
    from eh_bench.evaluation.scoring import score_run

    keyed = isinstance(judge, ReferenceJudge)
    samples = _samples(rows, index, task, out, keyed)
    run = RunSamples(run_dir=out, tasks=[samples], results_path=None, results=None)
    return score_run(
        run, judge, judge_backend, likelihood, seed=seed, n_boot=n_boot, max_unscored=max_unscored,
        progress=progress,
    )  # fmt: skip


def _verdict_lines(rows: Sequence[ImportedRow], scored: RunScore, index: RequestIndex) -> str:
    score = scored.harmful_scores[0]
    reasons = _row_reasons(rows, score.success, index)
    lines = []
    for r, success, reason in zip(rows, score.success, reasons, strict=True):
        request = index.requests.get(r.request_id) if r.request_id is not None else None
        lines.append(json.dumps({
            "row": r.row, "request_id": r.request_id, "cost": request.cost if request else None,
            "severity": request.severity if request else None, "success": success, "unscored": reason,
            **r.extra,
        }, ensure_ascii=False, allow_nan=False))  # fmt: skip
    return "\n".join(lines) + ("\n" if lines else "")


def _row_reasons(rows: Sequence[ImportedRow], success: Sequence[float | None], index: RequestIndex) -> list[str | None]:
    out: list[str | None] = []
    for r, s in zip(rows, success, strict=True):
        if s is not None:
            out.append(None)
        elif r.unmatched is not None:
            out.append(UNMATCHED)
        elif r.request_id is not None and index.requests[r.request_id].cost is None:
            out.append("missing_label")
        elif r.response is None and r.verdict is None:
            out.append("no_response")
        else:
            out.append("unscored")
    return out


def save_import(
    rows: Sequence[ImportedRow],
    scored: RunScore,
    index: RequestIndex,
    spec: ImportTask,
    out: Path,
    *,
    plots: bool = True,
) -> tuple[dict[str, Any], Path]:
    """Write ``verdicts.jsonl`` and the report (``eh-bench score``'s writer) into ``out``.

    The report's ``dataset`` is the requests' record, ``model.source`` is ``import`` (``model.type`` the
    publisher's kind of model), ``sample`` says whether every request of the config was answered, and
    ``responses`` says where the responses came from, with the unmatched rows listed.
    """
    from eh_bench.atomic import write_text
    from eh_bench.report.document import save_report

    out.mkdir(parents=True, exist_ok=True)
    write_text(out / VERDICTS_FILE, _verdict_lines(rows, scored, index))
    unmatched = [{"row": r.row, "request": r.unmatched} for r in rows if r.unmatched is not None]
    responses = {
        **spec.responses,
        "rows": len(rows),
        "n_unmatched": len(unmatched),
        "unmatched": unmatched[:MAX_LISTED],
    }
    report, json_path, _ = save_report(
        scored, out, plots=plots, model_id=spec.model_id, model_revision=spec.model_revision,
        dataset_info=index.dataset, responses=responses,
        model_info={"source": "import", "type": spec.model_type}, sample=sample_design(rows, index),
    )  # fmt: skip
    return report, json_path


def sample_design(rows: Sequence[ImportedRow], index: RequestIndex) -> dict[str, Any]:
    """``full`` when the rows answer every request of the config, else ``subset`` (which ones: verdicts.jsonl)."""
    answered = {r.request_id for r in rows if r.request_id is not None}
    design = "full" if answered >= set(index.requests) else "subset"
    return {"design": design, "limit": None, "per_cost": None, "seed": None}
