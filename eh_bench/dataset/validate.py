"""Check a built dataset folder: manifest, card front matter, schema, label ranges, hashes, duplicates.

:func:`validate_dataset` never stops at the first problem: it returns every error (the folder is not
a valid build) and warning (valid, but worth a look), each naming the file, row id and column.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from eh_bench.dataset.configs import CONFIGS, DEDUP_ORDER
from eh_bench.dataset.manifest import read_manifest, verify_manifest
from eh_bench.dataset.schema import NULLABLE, arrow_schema, read_parquet, read_parquet_schema
from eh_bench.errors import InputError
from eh_bench.rubric import HARM_CATEGORIES, LEVELS
from eh_bench.sources import HARMFUL_SOURCES
from eh_bench.sources.base import LEVEL_COLUMNS, SPLIT, prompt_sha256, request_key

#: Stop listing row-level errors of one kind in one config after this many (the count stays exact).
MAX_ROW_ERRORS: Final = 20


@dataclass
class ValidationResult:
    """Errors (the build is invalid), warnings, and what was checked."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows_checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors


def read_front_matter(readme: Path) -> dict[str, Any]:
    """The YAML front matter of a card (between the first two ``---`` lines).

    Raises:
        InputError: no front matter, or it is not a YAML mapping.
    """
    import yaml

    if not readme.is_file():
        raise InputError(f"{readme}: no dataset card")
    lines = readme.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].strip() != "---" or "---" not in (line.strip() for line in lines[1:]):
        raise InputError(f"{readme}:1: no YAML front matter (the card must start with a '---' block)")
    end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    meta = yaml.safe_load("\n".join(lines[1:end]))
    if not isinstance(meta, dict):
        raise InputError(f"{readme}:2: front matter is not a YAML mapping")
    return meta


def validate_dataset(root: Path | str) -> ValidationResult:
    """Validate a folder built by :func:`eh_bench.dataset.build_dataset`."""
    root = Path(root)
    result = ValidationResult()
    try:
        manifest = read_manifest(root)
    except InputError as exc:
        result.errors.append(str(exc))
        return result
    result.errors += verify_manifest(root, manifest)
    built: dict[str, Any] = manifest.get("configs") or {}
    if not isinstance(built, dict) or not all(isinstance(m, dict) for m in built.values()):
        result.errors.append(f"{root}/MANIFEST.json: 'configs' is not an object of objects; rebuild the dataset")
        return result
    _check_card(root, built, result)
    rows_by_config: dict[str, list[dict[str, Any]]] = {}
    for name, meta in built.items():
        if name not in CONFIGS:
            result.errors.append(f"{root}/MANIFEST.json: unknown config {name!r}")
            continue
        path = root / str(meta.get("path", ""))
        if not path.is_file():
            result.errors.append(f"{path}: data file of config {name!r} is missing")
            continue
        rows = meta.get("rows", -1)
        expected = rows if isinstance(rows, int) and not isinstance(rows, bool) else -1
        rows_by_config[name] = _check_config(path, name, expected, result)
    _check_duplicates(rows_by_config, result)
    return result


def _check_card(root: Path, built: dict[str, Any], result: ValidationResult) -> None:
    try:
        meta = read_front_matter(root / "README.md")
    except InputError as exc:
        result.errors.append(str(exc))
        return
    configs = {str(c.get("config_name")): c for c in meta.get("configs") or [] if isinstance(c, dict)}
    if set(configs) != set(built):
        result.errors.append(
            f"{root}/README.md: front matter configs {sorted(configs)} differ from MANIFEST.json {sorted(built)}"
        )
    for name, config in configs.items():
        paths = [f.get("path") for f in config.get("data_files") or [] if f.get("split") == SPLIT]
        if not paths or not all((root / str(p)).is_file() for p in paths):
            result.errors.append(f"{root}/README.md: config {name!r} has no existing {SPLIT!r} data file ({paths})")
    for key in ("license", "extra_gated_prompt", "extra_gated_fields", "task_categories", "tags"):
        if not meta.get(key):
            result.errors.append(f"{root}/README.md: front matter lacks {key!r}")


def _check_config(path: Path, name: str, expected_rows: int, result: ValidationResult) -> list[dict[str, Any]]:
    try:
        schema = read_parquet_schema(path)
        rows = read_parquet(path)
    except InputError as exc:
        result.errors.append(str(exc))
        return []
    want = arrow_schema()
    if schema.names != want.names or [f.type for f in schema] != [f.type for f in want]:
        got = ", ".join(f"{f.name}:{f.type}" for f in schema)
        result.errors.append(f"{path}: schema is ({got}); expected {', '.join(f'{f.name}:{f.type}' for f in want)}")
        return []
    result.rows_checked[name] = len(rows)
    if len(rows) != expected_rows:
        result.errors.append(f"{path}: {len(rows)} rows, MANIFEST.json says {expected_rows}")
    problems: dict[str, list[str]] = defaultdict(list)
    allowed = set(CONFIGS[name].sources)
    seen: set[str] = set()
    for row in rows:
        for problem in _row_problems(row, allowed):
            problems[problem.split(":", 1)[0]].append(f"{path}: {row.get('id')}: {problem}")
        if row["id"] in seen:
            problems["id"].append(f"{path}: {row['id']}: id repeats")
        seen.add(row["id"])
    for items in problems.values():
        result.errors += items[:MAX_ROW_ERRORS]
        if len(items) > MAX_ROW_ERRORS:
            result.errors.append(f"{path}: ... and {len(items) - MAX_ROW_ERRORS} more like the above")
    return rows


def _row_problems(row: dict[str, Any], allowed_sources: set[str]) -> list[str]:
    out = []
    for column, value in row.items():
        if value is None and column not in NULLABLE:
            out.append(f"{column}: is null")
    if row["source"] not in allowed_sources:
        out.append(f"source: {row['source']!r} does not belong in this config")
    if row["id"] != f"{row['source']}:{row['source_id']}":
        out.append(f"id: is not '<source>:<source_id>' ({row['source']}:{row['source_id']})")
    prompt = row.get("prompt") or ""
    if not prompt.strip():
        out.append("prompt: is empty")
    elif row["prompt_sha256"] != prompt_sha256(prompt):
        out.append(f"prompt_sha256: {row['prompt_sha256']} is not the SHA-256 of the stripped prompt")
    for column in LEVEL_COLUMNS:
        if row[column] is not None and row[column] not in LEVELS:
            out.append(f"{column}: {row[column]!r} is outside the 1-5 scale")
    if row["harm_category"] is not None and row["harm_category"] not in HARM_CATEGORIES:
        out.append(f"harm_category: {row['harm_category']!r} is not in the shared taxonomy")
    if row["split"] != SPLIT:
        out.append(f"split: {row['split']!r}, expected {SPLIT!r}")
    return out


def _check_duplicates(rows_by_config: dict[str, list[dict[str, Any]]], result: ValidationResult) -> None:
    """``all`` holds one row per distinct request; ``duplicate_of`` points at the first occurrence."""
    per_source = [r for name, rows in rows_by_config.items() if not CONFIGS[name].distinct for r in rows]
    by_id = {r["id"]: r for r in per_source}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(per_source, key=lambda r: DEDUP_ORDER.index(r["source"]) if r["source"] in DEDUP_ORDER else 99):
        groups[request_key(row["prompt"], row["context"])].append(row)
    for members in groups.values():
        firsts = [r for r in members if r["duplicate_of"] is None]
        if len(firsts) != 1:
            ids = ", ".join(r["id"] for r in members)
            result.errors.append(f"duplicate_of: the same request ({ids}) has {len(firsts)} rows marked as first")
        for r in members:
            target = r["duplicate_of"]
            if target is not None and (target not in by_id or by_id[target] is not members[0]):
                result.errors.append(f"{r['id']}: duplicate_of is {target!r}, expected {members[0]['id']!r}")
        labels = {tuple(r[c] for c in (*LEVEL_COLUMNS, "harm_category")) for r in members}
        if len(labels) > 1:
            ids = ", ".join(r["id"] for r in members)
            result.warnings.append(f"identical requests carry different labels: {ids}")
    distinct = rows_by_config.get("all")
    if distinct is None:
        return
    keys = [request_key(r["prompt"], r["context"]) for r in distinct]
    if len(set(keys)) != len(keys):
        result.errors.append(f"all: {len(keys) - len(set(keys))} rows repeat a request already in the config")
    expected = {
        r["id"] for r in per_source if r["source"] in HARMFUL_SOURCES and r["duplicate_of"] is None
    }
    got = {r["id"] for r in distinct}
    built_harmful = {s for s in HARMFUL_SOURCES if s in rows_by_config}
    if built_harmful and got != expected:
        result.errors.append(
            f"all: ids differ from the first occurrences of the harmful configs "
            f"({len(got - expected)} extra, {len(expected - got)} missing)"
        )
