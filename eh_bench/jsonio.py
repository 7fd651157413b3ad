"""Strict JSON: the one object hook that refuses duplicate keys and the one refusal of NaN/Infinity.

Python's ``json`` keeps the last of two equal keys and accepts ``NaN``; for untrusted input (labeller
answers, leaderboard entries, samples files) either would let a value be silently replaced or a
non-number pass as one.

>>> loads_strict('{"a": 1, "b": [2, 3]}')
{'a': 1, 'b': [2, 3]}
>>> loads_strict('{"cost": 1, "cost": 5}')
Traceback (most recent call last):
...
eh_bench.jsonio.StrictJSONError: duplicate key "cost" in one object
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from eh_bench.errors import InputError

MAX_KEY_CHARS: Final = 60


class StrictJSONError(ValueError):
    """Valid JSON syntax that strict parsing refuses (a duplicate key, NaN or Infinity)."""


def _show_key(key: str) -> str:
    text = json.dumps(key, ensure_ascii=True)
    return text if len(text) <= MAX_KEY_CHARS else text[: MAX_KEY_CHARS - 3] + "..."


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` that builds the dict and refuses a key seen twice in one object."""
    out = dict(pairs)  # in C; only a shorter dict needs the Python loop that names the key
    if len(out) == len(pairs):
        return out
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise StrictJSONError(f"duplicate key {_show_key(key)} in one object")
        seen.add(key)
    return out


def refuse_constant(name: str) -> Any:
    """``parse_constant`` that refuses ``NaN``, ``Infinity`` and ``-Infinity``."""
    raise StrictJSONError(
        f"{name} is not allowed: JSON numbers must be finite (write null for an undefined value)"
    )


#: A decoder with both refusals; ``raw_decode`` on it parses a prefix strictly.
STRICT_DECODER: Final = json.JSONDecoder(object_pairs_hook=no_duplicate_keys, parse_constant=refuse_constant)
#: Duplicate keys refused, ``NaN`` accepted: for files whose writer emits ``NaN`` on purpose (lm-eval
#: logs an undefined per-sample metric as ``NaN`` in ``samples_*.jsonl``).
NO_DUPLICATES_DECODER: Final = json.JSONDecoder(object_pairs_hook=no_duplicate_keys)


def loads_strict(text: str) -> Any:
    """``json.loads`` with duplicate keys and non-finite constants refused (:class:`StrictJSONError`)."""
    return STRICT_DECODER.decode(text)


def read_json_file(path: Path, what: str = "JSON") -> Any:
    """Read one JSON file strictly; every failure is an :class:`InputError` naming the file (and line).

    Args:
        path: the file.
        what: what the file should be, for the message (e.g. ``"an eh-bench report"``).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); it should be {what}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}); it should be {what}") from None
    try:
        return loads_strict(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); it should be {what}: re-create it"
        ) from None
    except StrictJSONError as exc:
        raise InputError(f"{path}: {exc}; it should be {what}: re-create it") from None
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply to read; it should be {what}") from None
