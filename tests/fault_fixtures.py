"""Real faults for tests: the ``eh-bench`` console script in a subprocess, under a file-size limit (a
full disk as the OS reports it) or without the privilege to ignore a read-only folder.

``RLIMIT_FSIZE`` makes every write past the limit fail with ``EFBIG`` in whatever code path writes, old
or new, exactly where a full disk fails with ``ENOSPC``. A read-only folder is ``chmod a-w``; root
ignores that through ``CAP_DAC_OVERRIDE``, so when the tests run as root the command runs under
``setpriv`` with that capability dropped, and folder permissions apply to it as to any user.
"""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

#: The console script's entry point, as the installed ``eh-bench`` runs it.
CLI = "from eh_bench.cli import main; main()"
IS_ROOT = os.geteuid() == 0
#: Prefix of a command that must obey folder permissions even when the tests run as root.
UNPRIVILEGED: tuple[str, ...] = (
    ("setpriv", "--bounding-set", "-dac_override,-dac_read_search") if IS_ROOT else ()
)


def _limits(fsize: int | None) -> None:
    if fsize is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))


def run_cli(
    args: Sequence[str],
    *,
    fsize: int | None = None,
    unprivileged: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``eh-bench ARGS`` in a fresh interpreter and return its exit code, stdout and stderr.

    Args:
        fsize: largest file the command may write, in bytes (``RLIMIT_FSIZE``).
        unprivileged: obey folder permissions even as root (see :data:`UNPRIVILEGED`).
        env: extra environment variables.
    """
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    prefix = UNPRIVILEGED if unprivileged else ()
    return subprocess.run(
        [*prefix, sys.executable, "-c", CLI, *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        preexec_fn=lambda: _limits(fsize),
        check=False,
    )


def assert_clean_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """A one-line ``error:`` message with exit status 2, no traceback, naming each of ``needles``."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 2, output
    assert "error:" in result.stderr, output
    flat = " ".join(result.stderr.split())
    for needle in needles:
        assert needle in flat, (needle, output)


def read_only(path: Path) -> Path:
    """``chmod a-w`` a folder (its files stay as they are)."""
    path.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return path


def cli_error(args: Sequence[str]) -> str:
    """Run ``eh-bench ARGS`` in process; it must fail with an :class:`EHBenchError` (which the console
    script prints as one line, exit 2). Returns the message with whitespace collapsed."""
    from typer.testing import CliRunner

    from eh_bench.cli import app
    from eh_bench.errors import EHBenchError

    result = CliRunner().invoke(app, list(args))
    assert isinstance(result.exception, EHBenchError), (result.output, repr(result.exception))
    return " ".join(str(result.exception).split())


def cli_refusal(args: Sequence[str]) -> str:
    """Like :func:`cli_error`, but a usage error of the option parser (exit 2, "Invalid value") counts
    too: both are one message and no traceback. Returns the message with whitespace collapsed."""
    from typer.testing import CliRunner

    from eh_bench.cli import app
    from eh_bench.errors import EHBenchError

    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, SystemExit) and result.exit_code == 2:
        assert "Invalid value" in result.output, result.output
        return " ".join(result.output.replace("│", " ").split())
    assert isinstance(result.exception, EHBenchError), (result.output, repr(result.exception))
    return " ".join(str(result.exception).split())
