"""Linear probes on a model's hidden states: the refusal signal by severity and cost, and decodability.

- :mod:`~eh_bench.probes.sets`: which prompts (a config, stratified by cost x severity, + a contrast set);
- :mod:`~eh_bench.probes.extract`: hidden states of every layer (chat template, last token or mean pool);
- :mod:`~eh_bench.probes.store`: the safetensors chunk cache, keyed by model revision and prompt hashes;
- :mod:`~eh_bench.probes.labels`: refusal labels from behaviour (generate + judge) or from a contrast set;
- :mod:`~eh_bench.probes.cv`: grouped stratified folds, shuffled labels, out-of-fold learners;
- :mod:`~eh_bench.probes.probe`: the refusal probe per layer (logistic + difference in means);
- :mod:`~eh_bench.probes.levels`: the activation score by severity and cost level (the paper's figure);
- :mod:`~eh_bench.probes.decode`: decodability of severity and cost against shuffled and text baselines;
- :mod:`~eh_bench.probes.text`: the bag-of-words baseline; :mod:`~eh_bench.probes.stats`: rank statistics;
- :mod:`~eh_bench.probes.summary`: the one-line verdict per model;
- :mod:`~eh_bench.probes.run`, :mod:`~eh_bench.probes.report`, :mod:`~eh_bench.probes.plots`: one run,
  its report.json / probes.json / report.md, and its figures.
"""
