"""StrongREJECT forbidden prompts (Souly et al., 2024), pinned at the upstream commit.

``source_id`` is the 0-based row index; ``category`` is the ``category`` column.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

from eh_bench.sources.base import Adapter, Row, SourceFile, iter_csv, require_text

NAME: Final = "strongreject"
REVISION: Final = "f7cad6c17e624e21d8df2278e918ae1dddb4cb56"
FILE: Final = SourceFile(
    relpath="strongreject/strongreject_dataset.csv",
    url=(
        f"https://raw.githubusercontent.com/alexandrasouly/strongreject/{REVISION}"
        "/strongreject_dataset/strongreject_dataset.csv"
    ),
    revision=REVISION,
    sha256="4dd70357e4ff8b5d0ba5ebafecab5d6dd5633ce8046e3dd1c8bd93e64de44381",
    license="mit",
)
COLUMNS: Final = ("category", "source", "forbidden_prompt")
CITATION: Final = """@article{souly2024strongreject,
  title={A StrongREJECT for Empty Jailbreaks},
  author={Souly, Alexandra and Lu, Qingyuan and Bowen, Dillon and Trinh, Tu and Hsieh, Elvis and Pandey, Sana and Abbeel, Pieter and Svegliato, Justin and Emmons, Scott and Watkins, Olivia and Toyer, Sam},
  journal={arXiv preprint arXiv:2402.10260},
  year={2024}
}"""


def parse(path: Path) -> Iterator[Row]:
    """Rows of ``strongreject_dataset.csv`` (``source_id`` = 0-based row index)."""
    for index, rec in iter_csv(path, COLUMNS, NAME):
        yield Row(
            source=NAME,
            source_id=str(index),
            prompt=require_text(rec["forbidden_prompt"], path, index, "forbidden_prompt"),
            category=rec["category"].strip() or None,
        )


ADAPTER: Final = Adapter(
    name=NAME,
    file=FILE,
    parse=parse,
    title="StrongREJECT",
    homepage="https://github.com/alexandrasouly/strongreject",
    license="mit",
    citation=CITATION,
)
