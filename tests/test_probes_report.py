"""A probe run's report folder and leaderboard rows, from synthetic hidden states (no model needed)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from leaderboard_fixtures import make_report, write_report

from eh_bench.probes.decode import decode_target
from eh_bench.probes.labels import contrast_labels
from eh_bench.probes.levels import activation_levels
from eh_bench.probes.probe import ArrayLayers, probe_refusal
from eh_bench.probes.report import probe_rows, save_probe_report
from eh_bench.probes.run import ProbeRun, ProbeSettings
from eh_bench.probes.sets import ProbeItem, text_sha256
from eh_bench.probes.summary import decodability_summary
from eh_bench.report.document import read_report
from eh_bench.submission.entries import build_entry
from eh_bench.submission.stores.base import Record

WORDS = ("kettle", "harbour", "maple", "violin", "pebble", "lantern", "meadow", "biscuit")
N_HARMFUL, N_BENIGN, LAYERS, DIM = 50, 30, 4, 16


def synthetic_run(refusal_scored: bool = True) -> ProbeRun:
    """A run over harmless stand-in prompts whose states carry the label and the severity."""
    rng = np.random.default_rng(0)
    items = []
    for i in range(N_HARMFUL + N_BENIGN):
        harmful = i < N_HARMFUL
        text = " ".join(rng.choice(WORDS, size=5)) + f" {i}"
        items.append(ProbeItem(f"x:{i}", "core" if harmful else "core_benign", text, text_sha256(text), harmful,
                               1 + i % 5 if harmful else None, 1 + (i // 5) % 5 if harmful else None))
    labels = contrast_labels(items, "core_benign")
    y = np.array(labels.values, dtype=float)
    severity = np.array([np.nan if i.severity is None else i.severity for i in items])
    cost = np.array([np.nan if i.cost is None else i.cost for i in items])
    states = rng.normal(size=(len(items), LAYERS, DIM))
    states[:, 2:, 0] += 2 * y[:, None]
    states[:N_HARMFUL, 3, 1] += severity[:N_HARMFUL]
    source = ArrayLayers(states)
    groups, texts = [i.sha256 for i in items], [i.text for i in items]
    settings = ProbeSettings(limit=N_HARMFUL, n_perm=39, probe_perm=4, n_boot=100)
    run = ProbeRun(settings, {"id": "tiny-model", "revision": "abc123", "source": "cli", "spec": "hf:tiny",
                              "dtype": "float32", "device": "cpu"}, items, labels,
                   {"store": "-", "extracted": len(items), "reused": 0, "skipped": 0, "seconds": 0.0, "tokens": 0,
                    "n_layers": LAYERS, "dim": DIM})
    if refusal_scored:
        run.refusal = probe_refusal(source, y, groups, texts, n_boot=100, n_perm=4)
        run.levels = activation_levels([p.probability for p in run.refusal.layers], severity, cost,
                                       [i.harmful for i in items], n_boot=100)
    else:
        run.unscored["refusal"] = "a refusal probe needs at least 4 requests per class; got 0 with label 1"
    harmful = ArrayLayers(states[:N_HARMFUL])
    run.severity = decode_target(harmful, severity[:N_HARMFUL], groups[:N_HARMFUL], texts[:N_HARMFUL],
                                 target="severity", n_perm=39, n_boot=100)
    run.cost = decode_target(harmful, cost[:N_HARMFUL], groups[:N_HARMFUL], texts[:N_HARMFUL], target="cost",
                             strata=severity[:N_HARMFUL], strata_name="severity", n_perm=39, n_boot=100)
    run.summary = decodability_summary("tiny-model", run.severity, run.cost)
    return run


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[ProbeRun, Path]:
    run = synthetic_run()
    out = tmp_path_factory.mktemp("probe-report")
    save_probe_report(run, out)
    return run, out


def test_the_folder_is_an_eh_bench_report_with_every_section(written: tuple[ProbeRun, Path]) -> None:
    _, out = written
    report = read_report(out)
    assert report["kind"] == "probes" and report["tasks"] == {} and report["model"]["revision"] == "abc123"
    assert report["judge"]["used_for_labels"] is False and report["likelihood"]["used"] is False
    p = report["probes"]
    assert p["label_source"] == "contrast:core_benign" and p["counts"]["n_benign"] == N_BENIGN
    assert len(p["refusal"]["layers"]) == LAYERS and len(p["levels"]) == LAYERS
    assert p["refusal"]["best"]["logistic"]["layer"] in (2, 3)
    assert p["summary"]["severity"]["decodable"] is True and p["summary"]["severity"]["layer"] == 3
    markdown = (out / "report.md").read_text()
    assert p["summary"]["line"] in markdown and "| 3 |" in markdown and "Activation score by level" in markdown
    assert len(report["files"]["plots"]) == 5 and all((out / f).is_file() for f in report["files"]["plots"])
    items = json.loads((out / "items.json").read_text())
    assert len(items) == N_HARMFUL + N_BENIGN and set(items[0]) == {"id", "config", "sha256", "harmful", "cost",
                                                                      "severity", "label"}


def test_rows_join_an_entry_and_draw_the_probes_tab(written: tuple[ProbeRun, Path], tmp_path: Path) -> None:
    from leaderboard import lb_charts

    _, out = written
    report = json.loads((out / "report.json").read_text())
    main = make_report(model_id="tiny-model", revision="abc123")
    main["judge"] = {k: report["judge"][k] for k in ("id", "revision", "backend")}
    main["dataset"].update(name=report["dataset"]["name"], version=report["dataset"]["version"])
    entry = build_entry([write_report(tmp_path / "main", main), out])
    rows = entry["probes"]
    assert [(r["target"], r["method"]) for r in rows] == [
        ("refusal", "logistic"), ("refusal", "difference-in-means"), ("severity", "ridge (ordinal level)"),
        ("cost", "ridge (ordinal level)")]
    assert rows[0]["score_layer"] == LAYERS - 1 and rows[0]["summary"].startswith("tiny-model: severity decodable")
    assert rows[2]["accuracy_by_layer"][3]["spearman"] > 0.5
    fig = lb_charts.probes_figure(Record("e", "approved", "me", "2026-01-01T00:00:00Z", entry))
    left, middle, right = fig.axes[:3]
    assert len(left.get_lines()) == 2 and len(middle.get_lines()) == 5 and len(right.get_lines()) == 2
    assert "severity decodable" in fig._suptitle.get_text()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue().startswith(b"\x89PNG")
    old_style = {**entry, "probes": [{"target": "refusal", "accuracy_by_layer": [{"layer": 0, "accuracy": 0.6}]}]}
    fig = lb_charts.probes_figure(Record("e", "approved", "me", "2026-01-01T00:00:00Z", old_style))
    assert len(fig.axes[0].get_lines()) == 1  # rows without the new fields still draw


def test_an_unscored_refusal_probe_is_said_and_never_becomes_a_row(tmp_path: Path) -> None:
    run = synthetic_run(refusal_scored=False)
    report, _ = save_probe_report(run, tmp_path)
    assert report["probes"]["refusal"] is None and report["probes"]["levels"] == []
    assert [r["target"] for r in probe_rows(run)] == ["severity", "cost"]
    assert report["files"]["plots"] == ["decodability.png"]
    assert "Not scored: a refusal probe needs at least 4 requests per class" in (tmp_path / "report.md").read_text()


def test_model_specs_resolve_to_an_id_and_a_revision(tmp_path: Path) -> None:
    from eh_bench.errors import ConfigError
    from eh_bench.probes.run import resolve_probe_model

    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    path, record = resolve_probe_model(ProbeSettings(model=f"hf:{folder}"))
    assert path == folder.resolve() and record["id"] == "my-model" and record["revision"].startswith("stat-")
    assert resolve_probe_model(ProbeSettings(model=f"hf:{folder}"))[1]["revision"] == record["revision"]
    (folder / "config.json").write_text('{"changed": true}')
    assert resolve_probe_model(ProbeSettings(model=f"hf:{folder}"))[1]["revision"] != record["revision"]
    snapshot = tmp_path / "hub" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    assert resolve_probe_model(ProbeSettings(model=f"hf:{snapshot}"))[1]["revision"] == "0123abcd"
    pinned = resolve_probe_model(ProbeSettings(model=f"hf:{folder}", model_id="org/m", model_revision="v1"))[1]
    assert (pinned["id"], pinned["revision"]) == ("org/m", "v1")
    with pytest.raises(ConfigError, match="needs local weights"):
        resolve_probe_model(ProbeSettings(model="openai:http://127.0.0.1:1/v1#m"))
