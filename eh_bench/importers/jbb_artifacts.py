"""``eh-bench import jbb-artifacts``: one report per (attack, target model) of the JailbreakBench artifacts.

The 16 pinned artifact files (:mod:`eh_bench.sources.published.jbb_artifacts`: 4 attacks x 4 models,
100 JBB behaviours each) are matched to the ``jbb`` config on the JBB index, with the behaviour name
checked against JBB-Behaviors by the reader (never the goal text: five goals were reworded since). The
artifact's ``jailbroken`` field is the verdict, recorded as the judge ``jailbreakbench`` at the
artifacts' commit. A row with no response is an attack that found no jailbreak (PAIR): a failure with
success 0, as JailbreakBench counts it, so each report's ASR equals the file's published
``attack_success_rate``. Cost and severity come from the shipped ``jbb`` labels, so ASR by cost follows
from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from eh_bench.importers.build import ROW_KEY, ImportedRow, ImportTask, ReferenceJudge, save_import, score_rows
from eh_bench.importers.common import UNRECORDED, ImportOptions, ImportResult, folder_name, short_text
from eh_bench.importers.requests import labelled_requests

SET: Final = "jbb-artifacts"
CONFIG: Final = "jbb"
TASK: Final = "eh_jbb"
JUDGE_ID: Final = "jailbreakbench"
#: The artifacts' model names -> model ids: Hub ids for open weights, OpenAI's API names (dated snapshots).
MODEL_IDS: Final = {
    "gpt-3.5-turbo-1106": "gpt-3.5-turbo-1106",
    "gpt-4-0125-preview": "gpt-4-0125-preview",
    "llama-2-7b-chat-hf": "meta-llama/Llama-2-7b-chat-hf",
    "vicuna-13b-v1.5": "lmsys/vicuna-13b-v1.5",
}
MODEL_TYPES: Final = {
    "gpt-3.5-turbo-1106": "api", "gpt-4-0125-preview": "api",
    "llama-2-7b-chat-hf": "instruction-tuned", "vicuna-13b-v1.5": "instruction-tuned",
}  # fmt: skip
#: Per-row fields of an artifact kept in verdicts.jsonl (counts and flags; no text).
ROW_FIELDS: Final = (
    "category", "number_of_queries", "queries_to_jailbreak", "prompt_tokens", "response_tokens",
    "jailbroken_llama_guard1",
)  # fmt: skip
#: Parameters of an artifact recorded in the report besides ``method_parameters``.
PARAMETER_FIELDS: Final = (
    "method", "attack_type", "defense", "attack_success_rate", "total_number_of_jailbreaks",
    "number_of_submitted_prompts", "total_number_of_queries", "total_prompt_tokens", "total_response_tokens",
    "evaluation_date", "evaluation_llm_provider",
)  # fmt: skip


def _row_extra(extra: Any, no_response: bool) -> dict[str, Any]:
    kept = {name: extra.get(name) for name in ROW_FIELDS}
    kept["no_jailbreak_found"] = no_response
    return kept


def import_jbb_artifacts(out: Path, options: ImportOptions | None = None, *, progress: bool = False) -> list[ImportResult]:
    """Import every pinned artifact file into ``out/<method>/<model>/`` (report folders).

    Raises:
        SourceError: a missing, tampered or malformed artifact, or a behaviour that is not JBB's.
        ScoringError: more rows unscored than ``max_unscored`` allows (unlabelled behaviours).
    """
    from eh_bench.sources.published import load_published
    from eh_bench.sources.published.jbb_artifacts import REPO, REVISION

    opts = options or ImportOptions()
    loaded = load_published(SET, **opts.source_kwargs())
    index = labelled_requests(CONFIG, labels_dir=opts.labels_dir, **opts.source_kwargs())
    results = []
    for file, part in zip(loaded.files, loaded.parts, strict=True):
        params = dict(part.parameters)
        model_name, method = str(params["model"]), str(params["method"])
        rows, verdicts = [], {}
        for number, item in enumerate(part.rows, start=1):
            known = item.request_id in index.requests
            rows.append(ImportedRow(
                row=number, request_id=item.request_id if known else None, response=item.response,
                verdict=float(item.verdict) if item.verdict is not None else None,
                extra=_row_extra(item.extra, item.response is None),
                unmatched=None if known else item.request_id,
            ))  # fmt: skip
            verdicts[f"{ROW_KEY}{number}"] = rows[-1].verdict
        judge = ReferenceJudge(JUDGE_ID, f"artifacts@{REVISION[:12]}", verdicts)
        folder = out / folder_name(file.spec.relpath.split("/")[-3]) / folder_name(model_name)
        scored = score_rows(
            rows, index, TASK, folder, judge, likelihood=opts.likelihood, seed=opts.seed, n_boot=opts.n_boot,
            max_unscored=opts.max_unscored, progress=progress,
        )  # fmt: skip
        responses = {
            "origin": "imported", "set": SET, "title": loaded.set.title, "method": method,
            "attack_type": params.get("attack_type"), "repository": REPO, "revision": REVISION,
            "file": file.spec.relpath, "url": file.spec.url, "sha256": file.sha256, "pinned": file.matches,
            "license": loaded.set.license, "verdicts": loaded.set.reference,
            "parameters": short_text({k: params.get(k) for k in PARAMETER_FIELDS}),
            "method_parameters": short_text(params.get("method_parameters") or {}),
            "no_jailbreak_found": sum(1 for r in rows if r.extra["no_jailbreak_found"]),
        }  # fmt: skip
        spec = ImportTask(
            task=TASK, model_id=MODEL_IDS.get(model_name, model_name), model_revision=UNRECORDED,
            responses=responses, model_type=MODEL_TYPES.get(model_name, "unknown"),
        )  # fmt: skip
        report, _ = save_import(rows, scored, index, spec, folder, plots=opts.plots)
        published = params.get("attack_success_rate")
        results.append(ImportResult(
            folder, report, spec.model_id, method,
            float(published) if isinstance(published, (int, float)) and not isinstance(published, bool) else None,
        ))  # fmt: skip
    return results
