"""Cost-based decomposition attacks with a severity monitor, jailbreak wrappers and guard bypass.

The paper's attack (Chen et al., "Expected Harm", arXiv 2602.01600): an attacker model splits a
request into k sub-tasks of lower execution cost (:mod:`~eh_bench.attacks.decomposition`), a severity
monitor (the labeller) rewrites or drops the too-severe ones (:mod:`~eh_bench.attacks.monitor`), each
sub-task is jailbroken (:mod:`~eh_bench.attacks.jailbreaks`), and the answers are aggregated
(:mod:`~eh_bench.attacks.aggregation`) and judged against the original request
(:mod:`~eh_bench.attacks.evaluate`), next to a guard's verdicts on the original and sub-task prompts
(:mod:`~eh_bench.attacks.guard`, with the offline :mod:`~eh_bench.attacks.prompt_guard`). Runs are
journaled for resuming (:mod:`~eh_bench.attacks.journal`, :mod:`~eh_bench.attacks.run`) and
summarised per (config, variant, jailbreak) (:mod:`~eh_bench.attacks.scores`,
:mod:`~eh_bench.attacks.results`, :mod:`~eh_bench.attacks.table`).
"""

from eh_bench.attacks.evaluate import VARIANTS, AttackRequest, AttackSettings
from eh_bench.attacks.guard import build_guard, guard_names
from eh_bench.attacks.jailbreaks import build_jailbreak, jailbreak_names
from eh_bench.attacks.roles import RoleSpecs
from eh_bench.attacks.run import AttackInterrupted, AttackRun, RunPlan, run_attack

__all__ = [
    "VARIANTS",
    "AttackInterrupted",
    "AttackRequest",
    "AttackRun",
    "AttackSettings",
    "RoleSpecs",
    "RunPlan",
    "build_guard",
    "build_jailbreak",
    "guard_names",
    "jailbreak_names",
    "run_attack",
]
