"""The canonical row every source adapter emits, the pinned-file record, and text helpers.

A row's identity is ``id = "<source>:<source_id>"``; its prompt is checked by ``prompt_sha256`` (SHA-256
of the stripped UTF-8 prompt), which is also the key the label files carry. Two rows are the *same
request* when their :func:`request_key` (normalised context + prompt) are equal.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from eh_bench.errors import SourceError

#: The split every config has (the data is an evaluation set).
SPLIT: Final = "test"
#: Environment variable naming a local folder with the benchmark files (same layout as the cache).
SOURCES_DIR_ENV: Final = "EH_SOURCES_DIR"
#: Environment variable overriding the user cache folder.
CACHE_DIR_ENV: Final = "EH_CACHE_DIR"
#: Default user cache for downloaded benchmark files.
DEFAULT_CACHE_DIR: Final = Path("~/.cache/eh-bench/sources")

#: The integer label columns of a row (1-5 each).
LEVEL_COLUMNS: Final = ("cost", "severity", "expertise", "equipment", "time", "legality")
#: Column order of a canonical row (the parquet schema follows it).
ROW_COLUMNS: Final = (
    "id", "source", "source_id", "prompt", "prompt_sha256", "category", "harm_category", "context",
    *LEVEL_COLUMNS, "rationale", "annotator", "rubric_version", "split", "duplicate_of",
)  # fmt: skip

_SPACE_RE: Final = re.compile(r"\s+")
_TRAILING_PUNCT: Final = " .!?;:"


def prompt_sha256(prompt: str) -> str:
    """SHA-256 hex digest of the stripped UTF-8 prompt (the key label files are checked against).

    >>> prompt_sha256("  hello ") == prompt_sha256("hello")
    True
    """
    return hashlib.sha256(prompt.strip().encode("utf-8")).hexdigest()


def normalise_text(text: str) -> str:
    """Text normalised for duplicate detection: NFKC, case-folded, whitespace collapsed, end punctuation dropped.

    >>> normalise_text("Write  a POEM.\\n")
    'write a poem'
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE_RE.sub(" ", text).strip().rstrip(_TRAILING_PUNCT)


def request_key(prompt: str, context: str | None = None) -> str:
    """The identity of a request across sources: normalised context (if any) and normalised prompt.

    A contextual request differs from the same instruction with another (or no) context.
    """
    body = normalise_text(prompt)
    return f"{normalise_text(context)}\n\n{body}" if context else body


@dataclass
class Row:
    """One canonical dataset row. Label fields stay ``None`` until a label is joined."""

    source: str
    source_id: str
    prompt: str
    category: str | None = None
    context: str = ""
    harm_category: str | None = None
    cost: int | None = None
    severity: int | None = None
    expertise: int | None = None
    equipment: int | None = None
    time: int | None = None
    legality: int | None = None
    rationale: str | None = None
    annotator: str | None = None
    rubric_version: str | None = None
    split: str = SPLIT
    duplicate_of: str | None = None
    id: str = field(init=False)
    prompt_sha256: str = field(init=False)

    def __post_init__(self) -> None:
        self.source_id = str(self.source_id)
        self.prompt = self.prompt.strip()
        self.context = (self.context or "").strip()
        self.id = f"{self.source}:{self.source_id}"
        self.prompt_sha256 = prompt_sha256(self.prompt)

    @property
    def labelled(self) -> bool:
        """True once every label column holds a level."""
        return all(getattr(self, name) is not None for name in LEVEL_COLUMNS) and bool(self.harm_category)

    @property
    def key(self) -> str:
        """:func:`request_key` of this row."""
        return request_key(self.prompt, self.context)

    def as_dict(self) -> dict[str, Any]:
        """The row as a plain dict with the columns in :data:`ROW_COLUMNS` order."""
        data = asdict(self)
        return {name: data[name] for name in ROW_COLUMNS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Row:
        """Rebuild a row from :meth:`as_dict` output (``id`` and ``prompt_sha256`` are recomputed)."""
        names = [n for n in ROW_COLUMNS if n not in ("id", "prompt_sha256")]
        row = cls(**{n: data[n] for n in names if n in data})
        for name in LEVEL_COLUMNS:
            value = getattr(row, name)
            if value is not None:
                setattr(row, name, int(value))
        return row


@dataclass(frozen=True)
class SourceFile:
    """A benchmark file pinned to a canonical location, revision and SHA-256.

    ``relpath`` is the file's place inside ``EH_SOURCES_DIR`` and the cache. It is downloaded from
    ``url`` (HTTPS) or, when ``hf_repo`` is set, with ``huggingface_hub.hf_hub_download``.
    """

    relpath: str
    url: str
    revision: str
    sha256: str
    license: str
    hf_repo: str | None = None
    hf_filename: str | None = None


@dataclass(frozen=True)
class Adapter:
    """A source adapter: its pinned file, a parser from that file to rows, and card metadata."""

    name: str
    file: SourceFile
    parse: Callable[[Path], Iterator[Row]]
    title: str
    homepage: str
    license: str
    citation: str
    harmful: bool = True
    note: str = ""


def iter_csv(path: Path, required: tuple[str, ...], source: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(row_index, record)`` for each data record of a CSV file (0-based, header excluded).

    Raises:
        SourceError: the header lacks one of ``required`` (naming the file, the column and what is there).
    """
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 24))  # HarmBench contexts are long
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [name for name in required if name not in header]
        if missing:
            raise SourceError(
                f"{path}:1: {source} file lacks column(s) {', '.join(missing)} (header: {', '.join(header)}); "
                "is this the pinned file? see eh_bench/sources/ for the expected revision"
            )
        for index, record in enumerate(reader):
            yield index, {k: (v or "") for k, v in record.items() if k is not None}


def require_text(value: str, path: Path, index: int, column: str) -> str:
    """``value`` stripped; :class:`SourceError` naming file, record and column when it is empty."""
    text = value.strip()
    if not text:
        raise SourceError(
            f"{path}: record {index + 1} (0-based row {index}): column {column!r} is empty; "
            "the file is damaged or not the pinned revision"
        )
    return text
