"""Which prompts a probe run reads: one harmful config (optionally limited) and, for contrast labels,
a benign config.

Prompts are the same user turns the lm-eval tasks send (:func:`eh_bench.evaluation.lmeval.doc_to_text`).
``--limit N`` takes requests round-robin over the cost x severity cells (each cell's members in a seeded
random order), so every level present in the config is present in the sample. An item's request id
(its cross-validation group) is the sha256 of its prompt, so the same prompt in two configs shares one.
Prompt text stays in memory: nothing here writes it anywhere.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from eh_bench.errors import ConfigError
from eh_bench.evaluation.catalog import BENIGN_TASKS, TASK_CONFIGS
from eh_bench.rubric import parse_level

#: Configs whose requests are harmless (the contrast side).
BENIGN_CONFIGS: Final = tuple(TASK_CONFIGS[t] for t in BENIGN_TASKS)
DEFAULT_CONTRAST: Final = "core_benign"


@dataclass(frozen=True)
class ProbeItem:
    """One prompt: where it comes from, its user turn (``text``: context + request), the request's sha256
    (its cross-validation group), its levels, and the request and context apart (for a judge)."""

    id: str
    config: str
    text: str
    sha256: str
    harmful: bool
    cost: int | None
    severity: int | None
    request: str = ""
    context: str | None = None

    def public(self) -> dict[str, Any]:
        """Everything but the prompt text (safe to write to disk)."""
        return {"id": self.id, "config": self.config, "sha256": self.sha256, "harmful": self.harmful,
                "cost": self.cost, "severity": self.severity}


def text_sha256(text: str) -> str:
    """sha256 of the stripped UTF-8 text (the dataset's ``prompt_sha256`` convention).

    >>> text_sha256(" hi ")[:12]
    '8f434346648f'
    """
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def items_from_rows(rows: Sequence[dict[str, Any]], config: str) -> list[ProbeItem]:
    """:class:`ProbeItem` s from dataset rows (``id``, ``prompt``, optional ``context``, ``cost``, ``severity``)."""
    from eh_bench.evaluation.lmeval import doc_to_text

    harmful = config not in BENIGN_CONFIGS
    out = []
    for index, row in enumerate(rows):
        text = doc_to_text(row)
        out.append(ProbeItem(
            id=str(row.get("id") or f"{config}:{index}"), config=config, text=text, sha256=text_sha256(text),
            harmful=harmful, cost=parse_level(row.get("cost")), severity=parse_level(row.get("severity")),
            request=str(row.get("prompt") or ""), context=str(row["context"]) if row.get("context") else None,
        ))
    return out


def load_items(config: str, dataset: str | None = None) -> list[ProbeItem]:
    """Every prompt of ``config`` (packaged ``core``/``core_benign``, else from a built dataset)."""
    from eh_bench.evaluation.lmeval import load_rows

    return items_from_rows(list(load_rows(config, dataset)), config)


def stratified_limit(items: Sequence[ProbeItem], limit: int | None, seed: int = 0) -> list[ProbeItem]:
    """Up to ``limit`` items, taken one per cost x severity cell in turn (seeded), in their original order.

    >>> cells = [ProbeItem(f"x{i}", "c", "", "", True, 1 + i % 5, 1 + i % 3) for i in range(60)]
    >>> picked = stratified_limit(cells, 15)
    >>> len(picked), sorted({p.cost for p in picked}), sorted({p.severity for p in picked})
    (15, [1, 2, 3, 4, 5], [1, 2, 3])
    """
    if limit is None or limit >= len(items):
        return list(items)
    if limit < 1:
        raise ConfigError(f"--limit must be >= 1 (got {limit})")
    rng = random.Random(seed)
    cells: dict[tuple[int, int], list[int]] = {}
    for index, item in enumerate(items):
        cells.setdefault((item.cost or 0, item.severity or 0), []).append(index)
    queues = [rng.sample(members, len(members)) for _, members in sorted(cells.items())]
    rng.shuffle(queues)  # which cells get one more when limit is not a multiple of their number
    chosen: list[int] = []
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop())
    return [items[i] for i in sorted(chosen)]


@dataclass(frozen=True)
class ProbeSet:
    """The harmful items (with levels) and the benign contrast items of one run."""

    config: str
    contrast: str | None
    harmful: list[ProbeItem]
    benign: list[ProbeItem]

    @property
    def items(self) -> list[ProbeItem]:
        return [*self.harmful, *self.benign]


def probe_set(
    config: str, *, contrast: str | None, limit: int | None = None, dataset: str | None = None, seed: int = 0
) -> ProbeSet:
    """The prompts of a run: ``limit`` stratified requests of ``config``, and as many of ``contrast``.

    Raises:
        ConfigError: ``config`` is a benign config, ``contrast`` a harmful one, or a config is empty.
    """
    if config in BENIGN_CONFIGS:
        raise ConfigError(f"--config {config} is a benign set; probe a harmful config and give it as --contrast")
    if contrast is not None and contrast not in BENIGN_CONFIGS:
        raise ConfigError(f"--contrast {contrast} is not a benign config; choose one of: {', '.join(BENIGN_CONFIGS)}")
    harmful = stratified_limit(load_items(config, dataset), limit, seed)
    benign = stratified_limit(load_items(contrast, dataset), limit, seed) if contrast else []
    for name, found in ((config, harmful), (contrast, benign)):
        if name is not None and not found:
            raise ConfigError(f"config {name!r} has no rows; check the dataset (eh-bench dataset stats DIR)")
    return ProbeSet(config, contrast, harmful, benign)
