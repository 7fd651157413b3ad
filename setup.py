"""Packaging glue: ships the top-level ``tasks/``, ``data_cards/`` and ``leaderboard/schema/``
folders inside the wheel.

They live at the repository root (where lm-eval users expect task folders) and are mapped to the
packages ``eh_bench._tasks``, ``eh_bench._data_cards`` and ``eh_bench._leaderboard_schema``;
:mod:`eh_bench.paths` finds them in either
layout.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["eh_bench", "eh_bench.*"]),
        "eh_bench._tasks",
        "eh_bench._data_cards",
        "eh_bench._leaderboard_schema",
    ],
    package_dir={
        "eh_bench._tasks": "tasks",
        "eh_bench._data_cards": "data_cards",
        "eh_bench._leaderboard_schema": "leaderboard/schema",
    },
)
