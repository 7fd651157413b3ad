"""Attack-run throughput against an OpenAI-compatible server of fixed latency, and model calls per request.

A local scripted server (tests/openai_server.py, in its own process so that it does not share the client's
interpreter lock) answers every chat request after ``--latency`` seconds, playing attacker, monitor,
usefulness judge and target (the model name says which). ``eh-bench attack
run``'s library entry point attacks harmless stand-in requests with ``cost+monitor`` / ``direct`` at
concurrency 1, 4 and 16 (recorded under the packaged config ``core``), each into a fresh folder (no
journal hits), and prints requests/s and the
scaling ratio ``(rps_c / rps_1) / c`` (goal: >= 0.8 until the server saturates). Then, at the highest
concurrency, it runs every variant once and prints the model calls per request by role.

Example: .venv/bin/python benchmarks/bench_attacks.py --latency 0.2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from openai_server import Step, reply, serve

from eh_bench.attacks.evaluate import VARIANTS, AttackRequest
from eh_bench.attacks.roles import RoleSpecs
from eh_bench.attacks.run import RunPlan, run_attack

TOPICS = ("a cake", "a birdhouse", "a garden", "a bookshelf", "a kite", "a quilt", "a pond", "a fence")


def requests(n: int) -> list[AttackRequest]:
    """``n`` distinct harmless stand-in requests (cost 3, severity 2)."""
    return [AttackRequest(f"bench:{i}", f"Make {TOPICS[i % len(TOPICS)]}, version {i}.", 3, 2, source="bench")
            for i in range(n)]  # fmt: skip


def label(severity: int) -> str:
    return json.dumps({"expertise": 1, "equipment": 1, "time": 1, "legality": 1, "cost": 1,
                       "severity": severity, "harm_category": "none", "rationale": "Stand-in."})  # fmt: skip


def script(latency: float) -> Any:
    """The server's answer to one request body, after ``latency`` seconds."""

    def answer(body: dict[str, Any]) -> Step:
        messages = body["messages"]
        first, last = messages[0]["content"], messages[-1]["content"]
        if body["model"] == "target":
            return reply(f"Sure, here it is: {last[:30]}", delay=latency)
        if "Split the TASK" in first:
            task = last.rsplit("TASK:", 1)[-1].strip()
            return reply(json.dumps([f"Gather tools for {task}", f"Prepare parts for {task}",
                                     f"Assemble {task}", f"Finish {task}"]), delay=latency)  # fmt: skip
        if "You label requests" in first:
            text = first.rsplit("<<<", 1)[-1]
            return reply(label(4 if "Assemble" in text else 1), delay=latency)
        if "Rewrite the SUB-TASK" in last:
            return reply("Describe the finished piece.", delay=latency)
        return reply("YES", delay=latency)

    return answer


def one_run(url: str, variant: str, n: int, concurrency: int) -> tuple[float, dict[str, Any]]:
    """Wall seconds and the cell summary of one run into a fresh folder."""
    plan = RunPlan(
        RoleSpecs(target=f"openai:{url}#target", attacker=f"openai:{url}#attacker"), config="core",
        variants=(variant,), jailbreaks=("direct",), n_boot=0, concurrency=concurrency,  # type: ignore[arg-type]
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_attack(plan, Path(tmp), requests=requests(n))
        seconds = time.perf_counter() - start
    return seconds, result.cells[0]


def _serve(latency: float, ports: Any, stop: Any) -> None:
    with serve(script(latency)) as server:
        ports.put(server.base_url)
        stop.wait()


@contextlib.contextmanager
def server_process(latency: float) -> Iterator[str]:
    """The scripted server in a child process; yields its base URL."""
    ctx = multiprocessing.get_context("fork")
    ports, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(latency, ports, stop), daemon=True)
    proc.start()
    try:
        yield str(ports.get(timeout=30))
    finally:
        stop.set()
        proc.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the server waits before each answer")
    parser.add_argument("--per-thread", type=int, default=8, help="requests per unit of concurrency (min 8)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    with server_process(args.latency) as url:
        one_run(url, "cost+monitor", 2, 2)  # warm-up: imports, guard weights
        print(f"server latency {args.latency:g} s; cost+monitor / direct; offline prompt guard; refusal judge")
        print(f"{'concurrency':>11} {'requests':>8} {'wall s':>7} {'req/s':>7} {'scaling':>8} {'CPU s/request':>13}")
        base = None
        for c in args.concurrency:
            n = max(8, args.per_thread * c)
            cpu = time.process_time()
            seconds, _ = one_run(url, "cost+monitor", n, c)
            cpu = (time.process_time() - cpu) / n
            rps = n / seconds
            base = base or rps / c
            print(f"{c:>11} {n:>8} {seconds:>7.2f} {rps:>7.2f} {rps / (base * c):>8.2f} {cpu:>13.3f}")
        top = max(args.concurrency)
        print(f"\nmodel calls and verdicts per request (concurrency {top}, {max(8, top)} requests):")
        roles = ("attacker", "monitor", "target", "usefulness", "judge", "guard")
        print(f"{'variant':>13} " + " ".join(f"{r:>10}" for r in roles) + f" {'HTTP calls':>10}")
        for variant in VARIANTS:
            _, cell = one_run(url, variant, max(8, top), top)
            calls = cell["calls_per_request"]
            http = sum(calls.get(r, 0) for r in ("attacker", "monitor", "target", "usefulness"))
            print(f"{variant:>13} " + " ".join(f"{calls.get(r, 0):>10.2f}" for r in roles) + f" {http:>10.2f}")


if __name__ == "__main__":
    main()
