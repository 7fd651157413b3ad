"""eh_bench.atomic: a failed write leaves the previous file intact; outputs are checked before work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fault_fixtures import UNPRIVILEGED, _limits, read_only

from eh_bench import atomic
from eh_bench.errors import OutputError


def test_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    atomic.write_text(target, "old")
    atomic.write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


def test_new_files_are_readable_by_others_as_open_would_make_them(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = atomic.write_text(tmp_path / "record.json", "{}")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_an_error_inside_the_writer_keeps_the_old_file(tmp_path: Path) -> None:
    target = atomic.write_text(tmp_path / "plot.png", "old")

    def broken(handle: object) -> None:
        raise ValueError("negative error bar")

    with pytest.raises(ValueError, match="negative error bar"):
        atomic.write_with(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_a_full_disk_is_an_output_error_and_the_old_file_survives(tmp_path: Path) -> None:
    """A real EFBIG from the kernel (RLIMIT_FSIZE) in a child process, half-way through the write."""
    target = atomic.write_text(tmp_path / "report.json", "previous report\n")
    code = (
        "import sys; from pathlib import Path; from eh_bench import atomic; from eh_bench.errors import OutputError\n"
        "try:\n    atomic.write_text(Path(sys.argv[1]), 'x' * 100_000)\n"
        "except OutputError as exc:\n    print('OutputError:', exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(target)], capture_output=True, text=True,
        preexec_fn=lambda: _limits(4096), check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "OutputError:" in result.stdout and str(target) in result.stdout
    assert "previous file is unchanged" in result.stdout
    assert target.read_text() == "previous report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_output_checks_refuse_a_file_where_a_folder_belongs(tmp_path: Path) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("user data")
    with pytest.raises(OutputError, match="is a file"):
        atomic.check_output_folder(a_file)
    with pytest.raises(OutputError, match="is a file"):
        atomic.check_output_folder(a_file / "sub")
    with pytest.raises(OutputError, match="is a folder"):
        atomic.check_output_file(tmp_path)
    assert atomic.check_output_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_output_checks_refuse_a_read_only_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    read_only(locked)
    code = (
        "import sys; from eh_bench import atomic; from eh_bench.errors import OutputError\n"
        "for check in (atomic.check_output_folder, atomic.check_output_file):\n"
        "    try:\n        check(sys.argv[1] + '/x')\n"
        "    except OutputError as exc:\n        print('refused:', exc)\n"
    )
    result = subprocess.run(
        [*UNPRIVILEGED, sys.executable, "-c", code, str(locked)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("refused:") == 2 and "Permission denied" in result.stdout
