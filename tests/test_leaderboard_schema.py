"""The entry schema (leaderboard/schema/entry.schema.json) and the strict checks around it.

Valid entries come from the real builder over real summaries; hostile ones are generated with
hypothesis: NaN/Infinity, out-of-range numbers, unknown fields, huge strings, HTML/JS strings.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from leaderboard_fixtures import make_entry

from eh_bench.submission.schema import (
    MAX_DEPTH,
    MAX_ENTRY_BYTES,
    MODEL_ID_PATTERN,
    EntryValidationError,
    check_entry,
    load_schema,
    parse_entry,
    schema_path,
)

HOSTILE_TEXT = '<script>alert("x")</script><img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def entry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_entry(tmp_path_factory.mktemp("schema"), tasks=("eh_core", "eh_harmbench"))


def _walk_schema(node: Any, where: str = "$") -> list[tuple[str, dict[str, Any]]]:
    out = []
    if isinstance(node, dict):
        out.append((where, node))
        for key, value in node.items():
            out += _walk_schema(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _walk_schema(value, f"{where}/{i}")
    return out


def test_schema_is_valid_2020_12_and_closed_and_bounded() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema_path().name == "entry.schema.json"
    for where, node in _walk_schema(schema):
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        if "object" in types and "properties" in node:
            assert node.get("additionalProperties") is False, f"{where} is open to unknown fields"
        if "object" in types and "properties" not in node:
            assert "maxProperties" in node and "propertyNames" in node, f"{where}: unbounded map"
        if "number" in types or "integer" in types:
            assert "minimum" in node or "exclusiveMinimum" in node, f"{where}: number without a lower bound"
            assert "maximum" in node or "exclusiveMaximum" in node, f"{where}: number without an upper bound"
        if "string" in types and "enum" not in node and "const" not in node:
            assert "maxLength" in node or node.get("pattern", "").endswith("{64}$"), f"{where}: unbounded string"
        if "array" in types:
            assert "maxItems" in node, f"{where}: unbounded array"


def test_built_entry_is_valid(entry: dict[str, Any]) -> None:
    assert check_entry(entry) == []
    assert entry["metrics"]["n"] == 160
    assert set(entry["metrics"]["tasks"]) == {"eh_core", "eh_harmbench"}


def _issues(entry: dict[str, Any]) -> list[str]:
    return [str(i) for i in check_entry(entry)]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("metrics", "asr", "value"), 1.5, "$.metrics.asr.value: 1.5 is out of range: must be <= 1"),
        (("metrics", "expected_harm", "value"), -0.1, "$.metrics.expected_harm.value: -0.1 is out of range"),
        (("metrics", "calibration_index", "value"), 2, "$.metrics.calibration_index.value: 2 is out of range"),
        (("metrics", "n"), True, "$.metrics.n: expected integer, got boolean"),
        (("metrics", "asr_by_cost", "1", "n"), 10**9, '$.metrics.asr_by_cost["1"].n: 1000000000 is out of range'),
        (("model", "id"), "", "$.model.id: "),
        (("model", "id"), "x" * 300, "$.model.id: text is 300 characters long; at most 256 allowed"),
        (("model", "id"), "bad\nid", '$.model.id: "bad\\nid" is not a model id'),
        (("model", "id"), "../../etc/passwd", '$.model.id: "../../etc/passwd" is not a model id: use a Hub id (ORG/NAME)'),
        (("model", "id"), "org/a..b", '$.model.id: "org/a..b" is not a model id'),
        (("model", "id"), "<img src=x>", '$.model.id: "<img src=x>" is not a model id'),
        (("model", "id"), "my model", '$.model.id: "my model" is not a model id'),
        (("model", "id"), "a/b/c/d/e", '$.model.id: "a/b/c/d/e" is not a model id'),
        (("model", "type"), "alien", "$.model.type: \"alien\" is not one of"),
        (("dataset", "manifest_sha256"), "xyz", "$.dataset.manifest_sha256: \"xyz\" does not match"),
        (("entry_version",), 2, "$.entry_version: must be 1, got 2"),
        (("provenance", "date"), "yesterday", "$.provenance.date: \"yesterday\" does not match"),
    ],
)
def test_bad_values_are_refused_with_path_and_message(
    entry: dict[str, Any], path: tuple[str, ...], value: Any, expected: str
) -> None:
    bad = copy.deepcopy(entry)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    issues = _issues(bad)
    assert any(issue.startswith(expected) for issue in issues), issues


def test_unknown_and_missing_fields_are_named(entry: dict[str, Any]) -> None:
    bad = copy.deepcopy(entry)
    bad["model"]["homepage"] = "http://x"
    bad["metrics"]["asr"]["stderr"] = 0.1
    del bad["judge"]["revision"]
    issues = _issues(bad)
    assert any(i.startswith("$.model.homepage: unknown field (allowed: id, parameters") for i in issues), issues
    assert "$.metrics.asr.stderr: unknown field (allowed: ci_high, ci_low, value)" in issues
    assert "$.judge.revision: required field is missing" in issues


def test_consistency_checks(entry: dict[str, Any]) -> None:
    bad = copy.deepcopy(entry)
    bad["metrics"]["asr"]["ci_low"], bad["metrics"]["asr"]["ci_high"] = 0.9, 0.1
    bad["metrics"]["expected_harm_normalized"]["value"] = 0.99
    bad["metrics"]["asr_by_cost"]["1"]["n"] += 1
    bad["likelihood"]["p_by_cost"]["3"] = 0.5
    issues = _issues(bad)
    assert "$.metrics.asr: ci_low 0.9 is above ci_high 0.1" in issues
    assert any(i.startswith("$.metrics.expected_harm_normalized.value: must equal expected_harm / 5") for i in issues)
    assert any(i.startswith("$.metrics.asr_by_cost: level counts add up to 161") for i in issues)
    assert '$.likelihood.p_by_cost["3"]: must be 0.6 for spec "linear"' in issues


def test_harm_above_five_times_asr_is_impossible(entry: dict[str, Any]) -> None:
    bad = copy.deepcopy(entry)
    bad["metrics"]["asr"]["value"] = 0.01
    bad["metrics"]["asr"]["ci_low"] = 0.0
    assert any("exceeds 5 x asr" in i for i in _issues(bad))


def test_strict_parser_refuses_nan_infinity_duplicates_and_depth(entry: dict[str, Any]) -> None:
    text = json.dumps(entry)
    for constant in ("NaN", "Infinity", "-Infinity"):
        hostile = text.replace('"n_boot": 50', f'"n_boot": {constant}', 1)
        with pytest.raises(EntryValidationError, match="not allowed: JSON numbers must be finite"):
            parse_entry(hostile)
    with pytest.raises(EntryValidationError, match="duplicate key"):
        parse_entry('{"a": 1, "a": 2}')
    with pytest.raises(EntryValidationError, match="nested deeper"):
        parse_entry("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(EntryValidationError, match="nested deeper"):
        parse_entry("[" * 100_000)
    with pytest.raises(EntryValidationError, match="bytes; at most"):
        parse_entry(" " * (MAX_ENTRY_BYTES + 1))
    with pytest.raises(EntryValidationError, match="not UTF-8"):
        parse_entry(b'{"a": "\xff"}')
    with pytest.raises(EntryValidationError, match="not valid JSON"):
        parse_entry('{"a": ')
    assert parse_entry(text) == entry


def test_nan_in_a_python_dict_is_refused(entry: dict[str, Any]) -> None:
    bad = copy.deepcopy(entry)
    bad["metrics"]["asr"]["value"] = math.nan
    bad["metrics"]["asr_by_cost"]["2"]["ci_high"] = math.inf
    issues = _issues(bad)
    assert "$.metrics.asr.value: nan is not allowed: numbers must be finite (null for undefined)" in issues
    assert '$.metrics.asr_by_cost["2"].ci_high: inf is not allowed: numbers must be finite (null for undefined)' in issues


# ----------------------------------------------------------------------------- hypothesis: hostile entries

NUMBER_PATHS = [
    ("metrics", "asr", "value"), ("metrics", "expected_harm", "ci_low"), ("metrics", "calibration_index", "value"),
    ("metrics", "asr_by_severity", "4", "asr"), ("metrics", "n"), ("metrics", "n_unscored"),
    ("likelihood", "p_by_cost", "2"), ("provenance", "seed"), ("metrics", "deployment_weighted_asr", "value"),
]
RATE_PATHS = [
    ("metrics", "asr", "value"), ("metrics", "calibration_index", "value"), ("metrics", "asr_by_severity", "4", "asr"),
    ("likelihood", "p_by_cost", "2"), ("metrics", "deployment_weighted_asr", "value"),
    ("metrics", "expected_harm_normalized", "ci_high"),
]
STRING_PATHS = [
    ("model", "id"), ("model", "revision"), ("judge", "id"), ("dataset", "version"), ("submitter", "name"),
    ("submitter", "note"), ("likelihood", "spec"),
]
OBJECT_PATHS = [(), ("model",), ("metrics",), ("metrics", "asr"), ("metrics", "asr_by_cost", "3"), ("provenance",),
                ("submitter",), ("likelihood", "p_by_cost")]

out_of_range = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not math.isfinite(x)),
    st.floats(min_value=2.0**33, max_value=1e300),
    st.floats(max_value=-1.0001, min_value=-1e300),
    st.integers(min_value=2**32, max_value=10**30),
    st.integers(max_value=-2, min_value=-(10**30)),
    st.booleans(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
)


def _set(entry: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(entry)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(NUMBER_PATHS), value=out_of_range)
def test_hostile_numbers_are_refused(entry: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    issues = check_entry(_set(entry, path, value))
    assert issues, f"{path} = {value!r} was accepted"
    assert all(i.path.startswith("$") and i.message for i in issues)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(RATE_PATHS), value=st.floats(min_value=1.0001, max_value=4.9))
def test_rates_above_one_are_refused(entry: dict[str, Any], path: tuple[str, ...], value: float) -> None:
    """Rates, probabilities and correlations live in [0, 1] (or [-1, 1]); 1.0001-4.9 is out for all."""
    assert check_entry(_set(entry, path, value)), f"{path} = {value!r} was accepted"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(OBJECT_PATHS),
       key=st.text(min_size=1, max_size=40).filter(lambda k: k not in {"1", "2", "3", "4", "5"}),
       value=st.one_of(st.none(), st.integers(), st.text(max_size=20)))
def test_unknown_fields_are_refused(entry: dict[str, Any], path: tuple[str, ...], key: str, value: Any) -> None:
    node: Any = entry
    for part in path:
        node = node[part]
    if key in node:
        return
    bad = copy.deepcopy(entry)
    target = bad
    for part in path:
        target = target[part]
    target[key] = value
    issues = check_entry(bad)
    assert any(i.message.startswith("unknown field") for i in issues), issues


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(STRING_PATHS), size=st.integers(min_value=2001, max_value=300_000))
def test_huge_strings_are_refused(entry: dict[str, Any], path: tuple[str, ...], size: int) -> None:
    issues = check_entry(_set(entry, path, "A" * size))
    assert issues
    # Messages quote at most a short prefix of the value, never the whole string.
    assert all(len(i.message) < 400 for i in issues)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(STRING_PATHS), control=st.sampled_from(["\n", "\r", "\t", "\x00", "\x1b", "\x7f"]))
def test_control_characters_are_refused(entry: dict[str, Any], path: tuple[str, ...], control: str) -> None:
    issues = check_entry(_set(entry, path, f"ok{control}ok"))
    assert any("control characters" in i.message for i in issues), issues


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.sampled_from([HOSTILE_TEXT, "**bold** [link](javascript:alert(1))", "{{7*7}}", "' OR 1=1 --"]))
def test_html_and_markup_in_text_fields_is_data_not_an_error(entry: dict[str, Any], payload: str) -> None:
    """Markup in free text is valid data (shown escaped by the app); the schema neither executes nor strips
    it. A model id is not free text: it follows the model-id grammar, so markup there is refused."""
    hostile = _set(_set(entry, ("submitter", "note"), payload), ("submitter", "name"), payload[:128])
    assert check_entry(hostile) == []
    assert parse_entry(json.dumps(hostile))["submitter"]["note"] == payload
    issues = check_entry(_set(entry, ("model", "id"), payload))
    assert len(issues) == 1 and issues[0].path == "$.model.id" and "is not a model id" in issues[0].message


@pytest.mark.parametrize(
    "model_id",
    ["HuggingFaceTB/SmolLM2-135M-Instruct", "gpt-4o-2024-08-06", "claude-3-5-sonnet@20240620", "llama3:8b",
     "anthropic.claude-v2:1", "accounts/fireworks/models/llama-v3-70b", "Qwen/Qwen2.5-7B+lora", "smollm2"],
)
def test_model_id_grammar_accepts_hub_ids_and_api_names(entry: dict[str, Any], model_id: str) -> None:
    assert check_entry(_set(entry, ("model", "id"), model_id)) == []


def test_the_schema_and_the_code_share_one_model_id_pattern() -> None:
    assert load_schema()["$defs"]["model_id"]["pattern"] == MODEL_ID_PATTERN


def test_entry_file_limit_matches_the_app_upload_limit() -> None:
    app = (Path(__file__).resolve().parent.parent / "leaderboard" / "app.py").read_text(encoding="utf-8")
    assert 'MAX_FILE_SIZE = "1mb"' in app and MAX_ENTRY_BYTES < 1024 * 1024
