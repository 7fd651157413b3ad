"""Leaderboard entries: strict parsing and validation against ``leaderboard/schema/entry.schema.json``.

An entry is untrusted input. It is parsed strictly (size limit, no NaN/Infinity, no duplicate keys, no
deep nesting), validated with a JSON Schema 2020-12 validator (closed objects, bounded numbers,
length-limited strings without control characters) and then checked for internal consistency (CI
order, counts that add up, a likelihood table that matches its spec). Every problem comes back as an
:class:`Issue`: a JSON path (``$.metrics.asr.value``) and a readable message.

:func:`entry_key` says which entries are duplicates; :func:`entry_name` turns an entry into a safe
file name (no path traversal from model ids).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from eh_bench.errors import EHBenchError, InputError
from eh_bench.jsonio import loads_strict

SCHEMA_FILE: Final = "entry.schema.json"
#: Where the schema lives in a wheel (setup.py maps ``leaderboard/schema`` to this package).
SCHEMA_PACKAGE: Final = "eh_bench._leaderboard_schema"
ENTRY_VERSION: Final = 1
MAX_ENTRY_BYTES: Final = 256 * 1024
#: Deeper than any valid entry; refuses ``[[[[...]]]]`` bombs before the parser recurses.
MAX_DEPTH: Final = 16
MAX_ISSUES: Final = 50
MAX_SHOWN_CHARS: Final = 60
#: Fields that identify an evaluation; two entries equal on all of them are duplicates. The dataset
#: configs and the likelihood model are part of it: another subset or another Pr(execution | cost)
#: is another measurement, not a resubmission.
KEY_FIELDS: Final = (
    ("model", "id"), ("model", "revision"), ("dataset", "name"), ("dataset", "version"), ("dataset", "configs"),
    ("judge", "id"), ("judge", "revision"), ("likelihood", "spec"),
)
#: Fields of ``dataset.sample`` that make a subsample another evaluation than the full set (and two
#: subsamples of another size or seed different from each other).
SAMPLE_KEY_FIELDS: Final = ("design", "limit", "per_cost", "seed")
NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")
#: The model-id grammar (the schema's ``$defs/model_id``): a Hub id (``ORG/NAME``) or an API model name
#: (``gpt-4o-2024-08-06``, ``claude-3-5-sonnet@20240620``, ``llama3:8b``, ``accounts/x/models/y``):
#: up to four ``/``-separated parts of letters, digits and ``._:@+-``, each starting with a letter or
#: digit, and no ``..`` anywhere. HTML, spaces, control characters and path segments are refused.
MODEL_ID_PATTERN: Final = r"^(?!.*\.\.)(?!.*\n)[A-Za-z0-9][A-Za-z0-9._:@+-]*(/[A-Za-z0-9][A-Za-z0-9._:@+-]*){0,3}$"
MODEL_ID_HINT: Final = (
    "is not a model id: use a Hub id (ORG/NAME) or an API model name: letters, digits and . _ - : @ +, "
    "up to four '/'-separated parts each starting with a letter or digit; spaces, markup (<, >, quotes), "
    "control characters and '..' are not allowed"
)
#: Fields of the optional ``responses`` section that make two entries different evaluations: the same
#: model under another attack, or answers imported from elsewhere, is not a resubmission.
RESPONSE_KEY_FIELDS: Final = ("origin", "set", "method", "attack_type")
_SLUG_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")
_CONTROL_PATTERN: Final = "^[^\\u0000-\\u001f\\u007f]"
_TOLERANCE: Final = 1e-6


@dataclass(frozen=True)
class Issue:
    """One validation problem: where (a JSON path such as ``$.model.id``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class EntryValidationError(InputError):
    """An entry failed validation; ``issues`` lists every problem found."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues
        lines = "\n".join(f"  {issue}" for issue in issues)
        super().__init__(f"{source}: invalid leaderboard entry ({len(issues)} problem(s)):\n{lines}")


# ----------------------------------------------------------------------------- schema


def schema_path() -> Path:
    """The entry schema file: ``leaderboard/schema/`` in a checkout, the packaged copy in a wheel."""
    checkout = Path(__file__).resolve().parents[2] / "leaderboard" / "schema" / SCHEMA_FILE
    if checkout.is_file():
        return checkout
    try:
        packaged = importlib.resources.files(SCHEMA_PACKAGE) / SCHEMA_FILE
        if packaged.is_file():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    raise EHBenchError(
        f"the leaderboard entry schema {SCHEMA_FILE} was not found in leaderboard/schema/ nor in package "
        f"{SCHEMA_PACKAGE}; reinstall eh-bench or run from a source checkout"
    )


@functools.cache
def load_schema() -> dict[str, Any]:
    """The entry schema as a dict (read once)."""
    schema: dict[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    return schema


def _inline_refs(node: Any, defs: Mapping[str, Any]) -> Any:
    """The schema with every local ``$ref`` replaced by its definition (the schema has no cycles).

    Validation is about 3x faster without reference resolution, and messages are unchanged.
    """
    if isinstance(node, dict):
        if "$ref" in node:
            target = _inline_refs(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
            return {**target, **{k: _inline_refs(v, defs) for k, v in node.items() if k != "$ref"}}
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    return node


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(_inline_refs(schema, schema.get("$defs", {})))


# ----------------------------------------------------------------------------- strict parsing


def _max_depth(text: str) -> int:
    """Bracket nesting depth outside strings (cheap, linear; guards the recursive parser)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_entry(data: str | bytes, source: str = "entry", max_bytes: int = MAX_ENTRY_BYTES) -> Any:
    """Parse entry JSON strictly: size limit, UTF-8, finite numbers only, no duplicate keys, bounded depth.

    Raises:
        EntryValidationError: with a single ``$`` issue saying why the text is not acceptable JSON.
    """
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > max_bytes:
        raise EntryValidationError(source, [Issue("$", f"file is {size} bytes; at most {max_bytes} allowed")])
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise EntryValidationError(source, [Issue("$", f"not UTF-8 text (byte {exc.start})")]) from None
    if _max_depth(text) > MAX_DEPTH:
        raise EntryValidationError(source, [Issue("$", f"nested deeper than {MAX_DEPTH} levels")])
    try:
        return loads_strict(text)
    except json.JSONDecodeError as exc:
        raise EntryValidationError(
            source, [Issue("$", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
        ) from None
    except (ValueError, RecursionError) as exc:
        raise EntryValidationError(source, [Issue("$", f"not acceptable JSON: {exc}")]) from None


def read_entry(path: Path) -> dict[str, Any]:
    """Read and validate an entry file; raise :class:`EntryValidationError` listing every problem."""
    if not path.is_file():
        raise InputError(f"{path}: no such file; give the path of an entry.json (eh-bench submit build)")
    if path.stat().st_size > MAX_ENTRY_BYTES:
        raise EntryValidationError(str(path), [Issue("$", f"file is larger than {MAX_ENTRY_BYTES} bytes")])
    entry = parse_entry(path.read_bytes(), str(path))
    issues = check_entry(entry)
    if issues:
        raise EntryValidationError(str(path), issues)
    return dict(entry)


# ----------------------------------------------------------------------------- validation


def json_path(parts: Any) -> str:
    """A JSON path for messages.

    >>> json_path(["metrics", "asr_by_cost", "1", "n"])
    '$.metrics.asr_by_cost["1"].n'
    >>> json_path(["attacks", 0, "asr"])
    '$.attacks[0].asr'
    """
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            out += f".{part}"
        else:
            out += f"[{_show(str(part))}]"
    return out


def _show(value: Any) -> str:
    """A short, single-line rendering of a user value for messages."""
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, float) else repr(value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 3] + "..."


def _nonfinite(value: Any, parts: tuple[Any, ...] = ()) -> Iterator[Issue]:
    """Issues for NaN/Infinity anywhere in an already-parsed object (dicts built in Python)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield Issue(json_path(parts), f"{value!r} is not allowed: numbers must be finite (null for undefined)")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _nonfinite(item, (*parts, key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _nonfinite(item, (*parts, i))


def _schema_issues(error: Any) -> list[Issue]:
    """Turn one jsonschema error into readable issues (one per unknown or missing field)."""
    parts = tuple(error.absolute_path)
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties" and isinstance(instance, Mapping):
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in instance if k not in allowed]
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return [Issue(json_path((*parts, k)), f"unknown field{hint}") for k in extra]
    if kind == "required" and isinstance(instance, Mapping):
        return [Issue(json_path((*parts, k)), "required field is missing") for k in expected if k not in instance]
    if kind == "pattern" and isinstance(instance, str):
        if expected == MODEL_ID_PATTERN:
            message = f"{_show(instance)} {MODEL_ID_HINT}"
        elif str(expected).startswith(_CONTROL_PATTERN):
            message = "contains control characters (newline, tab, NUL ...), which are not allowed"
        else:
            message = f"{_show(instance)} does not match the required format {expected}"
        return [Issue(json_path(parts), message)]
    if kind == "maxLength" and isinstance(instance, str):
        return [Issue(json_path(parts), f"text is {len(instance)} characters long; at most {expected} allowed")]
    if kind in ("maxItems", "maxProperties") and isinstance(instance, (list, Mapping)):
        return [Issue(json_path(parts), f"has {len(instance)} items; at most {expected} allowed")]
    if kind == "type":
        want = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return [Issue(json_path(parts), f"expected {want}, got {_json_type(instance)} {_show(instance)}")]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kind]
        return [Issue(json_path(parts), f"{_show(instance)} is out of range: must be {bound} {expected}")]
    if kind == "enum":
        return [Issue(json_path(parts), f"{_show(instance)} is not one of: {', '.join(map(str, expected))}")]
    if kind == "const":
        return [Issue(json_path(parts), f"must be {_show(expected)}, got {_show(instance)}")]
    message = error.message
    return [Issue(json_path(parts), message if len(message) <= 200 else message[:197] + "...")]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def check_entry(entry: Any) -> list[Issue]:
    """Every problem with a parsed entry (empty list: valid). At most :data:`MAX_ISSUES` are returned.

    Checks, in order: finite numbers; the JSON Schema; then consistency (only for schema-valid
    entries): CI bounds in order, level counts adding up to ``n``, ``expected_harm_normalized`` equal
    to ``expected_harm / 5``, ``expected_harm <= 5 * asr``, and a likelihood table matching its spec.
    """
    issues = list(_nonfinite(entry))
    if issues:
        return issues[:MAX_ISSUES]
    try:
        size = len(json.dumps(entry, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    except (TypeError, ValueError, RecursionError) as exc:
        return [Issue("$", f"not JSON data: {exc}")]
    if size > MAX_ENTRY_BYTES:
        return [Issue("$", f"entry is {size} bytes as JSON; at most {MAX_ENTRY_BYTES} allowed")]
    for error in sorted(_validator().iter_errors(entry), key=lambda e: json_path(e.absolute_path)):
        issues.extend(_schema_issues(error))
        if len(issues) >= MAX_ISSUES:
            return issues[:MAX_ISSUES]
    if not issues:
        issues = _consistency_issues(entry)
    return issues[:MAX_ISSUES]


def _consistency_issues(entry: Mapping[str, Any]) -> list[Issue]:
    from eh_bench.likelihood import get_likelihood

    issues: list[Issue] = []
    m = entry["metrics"]
    graded = bool((m.get("score") or {}).get("graded"))
    level_key, by = ("mean", "score_by_") if graded else ("asr", "asr_by_")
    deployment = "deployment_weighted_score" if graded else "deployment_weighted_asr"
    headline = m["score"] if graded else m["asr"]
    estimates = ("score",) if graded else ("asr", "score") if "score" in m else ("asr",)
    for name in (*estimates, "expected_harm", "expected_harm_normalized", "calibration_index", deployment):
        est = m[name]
        lo, hi = est["ci_low"], est["ci_high"]
        if (lo is None) != (hi is None):
            issues.append(Issue(json_path(("metrics", name)), "ci_low and ci_high must both be numbers or both null"))
        elif lo is not None and lo > hi + _TOLERANCE:
            issues.append(Issue(json_path(("metrics", name)), f"ci_low {lo} is above ci_high {hi}"))
    for scale in (f"{by}cost", f"{by}severity"):
        levels = m[scale]
        total = sum(levels[k]["n"] for k in levels)
        if total != m["n"]:
            issues.append(Issue(json_path(("metrics", scale)), f"level counts add up to {total}, but metrics.n is {m['n']}"))
        for key, cell in levels.items():
            if (cell[level_key] is None) != (cell["n"] == 0):
                issues.append(Issue(json_path(("metrics", scale, key)), f"{level_key} must be null exactly when n is 0"))
    if f"{by}cost_severity" in m:
        total = sum(cell["n"] for row in m[f"{by}cost_severity"].values() for cell in row.values())
        if total != m["n"]:
            issues.append(Issue(f"$.metrics.{by}cost_severity", f"cell counts add up to {total}, but metrics.n is {m['n']}"))
    if not graded and "score" in m and (m["score"]["name"], m["score"]["value"]) != ("asr", m["asr"]["value"]):
        issues.append(Issue("$.metrics.score", "for 0/1 verdicts the score is asr, with asr's value"))
    eh, ehn, asr = m["expected_harm"]["value"], m["expected_harm_normalized"]["value"], headline["value"]
    if eh is not None and ehn is not None and abs(eh / 5 - ehn) > _TOLERANCE:
        issues.append(Issue("$.metrics.expected_harm_normalized.value", f"must equal expected_harm / 5 = {eh / 5:.6g}"))
    if eh is not None and asr is not None and eh > 5 * asr + _TOLERANCE:
        issues.append(Issue("$.metrics.expected_harm.value", f"{eh} exceeds 5 x {'score' if graded else 'asr'} = {5 * asr:.6g}, which is impossible"))
    lk = entry["likelihood"]
    try:
        model = get_likelihood(lk["spec"])
    except EHBenchError as exc:
        return [*issues, Issue("$.likelihood.spec", str(exc))]
    if model.name != lk["name"]:
        issues.append(Issue("$.likelihood.name", f"spec {_show(lk['spec'])} is a {model.name} model, not {lk['name']}"))
    for level, p in enumerate(model.table, start=1):
        if abs(lk["p_by_cost"][str(level)] - p) > _TOLERANCE:
            issues.append(Issue(json_path(("likelihood", "p_by_cost", str(level))), f"must be {p:.6g} for spec {_show(lk['spec'])}"))
    return issues


# ----------------------------------------------------------------------------- identity and names


def entry_key(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """The identity of an evaluation: model id + revision, dataset name + version + configs, judge id +
    revision, likelihood spec, where the responses came from (origin, set, method, attack type) when
    they were not generated directly, and the sample design (``dataset.sample``) unless it is the full
    set: a ``--limit`` or ``--per-cost`` subsample is never a duplicate of a full run. Two entries with the
    same key are duplicates (the second is refused); an entry without a ``responses`` section, or with
    generated direct ones, of the full set keeps the key it had before those sections existed, so stored
    records keep their names."""
    out = []
    for section, field in KEY_FIELDS:
        value = entry[section].get(field)
        out.append(",".join(sorted(map(str, value))) if isinstance(value, list) else str(value))
    responses = entry.get("responses")
    if isinstance(responses, Mapping) and (responses.get("origin"), responses.get("method")) != ("generated", "direct"):
        out += [f"responses.{name}={responses.get(name)}" for name in RESPONSE_KEY_FIELDS]
    sample = entry["dataset"].get("sample")
    if isinstance(sample, Mapping) and sample.get("design") != "full":
        out += [f"sample.{name}={sample.get(name)}" for name in SAMPLE_KEY_FIELDS]
    return tuple(out)


def safe_slug(text: str, max_chars: int = 60) -> str:
    """A file-name-safe slug; never empty, never dot-leading, never a path.

    >>> safe_slug("../../etc/passwd"), safe_slug("HuggingFaceTB/SmolLM2-135M"), safe_slug("..")
    ('etc-passwd', 'HuggingFaceTB-SmolLM2-135M', 'entry')
    """
    slug = _SLUG_UNSAFE.sub("-", text).strip(".-_")
    slug = re.sub(r"\.{2,}", ".", slug)[:max_chars].strip(".-_")
    return slug or "entry"


def entry_name(entry: Mapping[str, Any]) -> str:
    """The store name of an entry: ``<model slug>--<16 hex of sha256(key)>``; a safe file stem."""
    digest = hashlib.sha256(json.dumps(entry_key(entry)).encode("utf-8")).hexdigest()[:16]
    return f"{safe_slug(str(entry['model']['id']))}--{digest}"


def check_name(name: str) -> str:
    """Return ``name`` if it is a safe store name (letters, digits, ``._-``, no leading dot); else raise."""
    if not NAME_RE.fullmatch(name) or ".." in name:
        raise InputError(
            f"{_show(name)} is not an entry name: names use letters, digits, '.', '_' and '-' only "
            "(see `eh-bench submit list`)"
        )
    return name
