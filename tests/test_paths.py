"""tasks/ and data_cards/ are found from a source checkout and from an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eh_bench.paths import data_cards_dir, tasks_dir

REPO = Path(__file__).resolve().parent.parent

WHEEL_CHECK = """
import sys
from eh_bench.paths import tasks_dir, data_cards_dir
import eh_bench
assert str(REPO) not in eh_bench.__file__, eh_bench.__file__
folder = tasks_dir()
assert folder.name == "_tasks", folder
from lm_eval.tasks import TaskManager
tm = TaskManager(include_path=str(folder), include_defaults=False)
task = tm.load(["eh_core_benign"])["tasks"]["eh_core_benign"]
assert len(list(task.test_docs())) > 0
assert (data_cards_dir() / "RUBRIC.md").is_file()
print(sorted(tm.all_subtasks))
"""


def test_checkout_layout() -> None:
    assert tasks_dir() == REPO / "tasks"
    assert (tasks_dir() / "expected_harm" / "_default_template_yaml").is_file()
    assert data_cards_dir() == REPO / "data_cards"


@pytest.mark.slow
def test_installed_wheel_ships_the_tasks(tmp_path: Path) -> None:
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", str(REPO), "-w", str(wheels)],
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    (wheel,) = wheels.glob("eh_bench-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(target), "EH_DATASET": ""}
    code = f"REPO = {str(REPO)!r}\n{WHEEL_CHECK}"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    for task in ("eh_core", "eh_core_benign", "eh_jbb_benign", "eh_harmbench"):
        assert task in done.stdout
