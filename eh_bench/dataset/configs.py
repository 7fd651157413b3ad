"""The dataset's configs, version and naming constants (one place the build, card and loaders share)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from eh_bench.dataset.core import CORE, CORE_BENIGN
from eh_bench.sources import HARMFUL_SOURCES

#: Version of the built dataset (bump on any change to rows, labels or columns).
DATASET_VERSION: Final = "2.0.0"
DATASET_NAME: Final = "eh-bench"
#: Hub repository the card's examples name (override with ``--repo-id`` / ``$EH_DATASET_REPO``).
DEFAULT_REPO_ID: Final = "eh-bench/expected-harm"
REPO_ID_ENV: Final = "EH_DATASET_REPO"
DEFAULT_CONFIG: Final = "all"
#: Data file of a config inside the folder (the Hub's ``data_files`` path).
DATA_FILE: Final = "{config}/test-00000-of-00001.parquet"


@dataclass(frozen=True)
class ConfigSpec:
    """A config: which sources feed it, and whether identical requests collapse to one row."""

    name: str
    sources: tuple[str, ...]
    description: str
    distinct: bool = False

    @property
    def data_file(self) -> str:
        """Relative path of the config's Parquet file."""
        return DATA_FILE.format(config=self.name)


CONFIGS: Final[dict[str, ConfigSpec]] = {
    spec.name: spec
    for spec in (
        ConfigSpec(
            "all",
            HARMFUL_SOURCES,
            "union of the public harmful benchmarks, one row per distinct request",
            distinct=True,
        ),
        ConfigSpec(CORE, (CORE,), "eh-bench's own harmful requests, written to cover every cost x severity cell"),
        ConfigSpec(CORE_BENIGN, (CORE_BENIGN,), "eh-bench's own benign look-alike requests (over-refusal control)"),
        ConfigSpec("harmbench", ("harmbench",), "HarmBench text behaviours, standard + contextual"),
        ConfigSpec("advbench", ("advbench",), "AdvBench harmful behaviours"),
        ConfigSpec("jbb", ("jbb",), "JailbreakBench JBB-Behaviors, harmful set"),
        ConfigSpec("jbb_benign", ("jbb_benign",), "JailbreakBench JBB-Behaviors, benign topic-matched set (control)"),
        ConfigSpec("strongreject", ("strongreject",), "StrongREJECT forbidden prompts"),
        ConfigSpec("donotanswer", ("donotanswer",), "Do-Not-Answer English instructions (non-commercial licence)"),
    )
}
#: Order of duplicate detection: the first occurrence of a request keeps ``duplicate_of = None``.
DEDUP_ORDER: Final = (*HARMFUL_SOURCES, "jbb_benign", CORE, CORE_BENIGN)
