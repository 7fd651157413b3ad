"""The Makefile: on a fresh clone `make demo` and `make test` need no `make setup` before them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _dry_run(target: str, venv: Path) -> list[str]:
    """The commands ``make TARGET`` would run with a virtual environment that does not exist yet."""
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is not installed; the README's two commands need it")
    done = subprocess.run(
        [make, "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize(("target", "then"), [("demo", "eh-bench run --model smollm2"), ("test", "-m pytest")])
def test_demo_and_test_run_the_setup_first(target: str, then: str, tmp_path: Path) -> None:
    venv = tmp_path / "fresh-venv"
    commands = _dry_run(target, venv)
    setup = [i for i, line in enumerate(commands) if "scripts/setup.sh" in line]
    main = [i for i, line in enumerate(commands) if then in line]
    assert setup and main, commands
    assert setup[0] < main[0], "the setup must come first"
    assert f"VENV={venv}" in commands[setup[0]], "the setup fills the same virtual environment the target uses"

