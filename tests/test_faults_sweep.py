"""A sweep of hostile and careless input through the installed console script (issue 17): every case ends
in a one-line message or a correct result, never a traceback, never lost data, never a silent number.

Each case builds its own input in a fresh folder, runs ``eh-bench ...`` in a new process and checks the
exit status, the message and what is on disk afterwards. The cases run two at a time (two cores).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from dataset_fixtures import fixture_tree
from fault_fixtures import read_only, run_cli
from leaderboard_fixtures import make_entry
from lmeval_fixtures import COMPLY, REFUSE, make_doc, sample, write_run
from openai_server import serve

from eh_bench.dataset.build import build_dataset

JUDGED = "cost,severity,success\n1,2,1\n5,2,0\n3,4,1\n"
CLOSED = "openai:http://127.0.0.1:{port}/v1#judge"


@dataclass
class Case:
    """One hostile invocation: ``setup(folder)`` writes the input and returns the arguments."""

    name: str
    setup: Callable[[Path], list[str]]
    status: int = 2
    says: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    after: Callable[[Path], None] | None = None
    fsize: int | None = None
    unprivileged: bool = False
    env: dict[str, str] = field(default_factory=dict)


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def _run(tmp: Path, n_level_1: int = 3, response: str = REFUSE) -> Path:
    pairs = [(make_doc(i, 1, 2), response) for i in range(n_level_1)]
    pairs += [(make_doc(100 + i, 3, 3), COMPLY if i % 2 else REFUSE) for i in range(6)]
    write_run(tmp / "run", {"eh_core": pairs})
    return tmp / "run"


def _samples(run: Path) -> Path:
    return next(run.rglob("samples_*.jsonl"))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _labels(path: Path, rows: list[tuple[int, int]]) -> Path:
    lines = ["source,source_id,prompt_sha256,cost,severity,harm_category"]
    lines += [f"demo,{i},{i:064x},{cost},2,none" for i, cost in rows]
    return _write(path, "\n".join(lines) + "\n")


# ----------------------------------------------------------------------------- setups with a check after


def _repeated_doc(tmp: Path) -> list[str]:
    run = _run(tmp)
    lines = _samples(run).read_text(encoding="utf-8").splitlines(keepends=True)
    _samples(run).write_text("".join([*lines, lines[0]]), encoding="utf-8")
    return ["score", str(run), "--no-plots"]


def _duplicate_key(tmp: Path) -> list[str]:
    run = _run(tmp)
    line = json.dumps(sample(0, make_doc(0, 1, 2), COMPLY)).replace('"cost": 1,', '"cost": 1, "cost": 5,')
    _write(_samples(run), line + "\n")
    return ["score", str(run), "--no-plots"]


def _full_disk(tmp: Path) -> list[str]:
    run = _run(tmp)
    first = run_cli(["score", str(run), "--n-boot", "0", "--model-id", "first", "--no-plots"])
    assert first.returncode == 0, first.stderr
    return ["score", str(run), "--n-boot", "0", "--model-id", "second", "--no-plots"]


def _first_report_kept(tmp: Path) -> None:
    report = json.loads((tmp / "run" / "eh-bench" / "report.json").read_text(encoding="utf-8"))
    assert report["model"]["id"] == "first"


def _rebuild(tmp: Path) -> list[str]:
    tree = fixture_tree(tmp / "inputs")
    build_dataset(tmp / "ds", download=False, allow_changed_sources=True, **tree)
    _write(tmp / "ds" / "notes.txt", "mine")
    _write(tmp / "ds" / ".git" / "HEAD", "ref: refs/heads/main\n")
    return ["dataset", "build", "--out", str(tmp / "ds"), "--no-download", "--allow-changed-sources",
            "--sources-dir", str(tree["sources_dir"]), "--labels-dir", str(tree["labels_dir"]),
            "--data-dir", str(tree["data_dir"]), "--cache-dir", str(tree["cache_dir"])]  # fmt: skip


def _user_files_kept(tmp: Path) -> None:
    assert (tmp / "ds" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (tmp / "ds" / ".git" / "HEAD").is_file() and (tmp / "ds" / "MANIFEST.json").is_file()


def _garbage_parquet(tmp: Path, command: str) -> list[str]:
    build_dataset(tmp / "ds", download=False, allow_changed_sources=True, **fixture_tree(tmp / "inputs"))
    _write(next((tmp / "ds").glob("core/*.parquet")), b"not parquet\n" * 20)
    return ["dataset", command, str(tmp / "ds"), *(["--config", "core"] if command == "stats" else [])]


def _linked_store(tmp: Path) -> list[str]:
    (tmp / "store").mkdir()
    (tmp / "outside").mkdir()
    os.symlink(tmp / "outside", tmp / "store" / "requests")
    entry = _write(tmp / "entry.json", json.dumps(make_entry(tmp / "entry_src")))
    return ["submit", "push", str(entry), "--store", str(tmp / "store")]


def _outside_empty(tmp: Path) -> None:
    assert list((tmp / "outside").iterdir()) == []


def _read_only_store(tmp: Path) -> list[str]:
    entry = _write(tmp / "entry.json", json.dumps(make_entry(tmp / "entry_src")))
    (tmp / "store").mkdir()
    read_only(tmp / "store")
    return ["submit", "push", str(entry), "--store", str(tmp / "store")]


def _empty_label_input(tmp: Path) -> list[str]:
    _write(tmp / "labels.csv", "previous labels\n")
    return ["label", str(_write(tmp / "in.csv", "id,prompt\n")), "-b", "openai:http://127.0.0.1:9/v1#m",
            "-o", str(tmp / "labels.csv")]  # fmt: skip


def _labels_kept(tmp: Path) -> None:
    assert (tmp / "labels.csv").read_text(encoding="utf-8") == "previous labels\n"


def _foreign_task(tmp: Path) -> list[str]:
    write_run(tmp / "run", {"eh_core": [(make_doc(0, 1, 1), REFUSE)],
                            "other_task": [(make_doc(i, None, None), COMPLY) for i in range(3)]})  # fmt: skip
    return ["score", str(tmp / "run"), "--no-plots"]


def _corrupt_cache(tmp: Path) -> list[str]:
    _write(tmp / "cache" / "judge_cache.sqlite", b"not a database" * 64)
    return ["score", str(_run(tmp)), "--judge", "harmbench", "--judge-backend", "{server}", "--no-plots"]


CASES = [
    Case(
        "ASR 0 at a level, n=3 (score)",
        lambda t: ["score", str(_run(t)), "--model-id", "m"],
        status=0,
        says=("report.json", "plots:"),
        after=lambda t: (
            None
            if len(json.loads((t / "run/eh-bench/report.json").read_text())["files"]["plots"]) == 3
            else pytest.fail("plots missing")
        ),
    ),
    Case(
        "ASR 1 at a level, n=13 (score)",
        lambda t: ["score", str(_run(t, 13, COMPLY)), "--n-boot", "50"],
        status=0,
        says=("report.json",),
    ),
    Case(
        "duplicated CSV column",
        lambda t: ["summarize", str(_write(t / "j.csv", "cost,severity,success,cost\n1,2,1,5\n"))],
        says=("j.csv:1", "'cost' appears twice"),
    ),
    Case(
        "ragged CSV row",
        lambda t: ["summarize", str(_write(t / "j.csv", JUDGED + "1,2,1,9\n"))],
        says=("j.csv:5", "4 fields"),
    ),
    Case(
        "non-UTF-8 CSV",
        lambda t: ["summarize", str(_write(t / "j.csv", JUDGED.encode() + b"2,2,\xff\n"))],
        says=("j.csv:5", "not UTF-8"),
    ),
    Case(
        "JSON object to summarize",
        lambda t: ["summarize", str(_write(t / "j.json", '{"cost": 1}'))],
        says=("not a table",),
    ),
    Case(
        "non-object JSON rows",
        lambda t: ["summarize", str(_write(t / "j.jsonl", "[1, 2, 1]\n"))],
        says=("j.jsonl", "expected an object"),
    ),
    Case(
        ".CSV suffix",
        lambda t: ["summarize", str(_write(t / "J.CSV", JUDGED)), "--json"],
        status=0,
        says=('"n": 3',),
    ),
    Case(
        ".tsv file",
        lambda t: ["summarize", str(_write(t / "j.tsv", JUDGED.replace(",", "\t"))), "--json"],
        status=0,
        says=('"n": 3',),
    ),
    Case(
        "BOM header",
        lambda t: ["summarize", str(_write(t / "j.csv", "\ufeff" + JUDGED)), "--json"],
        status=0,
        says=('"n": 3',),
    ),
    Case("samples repeat a doc", _repeated_doc, says=("doc_id 0 again",)),
    Case("duplicate key in samples", _duplicate_key, says=('duplicate key "cost"',)),
    Case(
        "full disk while scoring",
        _full_disk,
        fsize=3000,
        says=("report.json", "unchanged"),
        after=_first_report_kept,
    ),
    Case(
        "score --out is a file",
        lambda t: ["score", str(_run(t)), "--out", str(_write(t / "f", "mine"))],
        says=("is a file",),
        after=lambda t: None if (t / "f").read_text() == "mine" else pytest.fail("overwritten"),
    ),
    Case("rebuild over user files", _rebuild, status=0, after=_user_files_kept),
    Case(
        "garbage parquet (validate)",
        lambda t: _garbage_parquet(t, "validate"),
        status=1,
        says=("not a Parquet file",),
    ),
    Case("garbage parquet (stats)", lambda t: _garbage_parquet(t, "stats"), says=("not a Parquet file",)),
    Case("symlinked store area", _linked_store, says=("is a symbolic link",), after=_outside_empty),
    Case("read-only store", _read_only_store, unprivileged=True, says=("store",)),
    Case(
        "submit list --store TYPO",
        lambda t: ["submit", "list", "--store", str(t / "TYPO")],
        says=("no such store",),
    ),
    Case(
        "submit list --status typo",
        lambda t: ["submit", "list", "--store", str(t), "--status", "DONE"],
        says=("PENDING, VERIFIED, REJECTED",),
    ),
    Case(
        "conflicting labels (agree)",
        lambda t: [
            "label",
            "agree",
            str(_labels(t / "a.csv", [(1, 1)])),
            str(_labels(t / "b.csv", [(1, 1), (1, 4)])),
        ],
        says=("labelled twice", "cost 1 and 4"),
    ),
    Case(
        "no pairs (agree)",
        lambda t: [
            "label",
            "agree",
            str(_labels(t / "a.csv", [(1, 1)])),
            str(_labels(t / "b.csv", [(2, 1)])),
        ],
        says=("no request is in both",),
    ),
    Case("empty label input", _empty_label_input, says=("no rows to label",), after=_labels_kept),
    Case(
        "label run --out read-only",
        lambda t: [
            "label",
            str(_write(t / "in.csv", "id,prompt\nd:1,Hi\n")),
            "-b",
            "openai:http://127.0.0.1:9/v1#m",
            "-o",
            str(read_only(t) / "o.csv"),
        ],
        unprivileged=True,
        says=("cannot write",),
    ),
    Case(
        "run with an unknown judge",
        lambda t: [
            "run",
            "--model",
            "openai:http://127.0.0.1:9/v1#m",
            "--judge",
            "nope",
            "--out",
            str(t / "r"),
        ],
        says=("nope",),
    ),
    Case(
        "run --n-boot huge",
        lambda t: ["run", "--n-boot", "1000000000000", "--out", str(t / "r")],
        says=("--n-boot",),
    ),
    Case(
        "unreachable judge server",
        lambda t: [
            "score",
            str(_run(t)),
            "--judge",
            "harmbench",
            "--judge-backend",
            CLOSED.format(port=_closed_port()),
        ],
        says=("cannot be reached",),
    ),
    Case("foreign task", _foreign_task, says=("other_task", "cost or severity"), never=("fix the judge",)),
    Case("corrupt judge cache", _corrupt_cache, says=("judge_cache.sqlite", "delete the file")),
]


def _sweep(case: Case, folder: Path, server_spec: str) -> tuple[Case, subprocess.CompletedProcess[str]]:
    folder.mkdir()
    args = [a.replace("{server}", server_spec) for a in case.setup(folder)]
    env = {"EH_CACHE_DIR": str(folder / "cache"), **case.env}
    return case, run_cli(args, fsize=case.fsize, unprivileged=case.unprivileged, env=env)


def test_the_sweep_finds_no_traceback_no_loss_no_silent_number(tmp_path: Path) -> None:
    def judge(body: dict[str, Any]) -> str:
        return "No"

    with serve(judge) as server, ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(_sweep, case, tmp_path / f"case{i:02d}", server.spec("judge"))
                   for i, case in enumerate(CASES)]  # fmt: skip
        results = [f.result() for f in futures]
    problems = []
    for i, (case, result) in enumerate(results):
        output = " ".join((result.stdout + result.stderr).replace("│", " ").split())
        if "Traceback" in output:
            problems.append(f"{case.name}: traceback: {output[-400:]}")
        elif result.returncode != case.status:
            problems.append(f"{case.name}: exit {result.returncode}, expected {case.status}: {output[-400:]}")
        elif missing := [s for s in case.says if s not in output]:
            problems.append(f"{case.name}: message lacks {missing}: {output[-400:]}")
        elif present := [s for s in case.never if s in output]:
            problems.append(f"{case.name}: message says {present}: {output[-400:]}")
        elif case.after is not None:
            try:
                case.after(tmp_path / f"case{i:02d}")
            except (AssertionError, OSError) as exc:  # a file that should be there is not
                problems.append(f"{case.name}: {exc!r}")
    assert not problems, "\n".join(problems)
