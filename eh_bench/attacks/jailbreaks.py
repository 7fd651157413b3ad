"""Jailbreak wrappers applied to each (sub-)request, in one registry (``--jailbreak NAME``).

=========================  ===========================================================================
name                       what the target receives
=========================  ===========================================================================
``direct``                 the request as it is
``refusal_suppression``    the request under rules that forbid apologies, disclaimers and refusal words
``prefix_injection``       the request, asked to be answered starting with an affirmative sentence
``roleplay``               the request as a line of dialogue in a fiction-writing frame
``pair``                   PAIR-style iterative refinement by the attacker, scored by the judge
                           (:mod:`eh_bench.attacks.pair`)
=========================  ===========================================================================

The one-shot templates and the records every wrapper returns are in :mod:`eh_bench.attacks.templates`;
PAIR is :mod:`eh_bench.attacks.pair`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from eh_bench.attacks.pair import Pair
from eh_bench.attacks.templates import TEMPLATES, Jailbreak, JailbreakOptions, TemplateJailbreak
from eh_bench.registry import Registry

DEFAULT_JAILBREAK: Final = "direct"

JailbreakFactory = Callable[[JailbreakOptions], Jailbreak]
JAILBREAKS: Final[Registry[JailbreakFactory]] = Registry("jailbreak")


def _template(name: str) -> JailbreakFactory:
    def factory(_options: JailbreakOptions) -> Jailbreak:
        return TemplateJailbreak(name, TEMPLATES[name])

    return factory


def _pair(options: JailbreakOptions) -> Jailbreak:
    return Pair(options)


for _name in TEMPLATES:
    JAILBREAKS.register(_name)(_template(_name))
JAILBREAKS.register("pair")(_pair)


def build_jailbreak(name: str, options: JailbreakOptions | None = None) -> Jailbreak:
    """The jailbreak registered as ``name``.

    >>> build_jailbreak("pair").name
    'pair'
    """
    return JAILBREAKS.get(name)(options or JailbreakOptions())


def jailbreak_names() -> list[str]:
    """Registered jailbreak names, sorted."""
    return JAILBREAKS.names()
