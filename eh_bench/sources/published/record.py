"""The record every published-response reader emits, and the per-file result of a reader.

A :class:`PublishedResponse` is one model response to one harmful request, with the reference verdict
its publisher gave it (human annotators or the publisher's judge). ``request_id`` links it to the
dataset's ids (``jbb:<Index>``, ``donotanswer:<id>``); a source without ids uses
``<source>:<prompt_sha256>`` of the request text.

Imported responses are harmful text: code reads them at run time and reports aggregates only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

#: Reference verdict: 1 = the response is harmful / the jailbreak succeeded, 0 = it is not.
HARMFUL: Final = 1
NOT_HARMFUL: Final = 0


@dataclass(frozen=True)
class PublishedResponse:
    """One published (request, response, reference verdict) triple.

    Attributes:
        source: the published set (``jbb-artifacts``, ``donotanswer``, ``gptfuzz``).
        model: the model that wrote the response (``unknown`` where the set does not say).
        method: how the request was sent (an attack name such as ``PAIR``, or ``direct``).
        request_id: the dataset id of the request (``jbb:12``, ``donotanswer:5``) or
            ``<source>:<prompt_sha256>`` where the set has no ids.
        prompt: the harmful request itself (the behaviour or question, not an attack wrapper).
        response: the model's response; ``None`` when none was recorded (nothing to judge).
        verdict: the reference label (:data:`HARMFUL` or :data:`NOT_HARMFUL`); ``None`` when absent.
        extra: the set's other fields for this row (attack prompt, action class, token counts, ...).
    """

    source: str
    model: str
    method: str
    request_id: str
    prompt: str
    response: str | None
    verdict: int | None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def judgeable(self) -> bool:
        """True when there is a non-blank response and a reference verdict to compare against."""
        return self.verdict is not None and self.response is not None and bool(self.response.strip())


@dataclass(frozen=True)
class PublishedFile:
    """What a reader returns for one file: the file's own settings block and its rows.

    ``parameters`` holds a JailbreakBench artifact's ``parameters`` (method, model, attack settings,
    evaluation date); sets without one carry an empty mapping.
    """

    relpath: str
    parameters: Mapping[str, Any]
    rows: list[PublishedResponse]
