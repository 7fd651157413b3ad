"""GPTFuzz labelled responses (Yu et al., 2023): 6,160 responses to jailbreak templates, labelled by hand.

``responses_labeled/train.csv`` of sherdencooper/GPTFuzz (pinned at one commit) has ``question``,
``Response`` and ``label`` (1 = the response complies with the harmful question). The file names
neither the answering model (Vicuna-7B, ChatGPT or Llama-2-7B-chat) nor the template, so ``model`` is
:data:`UNKNOWN_MODEL`, and it has no question ids: ``request_id`` is ``gptfuzz:<prompt_sha256>``.
A few bytes are not valid UTF-8; they are read as U+FFFD. The authors note that some labels are wrong.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Final

from eh_bench.errors import SourceError
from eh_bench.sources.base import SourceFile, prompt_sha256
from eh_bench.sources.published.record import PublishedFile, PublishedResponse

NAME: Final = "gptfuzz"
REPO: Final = "sherdencooper/GPTFuzz"
REVISION: Final = "1eddeb565740ae311b5f4950492b011a6f866fe7"
LICENSE: Final = "mit"
FILE: Final = SourceFile(
    relpath="gptfuzz/responses_labeled_train.csv",
    url=f"https://raw.githubusercontent.com/{REPO}/{REVISION}/datasets/responses_labeled/train.csv",
    revision=REVISION,
    sha256="e25fe2a06d2085af260927164364524628c8b5c1dd1bab1b58ddbd917c3f7cb0",
    license=LICENSE,
)
COLUMNS: Final = ("question", "Response", "label")
UNKNOWN_MODEL: Final = "unknown"
METHOD: Final = "gptfuzz-templates"


def _fail(path: Path, index: int, column: str, problem: str) -> SourceError:
    return SourceError(
        f"{path}: record {index + 1} (0-based row {index}): column {column!r} {problem}; "
        f"the file is damaged or not the pinned revision ({REPO} @ {REVISION})"
    )


def read_responses(path: Path, relpath: str | None = None) -> PublishedFile:
    """Every labelled response of the GPTFuzz training file.

    Raises:
        SourceError: a missing column, an empty question or a label other than 0/1 (naming the file,
            the record and the column).
    """
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 24))
    rows: list[PublishedResponse] = []
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise SourceError(
                f"{path}:1: GPTFuzz file lacks column(s) {', '.join(missing)} (header: {', '.join(header)}); "
                f"expected the pinned {REPO} @ {REVISION} datasets/responses_labeled/train.csv"
            )
        for index, rec in enumerate(reader):
            question = (rec.get("question") or "").strip()
            if not question:
                raise _fail(path, index, "question", "is empty")
            label = (rec.get("label") or "").strip()
            if label not in ("0", "1"):
                raise _fail(path, index, "label", f"holds {label!r}, expected 0 or 1")
            response = rec.get("Response") or ""
            rows.append(
                PublishedResponse(
                    source=NAME,
                    model=UNKNOWN_MODEL,
                    method=METHOD,
                    request_id=f"{NAME}:{prompt_sha256(question)}",
                    prompt=question,
                    response=response if response.strip() else None,
                    verdict=int(label),
                    extra={"row": index},
                )
            )
    return PublishedFile(relpath=relpath or path.name, parameters={}, rows=rows)
