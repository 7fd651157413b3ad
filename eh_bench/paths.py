"""Where the shipped non-Python folders live: ``tasks/`` (lm-eval YAMLs) and ``data_cards/``.

In a source checkout they sit at the repository root, beside ``eh_bench/``. In a wheel they are mapped
to the packages ``eh_bench._tasks`` and ``eh_bench._data_cards`` (see ``setup.py``). Both layouts are
handled here so that ``lm-eval --include_path $(eh-bench tasks-path)`` works either way.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Final

from eh_bench.errors import EHBenchError

TASKS_FOLDER: Final = "tasks"
DATA_CARDS_FOLDER: Final = "data_cards"
#: The task folder's own name inside ``tasks/`` (lm-eval indexes every YAML below the include path).
TASK_GROUP_FOLDER: Final = "expected_harm"

_PACKAGES: Final = {TASKS_FOLDER: "eh_bench._tasks", DATA_CARDS_FOLDER: "eh_bench._data_cards"}


def _checkout_folder(name: str) -> Path | None:
    """``<repo>/<name>`` when eh_bench runs from a source checkout (a pyproject.toml beside it)."""
    root = Path(__file__).resolve().parent.parent
    folder = root / name
    if (root / "pyproject.toml").is_file() and folder.is_dir():
        return folder
    return None


def _package_folder(name: str) -> Path | None:
    """The folder of the packaged copy (``eh_bench._tasks`` / ``eh_bench._data_cards``) in a wheel."""
    try:
        spec = importlib.util.find_spec(_PACKAGES[name])
    except ModuleNotFoundError:
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location)
        if folder.is_dir():
            return folder
    return None


def _find(name: str) -> Path:
    folder = _checkout_folder(name) or _package_folder(name)
    if folder is None:
        raise EHBenchError(
            f"the {name}/ folder was not found beside eh_bench/ nor as package {_PACKAGES[name]}; "
            "reinstall eh-bench (pip install --force-reinstall eh-bench) or run from a source checkout"
        )
    return folder


def tasks_dir() -> Path:
    """The folder to pass to lm-eval's ``--include_path`` (it holds ``expected_harm/``).

    >>> (tasks_dir() / "expected_harm").is_dir()
    True
    """
    return _find(TASKS_FOLDER)


def data_cards_dir() -> Path:
    """The folder of the dataset/results card templates and ``RUBRIC.md``."""
    return _find(DATA_CARDS_FOLDER)
