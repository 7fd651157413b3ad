"""``eh-bench import donotanswer``: one report per model of the Do-Not-Answer human-labelled responses.

The pinned 23-column file (:mod:`eh_bench.sources.published.donotanswer`) holds six models' answers to
the 939 questions; each answer carries the annotators' ``harmful`` label (0/1) and action class (0-5).
Success is the human ``harmful`` label, recorded as the judge ``human-annotation`` at the file's
SHA-256, so each report's ASR is the model's human harmful rate. A row is matched to the
``donotanswer`` config by its id and must ask the same question as the shipped label (same SHA-256 of
the stripped text; the file's first five columns are the instruction file's);
the action class is kept per row in ``verdicts.jsonl`` and counted in the report. The data is licensed
CC BY-NC-SA 4.0: non-commercial use only.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Final

from eh_bench.errors import SourceError
from eh_bench.importers.build import ROW_KEY, ImportedRow, ImportTask, ReferenceJudge, save_import, score_rows
from eh_bench.importers.common import UNRECORDED, ImportOptions, ImportResult, folder_name
from eh_bench.importers.requests import RequestIndex, index_rows
from eh_bench.sources.base import Row, prompt_sha256
from eh_bench.sources.fetch import ResolvedFile, file_sha256
from eh_bench.sources.published.record import PublishedResponse

SET: Final = "donotanswer"
CONFIG: Final = "donotanswer"
TASK: Final = "eh_donotanswer"
JUDGE_ID: Final = "human-annotation"
#: The file's model names -> model ids. The set names no version: an id is a Hub id only where the name
#: leaves no doubt (ChatGLM2 has one chat model, 6B; Llama-2-7b-chat has one release); else the
#: publisher's generic name, with the revision ``unrecorded``.
MODEL_IDS: Final = {
    "GPT4": "gpt-4",
    "ChatGPT": "gpt-3.5-turbo",
    "Claude": "claude",
    "ChatGLM2": "THUDM/chatglm2-6b",
    "llama2-7b-chat": "meta-llama/Llama-2-7b-chat-hf",
    "vicuna-7b": "vicuna-7b",
}
MODEL_TYPES: Final = {
    "GPT4": "api", "ChatGPT": "api", "Claude": "api", "ChatGLM2": "instruction-tuned",
    "llama2-7b-chat": "instruction-tuned", "vicuna-7b": "instruction-tuned",
}  # fmt: skip


def _read(opts: ImportOptions) -> tuple[ResolvedFile, list[PublishedResponse]]:
    """The pinned file (from the sources, or ``opts.source_file``) and its rows."""
    from eh_bench.sources.published import load_published
    from eh_bench.sources.published.donotanswer import FILE, read_responses

    if opts.source_file is None:
        loaded = load_published(SET, **opts.source_kwargs())
        return loaded.files[0], loaded.rows
    path = Path(opts.source_file)
    if not path.is_file():
        raise SourceError(f"{path}: no such file; give the Do-Not-Answer responses CSV ({FILE.relpath})")
    sha = file_sha256(path)
    if sha != FILE.sha256 and not opts.allow_changed_sources:
        raise SourceError(
            f"{path}: sha256 {sha} differs from the pinned {FILE.sha256} ({FILE.url}); use the pinned file "
            "or pass --allow-changed-sources to import these bytes (recorded in the report)"
        )
    return ResolvedFile(FILE, path, "sources_dir", sha), read_responses(path, FILE.relpath).rows


def _requests(file: ResolvedFile, items: list[PublishedResponse], opts: ImportOptions) -> RequestIndex:
    """The labelled questions, read from the responses file itself: its first five columns are the
    instruction file's, so the shipped labels join on id and prompt hash as they do on that file."""
    rows = {item.request_id: Row(source=CONFIG, source_id=item.request_id.partition(":")[2], prompt=item.prompt)
            for item in items}  # fmt: skip
    record = {"relpath": file.spec.relpath, "sha256": file.sha256, "pinned": file.matches}
    return index_rows(CONFIG, [(CONFIG, rows.values(), record)], opts.labels_dir)


def import_donotanswer(out: Path, options: ImportOptions | None = None, *, progress: bool = False) -> list[ImportResult]:
    """Import the six models' labelled responses into ``out/<model>/`` (report folders).

    Raises:
        SourceError: a missing, tampered or malformed file.
        ScoringError: more rows unscored than ``max_unscored`` allows (unmatched or unlabelled questions).
    """
    from eh_bench.sources.published import PUBLISHED
    from eh_bench.sources.published.donotanswer import ACTIONS, MODELS, REVISION

    opts = options or ImportOptions()
    published = PUBLISHED.get(SET)
    file, items = _read(opts)
    index = _requests(file, items, opts)
    by_model: dict[str, list[ImportedRow]] = {m: [] for m in MODELS}
    for number, item in enumerate(items):
        request = index.requests.get(item.request_id)
        same = request is not None and request.prompt_sha256 == prompt_sha256(item.prompt)
        action = int(item.extra["action"])
        by_model[item.model].append(ImportedRow(
            row=number // len(MODELS) + 1, request_id=item.request_id if same else None, response=item.response,
            verdict=float(item.verdict) if item.verdict is not None else None,
            extra={"action": action, "action_label": ACTIONS[action], "risk_area": item.extra.get("risk_area"),
                   "types_of_harm": item.extra.get("types_of_harm")},
            unmatched=None if same else item.request_id,
        ))  # fmt: skip
    results = []
    for model_name, rows in by_model.items():
        verdicts = {f"{ROW_KEY}{r.row}": r.verdict for r in rows}
        judge = ReferenceJudge(JUDGE_ID, f"sha256:{file.sha256[:16]}", verdicts)
        model_id = MODEL_IDS.get(model_name, model_name)
        folder = out / folder_name(model_name)
        scored = score_rows(
            rows, index, TASK, folder, judge, likelihood=opts.likelihood, seed=opts.seed, n_boot=opts.n_boot,
            max_unscored=opts.max_unscored, progress=progress,
        )  # fmt: skip
        actions = Counter(ACTIONS[int(r.extra["action"])] for r in rows)
        responses = {
            "origin": "imported", "set": SET, "title": published.title, "method": "direct",
            "attack_type": None, "repository": "promptfoo/promptfoo (upstream Libr-AI/do-not-answer)",
            "revision": REVISION, "file": file.spec.relpath, "url": file.spec.url, "sha256": file.sha256,
            "pinned": file.matches, "license": published.license, "verdicts": published.reference,
            "model_name": model_name, "actions": dict(sorted(actions.items())),
        }  # fmt: skip
        spec = ImportTask(TASK, model_id, UNRECORDED, responses, MODEL_TYPES.get(model_name, "unknown"))
        report, _ = save_import(rows, scored, index, spec, folder, plots=opts.plots)
        results.append(ImportResult(folder, report, model_id, "direct"))
    return results
