"""The Parquet schema of a dataset config, duplicate marking, and row <-> Parquet conversion.

Label levels are stored as ``int8`` (``datasets`` reads them as ``Value("int8")``), never as strings.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from eh_bench.errors import InputError
from eh_bench.sources.base import LEVEL_COLUMNS, ROW_COLUMNS, Row

#: Arrow type name of each column (``datasets`` dtype names).
COLUMN_TYPES: Final[dict[str, str]] = {
    **{name: "string" for name in ROW_COLUMNS},
    **{name: "int8" for name in LEVEL_COLUMNS},
}
#: Columns that may be null in a built config (every other column always has a value).
NULLABLE: Final = frozenset({"category", "duplicate_of"})


def arrow_schema() -> Any:
    """The ``pyarrow.Schema`` of every config file (columns in :data:`ROW_COLUMNS` order)."""
    import pyarrow as pa

    types = {"string": pa.string(), "int8": pa.int8()}
    return pa.schema([pa.field(name, types[COLUMN_TYPES[name]], nullable=True) for name in ROW_COLUMNS])


def features_yaml() -> list[dict[str, str]]:
    """The ``dataset_info.features`` list of the card's front matter."""
    return [{"name": name, "dtype": COLUMN_TYPES[name]} for name in ROW_COLUMNS]


def mark_duplicates(rows: Sequence[Row]) -> list[Row]:
    """Copies of ``rows`` whose ``duplicate_of`` names the first earlier row with the same request key.

    The first occurrence (in the given order) keeps ``duplicate_of = None``.
    """
    first: dict[str, str] = {}
    out: list[Row] = []
    for row in rows:
        key = row.key
        original = first.setdefault(key, row.id)
        out.append(dataclasses.replace(row, duplicate_of=None if original == row.id else original))
    return out


def write_parquet(rows: Iterable[Row], path: Path) -> tuple[int, int]:
    """Write rows to one Parquet file with :func:`arrow_schema`.

    Returns:
        ``(rows, num_bytes)``: the row count and the in-memory Arrow size (the card's ``num_bytes``).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [row.as_dict() for row in rows]
    table = pa.Table.from_pylist(records, schema=arrow_schema())
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return len(records), int(table.nbytes)


def read_parquet(path: Path) -> list[dict[str, Any]]:
    """Rows of a config file as plain dicts.

    Raises:
        InputError: the file is missing or not a readable Parquet file (named, with the fix).
    """
    import pyarrow.parquet as pq

    with _parquet_errors(path):
        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows


def read_parquet_schema(path: Path) -> Any:
    """The Arrow schema of a Parquet file; :class:`InputError` as :func:`read_parquet`."""
    import pyarrow.parquet as pq

    with _parquet_errors(path):
        return pq.read_schema(path)


@contextlib.contextmanager
def _parquet_errors(path: Path) -> Iterator[None]:
    import pyarrow as pa

    try:
        yield
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; rebuild the dataset (eh-bench dataset build)") from None
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            f"{path}: not a Parquet file eh-bench can read ({exc}); the file is damaged, rebuild the "
            "dataset (eh-bench dataset build)"
        ) from None
