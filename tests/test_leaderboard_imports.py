"""The leaderboard with imported entries: the method column and filter, the calibration comparison, the
About text, the bind address, and the seed of `make leaderboard` (imports + one cached embedded run)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from dataset_fixtures import write_labels, write_sources
from leaderboard_fixtures import make_report, seed_store, write_report
from test_importers import _artifact

from eh_bench.importers import ImportOptions, import_jbb_artifacts
from eh_bench.metrics.info import CALIBRATION_ABOUT
from eh_bench.sources.published import jbb_artifacts
from eh_bench.submission.entries import build_entry
from eh_bench.submission.stores import LocalStore, Record
from leaderboard import app, lb_about, lb_charts, lb_data, seed_local


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> list[Record]:
    """Verified records of the 16 stand-in JailbreakBench imports plus one generated entry."""
    tmp = tmp_path_factory.mktemp("lb-imports")
    sources = write_sources(tmp / "sources", only={"jbb"})
    for k, spec in enumerate(jbb_artifacts.FILES):
        path = sources / spec.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_artifact(path.stem, spec.relpath.split("/")[-3], [k % 2 == 0, k % 3 == 0])))
    opts = ImportOptions(sources_dir=sources, labels_dir=write_labels(tmp / "labels", sources=("jbb",)),
                         download=False, allow_changed_sources=True, n_boot=20, plots=False)  # fmt: skip
    entries = [build_entry([r.folder], submitter="t") for r in import_jbb_artifacts(tmp / "out", opts)]
    entries.append(build_entry([write_report(tmp / "gen", make_report(model_id="org/generated"))], submitter="t"))
    return seed_store(tmp / "store", entries).results()


def test_method_column_filter_and_search(imported: list[Record]) -> None:
    frame, _ = lb_data.table(imported, ["Headline", "Provenance"])
    assert set(frame["Method"]) == {"GCG", "JBC", "PAIR", "prompt_with_random_search", "direct"}
    assert lb_data.choices(imported, lb_data.method_of) == [
        "all", "GCG", "JBC", "PAIR", "direct", "prompt_with_random_search"]
    pair = lb_data.filter_records(imported, method="PAIR")
    assert len(pair) == 4 and {r.entry["judge"]["id"] for r in pair} == {"jailbreakbench"}
    assert {r.entry["model"]["id"] for r in lb_data.filter_records(imported, method="direct")} == {"org/generated"}
    assert len(lb_data.filter_records(imported, "imported jbb-artifacts vicuna")) == 4
    responses = set(frame["Responses"])
    assert responses == {"generated", "imported: jbb-artifacts @ 909e68c"}
    label = lb_data.label(pair[0])
    assert " · PAIR @ unrecorded · jailbreakbench · linear" in label


def test_comparable_picks_one_method_and_judge_across_models(imported: list[Record]) -> None:
    chosen = lb_data.comparable(imported)
    keys = {(lb_data.method_of(r.entry), r.entry["judge"]["id"]) for r in chosen}
    assert len(keys) == 1 and len(chosen) == 4
    assert len({r.entry["model"]["id"] for r in chosen}) == 4
    gcg = lb_data.comparable(imported, "GCG", limit=3)
    assert len(gcg) == 3 and {lb_data.method_of(r.entry) for r in gcg} == {"GCG"}
    assert lb_data.comparable(imported, "no-such-method") == []


def test_calibration_figure_names_method_judge_and_counts(imported: list[Record]) -> None:
    chosen = lb_data.comparable(imported, "PAIR")
    fig = lb_charts.calibration_figure(chosen)
    assert [len(ax.lines) > 0 for ax in fig.axes[:2]] == [True, True]
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    counts = "/".join(str(chosen[0].entry["metrics"]["asr_by_cost"][k]["n"]) for k in "12345")
    assert texts[0].endswith(f"· PAIR · jailbreakbench · linear (n {counts})")


def test_level_cells_of_a_graded_entry_use_its_named_score() -> None:
    entry: dict[str, Any] = {"metrics": {
        "score": {"name": "strongreject_score", "graded": True},
        "score_by_cost": {k: {"mean": 0.25, "n": 4} for k in "12345"},
    }}  # fmt: skip
    assert lb_data.level_cell(entry, "cost", "2") == "0.250 (n=4)"
    assert lb_data.judge_label({**entry, "judge": {"id": "strongreject"}}) == "strongreject (strongreject_score)"
    empty: dict[str, Any] = {"metrics": {"asr_by_cost": {"1": {"asr": None, "n": 0}}}}
    assert lb_data.level_cell(empty, "cost", "1") == "— (n=0)"


def test_about_has_the_calibration_index_and_the_imported_sets() -> None:
    text = lb_about.about_markdown()
    assert CALIBRATION_ABOUT in text
    assert "`jbb-artifacts`" in text and "`jailbreakbench`" in text and "`human-annotation`" in text
    assert "<model>" not in text  # markup in our own texts is escaped


@pytest.mark.parametrize(
    ("env", "flags", "expected"),
    [
        ({}, (None, None), ("127.0.0.1", 7860)),
        ({"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7901"}, (None, None), ("0.0.0.0", 7901)),
        ({"GRADIO_SERVER_PORT": "7901", "PORT": "8000"}, (None, None), ("127.0.0.1", 7901)),
        ({"PORT": "8000"}, (None, None), ("127.0.0.1", 8000)),
        ({"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7901"}, ("127.0.0.2", 7000), ("127.0.0.2", 7000)),
        ({"SPACE_ID": "org/space"}, (None, None), ("0.0.0.0", 7860)),
    ],
)
def test_the_bind_address_honours_gradio_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], flags: tuple[Any, Any], expected: tuple[str, int]
) -> None:
    for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "PORT", "SPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert app.server_address(*flags) == expected


def test_a_bad_port_variable_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_SERVER_PORT", "http")
    with pytest.raises(SystemExit, match="GRADIO_SERVER_PORT / PORT is 'http'"):
        app.server_address()


# ----------------------------------------------------------------------------- the seed of `make leaderboard`


def _cached_run(out: Path) -> Path:
    folder = out / "runs" / "core" / seed_local.REPORT_SUBDIR
    return write_report(folder, make_report(model_id="smollm2", revision="10c493dc"))


def test_seed_publishes_a_cached_embedded_run_once(tmp_path: Path) -> None:
    _cached_run(tmp_path)
    for _ in range(2):  # a second `make leaderboard` changes nothing
        seed_local.main(["--out", str(tmp_path), "--embedded", "background", "--no-imports"])
    results = LocalStore(tmp_path / "store").results()
    assert [r.entry["model"]["id"] for r in results] == ["smollm2"]
    assert results[0].entry["model"]["type"] == "instruction-tuned" and results[0].status == "VERIFIED"
    assert not (tmp_path / seed_local.EMBEDDED_PID).exists()


def test_seed_starts_a_missing_embedded_run_in_the_background(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []

    class FakeProcess:
        pid = 424242

    def fake_popen(cmd: list[str], **kwargs: Any) -> FakeProcess:
        started.append(cmd)
        assert kwargs["start_new_session"] is True
        return FakeProcess()

    monkeypatch.setattr(subprocess, "Popen", fake_popen)
    seed_local.main(["--out", str(tmp_path), "--embedded", "background", "--no-imports"])
    assert started and started[0][-3:] == ["--out", str(tmp_path), "--background-child"]
    assert (tmp_path / seed_local.EMBEDDED_PID).read_text() == "424242"
    assert LocalStore(tmp_path / "store").results() == []
    # The child publishes the cached run and removes its pid file.
    _cached_run(tmp_path)
    seed_local.main(["--out", str(tmp_path), "--background-child"])
    assert len(LocalStore(tmp_path / "store").results()) == 1 and not (tmp_path / seed_local.EMBEDDED_PID).exists()


def test_seed_skips_the_imports_when_the_sources_are_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("EH_SOURCES_DIR", str(tmp_path / "nothing"))
    monkeypatch.setenv("EH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("eh_bench.sources.fetch._download", _no_network)
    _cached_run(tmp_path)
    seed_local.main(["--out", str(tmp_path), "--embedded", "wait"])
    out = capsys.readouterr().out
    assert "import jbb-artifacts: skipped" in out and "import donotanswer: skipped" in out
    assert len(LocalStore(tmp_path / "store").results()) == 1


def _no_network(*args: Any, **kwargs: Any) -> Any:
    raise OSError("no network in this test")

