"""Packaging glue: ships the top-level ``tasks/`` and ``data_cards/`` folders inside the wheel.

They live at the repository root (where lm-eval users expect task folders) and are mapped to the
packages ``eh_bench._tasks`` and ``eh_bench._data_cards``; :mod:`eh_bench.paths` finds them in either
layout.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["eh_bench", "eh_bench.*"]), "eh_bench._tasks", "eh_bench._data_cards"],
    package_dir={"eh_bench._tasks": "tasks", "eh_bench._data_cards": "data_cards"},
)
