"""What the importers share: their options, the result of one import, and provenance helpers."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from eh_bench.likelihood import DEFAULT_LIKELIHOOD

#: Model revision recorded when the publisher did not record one.
UNRECORDED: Final = "unrecorded"
#: Longest text kept as is in recorded method parameters; longer text is recorded by its SHA-256.
MAX_PARAMETER_CHARS: Final = 200


@dataclass(frozen=True)
class ImportOptions:
    """Where the data is read from and how the reports are scored (the CLI flags, one to one).

    ``source_file`` is one published file given by path (``import donotanswer --source FILE``); its
    SHA-256 is still checked against the pin unless ``allow_changed_sources``.
    """

    sources_dir: Path | str | None = None
    source_file: Path | None = None
    cache_dir: Path | str | None = None
    labels_dir: Path | str | None = None
    download: bool = True
    allow_changed_sources: bool = False
    likelihood: str = DEFAULT_LIKELIHOOD
    n_boot: int = 1000
    seed: int = 0
    max_unscored: float | None = None
    plots: bool = True

    def source_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the source readers."""
        return {
            "sources_dir": self.sources_dir, "cache_dir": self.cache_dir, "download": self.download,
            "allow_changed_sources": self.allow_changed_sources,
        }  # fmt: skip


@dataclass(frozen=True)
class ImportResult:
    """One written report folder and what the CLI prints about it."""

    folder: Path
    report: dict[str, Any]
    model_id: str
    method: str
    published_asr: float | None = None

    @property
    def summary(self) -> dict[str, Any]:
        """The headline summary (the group's, which is the single task's)."""
        group = self.report.get("group") or {}
        return dict(group.get("summary") or {})


def short_text(value: Any) -> Any:
    """``value`` with every string longer than :data:`MAX_PARAMETER_CHARS` replaced by its SHA-256.

    Method parameters can hold a whole jailbreak template; a report records which one by hash.

    >>> short_text({"n-iter": 3, "template": "x" * 300})["template"][:7]
    'sha256:'
    """
    if isinstance(value, str) and len(value) > MAX_PARAMETER_CHARS:
        return f"sha256:{hashlib.sha256(value.encode('utf-8')).hexdigest()} ({len(value)} chars)"
    if isinstance(value, Mapping):
        return {str(k): short_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [short_text(v) for v in value]
    return value


def folder_name(text: str) -> str:
    """A folder name for a method or model name (letters, digits, ``._-``).

    >>> folder_name("meta-llama/Llama-2-7b-chat-hf")
    'meta-llama_Llama-2-7b-chat-hf'
    """
    out = "".join(c if c.isalnum() or c in "._-" else "_" for c in text).strip("._")
    return out or "model"
