"""Labelling requests with cost and severity: the LLM labeller (:mod:`~eh_bench.labeling.labeller`),
label-file I/O (:mod:`~eh_bench.labeling.io`) and agreement between label sets
(:mod:`~eh_bench.labeling.agreement`)."""
