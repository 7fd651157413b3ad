"""Tables users hand to eh-bench (judged samples, requests to label): CSV, TSV, JSON lines or a JSON list.

The format is read from the content, not trusted from the suffix (``.CSV``, ``.tsv``, ``.txt`` all
work): a file starting with ``[`` is a JSON list of objects, one starting with ``{`` is JSON lines
(one object over several lines, or in a ``.json`` file, is refused as not a table), anything else is delimited text (tab-separated when the suffix is ``.tsv`` or the header has tabs and
no commas). A UTF-8 byte-order mark is accepted. Everything that would make a row silently wrong is
refused with the file, line and column: bytes that are not UTF-8, a header naming a column twice (the
csv module keeps the last), a row with more or fewer fields than the header (extra fields would be
dropped, missing ones read as empty), a duplicate key in a JSON object, a row that is not an object.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from eh_bench.errors import InputError
from eh_bench.jsonio import StrictJSONError, loads_strict

#: Longest delimited field accepted (HarmBench contexts are long).
CSV_FIELD_LIMIT: Final = 1 << 24
UTF8_BOM: Final = b"\xef\xbb\xbf"

Row = tuple[str, dict[str, Any]]


def read_text(path: Path, what: str = "a table") -> str:
    """The file's UTF-8 text (a byte-order mark dropped); :class:`InputError` names the line of a bad byte."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder; give the path of {what}") from None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path}:{line}: byte 0x{data[exc.start]:02x} is not UTF-8 text; save the file as UTF-8"
        ) from None


def _delimiter(path: Path, header: str) -> str:
    if path.suffix.lower() == ".tsv" or ("\t" in header and "," not in header):
        return "\t"
    return ","


def _delimited(path: Path, text: str) -> Iterator[Row]:
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(path, text.partition("\n")[0]))
    try:
        header = next(reader, None)
        if header is None:
            return
        names = [name.strip() for name in header]
        first: dict[str, int] = {}
        for i, name in enumerate(names, start=1):
            if name in first:
                raise InputError(
                    f"{path}:1: column {name!r} appears twice in the header (columns {first[name]} and {i}); "
                    "rename or remove one"
                )
            first[name] = i
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line
            if len(fields) != len(names):
                raise InputError(
                    f"{path}:{reader.line_num}: {len(fields)} fields, but the header has {len(names)} "
                    f"({', '.join(names)}); quote fields that contain the delimiter"
                )
            yield f"{path}:{reader.line_num}", dict(zip(names, fields, strict=True))
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}: not readable as delimited text ({exc})") from None


def _json_value(text: str, where: str) -> Any:
    try:
        return loads_strict(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg})") from None
    except StrictJSONError as exc:
        raise InputError(f"{where}: {exc}") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply to read") from None


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected an object with named columns, got {type(value).__name__}")
    return value


def read_rows(path: Path | str, what: str = "a table") -> list[Row]:
    """``(where, row)`` for every row of a CSV / TSV / JSON-lines / JSON-list file (see the module doc).

    ``where`` is ``FILE:LINE`` (``FILE: item N`` in a JSON list), for messages about the row.

    Raises:
        InputError: unreadable, not UTF-8, a duplicate column or key, a ragged row, a row that is not
            an object; the message names the file and line.
    """
    file = Path(path)
    text = read_text(file, what)
    start = text.lstrip()[:1]
    if start == "[":
        items = _json_value(text, str(file))
        if not isinstance(items, list):
            raise InputError(f"{file}: expected a JSON list of objects")
        return [(f"{file}: item {i}", _object(item, f"{file}: item {i}")) for i, item in enumerate(items, 1)]
    if start == "{":
        one_object = "\n" in text.strip() or file.suffix.lower() == ".json"  # else one JSON line: one row
        try:
            whole = loads_strict(text) if one_object else None
        except (ValueError, RecursionError):
            whole = None  # JSON lines (or damaged JSON: the line loop below names the line)
        if isinstance(whole, dict):
            raise InputError(
                f"{file}: one JSON object, not a table; give a JSON list of objects or one object per line"
            )
        rows: list[Row] = []
        # split on "\n" only: U+2028 and friends may stand unescaped inside a JSON string
        for lineno, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                where = f"{file}:{lineno}"
                rows.append((where, _object(_json_value(line, where), where)))
        return rows
    return list(_delimited(file, text))


__all__ = ["CSV_FIELD_LIMIT", "Row", "read_rows", "read_text"]
