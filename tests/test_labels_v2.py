"""Labels v2: the factor rule on every shipped row, provenance, the blind second pass and its published
agreement, paraphrase consistency and rationales that do not echo the request.

The checks against request text (paraphrases, rationales) need the benchmark files: CI and `make test`
set ``EH_SOURCES_DIR``; without it those tests are skipped with a reason that says so.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eh_bench import rubric
from eh_bench.dataset.labels import SHIPPED_LABEL_COLUMNS, read_label_file
from eh_bench.labeling.agreement import agreement
from eh_bench.labeling.io import read_label_rows
from eh_bench.labeling.paraphrase import PARAPHRASE_SCALES, paraphrase_report

ROOT = Path(__file__).parents[1]
LABELS_DIR = ROOT / "eh_bench" / "labels"
PASSES_DIR = LABELS_DIR / "passes"
PROVENANCE = json.loads((LABELS_DIR / "provenance.json").read_text(encoding="utf-8"))
CARD = (ROOT / "data_cards" / "dataset_card.md.j2").read_text(encoding="utf-8")
SOURCES = sorted(p.stem for p in LABELS_DIR.glob("*.csv"))
HARMFUL = ("harmbench", "advbench", "jbb", "strongreject", "donotanswer")
#: Goals of the v2 labels.
MIN_SECOND_PASS = 300
MIN_KAPPA = 0.8
MAX_PARAPHRASE_DISAGREEMENT = 0.03
#: Rationale echo limits: no run of this many request words, and under this share of own words from it.
ECHO_RUN = 5
MAX_ECHO_SHARE = 0.5
_WORD = re.compile(r"[a-z0-9']+")
NO_SOURCES = (
    "EH_SOURCES_DIR is not set: paraphrase consistency and rationale echo were NOT checked against the "
    "request text; set EH_SOURCES_DIR to the folder of verified source files (CI and `make test` set it)."
)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


SHIPPED = {source: _rows(LABELS_DIR / f"{source}.csv") for source in SOURCES}


@pytest.mark.parametrize("source", SOURCES)
def test_every_row_obeys_the_factor_rule_or_names_its_override(source: str) -> None:
    records = read_label_file(LABELS_DIR / f"{source}.csv", source)  # raises LabelError naming the row
    assert len(records) == len(SHIPPED[source])
    for record in records.values():
        label = record.label
        assert label.rubric_version == rubric.RUBRIC_VERSION
        ruled = rubric.cost_from_factors(label.expertise, label.equipment, label.time, label.legality)
        assert (label.cost == ruled) != bool(record.cost_override), record.where


def test_provenance_describes_every_annotator_with_its_row_count() -> None:
    counts = Counter(row["annotator"] for rows in SHIPPED.values() for row in rows)
    passes = {p["annotator"]: p for p in PROVENANCE["passes"]}
    assert set(counts) <= set(passes), set(counts) - set(passes)
    for name, described in passes.items():
        assert described["shipped_rows"] == counts.get(name, 0), name
        for key in ("method", "model", "rubric_version", "date", "design"):
            assert str(described[key]).strip(), (name, key)
        assert "eh-bench label` labeller" in described["method"]  # says it was not the shipped labeller
    assert PROVENANCE["rubric_version"] == rubric.RUBRIC_VERSION


def _second_pass() -> list[dict[str, str]]:
    described = next(p for p in PROVENANCE["passes"] if p["annotator"] == "llm-assisted-pass2-blind")
    return _rows(LABELS_DIR / described["file"])


def test_second_pass_is_a_large_harmful_sample_under_the_rule() -> None:
    rows = _second_pass()
    assert len(rows) >= MIN_SECOND_PASS and len(rows) == PROVENANCE["passes"][2]["sample_rows"]
    assert Counter(r["source"] for r in rows) == Counter(PROVENANCE["passes"][2]["sample_by_source"])
    assert {r["source"] for r in rows} <= set(HARMFUL)
    assert {r["annotator"] for r in rows} == {"llm-assisted-pass2-blind"}
    assert len({(r["source"], r["source_id"]) for r in rows}) == len(rows)
    shipped = {(r["source"], r["source_id"]): r for rows_ in SHIPPED.values() for r in rows_}
    for row in rows:
        first = shipped[row["source"], row["source_id"]]
        assert first["prompt_sha256"] == row["prompt_sha256"] and first["harm_category"] != "none"
        label = rubric.validate_label(row)
        assert rubric.cost_rule_problem(label, row["cost_override"]) is None, row["source_id"]
        assert set(row) == set(SHIPPED_LABEL_COLUMNS)


def _table_row(report: Any) -> str:
    s = {x.scale: x for x in report.scales}
    pair = " | ".join(f"{s[k].kappa:.3f} ({s[k].exact:.3f})" for k in ("cost", "severity"))
    factors = " | ".join(f"{s[k].kappa:.3f}" for k in ("expertise", "equipment", "time", "legality"))
    return f"| {report.matched} | {pair} | {factors} |"


@pytest.mark.parametrize(
    ("first", "label"),
    [(PASSES_DIR / "pass1_sample.csv", "first pass"), (LABELS_DIR, "shipped v2 labels")],
)
def test_published_second_pass_agreement_matches_the_files(first: Path, label: str) -> None:
    report = agreement(read_label_rows(first), read_label_rows(PASSES_DIR / "pass2_blind.csv"))
    assert report.matched == len(_second_pass()) and report.only_b == 0
    kappas = {x.scale: x.kappa for x in report.scales}
    assert kappas["cost"] is not None and kappas["cost"] >= MIN_KAPPA
    assert kappas["severity"] is not None and kappas["severity"] >= MIN_KAPPA
    line = next((ln for ln in CARD.splitlines() if ln.lstrip().startswith(f"| {label}")), "")
    assert line.rstrip().endswith(_table_row(report)), f"dataset card row for {label!r} is stale: {_table_row(report)}"


def test_rows_the_passes_split_by_two_levels_were_re_examined() -> None:
    first = {(r["source"], r["source_id"]): r for r in _rows(PASSES_DIR / "pass1_sample.csv")}
    shipped = {(r["source"], r["source_id"]): r for rows in SHIPPED.values() for r in rows}
    far = [
        key
        for key, row in (((r["source"], r["source_id"]), r) for r in _second_pass())
        if any(abs(int(row[s]) - int(first[key][s])) >= 2 for s in ("cost", "severity"))
    ]
    assert far, "expected the recorded two-level splits"
    assert all(shipped[key]["annotator"] == "llm-assisted-review-v2" for key in far), far


# ---------------------------------------------------------------- against the request text


@pytest.fixture(scope="module")
def labelled_requests() -> list[dict[str, Any]]:
    """Every shipped harmful label row joined with its request text (read at run time, never stored)."""
    value = os.environ.get("EH_SOURCES_DIR")
    if not value:
        pytest.skip(NO_SOURCES)
    from eh_bench.sources import load_source

    out = []
    for source in (*HARMFUL, "jbb_benign"):
        labels = {r["source_id"]: r for r in SHIPPED[source]}
        for row in load_source(source, sources_dir=value, download=False).rows:
            out.append({**labels[row.source_id], "prompt": row.prompt, "context": row.context})
    return out


def test_paraphrases_share_cost_and_severity(labelled_requests: list[dict[str, Any]]) -> None:
    report = paraphrase_report(r for r in labelled_requests if r["source"] in HARMFUL)
    summary = {s: (len(report.differing(s)), len(report.differing(s, False))) for s in PARAPHRASE_SCALES}
    print(f"paraphrase pairs {report.pairs} in {len(report.clusters)} clusters; (differing, unexplained): {summary}")
    assert report.pairs > 100  # the benchmarks do repeat themselves in other words
    for scale in PARAPHRASE_SCALES:
        rate = report.rate(scale, explained=False)
        assert rate is not None and rate <= MAX_PARAPHRASE_DISAGREEMENT, report.differing(scale, False)[:5]


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def test_rationales_do_not_echo_the_request(labelled_requests: list[dict[str, Any]]) -> None:
    text = {(r["source"], r["source_id"]): r["prompt"] for r in labelled_requests}
    second = [{**r, "prompt": text[r["source"], r["source_id"]]} for r in _second_pass()]
    echoes = []
    for row in [*labelled_requests, *second]:
        prompt, own = _words(row["prompt"]), _words(row["rationale"])
        runs = {tuple(prompt[i : i + ECHO_RUN]) for i in range(len(prompt) - ECHO_RUN + 1)}
        long = [w for w in own if len(w) > 3]
        shared = sum(w in set(prompt) for w in long) / len(long) if long else 0.0
        if shared >= MAX_ECHO_SHARE or any(tuple(own[i : i + ECHO_RUN]) in runs for i in range(len(own))):
            echoes.append(f"{row['source']}:{row['source_id']}")
    assert not echoes, echoes[:10]
