"""Find and stream lm-eval's per-sample logs (``samples_<task>_<date>.jsonl``) under a run folder.

lm-eval writes ``<output_path>/<model_name_sanitized>/samples_<task>_<date>.jsonl`` (one line per
document and filter) and ``results_<date>.json`` beside them, with the same ``<date>``. This is the hot
path of ``eh-bench score``: a line is read by decoding only the ``doc`` object and the
``filtered_resps`` list (lm-eval writes its keys in a fixed order with ``json.dumps`` defaults), which
skips the echoed prompt and the duplicated raw response; any line that does not fit that shape, or
repeats a key the fast path reads, is decoded whole with duplicate keys refused
(:data:`eh_bench.jsonio.NO_DUPLICATES_DECODER`), so the fast path never changes what is read. A
document logged twice in one file is refused too: it would be counted twice.

:func:`read_run` reads a whole run into per-task columns (:class:`TaskSamples`): only the document
fields scoring needs (:data:`DOC_FIELDS`) and the response are kept.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from eh_bench.errors import InputError
from eh_bench.evaluation.catalog import BENIGN_METRICS, BENIGN_TASKS, config_for_task, first_response
from eh_bench.jsonio import NO_DUPLICATES_DECODER, StrictJSONError
from eh_bench.rubric import parse_level

SAMPLES_GLOB: Final = "samples_*.jsonl"
#: ``samples_<task>_<date>.jsonl``; lm-eval's date is ``datetime.isoformat()`` with ':' -> '-'.
SAMPLES_RE: Final = re.compile(
    r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)\.jsonl$"
)
RESULTS_RE: Final = re.compile(r"^results_(?P<date>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)\.json$")
#: lm-eval's filter name for a task without ``filter_list``.
DEFAULT_FILTER: Final = "none"

_LINE_START: Final = '{"doc_id": '
_DOC_KEY: Final = '"doc": '
_RESPS_KEY: Final = '"filtered_resps": '
_FILTER_KEY: Final = '"filter": '
_AFTER_DOC: Final = ', "target": '
#: The top-level keys the fast path reads: any of them outside its place is a duplicate.
_TOP_KEYS: Final = re.compile(r'"(?:doc_id|doc|filtered_resps|filter)": ')
_decode = NO_DUPLICATES_DECODER.raw_decode
#: The dataset columns scoring reads from each logged document.
DOC_FIELDS: Final = ("id", "prompt", "context", "cost", "severity", "duplicate_of")


@dataclass(frozen=True)
class SamplesFile:
    """One ``samples_*.jsonl`` file and what its name says."""

    path: Path
    task: str
    date: str


@dataclass(frozen=True)
class Sample:
    """One logged document: its id, the dataset row and the (filtered) response (None if absent)."""

    doc_id: int
    doc: dict[str, Any]
    response: str | None
    filter: str


def parse_samples_name(path: Path) -> SamplesFile | None:
    """Task and date from a samples file name, or None when the name is not lm-eval's.

    >>> parse_samples_name(Path("samples_eh_core_2026-01-21T03-44-18.458309.jsonl")).task
    'eh_core'
    """
    match = SAMPLES_RE.match(path.name)
    return SamplesFile(path, match["task"], match["date"]) if match else None


def find_samples(run_dir: Path) -> list[SamplesFile]:
    """The samples files to score under ``run_dir`` (searched recursively), sorted by task.

    When a task was logged several times in one folder, the latest file wins. A task logged in two
    different folders (two models or two runs) is ambiguous and refused.

    Args:
        run_dir: an lm-eval ``--output_path`` folder, a model sub-folder, or one samples file.

    Raises:
        InputError: ``run_dir`` does not exist, holds no samples file, or holds one task twice.
    """
    if run_dir.is_file():
        found = parse_samples_name(run_dir)
        if found is None:
            raise InputError(f"{run_dir}: not an lm-eval samples file (samples_<task>_<date>.jsonl)")
        return [found]
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such folder; pass the --output_path folder of an lm-eval run")
    latest: dict[str, SamplesFile] = {}
    for path in sorted(run_dir.rglob(SAMPLES_GLOB)):
        found = parse_samples_name(path)
        if found is None:
            continue
        seen = latest.get(found.task)
        if seen is None:
            latest[found.task] = found
        elif seen.path.parent != found.path.parent:
            raise InputError(
                f"{run_dir}: task {found.task!r} has samples in two folders ({seen.path.parent} and "
                f"{found.path.parent}); pass the folder of one model's run"
            )
        elif found.date > seen.date:
            latest[found.task] = found
    if not latest:
        raise InputError(
            f"{run_dir}: no samples_*.jsonl found; run lm-eval with --log_samples --output_path {run_dir}"
        )
    return [latest[task] for task in sorted(latest)]


def find_results(samples: list[SamplesFile]) -> Path | None:
    """lm-eval's ``results_<date>.json`` beside the samples (same date first, else the newest), if any."""
    candidates: list[tuple[str, Path]] = []
    wanted = {s.date for s in samples}
    for folder in sorted({s.path.parent for s in samples}):
        for path in folder.glob("results_*.json"):
            match = RESULTS_RE.match(path.name)
            if match:
                candidates.append((match["date"], path))
    if not candidates:
        return None
    exact = [c for c in candidates if c[0] in wanted]
    return max(exact or candidates)[1]


def load_results(path: Path | None) -> dict[str, Any] | None:
    """The parsed results file, or None for no path. Raises InputError when it is not a JSON object."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply to read; delete it or re-run lm-eval") from None
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{path}: unreadable lm-eval results file ({exc}); delete it or re-run lm-eval"
        ) from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object (an lm-eval results file)")
    return data


def _fast(line: str, fields: tuple[str, ...] | None = None) -> tuple[int, dict[str, Any], Any, str] | None:
    """Decode doc_id, doc (or only its ``fields``), filtered_resps and filter; None if the shape differs.

    The line must be lm-eval's: ``doc_id``, ``doc``, ``target``, ..., ``filtered_resps``, ``filter``, ...
    The doc is decoded with duplicate keys refused; the rest of the line is only searched (a quote
    inside a JSON string is always escaped, so ``"<key>": `` there is a key): any of the keys this
    reads found again outside its place is a duplicate, and the line goes to the strict decoder of
    :func:`_slow`, which refuses it. So this path never reads a value ``json.loads`` would not.
    """
    if not line.startswith(_LINE_START):
        return None
    comma = line.find(",", len(_LINE_START))
    if comma < 0 or line[comma : comma + 2 + len(_DOC_KEY)] != f", {_DOC_KEY}":
        return None
    try:
        doc_id = int(line[len(_LINE_START) : comma])
        doc, doc_end = _decode(line, comma + 2 + len(_DOC_KEY))
        if not isinstance(doc, dict) or not line.startswith(_AFTER_DOC, doc_end):
            return None
        if fields is not None:
            doc = {k: doc[k] for k in fields if k in doc}
        key = _TOP_KEYS.search(line, doc_end)  # the first is filtered_resps, unless a key is repeated
        if key is None or key[0] != _RESPS_KEY:
            return None
        resps, end = _decode(line, key.end())
        if line[end : end + 2 + len(_FILTER_KEY)] != f", {_FILTER_KEY}":
            return None
        filt, tail = _decode(line, end + 2 + len(_FILTER_KEY))
        if _TOP_KEYS.search(line, tail):
            return None
    except (ValueError, IndexError):
        return None
    if not isinstance(filt, str):
        return None
    return doc_id, doc, resps, filt


def _slow(line: str, where: str) -> tuple[int, dict[str, Any], Any, str]:
    try:
        obj = NO_DUPLICATES_DECODER.decode(line)
    except StrictJSONError as exc:
        raise InputError(
            f"{where}: {exc}; json would keep the last value silently - the samples file was edited or "
            "damaged, re-run lm-eval"
        ) from None
    except ValueError as exc:
        raise InputError(
            f"{where}: not valid JSON ({exc}); the samples file is damaged, re-run lm-eval"
        ) from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply to read; the samples file is damaged") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("doc"), dict):
        raise InputError(
            f"{where}: not an lm-eval sample (needs a 'doc' object); is this a samples_*.jsonl file?"
        )
    doc_id = obj.get("doc_id")
    if isinstance(doc_id, bool) or not isinstance(doc_id, int):
        raise InputError(f"{where}: doc_id is {doc_id!r}, expected an integer")
    return (
        doc_id,
        obj["doc"],
        obj.get("filtered_resps", obj.get("resps")),
        str(obj.get("filter", DEFAULT_FILTER)),
    )


def iter_records(
    path: Path, filter_name: str | None = None, fields: tuple[str, ...] | None = None
) -> Iterator[tuple[int, dict[str, Any], str | None, str]]:
    """Stream ``(doc_id, doc, response, filter)`` of one file, one per document (the fast form of :func:`iter_samples`).

    Args:
        path: a ``samples_*.jsonl`` file.
        filter_name: the filter pipeline to read; default: the first one in the file (lm-eval logs
            one line per document and filter, pipeline after pipeline; without a ``filter_list`` the
            only one is ``"none"``).
        fields: when given, the yielded doc holds only these keys (those present), which is faster
            to read than the whole row.

    Raises:
        InputError: a line that is not UTF-8, not JSON (or has a duplicate key), not an lm-eval sample,
            or repeats a document already read (each is counted once); the message names file and line.
    """
    wanted = filter_name
    fast = _fast
    seen: dict[int, int] = {}
    try:
        with path.open(encoding="utf-8") as handle:
            for lineno, line in enumerate(handle, start=1):
                parsed = fast(line, fields)
                if parsed is None:
                    if not line.strip():
                        continue
                    parsed = _slow(line, f"{path}:{lineno}")
                    if fields is not None:
                        doc = parsed[1]
                        parsed = (parsed[0], {k: doc[k] for k in fields if k in doc}, parsed[2], parsed[3])
                if parsed[3] != wanted:
                    if wanted is not None:
                        continue
                    wanted = parsed[3]
                first = seen.setdefault(parsed[0], lineno)
                if first != lineno:
                    raise InputError(
                        f"{path}:{lineno}: doc_id {parsed[0]} again (first at line {first}); a document "
                        "counted twice would inflate n and narrow every interval - the file was joined or "
                        "edited: re-run lm-eval, or remove the repeated lines"
                    )
                yield parsed[0], parsed[1], first_response(parsed[2]), wanted
    except UnicodeDecodeError:
        raise InputError(f"{path}:{_bad_utf8_line(path)}: not UTF-8 text; the samples file is damaged") from None


def _bad_utf8_line(path: Path) -> int:
    """The number of the first line of ``path`` that is not UTF-8 (the decoder reads ahead in blocks)."""
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return lineno
    return 0


def iter_samples(path: Path, filter_name: str | None = None) -> Iterator[Sample]:
    """Stream the samples of one file as :class:`Sample` records (see :func:`iter_records`)."""
    for doc_id, doc, response, filt in iter_records(path, filter_name):
        yield Sample(doc_id, doc, response, filt)


# ----------------------------------------------------------------------------- a run as columns


@dataclass
class TaskSamples:
    """One task's samples as columns (documents are not kept: only what scoring needs)."""

    task: str
    file: SamplesFile
    benign: bool
    doc_ids: list[int] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)
    duplicate_of: list[str | None] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    contexts: list[str | None] = field(default_factory=list)
    responses: list[str | None] = field(default_factory=list)
    costs: list[int | None] = field(default_factory=list)
    severities: list[int | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.doc_ids)

    def without_texts(self) -> TaskSamples:
        """A copy without prompts, contexts and responses (what is left once the samples are judged)."""
        return dataclasses.replace(self, prompts=[], contexts=[], responses=[])

    @property
    def config(self) -> str:
        """The dataset config of the task (``eh_core`` -> ``core``); the task name for other tasks."""
        return config_for_task(self.task) or self.task


@dataclass(frozen=True)
class RunFiles:
    """The samples files of one run, whether each task is benign, and lm-eval's results file."""

    run_dir: Path
    files: list[SamplesFile]
    benign: list[bool]
    results_path: Path | None
    results: dict[str, Any] | None

    @property
    def n_bytes(self) -> int:
        """Total size of the samples files."""
        return sum(f.path.stat().st_size for f in self.files)


@dataclass
class RunSamples:
    """Every task of one run, plus lm-eval's results file when there is one."""

    run_dir: Path
    tasks: list[TaskSamples]
    results_path: Path | None
    results: dict[str, Any] | None

    @property
    def n_samples(self) -> int:
        return sum(len(t) for t in self.tasks)


def _is_benign(task: str, metrics: Iterable[str] | None = None) -> bool:
    return task in BENIGN_TASKS or any(m in BENIGN_METRICS for m in metrics or ())


def _results_metrics(results: Mapping[str, Any] | None, task: str) -> list[str]:
    """The metric names lm-eval's results file lists for ``task`` (none without a results file)."""
    cfg = ((results or {}).get("configs") or {}).get(task) or {}
    return [str(m.get("metric")) for m in cfg.get("metric_list") or [] if isinstance(m, Mapping)]


def read_task(file: SamplesFile, benign: bool | None = None) -> TaskSamples:
    """Read one samples file into :class:`TaskSamples` (streaming; documents are dropped after reading).

    Args:
        file: the samples file.
        benign: whether the task measures over-refusal; default: from the task name alone.
    """
    out = TaskSamples(task=file.task, file=file, benign=_is_benign(file.task) if benign is None else benign)
    doc_ids, ids, dups, prompts, contexts = out.doc_ids, out.ids, out.duplicate_of, out.prompts, out.contexts
    responses, costs, severities = out.responses, out.costs, out.severities
    for doc_id, doc, response, _ in iter_records(file.path, fields=DOC_FIELDS):
        doc_ids.append(doc_id)
        row_id = doc.get("id")
        ids.append(row_id if isinstance(row_id, str) else None)
        dup = doc.get("duplicate_of")
        dups.append(dup if isinstance(dup, str) and dup else None)
        prompt = doc.get("prompt")
        prompts.append(prompt if isinstance(prompt, str) else "" if prompt is None else str(prompt))
        context = doc.get("context")
        contexts.append(context if isinstance(context, str) and context else None)
        responses.append(response)
        costs.append(parse_level(doc.get("cost")))
        severities.append(parse_level(doc.get("severity")))
    return out


def find_run(run_dir: Path) -> RunFiles:
    """Find a run's samples files and results file without reading the samples (see :func:`find_samples`).

    A task is benign when its name is a benign task's or the results file lists a benign metric for it.
    """
    files = find_samples(run_dir)
    results_path = find_results(files)
    results = load_results(results_path)
    benign = [_is_benign(f.task, _results_metrics(results, f.task)) for f in files]
    return RunFiles(run_dir=run_dir, files=files, benign=benign, results_path=results_path, results=results)


def read_run(run_dir: Path) -> RunSamples:
    """Find and read every task's samples under ``run_dir`` (see :func:`find_run`)."""
    found = find_run(run_dir)
    tasks = [read_task(f, b) for f, b in zip(found.files, found.benign, strict=True)]
    return RunSamples(run_dir=run_dir, tasks=tasks, results_path=found.results_path, results=found.results)
