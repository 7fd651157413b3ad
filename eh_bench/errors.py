"""Errors raised by eh-bench.

Every message names what is wrong, where (file, row, field when there is one) and how to fix it.
Catch :class:`EHBenchError` to handle any of them; the CLI turns them into a one-line message and a
non-zero exit instead of a traceback.
"""

from __future__ import annotations


class EHBenchError(Exception):
    """Base class of every error eh-bench raises on purpose."""


class InputError(EHBenchError, ValueError):
    """Input data is malformed: wrong length, NaN, out-of-range value, empty."""


class LabelError(InputError):
    """A cost/severity label (or one of its factors) is outside the rubric's 1-5 scale."""


class ConfigError(EHBenchError, ValueError):
    """An option is unknown or malformed (a likelihood spec, a judge name, a backend spec)."""


class OutputError(EHBenchError, OSError):
    """An output cannot be written (a file where a folder belongs, a read-only folder, a full disk);
    the message names the path and says the previous file, if any, is unchanged."""


class SourceError(EHBenchError):
    """A benchmark source file is missing, or its bytes differ from the pinned hash."""


class MissingDependencyError(EHBenchError, ImportError):
    """An optional dependency is needed for this capability; the message says which extra installs it."""


def require(module: str, extra: str) -> None:
    """Raise :class:`MissingDependencyError` unless ``module`` is importable.

    Args:
        module: the import name (``"torch"``).
        extra: the eh-bench extra that provides it (``"hf"``).
    """
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(
            f"this needs the optional package {module!r}, which is not installed: "
            f"pip install 'eh-bench[{extra}]'"
        )
