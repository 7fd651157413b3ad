"""Do-Not-Answer (Wang et al., 2024) English instructions, pinned at the upstream commit.

``source_id`` is the ``id`` column; ``category`` is ``types_of_harm`` (the middle level of its
three-level taxonomy). The data is licensed CC BY-NC-SA 4.0: non-commercial use only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

from eh_bench.sources.base import Adapter, Row, SourceFile, iter_csv, require_text

NAME: Final = "donotanswer"
REVISION: Final = "460703484df354958a5e1cd7378a38fcb94a2f3e"
LICENSE: Final = "cc-by-nc-sa-4.0"
FILE: Final = SourceFile(
    relpath="do-not-answer/do_not_answer_en.csv",
    url=(
        f"https://raw.githubusercontent.com/Libr-AI/do-not-answer/{REVISION}"
        "/datasets/Instruction/do_not_answer_en.csv"
    ),
    revision=REVISION,
    sha256="06acfa39a06a1b33d1f264ce41b4f7a95812010c594fb733ae4717ee0a4544fc",
    license=LICENSE,
)
COLUMNS: Final = ("id", "risk_area", "types_of_harm", "specific_harms", "question")
CITATION: Final = """@inproceedings{wang2024donotanswer,
  title={Do-Not-Answer: Evaluating Safeguards in LLMs},
  author={Wang, Yuxia and Li, Haonan and Han, Xudong and Nakov, Preslav and Baldwin, Timothy},
  booktitle={Findings of the Association for Computational Linguistics: EACL 2024},
  pages={896--911},
  year={2024}
}"""


def parse(path: Path) -> Iterator[Row]:
    """Rows of ``do_not_answer_en.csv`` (``source_id`` = ``id``)."""
    for index, rec in iter_csv(path, COLUMNS, NAME):
        yield Row(
            source=NAME,
            source_id=require_text(rec["id"], path, index, "id"),
            prompt=require_text(rec["question"], path, index, "question"),
            category=rec["types_of_harm"].strip() or None,
        )


ADAPTER: Final = Adapter(
    name=NAME,
    file=FILE,
    parse=parse,
    title="Do-Not-Answer (English)",
    homepage="https://github.com/Libr-AI/do-not-answer",
    license=LICENSE,
    citation=CITATION,
    note="non-commercial licence (CC BY-NC-SA 4.0)",
)
