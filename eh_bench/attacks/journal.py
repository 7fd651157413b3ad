"""The attack run's journal: an append-only JSONL file of every model answer and verdict, for resuming.

Each line records one finished step of one request::

    {"key": [REQUEST, VARIANT, JAILBREAK, STEP], "input": SHA256, "kind": "chat"|"verdict", "output": {...}}

``VARIANT`` and ``JAILBREAK`` are ``"*"`` for steps that several attacks share (the original prompt's
guard verdict, a decomposition that every jailbreak of a variant reuses). ``input`` is the sha256 of
everything the step's answer depends on (backend spec, conversation, token budget, temperature; or
judge id, revision and the judged texts). A lookup hits only when key *and* input match, so a step whose
inputs changed is computed again, and the later line wins.

Every append is flushed and ``fsync``-ed before the answer is used, so a run killed at any moment
loses at most the calls in flight. A last line cut short by the kill is dropped when the journal is
reopened; a malformed line anywhere else is an error naming the line.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from eh_bench.errors import InputError

JOURNAL_FILE: Final = "journal.jsonl"
#: Placeholder of the key fields a shared step does not depend on.
SHARED: Final = "*"

Kind = Literal["chat", "verdict"]


@dataclass(frozen=True)
class StepKey:
    """Where a step belongs: request id, attack variant, jailbreak and step name."""

    request: str
    variant: str
    jailbreak: str
    step: str

    def child(self, step: str) -> StepKey:
        """The same scope with ``step`` appended to this key's step name (``parent/step``)."""
        return StepKey(self.request, self.variant, self.jailbreak, f"{self.step}/{step}" if self.step else step)

    def as_list(self) -> list[str]:
        """The JSON form of the key."""
        return [self.request, self.variant, self.jailbreak, self.step]


def input_digest(*parts: Any) -> str:
    """sha256 over the canonical JSON of ``parts`` (what a step's answer depends on)."""
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _key_text(key: StepKey) -> str:
    return "\x1f".join(key.as_list())


class Journal:
    """The journal of one output folder (see the module docstring). Safe to share between threads.

    Attributes:
        path: the JSONL file.
        loaded: records read from disk when the journal was opened.
        appended: records written since.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._records: dict[str, tuple[str, dict[str, Any]]] = {}
        self.loaded = self._load()
        self.appended = 0

    def _load(self) -> int:
        if not self.path.is_file():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return 0
        data = self.path.read_bytes()
        complete = data.rfind(b"\n") + 1
        if complete < len(data):  # a line cut short by a kill: drop it so appends start on a fresh line
            with self.path.open("r+b") as handle:
                handle.truncate(complete)
        count = 0
        for number, line in enumerate(data[:complete].decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = StepKey(*(str(part) for part in record["key"]))
                digest, output = str(record["input"]), record["output"]
                if not isinstance(output, dict):
                    raise TypeError("output is not an object")
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"{self.path}, line {number}: not a journal record ({exc}); delete that line "
                    "(its step runs again) or start a new --out folder"
                ) from None
            self._records[_key_text(key)] = (digest, output)
            count += 1
        return count

    def __len__(self) -> int:
        return len(self._records)

    def get(self, key: StepKey, digest: str) -> dict[str, Any] | None:
        """The recorded output of ``key`` when it was made from the same inputs, else None."""
        with self._lock:
            found = self._records.get(_key_text(key))
        if found is None or found[0] != digest:
            return None
        return found[1]

    def append(self, entries: Iterable[tuple[StepKey, str, Kind, dict[str, Any]]]) -> None:
        """Write ``(key, input digest, kind, output)`` records, then flush and fsync once."""
        lines = []
        batch = list(entries)
        for key, digest, kind, output in batch:
            record = {"key": key.as_list(), "input": digest, "kind": kind, "output": output}
            lines.append(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
        if not lines:
            return
        with self._lock:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write("".join(lines))
                handle.flush()
                os.fsync(handle.fileno())
            for key, digest, _kind, output in batch:
                self._records[_key_text(key)] = (digest, output)
            self.appended += len(batch)

    def keys(self) -> Sequence[StepKey]:
        """Every key recorded (the latest record of each), in no particular order."""
        with self._lock:
            return [StepKey(*text.split("\x1f")) for text in self._records]
