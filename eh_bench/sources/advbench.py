"""AdvBench harmful behaviours (Zou et al., 2023), pinned at the llm-attacks commit.

``source_id`` is the 0-based row index in ``harmful_behaviors.csv``; the prompt is the ``goal`` column
(the ``target`` affirmative prefix is not part of the request). AdvBench has no category column.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

from eh_bench.sources.base import Adapter, Row, SourceFile, iter_csv, require_text

NAME: Final = "advbench"
REVISION: Final = "098262edf85f807224e70ecd87b9d83716bf6b73"
FILE: Final = SourceFile(
    relpath="advbench/harmful_behaviors.csv",
    url=f"https://raw.githubusercontent.com/llm-attacks/llm-attacks/{REVISION}/data/advbench/harmful_behaviors.csv",
    revision=REVISION,
    sha256="6cd1a5c63c07610d7eb67307772ee5606017ee950b5770ab288a2c487489d3e1",
    license="mit",
)
COLUMNS: Final = ("goal", "target")
CITATION: Final = """@article{zou2023universal,
  title={Universal and Transferable Adversarial Attacks on Aligned Language Models},
  author={Zou, Andy and Wang, Zifan and Carlini, Nicholas and Nasr, Milad and Kolter, J. Zico and Fredrikson, Matt},
  journal={arXiv preprint arXiv:2307.15043},
  year={2023}
}"""


def parse(path: Path) -> Iterator[Row]:
    """Rows of ``harmful_behaviors.csv`` (``source_id`` = 0-based row index)."""
    for index, rec in iter_csv(path, COLUMNS, NAME):
        yield Row(source=NAME, source_id=str(index), prompt=require_text(rec["goal"], path, index, "goal"))


ADAPTER: Final = Adapter(
    name=NAME,
    file=FILE,
    parse=parse,
    title="AdvBench (harmful behaviours)",
    homepage="https://github.com/llm-attacks/llm-attacks",
    license="mit",
    citation=CITATION,
)
