"""The roles of an attack run, each a backend spec, and the objects built from them.

=============  ===========================================================  ===========================
role           does                                                         default
=============  ===========================================================  ===========================
``target``     answers the (jailbroken) requests and sub-tasks              (required)
``attacker``   decomposes requests, rewrites sub-tasks, PAIR prompts,       (required)
               synthesis
``monitor``    labels each sub-task's cost and severity (the labeller)      the attacker's spec
``judge``      judges the aggregated answer against the original request    the project's default judge
``usefulness`` judges whether that answer is useful to the original request  the attacker's spec
``guard``      moderates prompts (original and sub-task)                    the offline prompt guard
=============  ===========================================================  ===========================

Roles that name the same spec share one backend (one model in memory). In-process backends are used
by one thread at a time (a lock); HTTP backends take concurrent calls. Each role's spec and revision
are recorded in the results.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

from eh_bench.attacks.guard import DEFAULT_GUARD, PromptGuard, build_guard
from eh_bench.backends.base import ChatBackend, ChatResult, Message
from eh_bench.judges.base import Judge
from eh_bench.judges.registry import DEFAULT_JUDGE, get_judge, judge_info

USEFULNESS_JUDGE: Final = "usefulness"
#: Spec schemes whose backends take concurrent calls from several threads.
CONCURRENT_SCHEMES: Final = ("openai",)

BackendFactory = Callable[[str], ChatBackend]


@dataclass(frozen=True)
class RoleSpecs:
    """Which backend (spec) or component plays each role.

    Attributes:
        target: the model under attack.
        attacker: the model that decomposes, rewrites, refines (PAIR) and synthesises.
        monitor: the labeller's backend (``None``: the attacker's).
        judge: the judge name (``--judge``).
        judge_backend: backend of a model judge (``None``: the attacker's); unused by string judges.
        usefulness_backend: backend of the usefulness judge (``None``: the attacker's).
        guard: the guard name (``--guard``).
        guard_backend: backend of a model guard (``None``: the guard model's own default).
        guard_mode: ``native`` (a real guard model) or ``instructed`` (a general chat model).
    """

    target: str
    attacker: str
    monitor: str | None = None
    judge: str = DEFAULT_JUDGE
    judge_backend: str | None = None
    usefulness_backend: str | None = None
    guard: str = DEFAULT_GUARD
    guard_backend: str | None = None
    guard_mode: str = "native"

    def resolved(self) -> RoleSpecs:
        """These specs with every ``None`` default filled in (what the run records)."""
        uses_backend = judge_info(self.judge).uses_backend
        return RoleSpecs(
            target=self.target,
            attacker=self.attacker,
            monitor=self.monitor or self.attacker,
            judge=self.judge,
            judge_backend=(self.judge_backend or self.attacker) if uses_backend else None,
            usefulness_backend=self.usefulness_backend or self.attacker,
            guard=self.guard,
            guard_backend=self.guard_backend,
            guard_mode=self.guard_mode,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


class SerializedBackend:
    """A backend used by one thread at a time (in-process models are not safe to share)."""

    def __init__(self, backend: ChatBackend) -> None:
        self.inner = backend
        self._lock = threading.Lock()

    @property
    def spec(self) -> str:
        """The wrapped backend's spec."""
        return self.inner.spec

    def generate(
        self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 256, temperature: float = 0.0
    ) -> list[ChatResult]:
        """The wrapped backend's answers, one caller at a time."""
        with self._lock:
            return self.inner.generate(conversations, max_new_tokens=max_new_tokens, temperature=temperature)


class LazyBackend:
    """A backend of a :class:`Roles` that is built only when first asked to generate."""

    def __init__(self, roles: Roles, spec: str) -> None:
        self._roles = roles
        self._spec = spec

    @property
    def spec(self) -> str:
        """The spec of the backend this stands for."""
        return self._spec

    def generate(
        self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 256, temperature: float = 0.0
    ) -> list[ChatResult]:
        """Build the backend (once) and let it answer."""
        backend = self._roles.backend(self._spec)
        return backend.generate(conversations, max_new_tokens=max_new_tokens, temperature=temperature)


def _default_factory(spec: str) -> ChatBackend:
    from eh_bench.backends import get_backend

    return get_backend(spec)


def backend_revision(spec: str) -> dict[str, str | None]:
    """``{"spec", "id", "revision"}`` of a backend spec, as the evaluation reports record models.

    The embedded model's revision is its prepared folder's checksum; other specs have none unless the
    spec names one. Unknown schemes (test doubles) are recorded as given.
    """
    from eh_bench.errors import ConfigError
    from eh_bench.evaluation.harness import lm_eval_model

    try:
        model = lm_eval_model(spec)
    except ConfigError:
        return {"spec": spec, "id": spec, "revision": None}
    return {"spec": spec, "id": model.model_id or spec, "revision": model.revision}


class Roles:
    """The backends, judges and guard of one run, built on first use.

    Args:
        specs: the role specs (defaults are filled in with :meth:`RoleSpecs.resolved`).
        backends: ready-made backends by spec (tests, shared models); other specs are built with
            ``factory``.
        factory: builds a backend from a spec (default :func:`eh_bench.backends.get_backend`).
    """

    def __init__(
        self,
        specs: RoleSpecs,
        *,
        backends: Mapping[str, ChatBackend] | None = None,
        factory: BackendFactory | None = None,
    ) -> None:
        self.specs = specs.resolved()
        self._given = dict(backends or {})
        self._factory = factory or _default_factory
        self._built: dict[str, ChatBackend] = {}
        self._lock = threading.Lock()
        self._judge: Judge | None = None
        self._usefulness: Judge | None = None
        self._guard: PromptGuard | None = None

    def backend(self, spec: str) -> ChatBackend:
        """The one backend of ``spec`` (shared by every role naming it)."""
        with self._lock:
            if spec not in self._built:
                made = self._given[spec] if spec in self._given else self._factory(spec)
                concurrent = spec.partition(":")[0].lower() in CONCURRENT_SCHEMES
                self._built[spec] = made if concurrent else SerializedBackend(made)
            return self._built[spec]

    @property
    def target(self) -> ChatBackend:
        return self.backend(self.specs.target)

    @property
    def attacker(self) -> ChatBackend:
        return self.backend(self.specs.attacker)

    @property
    def monitor(self) -> ChatBackend:
        return self.backend(self.specs.monitor or self.specs.attacker)

    @property
    def judge(self) -> Judge:
        """The ASR judge (model judges get their backend lazily, through this object)."""
        if self._judge is None:
            spec = self.specs.judge_backend
            self._judge = get_judge(self.specs.judge, backend=LazyBackend(self, spec) if spec else None)
        return self._judge

    @property
    def usefulness(self) -> Judge:
        """The usefulness judge, on the usefulness backend."""
        if self._usefulness is None:
            spec = self.specs.usefulness_backend or self.specs.attacker
            self._usefulness = get_judge(USEFULNESS_JUDGE, backend=LazyBackend(self, spec))
        return self._usefulness

    @property
    def guard(self) -> PromptGuard:
        """The prompt guard."""
        if self._guard is None:
            spec = self.specs.guard_backend
            backend = LazyBackend(self, spec) if spec else None
            self._guard = build_guard(self.specs.guard, backend=backend, mode=self.specs.guard_mode)
        return self._guard

    def records(self) -> dict[str, Any]:
        """What the results record about every role: spec, id and revision (judges and guard: theirs)."""
        s = self.specs
        out: dict[str, Any] = {
            "target": backend_revision(s.target),
            "attacker": backend_revision(s.attacker),
            "monitor": backend_revision(s.monitor or s.attacker),
        }
        out["judge"] = {"name": s.judge, "id": self.judge.id, "revision": self.judge.revision,
                        "backend": s.judge_backend}  # fmt: skip
        out["usefulness"] = {"name": USEFULNESS_JUDGE, "id": self.usefulness.id,
                             "revision": self.usefulness.revision, "backend": s.usefulness_backend}  # fmt: skip
        out["guard"] = {"name": s.guard, "id": self.guard.id, "revision": self.guard.revision,
                        "backend": self.guard.backend_spec, "policy": self.guard.policy}  # fmt: skip
        return out
