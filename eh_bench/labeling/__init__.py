"""Labelling requests with cost and severity: the LLM labeller (:mod:`~eh_bench.labeling.labeller`),
label-file I/O (:mod:`~eh_bench.labeling.io`), agreement between label sets
(:mod:`~eh_bench.labeling.agreement`) and paraphrase clusters (:mod:`~eh_bench.labeling.paraphrase`)."""
