"""Streaming real-world chat logs (WildChat, LMSYS-Chat-1M) into canonical rows, in flat memory.

Both datasets are gated on the Hub and nothing of them is shipped. Records are read one batch at a
time from local Parquet / JSON-lines files or streamed from the Hub (``datasets`` streaming mode), and
each adapter keeps the *first user turn* of a conversation when the dataset's own moderation fields flag
that turn as toxic. The rows carry no labels: they are the input of ``eh-bench label``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from eh_bench.errors import InputError
from eh_bench.sources.base import Row

#: Records per Parquet batch: bounds memory whatever the file size.
BATCH_SIZE: Final = 1024
#: OpenAI moderation category spellings that differ between dataset versions, mapped to one name.
MODERATION_ALIASES: Final[Mapping[str, str]] = {
    "harassment_threatening": "harassment/threatening",
    "hate_threatening": "hate/threatening",
    "self_harm": "self-harm",
    "self_harm_instructions": "self-harm/instructions",
    "self_harm_intent": "self-harm/intent",
    "sexual_minors": "sexual/minors",
    "violence_graphic": "violence/graphic",
}

Record = Mapping[str, Any]


@dataclass(frozen=True)
class RealWorldSource:
    """A gated real-world chat dataset and the function that turns one record into a row (or None)."""

    name: str
    hf_repo: str
    license: str
    citation: str
    columns: tuple[str, ...]
    to_row: Callable[[Record], Row | None]


def first_user_turn(conversation: Sequence[Mapping[str, Any]] | None) -> tuple[int, Mapping[str, Any]] | None:
    """Index and message of the first ``user`` turn of a conversation, or None."""
    for index, message in enumerate(conversation or ()):
        if message.get("role") == "user":
            return index, message
    return None


def moderation_at(moderation: Sequence[Mapping[str, Any]] | None, index: int) -> Mapping[str, Any]:
    """The moderation entry aligned with message ``index`` (empty when absent)."""
    if not moderation or index >= len(moderation) or moderation[index] is None:
        return {}
    return moderation[index]


@dataclass(frozen=True)
class FirstTurn:
    """A record's first user turn: its stripped text, the message itself, and its moderation entry."""

    text: str
    message: Mapping[str, Any]
    moderation: Mapping[str, Any]


def first_turn(record: Record) -> FirstTurn | None:
    """The first user turn of a chat-log record with its aligned moderation entry; None if absent or empty."""
    found = first_user_turn(record.get("conversation"))
    if found is None:
        return None
    index, message = found
    text = str(message.get("content") or "").strip()
    if not text:
        return None
    return FirstTurn(text, message, moderation_at(record.get("openai_moderation"), index))


def turn_row(source: str, conversation_id: object, turn: FirstTurn) -> Row:
    """The canonical (unlabelled) row of a kept first turn; ``category`` lists its flagged categories."""
    return Row(
        source=source,
        source_id=str(conversation_id),
        prompt=turn.text,
        category=",".join(flagged_categories(turn.moderation)) or None,
    )


def flagged_categories(entry: Mapping[str, Any]) -> list[str]:
    """Sorted OpenAI moderation categories set to true in one moderation entry, spellings unified."""
    categories = entry.get("categories") or {}
    names = {MODERATION_ALIASES.get(name, name) for name, value in categories.items() if value}
    return sorted(names)


def iter_records(source: str | Path, columns: Sequence[str] | None = None, revision: str | None = None) -> Iterator[Record]:
    """Stream records from a Parquet file or folder, a JSON-lines file (``.gz`` too) or a Hub dataset id.

    Args:
        source: a local path (``.parquet``, a folder of them, ``.jsonl``, ``.jsonl.gz``) or a Hub repo id.
        columns: Parquet columns to read (others are never loaded).
        revision: Hub revision when ``source`` is a repo id.
    """
    path = Path(source)
    if path.is_dir():
        files = sorted(path.rglob("*.parquet"))
        if not files:
            raise InputError(f"{path}: no .parquet files in this folder")
        for file in files:
            yield from _iter_parquet(file, columns)
    elif path.is_file():
        if path.suffix == ".parquet":
            yield from _iter_parquet(path, columns)
        else:
            yield from _iter_jsonl(path)
    elif "/" in str(source) and not str(source).startswith((".", "/")):
        yield from _iter_hub(str(source), revision)
    else:
        raise InputError(f"{source}: no such file or folder (give a Parquet/JSON-lines path or a Hub dataset id)")


def _iter_parquet(path: Path, columns: Sequence[str] | None) -> Iterator[Record]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        present = set(pf.schema_arrow.names)
        wanted = [c for c in columns if c in present] if columns else None
        for batch in pf.iter_batches(batch_size=BATCH_SIZE, columns=wanted):
            yield from batch.to_pylist()


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _iter_jsonl(path: Path) -> Iterator[Record]:
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None


def _iter_hub(repo_id: str, revision: str | None) -> Iterator[Record]:
    from datasets import load_dataset

    stream = load_dataset(repo_id, split="train", streaming=True, revision=revision)
    yield from stream


def extract(
    source: RealWorldSource,
    records: Iterable[Record],
    *,
    language: str | None = None,
    dedupe: bool = True,
    limit: int | None = None,
) -> Iterator[Row]:
    """Rows for the toxic first-turn prompts among ``records``, lazily (a generator).

    Args:
        source: the dataset's adapter (:data:`~eh_bench.sources.wildchat.SOURCE` or ``lmsys.SOURCE``).
        records: dataset records (any iterable; consumed once).
        language: keep only conversations in this language (the dataset's ``language`` field).
        dedupe: emit each distinct prompt once (keeps a 16-byte digest per emitted row).
        limit: stop after this many rows.
    """
    seen: set[bytes] = set()
    emitted = 0
    if limit is not None and limit <= 0:
        return
    for record in records:
        if language is not None and record.get("language") != language:
            continue
        row = source.to_row(record)
        if row is None:
            continue
        if dedupe:
            digest = hashlib.blake2b(row.key.encode("utf-8"), digest_size=16).digest()
            if digest in seen:
                continue
            seen.add(digest)
        emitted += 1
        yield row
        if limit is not None and emitted >= limit:
            return  # stop without reading another record


def write_jsonl(rows: Iterable[Row], out: Path) -> int:
    """Write rows as JSON lines (one :meth:`Row.as_dict` per line), atomically; returns the count."""
    from eh_bench.atomic import atomic_open

    count = 0
    with atomic_open(out) as fh:
        for row in rows:
            fh.write(json.dumps(row.as_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count
