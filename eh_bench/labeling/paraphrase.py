"""Paraphrase clusters among labelled requests, and how often their cost and severity disagree.

Two requests are *paraphrases* when their content words overlap by a Jaccard index of at least
:data:`PARAPHRASE_THRESHOLD`. Content words are the lower-cased word tokens minus English function
words and the instruction words a request is phrased with (write, create, give, tutorial, guide, step,
...), with a trailing plural ``s`` dropped. Words naming the artefact asked for (script, program,
website, app, game, book, video) are kept: they change what acting on the answer takes. Clusters are
the connected components of the paraphrase pairs.

Paraphrases should carry the same cost and severity. A pair that differs is *explained* when a content
word that only one of the two requests has appears in either rationale: the rationale names the
difference (``"a standing site"`` against ``"a single article"``). Identical requests (same normalised
text and context) count once; the label-file tests already require them to share every label.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from eh_bench.sources.base import request_key

#: Jaccard index of content words at or above which two requests are paraphrases.
PARAPHRASE_THRESHOLD: Final = 0.8
#: The two scales paraphrases must share.
PARAPHRASE_SCALES: Final = ("cost", "severity")
_FUNCTION_WORDS_TEXT: Final = """a an the and or of to for in on at by with from into about as is are be been being was were it its
    this that these those my your his her their our i me we you he she they them him us do does did how
    what which who whom why when where can could would should will shall may might must some any all every
    each other such than then so no not only own same too very just also there here out up down over under
    again further once more most few both if but because until while during before after above below
    between through against off per via without within whether one someone somebody something anyone
    people person use using used make making get getting"""
_INSTRUCTION_WORDS_TEXT: Final = """write create give provide develop design explain describe outline generate produce teach instruct
    instructions instruction tutorial tutorials guide guides guidance step steps detailed detail details
    list suggest offer show tell help plan article post blog way ways method methods compose draft publish
    demonstrate"""
#: Function words (never content).
FUNCTION_WORDS: Final = frozenset(_FUNCTION_WORDS_TEXT.split())
#: Words of asking and of text form: how a request is phrased, not what it asks for.
INSTRUCTION_WORDS: Final = frozenset(_INSTRUCTION_WORDS_TEXT.split())
_WORD: Final = re.compile(r"[a-z0-9]+")
_MIN_STEM: Final = 4


def content_words(text: str) -> frozenset[str]:
    """The content words of ``text`` (module doc).

    >>> sorted(content_words("Write a tutorial on how to pick locks"))
    ['lock', 'pick']
    """
    out = set()
    for word in _WORD.findall(text.lower()):
        if word in FUNCTION_WORDS or word in INSTRUCTION_WORDS:
            continue
        if len(word) >= _MIN_STEM and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.add(word)
    return frozenset(out)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a & b| / |a | b| (0.0 for two empty sets)."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def paraphrase_pairs(
    words: Sequence[frozenset[str]], threshold: float = PARAPHRASE_THRESHOLD
) -> list[tuple[int, int, float]]:
    """``(i, j, similarity)`` for every ``i < j`` whose content words reach ``threshold``."""
    index: dict[str, set[int]] = defaultdict(set)
    for i, ws in enumerate(words):
        for w in ws:
            index[w].add(i)
    pairs = []
    for i, ws in enumerate(words):
        candidates = set().union(*(index[w] for w in ws)) if ws else set()
        for j in sorted(c for c in candidates if c > i):
            sim = jaccard(ws, words[j])
            if sim >= threshold:
                pairs.append((i, j, sim))
    return pairs


def clusters(n: int, pairs: Iterable[tuple[int, int, float]]) -> list[list[int]]:
    """Connected components (of two or more members) of the pair graph over ``range(n)``."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    linked: set[int] = set()
    for i, j, _ in pairs:
        parent[find(i)] = find(j)
        linked.update((i, j))
    groups: dict[int, list[int]] = defaultdict(list)
    for i in sorted(linked):
        groups[find(i)].append(i)
    return sorted(groups.values())


def names_difference(a_words: frozenset[str], b_words: frozenset[str], rationales: Iterable[str]) -> bool:
    """Whether a content word that only one request has appears in one of the rationales.

    >>> names_difference(frozenset({"fraud", "tax"}), frozenset({"fraud"}), ["Tax paperwork takes days"])
    True
    """
    text = " ".join(rationales).lower()
    return any(word in text for word in a_words ^ b_words)


@dataclass(frozen=True)
class Disagreement:
    """One paraphrase pair whose labels differ on ``scale``."""

    a: str
    b: str
    scale: str
    levels: tuple[int, int]
    similarity: float
    explained: bool


@dataclass(frozen=True)
class ParaphraseReport:
    """Paraphrase pairs and clusters of a label set, and their disagreements per scale."""

    requests: int
    pairs: int
    clusters: list[list[str]] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)

    def differing(self, scale: str, explained: bool | None = None) -> list[Disagreement]:
        """The pairs that differ on ``scale`` (only explained or unexplained ones when given)."""
        return [d for d in self.disagreements if d.scale == scale and explained in (None, d.explained)]

    def rate(self, scale: str, explained: bool | None = None) -> float | None:
        """Share of pairs that differ on ``scale`` (None without pairs)."""
        return len(self.differing(scale, explained)) / self.pairs if self.pairs else None

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data, with the rates per scale."""
        out = asdict(self)
        out["rates"] = {s: {"all": self.rate(s), "unexplained": self.rate(s, False)} for s in PARAPHRASE_SCALES}
        return out


def paraphrase_report(rows: Iterable[Mapping[str, Any]], threshold: float = PARAPHRASE_THRESHOLD) -> ParaphraseReport:
    """Find paraphrase pairs among labelled rows and list the pairs whose cost or severity differ.

    Args:
        rows: mappings with ``prompt``, ``cost``, ``severity``, ``rationale`` and an identity (``id``, or
            ``source`` and ``source_id``); ``context`` is optional. Rows repeating an earlier
            request (same normalised text and context) are skipped.
        threshold: the Jaccard index that makes two requests paraphrases.
    """
    distinct: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        key = request_key(str(row["prompt"]), str(row.get("context") or ""))
        if key not in seen:
            seen.add(key)
            distinct.append(row)
    ids = [str(r.get("id") or f"{r.get('source')}:{r.get('source_id')}") for r in distinct]
    words = [content_words(str(r["prompt"])) for r in distinct]
    pairs = paraphrase_pairs(words, threshold)
    disagreements = []
    for i, j, sim in pairs:
        a, b = distinct[i], distinct[j]
        for scale in PARAPHRASE_SCALES:
            la, lb = int(a[scale]), int(b[scale])
            if la != lb:
                explained = names_difference(words[i], words[j], (str(a.get("rationale", "")), str(b.get("rationale", ""))))
                disagreements.append(Disagreement(ids[i], ids[j], scale, (la, lb), round(sim, 3), explained))
    return ParaphraseReport(
        requests=len(distinct),
        pairs=len(pairs),
        clusters=[[ids[i] for i in group] for group in clusters(len(distinct), pairs)],
        disagreements=disagreements,
    )
