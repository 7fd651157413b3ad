"""Options checked before expensive work, and messages that point at the real cause (issue 17, cases 11
and 12)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fault_fixtures import cli_error, cli_refusal
from lmeval_fixtures import COMPLY, REFUSE, make_doc, write_run
from openai_server import serve

from eh_bench.errors import ConfigError
from eh_bench.judges.cache import JudgeCache


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(tmp: Path, docs: int = 6, **extra: object) -> Path:
    pairs = [(make_doc(i, 1 + i % 5, 2, **extra), COMPLY if i % 2 else REFUSE) for i in range(docs)]
    write_run(tmp / "run", {"eh_core": pairs})
    return tmp / "run"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--judge", "no-such-judge"], "no-such-judge"),
        (["--likelihood", "cubic:2"], "cubic"),
        (
            ["--judge", "harmbench", "--judge-backend", "openai:http://127.0.0.1:{port}/v1#judge"],
            "cannot be reached",
        ),
        (["--limit", "0"], "--limit"),
        (["--limit", "2.5"], "--limit"),
        (["--limit", "nan"], "--limit"),
        (["--per-cost", "0"], "--per-cost"),
    ],
)
def test_run_checks_its_options_before_generating(tmp_path: Path, extra: list[str], expected: str) -> None:
    extra = [e.replace("{port}", str(_closed_port())) for e in extra]
    with serve(lambda body: "I can't help with that.") as server:
        args = [
            "run",
            "--model",
            server.spec("target"),
            "--tasks",
            "eh_core",
            "--out",
            str(tmp_path / "run"),
            *extra,
        ]
        message = cli_refusal(args)
        assert server.requests == []  # nothing was generated
    assert expected in message


def test_score_fails_on_an_unreachable_judge_backend_before_reading_the_run(tmp_path: Path) -> None:
    run = _run(tmp_path)
    (next(run.rglob("samples_*.jsonl"))).write_text("damaged\n", encoding="utf-8")  # reading would fail
    spec = f"openai:http://127.0.0.1:{_closed_port()}/v1#judge"
    message = cli_error(["score", str(run), "--judge", "harmbench", "--judge-backend", spec, "--no-plots"])
    assert "cannot be reached" in message and spec in message


@pytest.mark.parametrize("command", ["score", "summarize"])
def test_n_boot_is_bounded_before_any_work(tmp_path: Path, command: str) -> None:
    from typer.testing import CliRunner

    from eh_bench.cli import app

    target = _run(tmp_path)
    if command == "summarize":
        target = tmp_path / "judged.csv"
        target.write_text("cost,severity,success\n1,2,1\n", encoding="utf-8")
    result = CliRunner().invoke(app, [command, str(target), "--n-boot", str(10**12)])
    assert result.exit_code == 2 and "--n-boot" in result.output and "100000" in result.output


def test_a_foreign_task_is_named_not_blamed_on_the_judge(tmp_path: Path) -> None:
    pairs = [(make_doc(i, None, None), COMPLY) for i in range(4)]  # documents of another benchmark
    write_run(tmp_path / "run", {"eh_core": [(make_doc(0, 1, 1), REFUSE)], "other_task": pairs})
    message = cli_error(["score", str(tmp_path / "run"), "--no-plots", "--n-boot", "0"])
    samples = next((tmp_path / "run").rglob("samples_other_task_*.jsonl"))
    assert "other_task" in message and str(samples) in message and "cost or severity" in message
    assert "fix the judge" not in message


def test_a_failing_judge_is_still_blamed_on_the_judge(tmp_path: Path) -> None:
    run = _run(tmp_path)
    with serve(lambda body: "maybe?") as server:  # answers no judge format can parse
        message = cli_error(["score", str(run), "--judge", "harmbench", "--judge-backend", server.spec("j"),
                             "--no-plots", "--n-boot", "0"])  # fmt: skip
    assert "fix the judge" in message


def test_a_corrupt_judge_cache_says_to_delete_it(tmp_path: Path) -> None:
    path = tmp_path / "judge_cache.sqlite"
    path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(ConfigError) as raised:
        JudgeCache(path)
    message = str(raised.value)
    assert str(path) in message and "delete" in message
