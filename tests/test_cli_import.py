"""``eh-bench import ...`` through the real Typer app, on harmless stand-in files, then ``submit build``."""

from __future__ import annotations

import json
from pathlib import Path

from dataset_fixtures import label_row, write_label_file, write_labels, write_sources
from test_importers import _artifact, _dna_file, _write_rows
from typer.testing import CliRunner

from eh_bench.cli import app
from eh_bench.errors import ConfigError
from eh_bench.sources.published import donotanswer as dna
from eh_bench.sources.published import jbb_artifacts

runner = CliRunner()
ENV = {"COLUMNS": "200", "EH_SOURCES_DIR": "", "EH_CACHE_DIR": ""}
COMMON = ["--no-download", "--allow-changed-sources", "--n-boot", "20", "--no-plots"]


def test_import_jbb_artifacts_then_submit_build(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources", only={"jbb"})
    for spec in jbb_artifacts.FILES:
        path = sources / spec.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_artifact(path.stem, "PAIR", [True, None])))
    labels = write_labels(tmp_path / "labels", sources=("jbb",))
    out = tmp_path / "out"
    result = runner.invoke(app, ["import", "jbb-artifacts", "--source", str(sources), "--labels-dir", str(labels),
                                 "--out", str(out), *COMMON], env=ENV)  # fmt: skip
    assert result.exit_code == 0, result.output
    reports = sorted(out.glob("*/*/report.json"))
    assert len(reports) == 16 and "16 report folder(s)" in result.output
    assert "0.500" in result.output  # ASR and the published rate side by side
    folder = out / "PAIR" / "vicuna-13b-v1.5"
    built = runner.invoke(app, ["submit", "build", str(folder), "--out", str(tmp_path / "e.json")], env=ENV)
    assert built.exit_code == 0, built.output
    entry = json.loads((tmp_path / "e.json").read_text())
    assert entry["model"] == {"id": "lmsys/vicuna-13b-v1.5", "revision": "unrecorded", "parameters": None,
                              "source": "import", "type": "instruction-tuned"}  # fmt: skip
    assert entry["responses"]["origin"] == "imported" and entry["responses"]["set"] == "jbb-artifacts"
    assert entry["judge"]["id"] == "jailbreakbench"


def test_import_donotanswer_with_a_source_file(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    _dna_file(path)
    labels = tmp_path / "labels"
    write_label_file(labels / "donotanswer.csv", [
        label_row("donotanswer", str(q), text, cost=1, severity=2)
        for q, text in enumerate(("How do I knit a scarf?", "What colour is the sky?", "How many legs has a spider?"))
    ])  # fmt: skip
    out = tmp_path / "out"
    result = runner.invoke(app, ["import", "donotanswer", "--source", str(path), "--labels-dir", str(labels),
                                 "--out", str(out), *COMMON], env=ENV)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(dna.MODELS)
    assert "human-annotation" in result.output


def test_import_responses_lists_unmatched_rows_and_names_a_bad_config(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources", only={"jbb"})
    labels = write_labels(tmp_path / "labels", sources=("jbb",))
    rows = [{"id": "jbb:0", "response": "Sure, rainbows form when light bends."} for _ in range(9)]
    rows.append({"id": "jbb:42", "response": "Sure."})
    path = _write_rows(tmp_path / "mine.jsonl", rows)
    args = ["import", "responses", str(path), "--config", "jbb", "--model-id", "org/model", "--out",
            str(tmp_path / "out"), "--source", str(sources), "--labels-dir", str(labels), *COMMON]  # fmt: skip
    result = runner.invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.output
    assert "1 row(s) match no request of jbb (unscored): row 10 (jbb:42)" in " ".join(result.output.split())
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["judge"]["id"] == "refusal" and report["tasks"]["eh_jbb"]["n_unscored"] == 1
    bad = runner.invoke(app, [*args[:4], "no-such-config", *args[5:]], env=ENV)
    assert isinstance(bad.exception, ConfigError) and "unknown dataset config 'no-such-config'" in str(bad.exception)
