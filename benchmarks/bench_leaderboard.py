"""Leaderboard speed: browser time until the table is rendered with 50 vs 5,000 entries, and entry
validations per second.

Goal: the 5,000-entry page renders in under 2x the time of the 50-entry page (measured side by side,
same machine, same browser). Run:

    .venv/bin/python benchmarks/bench_leaderboard.py [--sizes 50 5000] [--repeats 5] [--max-rows N]

Stores are written directly as verified records, with the results index the store keeps (the setup is
not what is measured); the app is the real ``leaderboard/app.py`` in a subprocess, the browser Debian
chromium through Playwright.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from leaderboard_fixtures import CHROMIUM, CHROMIUM_ARGS, entry_variant, make_entry, serve_app  # noqa: E402

from eh_bench.submission.schema import check_entry, entry_name, parse_entry  # noqa: E402
from eh_bench.submission.stores import Record  # noqa: E402
from eh_bench.submission.stores.base import RESULTS, now_iso  # noqa: E402

#: The count line says all n entries are loaded and the first data row's model cell is drawn (the
#: dataframe draws rows as virtual ``div[role=row]`` elements; cell-0-1 is row 1, column "Model").
RENDERED_JS = """n => {
  const count = document.querySelector('#entry-count')?.innerText || '';
  const cell = document.querySelector('#leaderboard-table [data-testid="cell-0-1"]');
  const total = n.toLocaleString('en-US');
  return count.includes(` of ${total} verified entries`) && !!cell && cell.innerText.startsWith('org/model-');
}"""


def write_store(root: Path, base: dict[str, Any], n: int, index: bool = False) -> None:
    """``n`` verified records (distinct model ids) written straight into the results area; with ``index``,
    the store's results index is built too (as reviewing them through the store would)."""
    folder = root / RESULTS
    folder.mkdir(parents=True)
    for i in range(n):
        entry = entry_variant(base, i)
        entry["metrics"]["expected_harm"]["value"] = round(entry["metrics"]["expected_harm"]["value"] * (1 + i % 7 / 100), 6)
        entry["metrics"]["expected_harm_normalized"]["value"] = entry["metrics"]["expected_harm"]["value"] / 5
        entry["metrics"]["expected_harm"]["ci_high"] = max(entry["metrics"]["expected_harm"]["ci_high"],
                                                           entry["metrics"]["expected_harm"]["value"])
        entry["metrics"]["expected_harm_normalized"]["ci_high"] = entry["metrics"]["expected_harm"]["ci_high"] / 5
        record = Record(entry_name(entry), "VERIFIED", "bench", now_iso(), entry)
        (folder / f"{record.name}.json").write_bytes(record.to_bytes())
    if index:
        from eh_bench.submission.stores import LocalStore

        LocalStore(root).reindex()


def time_render(browser: Any, url: str, n: int, repeats: int) -> list[float]:
    """Seconds from navigation start until the table shows its rows, one fresh page per repeat."""
    times = []
    for _ in range(repeats):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_function(RENDERED_JS, arg=n, timeout=120_000, polling=20)
        times.append(time.perf_counter() - start)
        page.close()
    return times


def bench_validation(base: dict[str, Any], seconds: float = 3.0) -> tuple[float, float]:
    """(check_entry per second on a parsed entry, parse_entry + check_entry per second on bytes)."""
    data = json.dumps(base).encode()
    rates = []
    for fn in (lambda: check_entry(base), lambda: check_entry(parse_entry(data))):
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            fn()
            count += 1
        rates.append(count / (time.perf_counter() - start))
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[50, 5000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-rows", type=int, default=None,
                        help="rows the app sends to the browser (EH_LEADERBOARD_MAX_ROWS; default: the app's 1000)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        base = make_entry(tmp_path / "base")
        assert check_entry(base) == []
        per_s, parse_per_s = bench_validation(copy.deepcopy(base))
        print(f"validation: {per_s:,.0f} entries/s (check_entry), {parse_per_s:,.0f} entries/s (parse + check), "
              f"entry {len(json.dumps(base)):,} bytes")
        results = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for n in args.sizes:
                store = tmp_path / f"store{n}"
                write_store(store, base, n, index=True)
                start = time.perf_counter()
                env = {"EH_LEADERBOARD_MAX_ROWS": str(args.max_rows)} if args.max_rows else None
                with serve_app(store, tmp_path / f"app{n}.log", env=env) as url:
                    startup = time.perf_counter() - start
                    times = time_render(browser, url, n, args.repeats)
                results[n] = (startup, times)
                print(f"{n:>6} entries: app start (incl. reading + re-validating the store) {startup:6.2f}s; "
                      f"table rendered in median {statistics.median(times):.3f}s "
                      f"(min {min(times):.3f}, max {max(times):.3f}, {args.repeats} page loads)")
            browser.close()
    small, large = args.sizes
    ratio = statistics.median(results[large][1]) / statistics.median(results[small][1])
    print(f"ratio {large} / {small} entries (median render time): {ratio:.2f}x (goal < 2x)")


if __name__ == "__main__":
    main()
