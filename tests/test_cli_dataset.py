"""`eh-bench dataset ...` end to end on stand-in files (Typer runner, plus one real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from dataset_fixtures import fixture_tree, mock_hub
from typer.testing import CliRunner

from eh_bench.cli import app
from eh_bench.dataset.configs import DATASET_VERSION
from eh_bench.errors import ConfigError
from eh_bench.rubric import RUBRIC_VERSION

runner = CliRunner()
ENV = {"COLUMNS": "200", "EH_SOURCES_DIR": "", "EH_CACHE_DIR": ""}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    tree = fixture_tree(tmp)
    out = tmp / "ds"
    result = runner.invoke(
        app,
        [
            "dataset", "build", "--out", str(out), "--sources-dir", str(tree["sources_dir"]),
            "--cache-dir", str(tree["cache_dir"]), "--labels-dir", str(tree["labels_dir"]),
            "--data-dir", str(tree["data_dir"]), "--no-download", "--allow-changed-sources", "--repo-id", "org/eh",
        ],
        env=ENV,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "configs written to" in result.output and "skipped config donotanswer" in result.output
    assert "built from changed source files" in result.output
    return out


def test_build_writes_the_folder(built: Path) -> None:
    manifest = json.loads((built / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["repo_id"] == "org/eh" and manifest["configs"]["all"]["rows"] == 9


def test_validate_ok_and_failing(built: Path, tmp_path: Path) -> None:
    ok = runner.invoke(app, ["dataset", "validate", str(built)], env=ENV)
    assert ok.exit_code == 0 and "valid:" in ok.output and "8 configs, 28 rows" in ok.output
    import shutil

    broken = Path(shutil.copytree(built, tmp_path / "broken"))
    (broken / "plots" / "cost_by_source.png").write_bytes(b"not a png")
    bad = runner.invoke(app, ["dataset", "validate", str(broken)], env=ENV)
    assert bad.exit_code == 1 and "cost_by_source.png: sha256 is" in bad.output and "invalid:" in bad.output


def test_stats_prints_the_tables(built: Path) -> None:
    result = runner.invoke(app, ["dataset", "stats", str(built), "--config", "core"], env=ENV)
    assert result.exit_code == 0, result.output
    for text in (f"eh-bench {DATASET_VERSION} (rubric v{RUBRIC_VERSION})", "cost x severity (core)", "per source", "unlabelled rows (not in any config): donotanswer 2"):
        assert text in result.output, text
    bad = runner.invoke(app, ["dataset", "stats", str(built), "--config", "donotanswer"], env=ENV)
    assert isinstance(bad.exception, ConfigError) and "built: all, core" in str(bad.exception)


def test_publish_through_a_mocked_hub(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        url = str(request.url)
        if "/preupload/" in url:
            files = json.loads(request.content)["files"]
            return httpx2.Response(200, json={"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]})
        if url.endswith("/api/repos/create"):
            return httpx2.Response(200, json={"url": "https://huggingface.co/datasets/org/eh"})
        if "/commit/" in url:
            return httpx2.Response(200, json={"commitUrl": "https://huggingface.co/datasets/org/eh/commit/1", "commitOid": "1"})
        return httpx2.Response(200, json={})

    with mock_hub(handler) as seen:
        result = runner.invoke(
            app, ["dataset", "publish", str(built), "--repo-id", "org/eh", "--gated", "auto", "--token", "hf_cli"], env=ENV
        )
    assert result.exit_code == 0, result.output
    assert "published 11 files to https://huggingface.co/datasets/org/eh (gated: auto)" in result.output
    settings = [r for r in seen if str(r.url).endswith("/settings")]
    assert len(settings) == 1 and json.loads(settings[0].content) == {"gated": "auto"}
    assert runner.invoke(app, ["dataset", "publish", str(built), "--repo-id", "org/eh", "--gated", "maybe"]).exit_code == 2


def test_realworld_command_streams_a_jsonl_file(tmp_path: Path) -> None:
    records = []
    for i in range(6):
        flagged = i % 2 == 0
        records.append({
            "conversation_id": f"c{i}",
            "conversation": [{"role": "user", "content": f"Stand-in message {i}"}, {"role": "assistant", "content": "Sure, here is a cake recipe."}],
            "openai_moderation": [{"categories": {"harassment": flagged}, "flagged": flagged}, {"categories": {}, "flagged": False}],
            "language": "English",
        })  # fmt: skip
    src = tmp_path / "lmsys.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "rows.jsonl"
    result = runner.invoke(app, ["dataset", "realworld", "lmsys", "--input", str(src), "--out", str(out), "--limit", "2"], env=ENV)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["lmsys:c0", "lmsys:c2"] and rows[0]["category"] == "harassment"
    assert "wrote 2 flagged first-turn prompts" in result.output


def test_missing_sources_give_a_one_line_error(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "eh-bench"
    env = {**os.environ, "EH_SOURCES_DIR": str(tmp_path / "empty"), "EH_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "300"}
    proc = subprocess.run(
        [str(exe), "dataset", "build", "--out", str(tmp_path / "ds"), "--no-download"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "error: harmbench/harmbench_behaviors_text_all.csv: benchmark file not found; looked in" in proc.stderr
    assert "Traceback" not in proc.stderr
