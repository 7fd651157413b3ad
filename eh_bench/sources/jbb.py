"""JailbreakBench JBB-Behaviors (Chao et al., 2024): the harmful set and its topic-matched benign set.

Both files come from the Hub dataset ``JailbreakBench/JBB-Behaviors`` at a pinned revision.
``source_id`` is the ``Index`` column; ``category`` is ``Category`` (OpenAI usage-policy categories).
The benign set (source ``jbb_benign``) is a control config for over-refusal, not a harmful source.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

from eh_bench.sources.base import Adapter, Row, SourceFile, iter_csv, require_text

NAME: Final = "jbb"
BENIGN_NAME: Final = "jbb_benign"
HF_REPO: Final = "JailbreakBench/JBB-Behaviors"
REVISION: Final = "886acc352a31533ffbcf4ef22c744658688086fc"
_HF_URL: Final = f"https://huggingface.co/datasets/{HF_REPO}/resolve/{REVISION}"
FILE: Final = SourceFile(
    relpath="jailbreakbench/harmful-behaviors.csv",
    url=f"{_HF_URL}/data/harmful-behaviors.csv",
    revision=REVISION,
    sha256="4a8ec6832056b631eb092dccc60d37a61c3d441268268888b3d006288afeffa1",
    license="mit",
    hf_repo=HF_REPO,
    hf_filename="data/harmful-behaviors.csv",
)
BENIGN_FILE: Final = SourceFile(
    relpath="jailbreakbench/benign-behaviors.csv",
    url=f"{_HF_URL}/data/benign-behaviors.csv",
    revision=REVISION,
    sha256="3cda234d21a991fa309bbfea4b6d9dae31ccdf8e9d452424b6a983e4fdc33468",
    license="mit",
    hf_repo=HF_REPO,
    hf_filename="data/benign-behaviors.csv",
)
COLUMNS: Final = ("Index", "Goal", "Target", "Behavior", "Category", "Source")
CITATION: Final = """@inproceedings{chao2024jailbreakbench,
  title={JailbreakBench: An Open Robustness Benchmark for Jailbreaking Large Language Models},
  author={Chao, Patrick and Debenedetti, Edoardo and Robey, Alexander and Andriushchenko, Maksym and Croce, Francesco and Sehwag, Vikash and Dobriban, Edgar and Flammarion, Nicolas and Pappas, George J. and Tram{\\`e}r, Florian and Hassani, Hamed and Wong, Eric},
  booktitle={NeurIPS Datasets and Benchmarks Track},
  year={2024}
}"""


def _parse(path: Path, source: str) -> Iterator[Row]:
    for index, rec in iter_csv(path, COLUMNS, source):
        yield Row(
            source=source,
            source_id=require_text(rec["Index"], path, index, "Index"),
            prompt=require_text(rec["Goal"], path, index, "Goal"),
            category=rec["Category"].strip() or None,
        )


def parse(path: Path) -> Iterator[Row]:
    """Rows of ``harmful-behaviors.csv`` (``source_id`` = ``Index``)."""
    return _parse(path, NAME)


def parse_benign(path: Path) -> Iterator[Row]:
    """Rows of ``benign-behaviors.csv`` (source ``jbb_benign``, ``source_id`` = ``Index``)."""
    return _parse(path, BENIGN_NAME)


ADAPTER: Final = Adapter(
    name=NAME,
    file=FILE,
    parse=parse,
    title="JailbreakBench JBB-Behaviors (harmful)",
    homepage="https://huggingface.co/datasets/JailbreakBench/JBB-Behaviors",
    license="mit",
    citation=CITATION,
)
BENIGN_ADAPTER: Final = Adapter(
    name=BENIGN_NAME,
    file=BENIGN_FILE,
    parse=parse_benign,
    title="JailbreakBench JBB-Behaviors (benign, topic-matched control)",
    homepage="https://huggingface.co/datasets/JailbreakBench/JBB-Behaviors",
    license="mit",
    citation=CITATION,
    harmful=False,
    note="benign control set for over-refusal",
)
