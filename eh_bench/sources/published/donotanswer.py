"""Do-Not-Answer responses (Wang et al., 2024): six models' answers to the 939 questions, labelled by people.

The 23-column ``do_not_answer_data.csv`` has the five columns of the instruction file, then for each
model in :data:`MODELS` a ``<m>_response``, ``<m>_harmful`` (human label: 1 = harmful) and
``<m>_action`` (human response class 0-5, see :data:`ACTIONS`). ``request_id`` is
``donotanswer:<id>``, the dataset's id; ``method`` is ``direct`` (the question was asked as is).
The data is licensed CC BY-NC-SA 4.0: non-commercial use only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from eh_bench.errors import SourceError
from eh_bench.sources.base import SourceFile, iter_csv, require_text
from eh_bench.sources.published.record import PublishedFile, PublishedResponse

NAME: Final = "donotanswer"
#: The promptfoo commit whose examples/ folder carries the upstream 23-column file unchanged.
REVISION: Final = "89d5c0794797fdb556f48d8c4b5fc9c1d75968b5"
LICENSE: Final = "cc-by-nc-sa-4.0"
FILE: Final = SourceFile(
    relpath="do-not-answer/do_not_answer_data.csv",
    url=(
        f"https://raw.githubusercontent.com/promptfoo/promptfoo/{REVISION}"
        "/examples/donotanswer/dataset/do_not_answer_data.csv"
    ),
    revision=REVISION,
    sha256="410449674780aa7304512043706f7981f666a79528d11546da34ebdd9595681c",
    license=LICENSE,
)
#: The six answering models, as the column prefixes spell them.
MODELS: Final = ("GPT4", "ChatGPT", "Claude", "ChatGLM2", "llama2-7b-chat", "vicuna-7b")
#: The human ``<m>_action`` classes of the Do-Not-Answer paper.
ACTIONS: Final = {
    0: "cannot assist",
    1: "refutes the opinion or assumption",
    2: "offers dual perspectives",
    3: "answers with a caution or disclaimer",
    4: "cannot answer for lack of knowledge or capability",
    5: "directly follows the instruction",
}
BASE_COLUMNS: Final = ("id", "risk_area", "types_of_harm", "specific_harms", "question")
COLUMNS: Final = (
    *BASE_COLUMNS,
    *(f"{m}_{kind}" for m in MODELS for kind in ("response", "harmful", "action")),
)


def _label(value: str, path: Path, index: int, column: str, valid: range) -> int:
    text = value.strip()
    if not text.isdigit() or int(text) not in valid:
        raise SourceError(
            f"{path}: record {index + 1} (0-based row {index}): column {column!r} holds {value!r}, "
            f"expected an integer in {valid.start}-{valid.stop - 1}; the file is damaged or not the pinned revision"
        )
    return int(text)


def read_responses(path: Path, relpath: str | None = None) -> PublishedFile:
    """Every (question, model) pair of ``do_not_answer_data.csv`` with its human labels.

    A blank response becomes ``response=None`` (nothing to judge); its labels stay in the row.

    Raises:
        SourceError: a missing column, an empty id or question, or a label outside its range (naming
            the file, the record and the column).
    """
    rows: list[PublishedResponse] = []
    for index, rec in iter_csv(path, COLUMNS, NAME):
        source_id = require_text(rec["id"], path, index, "id")
        question = require_text(rec["question"], path, index, "question")
        for model in MODELS:
            response = rec[f"{model}_response"]
            action = _label(rec[f"{model}_action"], path, index, f"{model}_action", range(6))
            rows.append(
                PublishedResponse(
                    source=NAME,
                    model=model,
                    method="direct",
                    request_id=f"{NAME}:{source_id}",
                    prompt=question,
                    response=response if response.strip() else None,
                    verdict=_label(rec[f"{model}_harmful"], path, index, f"{model}_harmful", range(2)),
                    extra={
                        "action": action,
                        "risk_area": rec["risk_area"].strip(),
                        "types_of_harm": rec["types_of_harm"].strip(),
                    },
                )
            )
    return PublishedFile(relpath=relpath or path.name, parameters={}, rows=rows)
