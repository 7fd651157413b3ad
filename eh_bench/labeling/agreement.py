"""Agreement between two label sets: quadratic-weighted Cohen's kappa, exact and within-one agreement.

Two label sets (rows with the label-file columns) are joined on ``prompt_sha256``. Where a hash occurs
more than once in a set (HarmBench contextual requests share a behaviour text), rows of that hash are
paired by ``(source, source_id)`` instead; rows that find no partner are counted as unmatched. A pair
counts for a scale only when both sides hold a level there (unlabelled rows are counted, not guessed).

Quadratic-weighted kappa (Cohen, 1968) on the ordinal 1-5 scale, with observed counts ``O``, expected
counts ``E`` (outer product of the two marginals over ``n``) and weights ``w_ij = (i - j)^2 / (k - 1)^2``::

    kappa = 1 - sum(w * O) / sum(w * E)

It is undefined (``None``) when ``sum(w * E)`` is 0, i.e. both sets use one and the same level only.
1 is perfect agreement, 0 is chance level, negative is worse than chance (higher is better).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from eh_bench.errors import LabelError
from eh_bench.rubric import LEVELS, check_level

#: The scales compared: overall cost and severity, then the four cost factors.
SCALES: Final = ("cost", "severity", "expertise", "equipment", "time", "legality")
JOIN_KEY: Final = "prompt_sha256"

Matrix = list[list[int]]


def confusion_matrix(a: Sequence[int], b: Sequence[int], levels: Sequence[int] = LEVELS) -> Matrix:
    """Counts ``m[i][j]`` of pairs with ``a == levels[i]`` and ``b == levels[j]`` (rows: set A).

    >>> confusion_matrix([1, 2, 2], [1, 2, 3], levels=(1, 2, 3))
    [[1, 0, 0], [0, 1, 1], [0, 0, 0]]
    """
    if len(a) != len(b):
        raise ValueError(f"the two sequences differ in length ({len(a)} vs {len(b)})")
    index = {level: i for i, level in enumerate(levels)}
    matrix = [[0] * len(levels) for _ in levels]
    for x, y in zip(a, b, strict=True):
        matrix[index[x]][index[y]] += 1
    return matrix


def quadratic_kappa(a: Sequence[int], b: Sequence[int], levels: Sequence[int] = LEVELS) -> float | None:
    """Quadratic-weighted Cohen's kappa of two ratings of the same items (formula in the module doc).

    Returns ``None`` for no pairs or when the expected weighted disagreement is 0.

    >>> quadratic_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])
    1.0
    >>> round(quadratic_kappa([1, 2, 3], [1, 3, 2], levels=(1, 2, 3)), 4)
    0.5
    """
    n = len(a)
    if n == 0:
        return None
    observed = confusion_matrix(a, b, levels)
    k = len(levels)
    rows = [sum(r) for r in observed]
    cols = [sum(c) for c in zip(*observed, strict=True)]
    num = den = 0.0
    for i in range(k):
        for j in range(k):
            weight = (i - j) ** 2 / (k - 1) ** 2
            num += weight * observed[i][j]
            den += weight * rows[i] * cols[j] / n
    return None if den == 0 else 1.0 - num / den


def exact_agreement(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Share of pairs with equal levels (``None`` for no pairs)."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a) if a else None


def within_one_agreement(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Share of pairs whose levels differ by at most one (``None`` for no pairs)."""
    return sum(abs(x - y) <= 1 for x, y in zip(a, b, strict=True)) / len(a) if a else None


@dataclass(frozen=True)
class ScaleAgreement:
    """Agreement on one scale: pair count, kappa, exact and within-one agreement, confusion matrix."""

    scale: str
    n: int
    kappa: float | None
    exact: float | None
    within_one: float | None
    confusion: Matrix


def scale_agreement(scale: str, a: Sequence[int], b: Sequence[int]) -> ScaleAgreement:
    """Every agreement statistic of one scale for paired levels ``a`` and ``b``."""
    return ScaleAgreement(
        scale=scale,
        n=len(a),
        kappa=quadratic_kappa(a, b),
        exact=exact_agreement(a, b),
        within_one=within_one_agreement(a, b),
        confusion=confusion_matrix(a, b),
    )


@dataclass(frozen=True)
class Join:
    """Rows of two label sets paired on ``prompt_sha256``, and the counts of rows left unpaired."""

    pairs: list[tuple[Mapping[str, Any], Mapping[str, Any]]]
    only_a: int
    only_b: int


def _ident(row: Mapping[str, Any]) -> tuple[str, str]:
    return str(row.get("source", "")), str(row.get("source_id", ""))


def _label_of(row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(row.get(field) or "").strip() for field in (*SCALES, "harm_category"))


def _distinct(rows: Iterable[Mapping[str, Any]], name: str) -> dict[str, list[Mapping[str, Any]]]:
    """Rows grouped by ``prompt_sha256``, each request (hash and identity) once.

    A request listed twice with the same label is counted once; with two different labels it is
    refused: keeping either one would silently decide the agreement.

    Raises:
        LabelError: naming the set, the request and the first field that differs.
    """
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    seen: dict[tuple[str, tuple[str, str]], Mapping[str, Any]] = {}
    for row in rows:
        key = str(row.get(JOIN_KEY, "")).strip()
        first = seen.setdefault((key, _ident(row)), row) if key else row  # no hash: never matched
        if first is row:
            groups[key].append(row)
            continue
        if _label_of(first) != _label_of(row):
            field, x, y = next(
                (f, a, b) for f, a, b in zip((*SCALES, "harm_category"), _label_of(first), _label_of(row), strict=True)
                if a != b
            )
            source, source_id = _ident(row)
            raise LabelError(
                f"label set {name}: {source}:{source_id} (prompt_sha256 {key[:12]}...) is labelled twice with "
                f"different labels ({field} {x or 'empty'} and {y or 'empty'}); keep one row per request"
            )
    return groups


def join_on_sha(
    rows_a: Iterable[Mapping[str, Any]], rows_b: Iterable[Mapping[str, Any]], names: tuple[str, str] = ("A", "B")
) -> Join:
    """Pair rows of two label sets on ``prompt_sha256`` (by ``(source, source_id)`` within a repeated hash).

    A request repeated in one set with the same label counts once; with conflicting labels it is a
    :class:`LabelError` (naming ``names[0]`` or ``names[1]``).

    >>> j = join_on_sha([{"prompt_sha256": "x"}, {"prompt_sha256": "y"}], [{"prompt_sha256": "y"}])
    >>> (len(j.pairs), j.only_a, j.only_b)
    (1, 1, 0)
    """
    groups_a = _distinct(rows_a, names[0])
    groups_b = _distinct(rows_b, names[1])
    pairs: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
    for key, group_a in groups_a.items():
        group_b = groups_b.get(key, []) if key else []
        if len(group_a) == 1 and len(group_b) == 1:
            pairs.append((group_a[0], group_b[0]))
            continue
        by_ident = {_ident(r): r for r in group_b}
        for row in group_a:
            partner = by_ident.pop(_ident(row), None)
            if partner is not None:
                pairs.append((row, partner))
    paired = len(pairs)
    return Join(pairs, sum(map(len, groups_a.values())) - paired, sum(map(len, groups_b.values())) - paired)


def _level(row: Mapping[str, Any], scale: str, where: str) -> int | None:
    value = row.get(scale)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return check_level(value, scale, where)


@dataclass(frozen=True)
class AgreementReport:
    """Agreement of two label sets: join counts, one :class:`ScaleAgreement` per scale, category agreement."""

    matched: int
    only_a: int
    only_b: int
    scales: list[ScaleAgreement] = field(default_factory=list)
    category_n: int = 0
    category_exact: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        return asdict(self)


def agreement(
    rows_a: Iterable[Mapping[str, Any]],
    rows_b: Iterable[Mapping[str, Any]],
    scales: Sequence[str] = SCALES,
    names: tuple[str, str] = ("A", "B"),
) -> AgreementReport:
    """Join two label sets on ``prompt_sha256`` and measure agreement per scale.

    Raises:
        LabelError: a non-empty level outside 1-5, or one request labelled twice differently in a set
            (the message names the set, row and field).
    """
    join = join_on_sha(rows_a, rows_b, names)
    results = []
    for scale in scales:
        a: list[int] = []
        b: list[int] = []
        for i, (ra, rb) in enumerate(join.pairs):
            la = _level(ra, scale, f"A {ra.get('source', '')}:{ra.get('source_id', i)}")
            lb = _level(rb, scale, f"B {rb.get('source', '')}:{rb.get('source_id', i)}")
            if la is not None and lb is not None:
                a.append(la)
                b.append(lb)
        results.append(scale_agreement(scale, a, b))
    cats = [
        (ra.get("harm_category"), rb.get("harm_category"))
        for ra, rb in join.pairs
        if ra.get("harm_category") and rb.get("harm_category")
    ]
    return AgreementReport(
        matched=len(join.pairs),
        only_a=join.only_a,
        only_b=join.only_b,
        scales=results,
        category_n=len(cats),
        category_exact=sum(x == y for x, y in cats) / len(cats) if cats else None,
    )
