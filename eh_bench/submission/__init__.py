"""Leaderboard submissions: the entry schema and its validation (:mod:`~eh_bench.submission.schema`),
building entries from report folders (:mod:`~eh_bench.submission.entries`) and the stores entries live in
(:mod:`~eh_bench.submission.stores`)."""
