from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from eh_bench.dataset.card import (
    GATED_FIELDS,
    TEMPLATE_NAME,
    front_matter,
    plot_cost_by_source,
    render_card,
    size_category,
    template_dir,
)
from eh_bench.dataset.schema import features_yaml

CONFIGS = [
    {"name": "all", "path": "all/test-00000-of-00001.parquet", "rows": 1500, "licenses": ["cc-by-nc-sa-4.0", "mit"],
     "num_bytes": 1000, "download_size": 500},
    {"name": "jbb", "path": "jbb/test-00000-of-00001.parquet", "rows": 100, "licenses": ["mit"],
     "num_bytes": 100, "download_size": 50},
]  # fmt: skip


def test_front_matter_is_valid_hub_yaml() -> None:
    meta = yaml.safe_load(front_matter(CONFIGS, features_yaml(), "all"))
    assert meta["license"] == ["cc-by-nc-sa-4.0", "mit"]
    assert meta["size_categories"] == ["1K<n<10K"]
    assert meta["configs"][0] == {
        "config_name": "all", "default": True, "data_files": [{"split": "test", "path": "all/test-00000-of-00001.parquet"}],
    }  # fmt: skip
    assert "default" not in meta["configs"][1]
    assert meta["dataset_info"][1]["splits"] == [{"name": "test", "num_bytes": 100, "num_examples": 100}]
    assert meta["extra_gated_fields"] == dict(GATED_FIELDS)
    assert "&id" not in front_matter(CONFIGS, features_yaml(), "all")  # no YAML anchors/aliases


@pytest.mark.parametrize(("n", "bucket"), [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (10_000, "10K<n<100K")])
def test_size_category(n: int, bucket: str) -> None:
    assert size_category(n) == bucket


def test_template_is_found_and_strict() -> None:
    assert (template_dir() / TEMPLATE_NAME).is_file()
    with pytest.raises(jinja2.UndefinedError):
        render_card({"front_matter": "a: 1\n"})  # every other variable is missing


def test_plot_writes_a_png(tmp_path: Path) -> None:
    stats: dict[str, Any] = {
        "advbench": {"n": 4, "mean_cost": 2.5, "cost_histogram": {1: 1, 2: 1, 3: 1, 4: 1, 5: 0}},
        "empty": {"n": 0, "mean_cost": None, "cost_histogram": {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}},
    }
    out = plot_cost_by_source(stats, tmp_path / "plots" / "p.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
