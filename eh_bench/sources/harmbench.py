"""HarmBench text behaviours (Mazeika et al., 2024), pinned at the upstream commit.

``source_id`` is the ``BehaviorID``; ``category`` is the ``SemanticCategory``. Contextual behaviours keep
their ``ContextString`` in ``context`` and only the behaviour in ``prompt`` (the evaluation prompt joins
them as HarmBench does: context, a blank line, the request). Copyright behaviours (lyrics and book
passages, judged by hashing in HarmBench) are left out of the default configs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Final

from eh_bench.sources.base import Adapter, Row, SourceFile, iter_csv, require_text

NAME: Final = "harmbench"
REVISION: Final = "8e1604d1171fe8a48d8febecd22f600e462bdcdd"
FILE: Final = SourceFile(
    relpath="harmbench/harmbench_behaviors_text_all.csv",
    url=(
        "https://raw.githubusercontent.com/centerforaisafety/HarmBench/"
        f"{REVISION}/data/behavior_datasets/harmbench_behaviors_text_all.csv"
    ),
    revision=REVISION,
    sha256="8d81accedd38eaaf8b760618622bb888417d1fd0c86eba65c427a16f1cbb4afc",
    license="mit",
)
COLUMNS: Final = ("Behavior", "FunctionalCategory", "SemanticCategory", "Tags", "ContextString", "BehaviorID")
#: Functional categories kept in the default configs (``copyright`` is not).
DEFAULT_FUNCTIONAL: Final = ("standard", "contextual")
CITATION: Final = """@article{mazeika2024harmbench,
  title={HarmBench: A Standardized Evaluation Framework for Automated Red Teaming and Robust Refusal},
  author={Mazeika, Mantas and Phan, Long and Yin, Xuwang and Zou, Andy and Wang, Zifan and Mu, Norman and Sakhaee, Elham and Li, Nathaniel and Basart, Steven and Li, Bo and Forsyth, David and Hendrycks, Dan},
  journal={arXiv preprint arXiv:2402.04249},
  year={2024}
}"""


def parse(path: Path, functional: Collection[str] = DEFAULT_FUNCTIONAL) -> Iterator[Row]:
    """Rows of a HarmBench behaviours CSV whose ``FunctionalCategory`` is in ``functional``.

    Args:
        path: ``harmbench_behaviors_text_{all,val,test}.csv``.
        functional: functional categories to keep (add ``"copyright"`` to get those rows too).
    """
    for index, rec in iter_csv(path, COLUMNS, NAME):
        if rec["FunctionalCategory"].strip() not in functional:
            continue
        yield Row(
            source=NAME,
            source_id=require_text(rec["BehaviorID"], path, index, "BehaviorID"),
            prompt=require_text(rec["Behavior"], path, index, "Behavior"),
            category=rec["SemanticCategory"].strip() or None,
            context=rec["ContextString"],
        )


ADAPTER: Final = Adapter(
    name=NAME,
    file=FILE,
    parse=parse,
    title="HarmBench (text behaviours: standard + contextual)",
    homepage="https://github.com/centerforaisafety/HarmBench",
    license="mit",
    citation=CITATION,
    note="copyright behaviours are left out",
)
