"""Building the dataset folder: configs, duplicates, labels, manifest, card; loaded back with `datasets`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from dataset_fixtures import (
    HAS_REAL_SOURCES,
    REAL_SOURCES,
    expected,
    fixture_tree,
    label_row,
    write_label_file,
    write_labels,
)

from eh_bench.dataset.build import build_dataset
from eh_bench.dataset.configs import CONFIGS, DATASET_VERSION
from eh_bench.dataset.load import dataset_fingerprint, load_config
from eh_bench.dataset.schema import read_parquet
from eh_bench.dataset.validate import read_front_matter, validate_dataset
from eh_bench.errors import ConfigError, InputError, MissingDependencyError, SourceError
from eh_bench.sources import HARMFUL_SOURCES, load_source
from eh_bench.sources.base import LEVEL_COLUMNS, request_key
from eh_bench.sources.fetch import file_sha256


def build(tmp: Path, out: Path | None = None, **kw: Any) -> tuple[Path, Any]:
    tree = fixture_tree(tmp)
    tree.update(kw)
    target = out or tmp / "ds"
    return target, build_dataset(target, download=False, allow_changed_sources=True, **tree)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    return build(tmp_path_factory.mktemp("fixture_build"))


def load(path: Path, config: str, cache: Path) -> Any:
    from datasets import load_dataset

    return load_dataset(str(path), config, split="test", cache_dir=str(cache))


def test_configs_and_counts(built: tuple[Path, Any]) -> None:
    out, report = built
    assert report.configs == {
        "all": 9, "core": 3, "core_benign": 2, "harmbench": 5, "advbench": 3, "jbb": 2, "jbb_benign": 2, "strongreject": 2,
    }  # fmt: skip
    assert report.skipped == {"donotanswer": "no labelled rows (add a label file under eh_bench/labels/)"}
    assert report.changed_sources == ["harmbench", "advbench", "jbb", "strongreject", "donotanswer", "jbb_benign"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        ["MANIFEST.json", "README.md", "plots/cost_by_source.png"]
        + [CONFIGS[name].data_file for name in report.configs]
    )
    assert (out / "plots/cost_by_source.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_load_dataset_round_trip_with_integer_labels(built: tuple[Path, Any], tmp_path: Path) -> None:
    from datasets import Value

    out, report = built
    for config in report.configs:
        ds = load(out, config, tmp_path / "hf")
        assert ds.num_rows == report.configs[config]
        for column in LEVEL_COLUMNS:
            assert ds.features[column] == Value("int8"), (config, column)
        assert ds.features["prompt"] == Value("string")
        assert ds.to_list() == read_parquet(out / CONFIGS[config].data_file)
        assert all(isinstance(v, int) and 1 <= v <= 5 for v in ds["cost"])


def test_all_has_one_row_per_distinct_request(built: tuple[Path, Any]) -> None:
    out, _ = built
    rows = read_parquet(out / CONFIGS["all"].data_file)
    keys = [request_key(r["prompt"], r["context"]) for r in rows]
    assert len(keys) == len(set(keys)) == 9
    assert {r["id"] for r in rows} == {
        "harmbench:poem_autumn", "harmbench:fairy_tale_summary", "harmbench:translate_weather",
        "harmbench:translate_pancakes", "harmbench:sunrise_sea", "advbench:1", "advbench:2", "jbb:1", "strongreject:0",
    }  # fmt: skip
    assert all(r["duplicate_of"] is None for r in rows)
    assert {r["source"] for r in rows} <= set(HARMFUL_SOURCES)


def test_duplicate_of_points_at_the_first_occurrence(built: tuple[Path, Any]) -> None:
    out, _ = built
    dup = {r["id"]: r["duplicate_of"] for c in ("harmbench", "advbench", "jbb", "strongreject") for r in read_parquet(out / CONFIGS[c].data_file)}
    assert dup["advbench:0"] == "harmbench:poem_autumn"  # case, spacing and final period differ
    assert dup["jbb:0"] == "advbench:2"
    assert dup["strongreject:1"] == "advbench:1"
    assert dup["harmbench:translate_pancakes"] is None  # same instruction, other context: a different request
    assert sum(v is not None for v in dup.values()) == 3


def test_rows_carry_source_fields_and_labels(built: tuple[Path, Any]) -> None:
    out, _ = built
    hb = {r["source_id"]: r for r in read_parquet(out / CONFIGS["harmbench"].data_file)}
    assert "lyrics_some_song" not in hb  # copyright behaviours stay out
    weather = hb["translate_weather"]
    assert weather["prompt"] == "Translate this paragraph into French"
    assert weather["context"].startswith("The weather today") and weather["category"] == "harmful"
    assert hb["sunrise_sea"]["prompt"] == "Describe a sunrise over the sea"
    assert weather["annotator"] == "test-annotator" and weather["rubric_version"] == "1" and weather["split"] == "test"
    core = read_parquet(out / CONFIGS["core"].data_file)
    assert [r["annotator"] for r in core] == ["eh-bench authors (llm-assisted)"] * 3


def test_manifest_records_provenance_and_unlabelled(built: tuple[Path, Any], tmp_path: Path) -> None:
    out, _ = built
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["version"] == DATASET_VERSION and manifest["name"] == "eh-bench"
    assert manifest["unlabelled"] == {"donotanswer": ["0", "1"]}
    assert manifest["unlabelled_counts"]["donotanswer"] == 2 and manifest["unlabelled_counts"]["advbench"] == 0
    assert manifest["skipped_configs"] == {"donotanswer": "no labelled rows (add a label file under eh_bench/labels/)"}
    src = manifest["sources"]["advbench"]
    assert src["sha256_matches"] is False and src["sha256"] != src["sha256_pinned"]
    assert src["revision"] in src["url"] and src["rows"] == 3 and src["labelled"] == 3
    assert set(manifest["labels"]) == {"harmbench", "advbench", "jbb", "jbb_benign", "strongreject"}
    for name, meta in manifest["files"].items():
        assert file_sha256(out / name) == meta
    assert manifest["configs"]["all"]["licenses"] == ["mit"]
    assert manifest["configs"]["all"]["sources"] == ["harmbench", "advbench", "jbb", "strongreject"]


def test_card_front_matter(built: tuple[Path, Any]) -> None:
    out, report = built
    meta = read_front_matter(out / "README.md")
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert list(configs) == list(report.configs)
    assert configs["all"]["default"] is True
    assert configs["jbb"]["data_files"] == [{"split": "test", "path": "jbb/test-00000-of-00001.parquet"}]
    assert meta["license"] == "mit"
    assert "checkbox" in meta["extra_gated_fields"].values() and meta["extra_gated_prompt"]
    assert {"text-generation"} <= set(meta["task_categories"]) and "not-for-all-audiences" in meta["tags"]
    info = {c["config_name"]: c for c in meta["dataset_info"]}
    assert info["core"]["splits"][0]["num_examples"] == 3
    assert {f["name"]: f["dtype"] for f in info["core"]["features"]}["cost"] == "int8"
    body = (out / "README.md").read_text(encoding="utf-8")
    for text in ("Content warning", "not validated by human annotators", "share one judgement", "@inproceedings{chao2024jailbreakbench"):
        assert text.lower() in body.lower(), text
    assert "| `all` | 9 |" in body and "| `donotanswer` | 2 | 0 | 2 | 0 | 0 |" in body


def test_validate_passes_on_a_fresh_build(built: tuple[Path, Any]) -> None:
    result = validate_dataset(built[0])
    assert result.ok, result.errors
    assert result.rows_checked["all"] == 9 and not result.warnings


def test_stale_label_is_left_out_and_reported(tmp_path: Path) -> None:
    labels = write_labels(tmp_path / "custom_labels", changes={"advbench:2": {"prompt_sha256": "0" * 64}})
    out, report = build(tmp_path, labels_dir=labels)
    assert report.joins["advbench"].mismatched[0]["source_id"] == "2"
    ids = {r["id"] for r in read_parquet(out / CONFIGS["advbench"].data_file)}
    assert ids == {"advbench:0", "advbench:1"}
    jbb = {r["id"]: r["duplicate_of"] for r in read_parquet(out / CONFIGS["jbb"].data_file)}
    assert jbb["jbb:0"] is None  # its earlier twin is unlabelled, so jbb:0 is now the first occurrence
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["sources"]["advbench"]["label_mismatches"][0]["label_prompt_sha256"] == "0" * 64
    assert manifest["unlabelled"]["advbench"] == ["2"]
    assert validate_dataset(out).ok


def test_labelled_donotanswer_makes_all_non_commercial(tmp_path: Path) -> None:
    labels = write_labels(tmp_path / "custom_labels")
    write_label_file(labels / "donotanswer.csv", [label_row("donotanswer", sid, p) for sid, p in expected("donotanswer")])
    out, report = build(tmp_path, labels_dir=labels)
    assert report.configs["donotanswer"] == 2 and report.configs["all"] == 11
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["configs"]["all"]["licenses"] == ["cc-by-nc-sa-4.0", "mit"]
    assert manifest["configs"]["donotanswer"]["licenses"] == ["cc-by-nc-sa-4.0"]
    assert read_front_matter(out / "README.md")["license"] == ["cc-by-nc-sa-4.0", "mit"]


def test_changed_sources_are_refused_by_default(tmp_path: Path) -> None:
    tree = fixture_tree(tmp_path)
    with pytest.raises(SourceError, match=r"harmbench_behaviors_text_all\.csv differs from the pinned value: expected 8d81acc"):
        build_dataset(tmp_path / "ds", download=False, **tree)
    assert not (tmp_path / "ds").exists()


def test_missing_source_file_names_it(tmp_path: Path) -> None:
    tree = fixture_tree(tmp_path)
    (tmp_path / "sources/strongreject/strongreject_dataset.csv").unlink()
    with pytest.raises(SourceError, match=r"strongreject/strongreject_dataset\.csv: benchmark file not found; looked in"):
        build_dataset(tmp_path / "ds", download=False, allow_changed_sources=True, **tree)


def test_builds_are_reproducible_and_replace_previous_builds(tmp_path: Path) -> None:
    a, _ = build(tmp_path / "a")
    b, _ = build(tmp_path / "b")
    assert (a / "MANIFEST.json").read_bytes() == (b / "MANIFEST.json").read_bytes()
    assert dataset_fingerprint(a)["manifest_sha256"] == dataset_fingerprint(b)["manifest_sha256"]
    labels = write_labels(tmp_path / "a" / "labels2", changes={"jbb:1": {"cost": 5}})
    _, report = build(tmp_path / "a", out=a, labels_dir=labels)  # rebuild over the previous build
    assert report.configs["all"] == 9
    assert dataset_fingerprint(a)["manifest_sha256"] != dataset_fingerprint(b)["manifest_sha256"]


def test_output_folder_that_is_not_a_build_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="exists and is not an eh-bench build"):
        build(tmp_path, out=tmp_path / "ds")
    assert (tmp_path / "ds" / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_load_config_and_fingerprint(built: tuple[Path, Any], tmp_path: Path) -> None:
    out, _ = built
    ds = load_config(out, "core_benign", cache_dir=tmp_path / "hf")
    assert ds.num_rows == 2 and ds[0]["source"] == "core_benign"
    with pytest.raises(ConfigError, match="unknown config 'nope'; choose one of: all, core"):
        load_config(out, "nope")
    with pytest.raises(ConfigError, match="config 'donotanswer' was not built"):
        load_config(out, "donotanswer")
    fp = dataset_fingerprint(out)
    assert fp["name"] == "eh-bench" and fp["version"] == DATASET_VERSION
    assert fp["manifest_sha256"] == file_sha256(out / "MANIFEST.json")


@pytest.mark.skipif(not HAS_REAL_SOURCES, reason="EH_SOURCES_DIR with the benchmark files is not set")
def test_real_build_with_packaged_labels(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    report = build_dataset(out, sources_dir=REAL_SOURCES, cache_dir=tmp_path / "cache", download=False)
    assert not report.changed_sources
    result = validate_dataset(out)
    assert result.ok, result.errors[:5]
    labelled = [r for name in HARMFUL_SOURCES if name in report.configs for r in read_parquet(out / CONFIGS[name].data_file)]
    distinct = {request_key(r["prompt"], r["context"]) for r in labelled}
    ds = load(out, "all", tmp_path / "hf")
    assert ds.num_rows == len(distinct) == report.configs["all"]
    assert len({request_key(p, c) for p, c in zip(ds["prompt"], ds["context"], strict=True)}) == ds.num_rows
    raw = sum(len(load_source(n, sources_dir=REAL_SOURCES, download=False).rows) for n in report.configs if n in HARMFUL_SOURCES)
    assert ds.num_rows < raw  # the public benchmarks overlap
    for name, join in report.joins.items():
        assert join.labelled + len(join.unlabelled) == join.rows
        assert report.configs.get(name, 0) == join.labelled


def test_copy_of_a_build_still_validates(built: tuple[Path, Any], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(built[0], copy)
    (copy / ".gitattributes").write_text("*.parquet filter=lfs\n", encoding="utf-8")  # as in a Hub clone
    assert validate_dataset(copy).ok


def test_without_matplotlib_the_build_says_how_to_proceed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"pip install 'eh-bench\[leaderboard\]', or build without it \(--no-plot"):
        build(tmp_path)
    out, report = build(tmp_path, out=tmp_path / "noplot", plot=False)
    assert not (out / "plots").exists() and report.configs["all"] == 9
    assert "cost_by_source.png" not in (out / "README.md").read_text(encoding="utf-8")
    assert validate_dataset(out).ok
