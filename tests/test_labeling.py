"""The LLM labeller: prompt, strict parser, votes, retries; end to end on the embedded SmolLM2."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eh_bench import rubric
from eh_bench.backends import ChatResult, Message
from eh_bench.errors import ConfigError
from eh_bench.labeling import labeller as labeling
from eh_bench.labeling.io import write_outcomes
from eh_bench.labeling.labeller import (
    MalformedAnswer,
    Request,
    aggregate_votes,
    label_requests,
    parse_answer,
)
from eh_bench.sources.base import prompt_sha256

GOOD: dict[str, Any] = {
    "expertise": 1, "equipment": 1, "time": 1, "legality": 2, "cost": 1, "severity": 2,
    "harm_category": "fraud_deception", "rationale": "Ready-to-send text; small losses per person.",
}  # fmt: skip


def answer(**change: Any) -> str:
    return json.dumps({**GOOD, **change})


def without(key: str) -> str:
    return json.dumps({k: v for k, v in GOOD.items() if k != key})


def req(i: int, prompt: str = "Write a short cake recipe.", context: str = "") -> Request:
    text = f"{prompt} ({i})"
    return Request("demo", str(i), text, prompt_sha256(text), context)


def vote(**change: Any) -> rubric.Label:
    return parse_answer(answer(**change))


class ScriptedBackend:
    """A fake chat backend: ``reply(conversation, temperature)`` gives each answer (None: an error)."""

    spec = "fake:scripted"

    def __init__(self, reply: Callable[[Sequence[Message], float], str | None]) -> None:
        self.reply = reply
        self.calls: list[tuple[int, float, int]] = []
        self.conversations: list[Sequence[Message]] = []

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> list[ChatResult]:
        self.calls.append((len(conversations), temperature, max_new_tokens))
        self.conversations.extend(conversations)
        out = []
        for conversation in conversations:
            text = self.reply(conversation, temperature)
            out.append(ChatResult(text) if text is not None else ChatResult.failure("HTTP 503"))
        return out


# ---------------------------------------------------------------- prompt


def test_prompt_carries_the_rubric_from_rubric_py_and_the_request() -> None:
    [message] = labeling.build_prompt("Write a cake recipe.")
    text = message["content"]
    assert message["role"] == "user"
    for anchors in (*rubric.COST_FACTORS.values(), rubric.COST_ANCHORS, rubric.SEVERITY_ANCHORS):
        for anchor in anchors.values():
            assert anchor in text
    for name in (*rubric.COST_FACTORS, *rubric.HARM_CATEGORIES, *labeling.ANSWER_KEYS):
        assert name in text
    assert f"rubric v{rubric.RUBRIC_VERSION}" in text
    assert text.rstrip().endswith("Write a cake recipe.\n>>>")
    assert "Context given" not in text


def test_prompt_includes_context_only_when_given() -> None:
    text = labeling.build_prompt("Summarise it.", context="  A stand-in paragraph.  ")[0]["content"]
    assert "Context given with the request:\n<<<\nA stand-in paragraph.\n>>>" in text
    assert text.index("A stand-in paragraph.") < text.index("Summarise it.")


# ---------------------------------------------------------------- strict parser


@pytest.mark.parametrize(
    "text",
    [
        answer(),
        "  \n" + answer() + "\n",
        "```json\n" + answer() + "\n```",
        "```\n" + answer() + "\n```",
        "<think>cheap text, small fraud</think>\n" + answer(),
        answer(rationale=" ".join(["word"] * labeling.MAX_RATIONALE_WORDS)),
    ],
)
def test_parser_accepts_well_formed_answers(text: str) -> None:
    label = parse_answer(text)
    assert (label.cost, label.severity, label.legality) == (1, 2, 2)
    assert label.harm_category == "fraud_deception"
    assert label.rubric_version == rubric.RUBRIC_VERSION


MALFORMED = [
    ("", "empty answer"),
    ("   \n\t", "empty answer"),
    ("I cannot label this request.", "no JSON object"),
    ("Here is my label: " + answer(), "text outside the JSON object"),
    (answer() + "\nHope this helps!", "text outside the JSON object"),
    (answer() + answer(), "text outside the JSON object"),
    ("```json\n" + answer() + "\n``` done", "text outside the JSON object"),
    (answer()[:-15], "invalid JSON"),  # cut off mid-answer (partial)
    ('{"cost": 1,}', "invalid JSON"),
    ("[" + answer() + "]", "the answer is a JSON list, not an object"),
    ("<think>unfinished reasoning " + answer(), "unterminated <think> block"),
    ("{}", "missing keys: cost, equipment, expertise, harm_category, legality, rationale, severity, time"),
    (without("severity"), "missing keys: severity"),
    (without("rationale"), "missing keys: rationale"),
    (answer(confidence=0.9), "unexpected keys: confidence"),
    (answer()[:-1] + ', "cost": 2}', 'duplicate key "cost"'),
    (answer(cost="1"), "cost is '1', not a JSON integer"),
    (answer(cost=1.0), "cost is 1.0, not a JSON integer"),
    (answer(cost=True), "cost is True, not a JSON integer"),
    (answer(cost=None), "cost is None, not a JSON integer"),
    (answer(cost=[1]), "cost is [1], not a JSON integer"),
    (answer(severity=0), "severity is 0, outside 1-5"),
    (answer(severity=6), "severity is 6, outside 1-5"),
    (answer(time=-1), "time is -1, outside 1-5"),
    (answer(expertise=10**30), "outside 1-5"),
    (answer(cost=1).replace('"cost": 1', '"cost": NaN'), "NaN is not allowed"),
    (answer(harm_category="spam"), "harm_category 'spam' is not in the taxonomy"),
    (answer(harm_category="Cybercrime"), "harm_category 'Cybercrime' is not in the taxonomy"),
    (answer(harm_category=3), "harm_category 3 is not in the taxonomy"),
    (answer(rationale=""), "rationale is '', not a non-empty string"),
    (answer(rationale=7), "rationale is 7, not a non-empty string"),
    (answer(rationale=" ".join(["word"] * 21)), "rationale has 21 words, over the 20-word limit"),
]


@pytest.mark.parametrize(("text", "reason"), MALFORMED)
def test_parser_rejects_malformed_answers_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(MalformedAnswer) as err:
        parse_answer(text)
    assert reason in str(err.value)


def _assert_valid(label: rubric.Label) -> None:
    for field in rubric.LABEL_FIELDS:
        value = getattr(label, field)
        assert type(value) is int and 1 <= value <= 5
    assert label.harm_category in rubric.HARM_CATEGORIES
    assert 0 < len(label.rationale.split()) <= labeling.MAX_RATIONALE_WORDS
    rubric.validate_label(label.as_dict())


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fuzz_arbitrary_text_never_yields_an_invalid_label(text: str) -> None:
    try:
        label = parse_answer(text)
    except MalformedAnswer:
        return
    _assert_valid(label)


JSON_VALUES = st.one_of(
    st.integers(-3, 9), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(),
    st.text(max_size=30), st.sampled_from(sorted(rubric.HARM_CATEGORIES)),
    st.lists(st.integers(1, 5), max_size=2),
)  # fmt: skip
KEYS = st.sampled_from([*sorted(labeling.ANSWER_KEYS), "score", "Cost", ""])


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, JSON_VALUES, max_size=10), st.sampled_from(["{}", "```json\n{}\n```", "x {}"]))
def test_fuzz_json_shaped_answers_never_yield_an_invalid_label(data: dict[str, Any], wrapper: str) -> None:
    text = wrapper.replace("{}", json.dumps(data))
    try:
        label = parse_answer(text)
    except MalformedAnswer:
        return
    _assert_valid(label)
    assert {f: getattr(label, f) for f in rubric.LABEL_FIELDS} == {f: data[f] for f in rubric.LABEL_FIELDS}


# ---------------------------------------------------------------- votes


def test_majority_per_field() -> None:
    votes = [vote(cost=2, severity=3), vote(cost=2, severity=4), vote(cost=3, severity=3)]
    label, reason = aggregate_votes(votes, 3)
    assert label is not None and reason == ""
    assert (label.cost, label.severity, label.expertise) == (2, 3, 1)


def test_level_tie_goes_to_the_level_nearest_the_median() -> None:
    # cost votes 1, 1, 4, 4, 2: modes 1 and 4 tie, median 2 -> 1 is nearer
    votes = [vote(cost=c) for c in (1, 1, 4, 4, 2)]
    label, _ = aggregate_votes(votes, 5)
    assert label is not None and label.cost == 1


def test_level_tie_equally_near_the_median_leaves_the_request_unlabelled() -> None:
    label, reason = aggregate_votes([vote(severity=2), vote(severity=4)], 2)
    assert label is None
    assert reason == "tie on severity (votes 2, 4)"


def test_category_tie_leaves_the_request_unlabelled() -> None:
    votes = [vote(harm_category="privacy"), vote(harm_category="cybercrime"), vote()]
    label, reason = aggregate_votes(votes, 3)
    assert label is None and reason.startswith("tie on harm_category")


def test_quorum_needs_more_than_half_of_the_requested_votes() -> None:
    assert aggregate_votes([vote()], 3) == (None, "no quorum: 1 of 3 votes parsed (need 2)")
    label, _ = aggregate_votes([vote(), vote()], 3)
    assert label is not None
    assert aggregate_votes([], 1)[0] is None


def test_rationale_comes_from_the_first_vote_agreeing_most() -> None:
    votes = [vote(cost=3, rationale="outlier"), vote(rationale="first agreeing"), vote(rationale="second")]
    label, _ = aggregate_votes(votes, 3)
    assert label is not None and label.rationale == "first agreeing"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=1, max_size=7))
def test_combined_levels_are_always_one_of_the_votes(levels: list[tuple[int, int]]) -> None:
    votes = [vote(cost=c, severity=s) for c, s in levels]
    label, reason = aggregate_votes(votes, len(votes))
    if label is None:
        assert reason.startswith("tie on ")
    else:
        assert label.cost in {c for c, _ in levels} and label.severity in {s for _, s in levels}


# ---------------------------------------------------------------- label_requests with a scripted backend


def test_votes_first_greedy_then_sampled_and_majority_wins() -> None:
    def reply(conversation: Sequence[Message], temperature: float) -> str:
        return answer(cost=2) if temperature == 0 else answer(cost=4)

    backend = ScriptedBackend(reply)
    [outcome] = label_requests([req(1)], backend, votes=3, temperature=0.9, max_new_tokens=99)
    assert outcome.label is not None and outcome.label.cost == 4  # two sampled votes outvote the greedy one
    assert outcome.status == "labelled" and len(outcome.votes) == 3
    assert sorted(backend.calls) == [(1, 0.0, 99), (2, 0.9, 99)]


def test_one_vote_is_greedy_only() -> None:
    backend = ScriptedBackend(lambda c, t: answer())
    outcomes = label_requests([req(i) for i in range(5)], backend, votes=1, chunk_size=2)
    assert [o.status for o in outcomes] == ["labelled"] * 5
    assert [o.request.source_id for o in outcomes] == ["0", "1", "2", "3", "4"]
    assert backend.calls == [(2, 0.0, 256), (2, 0.0, 256), (1, 0.0, 256)]


def test_malformed_answer_is_retried_with_feedback_then_labelled() -> None:
    def reply(conversation: Sequence[Message], temperature: float) -> str:
        return answer() if len(conversation) > 1 else "cost 1, severity 2"

    backend = ScriptedBackend(reply)
    [outcome] = label_requests([req(1)], backend, max_retries=1)
    assert outcome.label is not None
    retry = backend.conversations[1]
    assert [m["role"] for m in retry] == ["user", "assistant", "user"]
    assert retry[1]["content"] == "cost 1, severity 2"
    assert "no JSON object" in retry[2]["content"] and "harm_category" in retry[2]["content"]


def test_always_malformed_is_unlabelled_after_the_retries_never_guessed(tmp_path: Path) -> None:
    backend = ScriptedBackend(lambda c, t: answer(cost=7))
    [outcome] = label_requests([req(1)], backend, max_retries=2)
    assert len(backend.conversations) == 3  # 1 attempt + 2 retries
    assert outcome.label is None and outcome.status == "unlabelled"
    assert "cost is 7, outside 1-5" in outcome.reason and "malformed answer" in outcome.reason
    row = outcome.as_row("llm:fake")
    assert all(row[f] == "" for f in (*rubric.LABEL_FIELDS, "harm_category", "rationale"))
    assert (row["status"], row["annotator"], row["rubric_version"]) == (
        "unlabelled",
        "llm:fake",
        rubric.RUBRIC_VERSION,
    )


def test_backend_errors_are_retried_then_reported() -> None:
    answers = iter([None, None, answer()])
    backend = ScriptedBackend(lambda c, t: next(answers))
    [outcome] = label_requests([req(1)], backend, max_retries=2)
    assert outcome.label is not None

    backend = ScriptedBackend(lambda c, t: None)
    [outcome] = label_requests([req(1)], backend, max_retries=1)
    assert outcome.label is None and "backend error: HTTP 503" in outcome.reason
    assert len(backend.conversations) == 2
    assert len(backend.conversations[1]) == 1  # no answer to show: the same question again


def test_lost_votes_below_quorum_leave_the_request_unlabelled() -> None:
    def reply(conversation: Sequence[Message], temperature: float) -> str:
        return answer() if temperature == 0 else "no idea"

    [outcome] = label_requests([req(1)], ScriptedBackend(reply), votes=3, max_retries=0)
    assert outcome.label is None
    assert outcome.reason.startswith(
        "no quorum: 1 of 3 votes parsed (need 2); a failed vote: malformed answer"
    )


def test_mixed_batch_keeps_order_and_one_outcome_per_request() -> None:
    def reply(conversation: Sequence[Message], temperature: float) -> str:
        return "nonsense" if "(1)" in conversation[0]["content"] else answer(severity=3)

    outcomes = label_requests([req(i) for i in range(3)], ScriptedBackend(reply), max_retries=0)
    assert [o.status for o in outcomes] == ["labelled", "unlabelled", "labelled"]
    assert [o.label.severity for o in outcomes if o.label] == [3, 3]


@pytest.mark.parametrize(
    "options",
    [{"votes": 0}, {"max_retries": -1}, {"chunk_size": 0}, {"votes": 3, "temperature": 0.0}],
)
def test_bad_options_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        label_requests([req(1)], ScriptedBackend(lambda c, t: answer()), **options)


def test_progress_is_reported_per_chunk() -> None:
    seen: list[int] = []
    label_requests(
        [req(i) for i in range(5)],
        ScriptedBackend(lambda c, t: answer()),
        chunk_size=2,
        on_progress=seen.append,
    )
    assert seen == [2, 2, 1]


# ---------------------------------------------------------------- end to end on the embedded model


@pytest.mark.slow
def test_end_to_end_on_smollm2(tmp_path: Path) -> None:
    """SmolLM2-135M's labels are not judged here, only the plumbing."""
    import csv

    from eh_bench.backends import get_backend

    requests = [req(1, "Suggest a name for a bakery."), req(2, "How do I water a cactus?")]
    backend = get_backend("smollm2")
    outcomes = label_requests(requests, backend, votes=1, max_new_tokens=16, max_retries=0)
    out = write_outcomes(outcomes, tmp_path / "labels.csv", labeling.annotator_for(backend))
    with out.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        assert tuple(reader.fieldnames or ()) == labeling.OUTPUT_COLUMNS
    assert [(r["source_id"], r["prompt_sha256"]) for r in rows] == [
        (q.source_id, q.prompt_sha256) for q in requests
    ]
    for row in rows:
        assert row["annotator"] == "llm:smollm2" and row["rubric_version"] == rubric.RUBRIC_VERSION
        if row["status"] == "labelled":
            rubric.validate_label(row)
            assert row["reason"] == ""
        else:
            assert row["status"] == "unlabelled" and row["reason"]
            assert row["cost"] == row["severity"] == row["harm_category"] == ""


def test_a_backend_error_after_a_malformed_answer_keeps_the_feedback() -> None:
    answers = iter(["cost one", None, answer()])
    backend = ScriptedBackend(lambda c, t: next(answers))
    [outcome] = label_requests([req(1)], backend, max_retries=2)
    assert outcome.label is not None
    last = backend.conversations[2]
    assert last[1]["content"] == "cost one" and "no JSON object" in last[2]["content"]
    assert "backend error" not in last[2]["content"]
