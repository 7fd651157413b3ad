"""The report of one scored run: ``report.json`` (:mod:`~eh_bench.report.document`, its one reader and
one writer), ``report.md`` (:mod:`~eh_bench.report.markdown`) and the figures (:mod:`~eh_bench.report.plots`)."""
