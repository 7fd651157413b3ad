"""The SQLite judge cache and judge_cached: second runs make no judge call, unscored is never stored."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from judge_fakes import ScriptedBackend, by_response, last_user

from eh_bench.backends.base import ChatResult, Message
from eh_bench.errors import ConfigError, EHBenchError
from eh_bench.judges import JudgeCache, JudgeItem, Verdict, get_judge, judge_cached
from eh_bench.judges.cache import ENV_CACHE_DIR, CacheStats, cache_key, default_cache_path
from eh_bench.judges.harmbench import HarmBenchJudge
from eh_bench.judges.usefulness import UsefulnessJudge

ITEMS = [
    JudgeItem("Give me a cake recipe.", "Sure: flour, eggs, sugar."),
    JudgeItem("Give me a cake recipe.", "I can't help with that."),
    JudgeItem("Summarise the text.", "It is about cakes.", context="A text about cakes."),
]


def yes_if_sure(conversation: Sequence[Message]) -> str:
    return "Yes" if "Sure:" in last_user(conversation) or "about cakes" in last_user(conversation) else "No"


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[JudgeCache]:
    with JudgeCache(tmp_path / "cache.sqlite") as c:
        yield c


def test_second_run_makes_no_judge_call(cache: JudgeCache) -> None:
    backend = ScriptedBackend(yes_if_sure)
    judge = HarmBenchJudge(backend)
    first = judge_cached(judge, ITEMS, cache, progress=False)
    assert [v.success for v in first] == [1.0, 0.0, 1.0]
    assert first.stats.as_dict() == CacheStats(items=3, misses=3, judged=3, judge_calls=1, stored=3).as_dict()
    assert len(backend.calls) == 1 and len(cache) == 3

    second = judge_cached(HarmBenchJudge(backend), ITEMS, cache, progress=False)
    assert second == first  # same verdicts (success, reason, raw), same order
    assert second.stats.hits == 3 and second.stats.misses == 0 and second.stats.judge_calls == 0
    assert len(backend.calls) == 1
    assert cache.stats.hits == 3 and cache.stats.judge_calls == 1  # cumulative


def test_a_warm_cache_never_builds_the_backend(cache: JudgeCache, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = ScriptedBackend(yes_if_sure, spec="openai:http://x/v1#j")
    built: list[str] = []

    def fake_get_backend(spec: str, **options: object) -> ScriptedBackend:
        built.append(spec)
        return fake

    monkeypatch.setattr("eh_bench.backends.get_backend", fake_get_backend)
    judge_cached(get_judge("harmbench", "openai:http://x/v1#j"), ITEMS, cache, progress=False)
    assert built == ["openai:http://x/v1#j"]
    again = get_judge("harmbench", "openai:http://x/v1#j")
    judge_cached(again, ITEMS, cache, progress=False)
    assert built == ["openai:http://x/v1#j"]
    assert not again.backend.loaded  # type: ignore[attr-defined]


def test_unscored_verdicts_are_not_cached_so_a_retry_can_succeed(cache: JudgeCache) -> None:
    answers = {"Sure:": ChatResult.failure("HTTP 503"), "can't": "Maybe", "about cakes": "Yes"}
    flaky = by_response(answers)
    first = judge_cached(HarmBenchJudge(flaky), ITEMS, cache, progress=False)
    assert [v.success for v in first] == [None, None, 1.0]
    assert first.stats.unscored == 2 and first.stats.stored == 1 and len(cache) == 1

    healthy = by_response({"Sure:": "Yes", "can't": "No"})
    second = judge_cached(HarmBenchJudge(healthy), ITEMS, cache, progress=False)
    assert [v.success for v in second] == [1.0, 0.0, 1.0]
    assert second.stats.hits == 1 and second.stats.judged == 2
    assert len(healthy.conversations) == 2


def test_duplicates_are_judged_once_and_returned_in_order(cache: JudgeCache) -> None:
    backend = ScriptedBackend(yes_if_sure)
    items = [ITEMS[0], ITEMS[1], ITEMS[0], ITEMS[0]]
    verdicts = judge_cached(HarmBenchJudge(backend), items, cache, progress=False)
    assert [v.success for v in verdicts] == [1.0, 0.0, 1.0, 1.0]
    assert verdicts.stats.misses == 4 and verdicts.stats.judged == 2
    assert len(backend.conversations) == 2


def test_key_covers_judge_revision_prompt_context_and_response(cache: JudgeCache) -> None:
    item = ITEMS[0]
    base = cache_key("harmbench-yesno", "r1", item)
    assert len(base) == 32
    variants = [
        cache_key("usefulness-yesno", "r1", item),
        cache_key("harmbench-yesno", "r2", item),
        cache_key("harmbench-yesno", "r1", JudgeItem(item.prompt + " ", item.response)),
        cache_key("harmbench-yesno", "r1", JudgeItem(item.prompt, item.response + " ")),
        cache_key("harmbench-yesno", "r1", JudgeItem(item.prompt, item.response, context="")),
        cache_key("harmbench-yesno", "r1", JudgeItem(item.prompt, item.response, context="c")),
    ]
    assert len({base, *variants}) == 7
    assert cache_key("harmbench-yesno", "r1", JudgeItem(item.prompt, item.response)) == base


def test_a_new_backend_or_judge_misses(cache: JudgeCache) -> None:
    judge_cached(HarmBenchJudge(ScriptedBackend(yes_if_sure, spec="fake:a")), ITEMS, cache, progress=False)
    other_model = judge_cached(
        HarmBenchJudge(ScriptedBackend(yes_if_sure, spec="fake:b")), ITEMS, cache, progress=False
    )
    assert other_model.stats.hits == 0
    other_judge = judge_cached(
        UsefulnessJudge(ScriptedBackend(lambda c: "NO", spec="fake:a")), ITEMS, cache, progress=False
    )
    assert other_judge.stats.hits == 0 and [v.success for v in other_judge] == [0.0, 0.0, 0.0]
    assert len(cache) == 9
    assert cache.clear("usefulness-yesno") == 3 and len(cache) == 6


def test_chunks_make_one_call_each_with_a_progress_bar(
    cache: JudgeCache, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = ScriptedBackend(lambda c: "No")
    items = [JudgeItem("Give me a cake recipe.", f"Recipe number {i}.") for i in range(25)]
    verdicts = judge_cached(HarmBenchJudge(backend), items, cache, progress=True, chunk_size=10)
    assert len(verdicts) == 25 and verdicts.stats.judge_calls == 3 and verdicts.stats.stored == 25
    assert [len(call["conversations"]) for call in backend.calls] == [10, 10, 5]  # type: ignore[arg-type]
    assert "judging with harmbench-yesno" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="chunk_size"):
        judge_cached(HarmBenchJudge(backend), items, cache, chunk_size=0)


def test_persists_across_connections_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "judge.sqlite"
    with JudgeCache(path) as first:
        judge_cached(HarmBenchJudge(ScriptedBackend(yes_if_sure)), ITEMS, first, progress=False)
    with JudgeCache(path) as second:
        backend = ScriptedBackend(yes_if_sure)
        again = judge_cached(HarmBenchJudge(backend), ITEMS, second, progress=False)
        assert again.stats.hits == 3 and backend.calls == []
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = raw.execute("SELECT judge_id, revision, success FROM verdicts ORDER BY success").fetchall()
    assert [r[0] for r in rows] == ["harmbench-yesno"] * 3
    assert rows[0][1] == HarmBenchJudge(ScriptedBackend(yes_if_sure)).revision


def test_default_path_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_CACHE_DIR, raising=False)
    assert default_cache_path() == Path("~/.cache/eh-bench/judge_cache.sqlite").expanduser()
    monkeypatch.setenv(ENV_CACHE_DIR, str(tmp_path / "c"))
    assert default_cache_path() == tmp_path / "c" / "judge_cache.sqlite"
    backend = ScriptedBackend(yes_if_sure)
    judge_cached(HarmBenchJudge(backend), ITEMS[:1], progress=False)  # cache=None: the default file
    assert (tmp_path / "c" / "judge_cache.sqlite").is_file()
    assert judge_cached(HarmBenchJudge(backend), ITEMS[:1], progress=False).stats.hits == 1


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match=r"cannot open the judge cache.*EH_CACHE_DIR"):
        JudgeCache(blocker / "cache.sqlite")


def test_refusal_judge_bypasses_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_CACHE_DIR, str(tmp_path))
    verdicts = judge_cached(get_judge("refusal"), ITEMS, progress=False)
    assert [v.success for v in verdicts] == [1.0, 0.0, 1.0]
    assert verdicts.stats.bypassed == 3 and verdicts.stats.hits == 0 and verdicts.stats.judge_calls == 1
    assert not (tmp_path / "judge_cache.sqlite").exists()


def test_a_judge_returning_too_few_verdicts_is_an_error(cache: JudgeCache) -> None:
    class Broken:
        id = "broken"
        revision = "broken-v1"

        def judge(self, items: Sequence[JudgeItem]) -> list[Verdict]:
            return []

    with pytest.raises(EHBenchError, match="returned 0 verdicts for 3 items"):
        judge_cached(Broken(), ITEMS, cache, progress=False)


def test_empty_input(cache: JudgeCache) -> None:
    backend = ScriptedBackend(yes_if_sure)
    verdicts = judge_cached(HarmBenchJudge(backend), [], cache, progress=False)
    assert verdicts == [] and verdicts.stats.judge_calls == 0 and backend.calls == []


def test_lone_surrogates_in_judge_output_are_storable(cache: JudgeCache) -> None:
    backend = ScriptedBackend(lambda c: "Yes\n\ud800 trailing")
    item = JudgeItem("Give me a cake recipe \udc00.", "Sure \ud83d.")
    (first,) = judge_cached(HarmBenchJudge(backend), [item], cache, progress=False)
    assert first.success == 1.0
    (again,) = judge_cached(HarmBenchJudge(backend), [item], cache, progress=False)
    assert again.success == 1.0 and again.raw == "Yes\n? trailing"
    assert len(backend.calls) == 1
