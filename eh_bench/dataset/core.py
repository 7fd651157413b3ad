"""The project's own prompt set (``eh_bench/data/core.jsonl``, ``core_benign.jsonl``) as canonical rows.

Each line is one JSON object with ``source_id``, ``prompt``, the six levels, ``harm_category`` and
``rationale``. These rows need no benchmark file, so the offline demo can run on them alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from eh_bench.dataset.labels import apply_label
from eh_bench.errors import InputError
from eh_bench.rubric import validate_label
from eh_bench.sources.base import Row

#: The packaged data folder.
DATA_DIR: Final = Path(__file__).resolve().parent.parent / "data"
CORE: Final = "core"
CORE_BENIGN: Final = "core_benign"
#: Annotator recorded on the project's own rows.
CORE_ANNOTATOR: Final = "eh-bench authors (llm-assisted)"
CORE_LICENSE: Final = "mit"
_REQUIRED: Final = ("source_id", "prompt")


def core_path(benign: bool = False, data_dir: Path | str | None = None) -> Path:
    """Path of ``core.jsonl`` (or ``core_benign.jsonl``) in ``data_dir`` (default: the packaged folder)."""
    name = CORE_BENIGN if benign else CORE
    return Path(data_dir if data_dir is not None else DATA_DIR) / f"{name}.jsonl"


def read_core(benign: bool = False, data_dir: Path | str | None = None) -> list[Row]:
    """Labelled canonical rows of the project's prompt set (source ``core`` or ``core_benign``).

    Raises:
        InputError: the file is missing, a line is not JSON, or ``source_id``/``prompt`` is missing or repeated.
        LabelError: a level or harm category is invalid (naming ``file:line``).
    """
    path = core_path(benign, data_dir)
    source = CORE_BENIGN if benign else CORE
    if not path.is_file():
        raise InputError(f"{path}: the project's prompt set is missing; reinstall eh-bench or restore the file")
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{where}: expected a JSON object")
        for key in _REQUIRED:
            if not str(obj.get(key) or "").strip():
                raise InputError(f"{where}:{key}: missing or empty")
        source_id = str(obj["source_id"]).strip()
        if source_id in seen:
            raise InputError(f"{where}:source_id: {source_id!r} repeats line {seen[source_id]}")
        seen[source_id] = lineno
        label = validate_label(obj, where=where)
        unlabelled = Row(
            source=source, source_id=source_id, prompt=str(obj["prompt"]), category=None,
            context=str(obj.get("context") or ""),
        )
        rows.append(apply_label(unlabelled, label, CORE_ANNOTATOR))
    return rows
