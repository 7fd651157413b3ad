"""Importers of published model responses: reports and leaderboard entries without generating again.

- :func:`import_jbb_artifacts`: the JailbreakBench attack artifacts, one report per (attack, model);
- :func:`import_donotanswer`: the Do-Not-Answer responses of six models with human labels;
- :func:`import_responses`: a user's own (request, response[, verdict]) file.

Each writes report folders through the scorer and report writer of ``eh-bench score``
(:mod:`eh_bench.importers.build`), with the labelled requests of one dataset config
(:mod:`eh_bench.importers.requests`) and a ``responses`` record saying where the responses came from
(set or file, revision, SHA-256). No prompt or response text is written.
"""

from eh_bench.importers.common import ImportOptions, ImportResult
from eh_bench.importers.donotanswer import import_donotanswer
from eh_bench.importers.jbb_artifacts import import_jbb_artifacts
from eh_bench.importers.responses import import_responses

__all__ = ["ImportOptions", "ImportResult", "import_donotanswer", "import_jbb_artifacts", "import_responses"]
