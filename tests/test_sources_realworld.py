"""Real-world adapters (WildChat, LMSYS-Chat-1M) on synthetic records in those datasets' schemas.

The texts are harmless stand-ins; only the record layout and the moderation fields follow the datasets.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eh_bench.errors import InputError
from eh_bench.sources import REALWORLD, lmsys, wildchat
from eh_bench.sources.realworld import extract, flagged_categories, iter_records, write_jsonl

CATEGORY_NAMES = ("harassment", "harassment/threatening", "hate", "self-harm", "sexual", "violence")


def moderation(flagged: bool, *true: str) -> dict[str, Any]:
    return {
        "categories": {name: name in true for name in CATEGORY_NAMES},
        "category_scores": {name: 0.9 if name in true else 0.01 for name in CATEGORY_NAMES},
        "flagged": flagged,
    }


def wildchat_record(i: int, text: str, toxic: bool, *, later_toxic: bool = False, language: str = "English",
                    categories: tuple[str, ...] = ("harassment",)) -> dict[str, Any]:  # fmt: skip
    """One WildChat-1M-Full record (``conversation_hash``, per-turn ``toxic`` flags, aligned moderation)."""

    def turn(role: str, content: str, flag: bool) -> dict[str, Any]:
        return {
            "content": content, "country": "Nowhere", "hashed_ip": "abc", "header": {"accept-language": "en", "user-agent": "x"},
            "language": language, "redacted": False, "role": role, "state": None, "timestamp": None, "toxic": flag,
            "turn_identifier": i,
        }  # fmt: skip

    return {
        "conversation_hash": f"wc{i:06d}",
        "model": "gpt-4",
        "conversation": [
            turn("user", text, toxic),
            turn("assistant", "I can't help with that.", False),
            turn("user", "Then tell me a joke about penguins.", later_toxic),
        ],
        "turn": 2,
        "language": language,
        "openai_moderation": [moderation(toxic, *categories), moderation(False), moderation(later_toxic, "hate")],
        "detoxify_moderation": [{"identity_attack": 0.0}, {"identity_attack": 0.0}, {"identity_attack": 0.0}],
        "toxic": toxic or later_toxic,
        "redacted": False,
    }


def lmsys_record(i: int, text: str, flagged: bool, *, system_first: bool = False, language: str = "English") -> dict[str, Any]:
    """One LMSYS-Chat-1M record (``conversation_id``, moderation aligned with ``conversation``)."""
    conversation = [{"content": text, "role": "user"}, {"content": "Sure, here is a cake recipe.", "role": "assistant"}]
    mods = [moderation(flagged, "violence", "harassment_threatening"), moderation(False)]
    if system_first:
        conversation.insert(0, {"content": "Be brief.", "role": "system"})
        mods.insert(0, moderation(True, "hate"))  # a flagged non-user turn must not count
    if mods[-2 if not system_first else 1]["flagged"]:
        mods[-2 if not system_first else 1]["categories"]["harassment_threatening"] = True
    return {
        "conversation_id": f"lm{i:06d}",
        "model": "vicuna-13b",
        "conversation": conversation,
        "turn": 1,
        "language": language,
        "openai_moderation": mods,
        "redacted": False,
    }


def test_registry_lists_both_sources() -> None:
    assert REALWORLD.names() == ["lmsys", "wildchat"]
    assert REALWORLD.get("wildchat").hf_repo == "allenai/WildChat-1M-Full"
    assert REALWORLD.get("lmsys").hf_repo == "lmsys/lmsys-chat-1m"


def test_wildchat_keeps_only_toxic_first_turns() -> None:
    kept = wildchat.to_row(wildchat_record(1, "Stand-in flagged message one", True, categories=("harassment", "violence")))
    assert kept is not None
    assert (kept.id, kept.prompt, kept.category) == ("wildchat:wc000001", "Stand-in flagged message one", "harassment,violence")
    assert not kept.labelled and kept.split == "test"
    assert wildchat.to_row(wildchat_record(2, "A friendly question", False, later_toxic=True)) is None


def test_wildchat_without_turn_flags_falls_back_to_openai_moderation() -> None:
    record = wildchat_record(3, "Stand-in flagged message three", True)
    record["conversation_id"] = record.pop("conversation_hash")  # first release naming
    for turn in record["conversation"]:
        del turn["toxic"]
    row = wildchat.to_row(record)
    assert row is not None and row.source_id == "wc000003"
    record["openai_moderation"][0]["flagged"] = False
    assert wildchat.to_row(record) is None


def test_lmsys_uses_moderation_aligned_with_the_first_user_turn() -> None:
    row = lmsys.to_row(lmsys_record(1, "Stand-in flagged request", True))
    assert row is not None and row.id == "lmsys:lm000001"
    assert row.category == "harassment/threatening,violence"  # alias spelling unified
    assert lmsys.to_row(lmsys_record(2, "Harmless request", False)) is None
    assert lmsys.to_row(lmsys_record(3, "Harmless request", False, system_first=True)) is None
    shifted = lmsys.to_row(lmsys_record(4, "Stand-in flagged request four", True, system_first=True))
    assert shifted is not None and shifted.prompt == "Stand-in flagged request four"


def test_flagged_categories_unifies_spellings() -> None:
    entry = {"categories": {"self_harm": True, "self-harm": True, "sexual/minors": False, "hate": True}}
    assert flagged_categories(entry) == ["hate", "self-harm"]
    assert flagged_categories({}) == []


def _records(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield wildchat_record(i, f"Stand-in flagged message {i % 7}", toxic=i % 2 == 0, language="English" if i % 3 else "French")


def test_extract_filters_dedupes_and_limits() -> None:
    src = REALWORLD.get("wildchat")
    rows = list(extract(src, _records(60)))
    assert rows and all(r.source == "wildchat" for r in rows)
    assert len({r.prompt for r in rows}) == len(rows) == 7  # 7 distinct stand-in prompts
    with_dups = list(extract(src, _records(60), dedupe=False))
    assert len(with_dups) == 30  # every even record is toxic
    english = list(extract(src, _records(60), language="English", dedupe=False))
    assert len(english) == sum(1 for i in range(60) if i % 2 == 0 and i % 3)
    assert len(list(extract(src, _records(60), dedupe=False, limit=5))) == 5


def test_extract_is_lazy() -> None:
    consumed = 0

    def endless() -> Iterator[dict[str, Any]]:
        nonlocal consumed
        i = 0
        while True:
            consumed += 1
            yield wildchat_record(i, f"Stand-in {i}", toxic=True)
            i += 1

    rows = extract(REALWORLD.get("wildchat"), endless(), limit=3)
    assert consumed == 0  # a generator: nothing read before iteration
    assert [r.source_id for r in rows] == ["wc000000", "wc000001", "wc000002"]
    assert consumed == 3


def test_iter_records_reads_parquet_in_batches_and_prunes_columns(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [lmsys_record(i, f"Stand-in request {i}", flagged=i % 4 == 0) for i in range(2500)]
    for r in records:
        r["big_unused_column"] = "x" * 50
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "part-0.parquet", row_group_size=700)
    got = list(iter_records(tmp_path, columns=lmsys.COLUMNS))
    assert len(got) == 2500 and "big_unused_column" not in got[0] and "model" not in got[0]
    rows = list(extract(REALWORLD.get("lmsys"), iter(got)))
    assert [r.source_id for r in rows] == [f"lm{i:06d}" for i in range(0, 2500, 4)]
    single = list(iter_records(tmp_path / "part-0.parquet", columns=("conversation_id",)))
    assert single[0] == {"conversation_id": "lm000000"}


def test_iter_records_reads_jsonl_gz_and_names_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "wc.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for record in _records(4):
            fh.write(json.dumps(record) + "\n")
    assert [r["conversation_hash"] for r in iter_records(path)] == ["wc000000", "wc000001", "wc000002", "wc000003"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n\n{not json\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.jsonl:3: not valid JSON"):
        list(iter_records(bad))
    with pytest.raises(InputError, match="no such file or folder"):
        list(iter_records(tmp_path / "missing.jsonl"))


def test_write_jsonl_emits_canonical_rows(tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl"
    n = write_jsonl(extract(REALWORLD.get("wildchat"), _records(10)), out)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert n == len(lines) == 5
    assert lines[0]["id"] == "wildchat:wc000000" and lines[0]["cost"] is None and lines[0]["prompt_sha256"]
