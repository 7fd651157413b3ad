"""The attack journal: keyed records, input checks, a kill mid-write, corrupt lines, and the caller on top."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from judge_fakes import ScriptedBackend, constant

from eh_bench.attacks.calls import Caller, CallStats, JournaledBackend
from eh_bench.attacks.journal import Journal, StepKey, input_digest
from eh_bench.backends.base import ChatResult
from eh_bench.errors import InputError
from eh_bench.judges.base import JudgeItem, Verdict

KEY = StepKey("demo:1", "cost", "direct", "target/g1")


def test_record_is_found_only_with_the_same_key_and_input(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append([(KEY, "abc", "chat", {"text": "hello"})])
    assert journal.get(KEY, "abc") == {"text": "hello"}
    assert journal.get(KEY, "other input") is None
    assert journal.get(StepKey("demo:1", "cost", "pair", "target/g1"), "abc") is None
    reopened = Journal(tmp_path / "journal.jsonl")
    assert reopened.loaded == 1 and reopened.get(KEY, "abc") == {"text": "hello"}


def test_later_record_of_a_key_wins(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append([(KEY, "v1", "chat", {"text": "old"})])
    journal.append([(KEY, "v2", "chat", {"text": "new"})])
    reopened = Journal(tmp_path / "j.jsonl")
    assert reopened.get(KEY, "v2") == {"text": "new"} and reopened.get(KEY, "v1") is None
    assert len(reopened) == 1


def test_a_line_cut_short_by_a_kill_is_dropped_and_appends_stay_valid(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    Journal(path).append([(KEY, "abc", "chat", {"text": "kept"})])
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"key": ["demo:2", "*", "*", "dec')  # the process died here
    journal = Journal(path)
    assert journal.loaded == 1
    other = StepKey("demo:2", "*", "*", "decompose/cost/0")
    journal.append([(other, "d", "chat", {"text": "after"})])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)
    assert Journal(path).get(other, "d") == {"text": "after"}


def test_a_corrupt_line_in_the_middle_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"key": ["a", "b", "c", "d"], "input": "x", "output": {}}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"journal.jsonl, line 2: not a journal record"):
        Journal(path)


def test_caller_sends_only_missing_conversations_and_does_not_journal_errors(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    answers = {"a": "A", "b": ChatResult.failure("HTTP 500")}
    backend = ScriptedBackend(lambda c: answers[c[-1]["content"]], spec="fake:t")
    caller = Caller(journal, CallStats())
    keys = [KEY.child("a"), KEY.child("b")]
    convs = [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]]
    first = caller.chat("target", backend, keys, convs, max_new_tokens=8)
    assert [r.text for r in first] == ["A", None]
    answers["b"] = "B"
    again = Caller(journal, caller.stats).chat("target", backend, keys, convs, max_new_tokens=8)
    assert [r.text for r in again] == ["A", "B"]
    assert [len(call["conversations"]) for call in backend.calls] == [2, 1]  # only "b" was sent again
    assert caller.stats.as_dict() == {"made": {"target": 3}, "replayed": {"target": 1}}
    # a different token budget is a different input: sent again
    Caller(journal, CallStats()).chat("target", backend, keys[:1], convs[:1], max_new_tokens=9)
    assert len(backend.calls) == 3


def test_verdicts_are_journaled_except_judge_outages(tmp_path: Path) -> None:
    class Judge:
        id, revision = "fake-judge", "fake-judge-v1"

        def __init__(self) -> None:
            self.seen: list[str] = []

        def judge(self, items: list[JudgeItem]) -> list[Verdict]:
            self.seen += [i.response for i in items]
            return [
                Verdict(None, "judge_error: timed out") if i.response == "down" else Verdict(1.0, "yes")
                for i in items
            ]

    journal, judge = Journal(tmp_path / "j.jsonl"), Judge()
    items = [JudgeItem("q", "ok"), JudgeItem("q", "down")]
    keys = [KEY.child("judge/1"), KEY.child("judge/2")]
    Caller(journal, CallStats()).verdicts("judge", judge, keys, items)
    verdicts = Caller(journal, CallStats()).verdicts("judge", judge, keys, items)
    assert judge.seen == ["ok", "down", "down"]
    assert verdicts[0] == Verdict(1.0, "yes", None) and verdicts[1].success is None


def test_journaled_backend_keys_by_content(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    inner = constant("same answer", spec="fake:m")
    backend = JournaledBackend(Caller(journal, CallStats()), "monitor", inner, StepKey("r", "*", "*", "label"))
    conv = [[{"role": "user", "content": "label this"}]]
    backend.generate(conv, max_new_tokens=4)
    backend.generate(conv, max_new_tokens=4)
    assert backend.spec == "fake:m" and len(inner.calls) == 1
    digest = input_digest("fake:m", [{"role": "user", "content": "label this"}], 4, 0.0)
    assert journal.keys()[0].step == f"label/h{digest[:20]}"
