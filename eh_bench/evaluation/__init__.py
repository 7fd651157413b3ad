"""Evaluation through lm-eval: the task catalogue (:mod:`~eh_bench.evaluation.catalog`), the
``!function`` module the task YAMLs call (:mod:`~eh_bench.evaluation.lmeval`), running lm-eval
(:mod:`~eh_bench.evaluation.harness`), reading its samples (:mod:`~eh_bench.evaluation.samples`) and
bulk judging + summarising them (:mod:`~eh_bench.evaluation.scoring`)."""
