"""Dataset folders under faults: a rebuild keeps the user's files, stale staging is cleaned, garbage
parquet and unwritable --out are messages (issue 17, cases 6 and 10)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from dataset_fixtures import fixture_tree
from fault_fixtures import assert_clean_error, cli_error, read_only, run_cli

from eh_bench.dataset.build import build_dataset
from eh_bench.dataset.manifest import MANIFEST_NAME, read_manifest, verify_manifest


def build(tmp: Path, out: Path, **kw: Any) -> Any:
    tree = {**fixture_tree(tmp / "inputs"), **kw}
    return build_dataset(out, download=False, allow_changed_sources=True, **tree)


def test_a_rebuild_replaces_only_what_the_build_owns(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    build(tmp_path, out)
    assert (out / "plots" / "cost_by_source.png").is_file()
    mine = {
        "notes.txt": "my notes",
        ".gitattributes": "*.parquet filter=lfs",
        ".git/config": "[core]",
        "extra/analysis.md": "my analysis",
    }
    for rel, text in mine.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    build(tmp_path, out, plot=False)  # this build draws no plot: the old one is the build's to remove
    assert {rel: (out / rel).read_text(encoding="utf-8") for rel in mine} == mine
    assert not (out / "plots").exists()
    listed = read_manifest(out)["files"]
    assert "plots/cost_by_source.png" not in listed and "notes.txt" not in listed
    assert sorted(verify_manifest(out)) == sorted(
        f"{out / rel}: present but not listed in {MANIFEST_NAME}"
        for rel in ("extra/analysis.md", "notes.txt")
    )


def test_a_folder_with_only_hidden_entries_is_built_into(tmp_path: Path) -> None:
    out = tmp_path / "clone"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    build(tmp_path, out)
    assert (out / ".git" / "HEAD").read_text(encoding="utf-8") == "ref: refs/heads/main\n"
    assert verify_manifest(out) == []


def test_stale_staging_folders_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    dead = 2**22 + 12345  # above the default pid_max of most systems: no such process
    with pytest.raises(ProcessLookupError):
        os.kill(dead, 0)
    stale = tmp_path / f".ds.build-{dead}-abc"  # .<out name>.build-<pid of the builder>-<random>
    live = tmp_path / f".ds.build-{os.getpid()}-def"
    for folder in (stale, live):
        (folder / "build").mkdir(parents=True)
        (folder / "build" / "half.parquet").write_bytes(b"PAR1")
    build(tmp_path, out)
    assert not stale.exists() and live.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ds", "inputs", live.name])


def test_build_into_a_read_only_folder_fails_before_any_work(tmp_path: Path) -> None:
    locked = read_only(tmp_path / "locked") if (tmp_path / "locked").mkdir() is None else tmp_path
    args = [
        "dataset",
        "build",
        "--out",
        str(locked / "ds"),
        "--no-download",
        "--sources-dir",
        str(tmp_path / "none"),
    ]
    result = run_cli(args, unprivileged=True)
    assert_clean_error(result, f"--out {locked / 'ds'}", "cannot write")
    assert "source" not in result.stderr.split("error:")[1].split("cannot write")[0]


def test_build_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    taken = tmp_path / "ds"
    taken.write_text("user data", encoding="utf-8")
    assert "is a file" in cli_error(["dataset", "build", "--out", str(taken), "--no-download"])
    assert taken.read_text(encoding="utf-8") == "user data"


@pytest.mark.parametrize("command", ["validate", "stats"])
def test_garbage_parquet_is_a_message(tmp_path: Path, command: str) -> None:
    out = tmp_path / "ds"
    build(tmp_path, out)
    victim = next(out.glob("core/*.parquet"))
    victim.write_bytes(b"this is not parquet at all\n" * 10)
    if command == "validate":
        result = run_cli(["dataset", "validate", str(out)])
        output = result.stdout + result.stderr
        assert "Traceback" not in output and result.returncode == 1, output
        assert str(victim) in " ".join(output.split()) and "not a Parquet file" in output
    else:
        message = cli_error(["dataset", "stats", str(out), "--config", "core"])
        assert str(victim) in message and "not a Parquet file" in message


def test_stats_of_a_folder_that_is_not_a_build_is_a_message(tmp_path: Path) -> None:
    assert "no manifest" in cli_error(["dataset", "stats", str(tmp_path)])
    (tmp_path / MANIFEST_NAME).write_text("{" * 100_000, encoding="utf-8")
    assert MANIFEST_NAME in cli_error(["dataset", "stats", str(tmp_path)])


@pytest.mark.parametrize(
    ("damage", "line", "expected"),
    [
        ("bytes", 3, "is not UTF-8"),
        ("column", 1, "column 'cost' appears twice"),
        ("ragged", 3, "fields, but the header"),
    ],
)
def test_a_broken_label_file_is_named(tmp_path: Path, damage: str, line: int, expected: str) -> None:
    from eh_bench.errors import InputError

    tree = fixture_tree(tmp_path / "inputs")
    path = tree["labels_dir"] / "advbench.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    if damage == "column":
        lines = [lines[0] + ",cost", *(row + ",5" for row in lines[1:])]
    elif damage == "ragged":
        lines[2] += ",extra"
    data = "\n".join(lines).encode("utf-8") + b"\n"
    if damage == "bytes":
        data = data.replace(lines[2].encode("utf-8"), lines[2].encode("utf-8") + b" \xe9", 1)
    path.write_bytes(data)
    with pytest.raises(InputError) as raised:
        build_dataset(tmp_path / "ds", download=False, allow_changed_sources=True, **tree)
    assert f"{path}:{line}" in str(raised.value) and expected in str(raised.value)


def test_realworld_out_is_checked_before_reading_the_input(tmp_path: Path) -> None:
    message = cli_error(
        ["dataset", "realworld", "lmsys", "--input", str(tmp_path / "none"), "--out", str(tmp_path)]
    )
    assert "is a folder" in message
