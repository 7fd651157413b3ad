"""eh-bench: the Expected Harm benchmark.

The public surface is small: :func:`summarize` (Expected Harm, ASR by level, calibration index),
the error base class, and the version. Everything else lives in its module
(``eh_bench.metrics``, ``eh_bench.rubric``, ``eh_bench.likelihood``, ...).
"""

from eh_bench.errors import EHBenchError
from eh_bench.metrics import summarize

__version__ = "0.1.0"

__all__ = ["EHBenchError", "__version__", "summarize"]
