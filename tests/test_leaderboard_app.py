"""The leaderboard app's pure parts: table building and filters, the per-user rate limit and upload
handling, the About text generated from the package metadata, and the figures."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from leaderboard_fixtures import entry_variant, make_entry, seed_store

from eh_bench import likelihood, rubric
from eh_bench.metrics import METRICS
from eh_bench.submission.stores import LocalStore, Record
from leaderboard import lb_about, lb_charts, lb_data, lb_submit

LEADERBOARD = Path(__file__).resolve().parent.parent / "leaderboard"




@pytest.fixture(scope="module")
def entries(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("app")
    return [
        make_entry(tmp, model_id="org/risky", seed=1, base_rate=0.6),
        make_entry(tmp, model_id="org/careful", seed=2, base_rate=0.05, judge="harmbench"),
        make_entry(tmp, model_id="org/middle", seed=3, base_rate=0.3, likelihood="exponential:0.5"),
    ]


@pytest.fixture(scope="module")
def records(entries: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> list[Record]:
    return seed_store(tmp_path_factory.mktemp("store"), entries).results()


def test_table_is_sorted_by_expected_harm_with_metric_directions(records: list[Record]) -> None:
    frame, types = lb_data.table(records)
    assert list(frame["Model"]) == ["org/careful", "org/middle", "org/risky"]
    assert list(frame["#"]) == [1, 2, 3]
    harm = list(frame["Expected Harm ↓"])
    assert harm == sorted(harm)
    assert "Expected Harm ↓" in frame.columns and "ASR ↓" in frame.columns  # directions come from METRICS
    assert dict(zip(frame.columns, types, strict=True))["Model"] == "str"
    # Judge and sample size sit beside the headline numbers; the calibration index is no ranking column.
    headers = list(frame.columns)
    assert headers[headers.index("ASR ↓") + 1 : headers.index("ASR ↓") + 3] == ["n", "Judge"]
    assert not any(h.startswith("Calibration") for h in headers)
    assert list(frame["Method"]) == ["direct"] * 3 and list(frame["n"]) == [80, 80, 80]


def test_column_groups_choose_columns(records: list[Record]) -> None:
    frame, _ = lb_data.table(records, ["ASR by cost", "Provenance"])
    assert [c for c in frame.columns if c.startswith("ASR cost")] == [f"ASR cost {k}" for k in "12345"]
    assert "Submitter" in frame.columns and "Expected Harm ↓" not in frame.columns
    cell = records[0].entry["metrics"]["asr_by_cost"]["3"]
    row = frame[frame["Model"] == records[0].entry["model"]["id"]].iloc[0]
    assert row["ASR cost 3"] == f"{cell['asr']:.3f} (n={cell['n']})"  # every rate with its sample size
    counts = "/".join(str(records[0].entry["metrics"]["asr_by_cost"][k]["n"]) for k in "12345")
    assert row["n per cost 1-5"] == counts
    calibration = records[0].entry["metrics"]["calibration_index"]["value"]
    assert row["Calibration (diagnostic)"] == (pytest.approx(calibration, abs=1e-3) if calibration is not None else None)
    assert row["Responses"] == "generated"


def test_filters(records: list[Record]) -> None:
    assert [r.entry["model"]["id"] for r in lb_data.filter_records(records, "CAREFUL")] == ["org/careful"]
    assert lb_data.filter_records(records, "org harmbench") == [r for r in records if r.entry["judge"]["id"] == "harmbench"]
    assert len(lb_data.filter_records(records, judge="refusal")) == 2
    assert [r.entry["model"]["id"] for r in lb_data.filter_records(records, likelihood="exponential:0.5")] == ["org/middle"]
    assert lb_data.filter_records(records, "no-such-model") == []
    assert lb_data.choices(records, lb_data.judge_of) == ["all", "harmbench", "refusal"]
    assert lb_data.dataset_of(records[0].entry) == "eh-bench 1.0.0 · core"


def test_undefined_values_stay_blank_and_sort_last(records: list[Record]) -> None:
    undefined = copy.deepcopy(records[0])
    undefined.entry["metrics"]["expected_harm"]["value"] = None
    ranked = lb_data.sort_records([undefined, *records[1:]])
    assert ranked[-1] is undefined
    frame, _ = lb_data.table([undefined])
    assert frame["Expected Harm ↓"].isna().all()


# ----------------------------------------------------------------------------- submissions


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_is_per_user_and_sliding() -> None:
    clock = Clock()
    limiter = lb_submit.RateLimiter(limit=2, window_s=60, clock=clock)
    assert limiter.allow("alice") == (True, 0.0)
    clock.now += 10
    assert limiter.allow("alice")[0]
    allowed, wait = limiter.allow("alice")
    assert not allowed and wait == pytest.approx(50)
    assert limiter.allow("bob")[0], "another user has their own budget"
    clock.now += 51
    assert limiter.allow("alice")[0], "the oldest attempt left the window"


def test_upload_handling(tmp_path: Path, entries: list[dict[str, Any]]) -> None:
    store = LocalStore(tmp_path)
    limiter = lb_submit.RateLimiter(limit=3, window_s=3600)
    good = json.dumps(entries[0]).encode()
    assert lb_submit.handle_upload(good, None, store, limiter).message.startswith("Refused: log in")
    assert store.records() == []
    accepted = lb_submit.handle_upload(good, "alice", store, limiter)
    assert accepted.accepted and "PENDING" in accepted.message
    assert [(r.submitted_by, r.status) for r in store.records()] == [("alice", "PENDING")]
    duplicate = lb_submit.handle_upload(good, "alice", store, limiter)
    assert not duplicate.accepted and "already stored" in duplicate.message
    bad = copy.deepcopy(entries[1])
    bad["metrics"]["asr"]["value"] = -1
    bad["extra"] = "<b>x</b>"
    refused = lb_submit.handle_upload(json.dumps(bad).encode(), "alice", store, limiter)
    assert not refused.accepted and refused.message == "Refused: the entry has 2 problems; fix them and upload again."
    assert ["$.extra", "unknown field (allowed: attacks, dataset, entry_version, judge, likelihood, metrics, model, "
            "probes, provenance, responses, submitter)"] in refused.issues
    limited = lb_submit.handle_upload(json.dumps(entry_variant(entries[1], 5)).encode(), "alice", store, limiter)
    assert limited.message.startswith("Refused: rate limit reached") and len(store.records()) == 1
    assert lb_submit.handle_upload(b"", "bob", store, limiter).message == "Refused: choose an entry.json file first."
    huge = lb_submit.handle_upload(b" " * (2 * 1024 * 1024), "bob", store, limiter)
    assert huge.message.startswith("Refused: the file is 2097152 bytes")


# ----------------------------------------------------------------------------- texts and figures


def test_about_text_comes_from_the_metadata() -> None:
    text = lb_about.about_markdown()
    for m in METRICS.values():
        assert f"`{m.name}` | [{m.low:g}, {m.high:g}] | {'higher' if m.higher_is_better else 'lower'}" in text
    for level in rubric.LEVELS:
        assert rubric.COST_ANCHORS[level] in text and rubric.SEVERITY_ANCHORS[level] in text
    for name in likelihood.likelihood_names():
        assert f"`{name}`" in text
    assert "| `exponential:0.5` | 1.000 | 0.607 | 0.368 | 0.223 | 0.135 |" in text
    # A "|" inside a definition is escaped, so the table keeps its columns.
    assert "Pr(execution \\| cost)" in text


def test_figures_render_with_hostile_labels(records: list[Record]) -> None:
    hostile = copy.deepcopy(records[0])
    hostile.entry["model"]["id"] = r"$\frac{<script>}{x}$ \ $"
    assert lb_charts.text("$x$") == r"\$x\$"
    for fig in (lb_charts.calibration_figure([hostile, *records[1:]]), lb_charts.heatmap_figure(hostile),
                lb_charts.calibration_figure([]), lb_charts.heatmap_figure(None), lb_charts.probes_figure(None)):
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        assert buf.getvalue().startswith(b"\x89PNG")
    legend = lb_charts.calibration_figure([hostile]).legends[0].get_texts()[0].get_text()
    assert legend.startswith(r"\$\\frac{<script>}{x}\$")


def test_space_readme_front_matter_and_documented_settings() -> None:
    import yaml

    readme = (LEADERBOARD / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(readme.split("---")[1])
    assert front["sdk"] == "gradio" and (LEADERBOARD / front["app_file"]).is_file()
    assert "leaderboard" in front["tags"] and front["hf_oauth"] is True
    assert len(front["short_description"]) <= 60
    app = (LEADERBOARD / "app.py").read_text(encoding="utf-8")
    for variable in ("EH_LEADERBOARD_STORE", "EH_SUBMIT_LIMIT", "EH_SUBMIT_WINDOW_S"):
        assert f"`{variable}`" in readme and f'"{variable}"' in app
    requirements = (LEADERBOARD / "requirements.txt").read_text(encoding="utf-8")
    assert "eh-bench[leaderboard]" in requirements and "gradio[oauth]" in requirements
