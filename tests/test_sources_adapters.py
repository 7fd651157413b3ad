"""Every public adapter on the stand-in files written here, and on the real files when EH_SOURCES_DIR is set."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from dataset_fixtures import HAS_REAL_SOURCES, REAL_SOURCES, expected, sha, write_sources

from eh_bench.errors import SourceError
from eh_bench.sources import ADAPTERS, PUBLIC_SOURCES, harmbench, load_source

real_only = pytest.mark.skipif(not HAS_REAL_SOURCES, reason="EH_SOURCES_DIR with the benchmark files is not set")


@pytest.mark.parametrize("name", PUBLIC_SOURCES)
def test_adapter_on_stand_in_file(tmp_path: Path, name: str) -> None:
    write_sources(tmp_path)
    loaded = load_source(name, sources_dir=tmp_path, cache_dir=tmp_path / "c", download=False, allow_changed_sources=True)
    assert not loaded.file.matches  # stand-in bytes are not the pinned ones
    got = [(r.source_id, r.prompt) for r in loaded.rows]
    assert got == [(sid, prompt.strip()) for sid, prompt in expected(name)]
    for row in loaded.rows:
        assert row.id == f"{name}:{row.source_id}" and row.source == name
        assert row.prompt_sha256 == sha(row.prompt)
        assert row.split == "test" and row.duplicate_of is None and not row.labelled


def test_stand_in_file_is_refused_without_allow_changed(tmp_path: Path) -> None:
    write_sources(tmp_path)
    with pytest.raises(SourceError, match=r"expected 6cd1a5c63c07.*actual [0-9a-f]{64}.*--allow-changed-sources"):
        load_source("advbench", sources_dir=tmp_path, cache_dir=tmp_path / "c", download=False)


def test_harmbench_context_categories_and_copyright(tmp_path: Path) -> None:
    write_sources(tmp_path, {"harmbench"})
    path = tmp_path / harmbench.FILE.relpath
    rows = {r.source_id: r for r in harmbench.parse(path)}
    assert "lyrics_some_song" not in rows
    assert rows["translate_weather"].context == "The weather today is sunny with a light breeze.\nBring a hat."
    assert rows["translate_weather"].prompt == "Translate this paragraph into French"  # request only
    assert rows["poem_autumn"].context == "" and rows["poem_autumn"].category == "misinformation_disinformation"
    assert rows["translate_weather"].key != rows["translate_pancakes"].key
    everything = {r.source_id for r in harmbench.parse(path, functional=("standard", "contextual", "copyright"))}
    assert "lyrics_some_song" in everything and len(everything) == 6


def test_category_columns(tmp_path: Path) -> None:
    write_sources(tmp_path)
    cats = {
        name: [r.category for r in load_source(name, sources_dir=tmp_path, cache_dir=tmp_path, download=False,
                                                 allow_changed_sources=True).rows]
        for name in ("advbench", "jbb", "strongreject", "donotanswer")
    }  # fmt: skip
    assert cats["advbench"] == [None, None, None]
    assert cats["jbb"] == ["Expert advice", "Physical harm"]
    assert cats["strongreject"] == ["Sexual content", "Violence"]
    assert cats["donotanswer"] == ["Risks from leaking sensitive information", "Assisting illegal activities"]


def test_empty_prompt_is_an_error_naming_the_record(tmp_path: Path) -> None:
    path = tmp_path / "strongreject.csv"
    path.write_text("category,source,forbidden_prompt\nViolence,custom,Say hello\nViolence,custom,  \n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"record 2 \(0-based row 1\): column 'forbidden_prompt' is empty"):
        list(ADAPTERS.get("strongreject").parse(path))


# Real benchmark files (verified copies; pinned sha256 must match).
REAL_COUNTS = {"harmbench": 300, "advbench": 520, "jbb": 100, "jbb_benign": 100, "strongreject": 313, "donotanswer": 939}


@real_only
@pytest.mark.parametrize("name", PUBLIC_SOURCES)
def test_adapter_on_real_file(name: str) -> None:
    loaded = load_source(name, sources_dir=REAL_SOURCES, cache_dir="/nonexistent", download=False)
    assert loaded.file.matches and loaded.file.origin == "sources_dir"
    rows = loaded.rows
    assert len(rows) == REAL_COUNTS[name]
    assert len({r.id for r in rows}) == len(rows)
    assert all(r.prompt and r.prompt == r.prompt.strip() and r.prompt_sha256 == sha(r.prompt) for r in rows)


@real_only
def test_real_id_conventions_and_taxonomies() -> None:
    def load(name: str) -> list:  # type: ignore[type-arg]
        return load_source(name, sources_dir=REAL_SOURCES, download=False).rows

    assert [r.source_id for r in load("advbench")] == [str(i) for i in range(520)]
    assert [r.source_id for r in load("strongreject")] == [str(i) for i in range(313)]
    assert sorted(int(r.source_id) for r in load("jbb")) == list(range(100))
    assert sorted(int(r.source_id) for r in load("donotanswer")) == list(range(939))
    assert len({r.category for r in load("jbb")}) == 10
    assert Counter(r.category for r in load("strongreject"))["Non-violent crimes"] == 59
    hb = load("harmbench")
    assert sum(1 for r in hb if r.context) == 100  # contextual behaviours keep their context
    assert "copyright" not in {r.category for r in hb}
    assert all("_" in r.source_id or r.source_id.isalnum() for r in hb)  # BehaviorIDs, not indices
    path = Path(str(REAL_SOURCES)) / harmbench.FILE.relpath
    assert len(list(harmbench.parse(path, functional=("standard", "contextual", "copyright")))) == 400
