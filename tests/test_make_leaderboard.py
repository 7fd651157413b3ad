"""`make leaderboard` end to end in a real browser: the store is seeded from the imported published
responses (22 real models x attacks) plus the embedded model's cached run, and the page serves them on
the port given by GRADIO_SERVER_PORT within 60 s of the command.

The embedded model's run is cached (a stand-in report here, so the test does not spend minutes
generating); the imports need the benchmark files (EH_SOURCES_DIR, which `make test` and CI set).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from leaderboard_fixtures import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    free_port,
    make_report,
    wait_for_http,
    write_report,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]
playwright_sync = pytest.importorskip("playwright.sync_api")

SOURCES = os.environ.get("EH_SOURCES_DIR")
HAS_SOURCES = bool(SOURCES) and (Path(SOURCES or ".") / "jailbreakbench-artifacts").is_dir()
#: The issue's promise: the page is up, with every seeded entry, within this many seconds of the command.
PAGE_UP_S = 60
N_IMPORTED = 22
ARTIFACTS = ROOT / "test-artifacts" / "leaderboard"


@pytest.mark.skipif(not HAS_SOURCES, reason="EH_SOURCES_DIR with the benchmark files is not set")
def test_make_leaderboard_serves_the_imported_models_on_the_gradio_port(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (the CI script does)")
    out = tmp_path / "leaderboard"
    write_report(out / "runs" / "core" / "eh-bench", make_report(model_id="smollm2", revision="10c493dc"))
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("SPACE_ID", None)
    log = tmp_path / "make.log"
    venv = Path(sys.executable).parent.parent
    started = time.monotonic()
    with open(log, "wb") as handle:
        proc = subprocess.Popen(
            ["make", "-s", "leaderboard", f"VENV={venv}", f"LEADERBOARD_OUT={out}", "LEADERBOARD_EMBEDDED=wait"],
            cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, proc, log, started + PAGE_UP_S - time.monotonic())
        with playwright_sync.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(PAGE_UP_S * 1000)
            page.goto(url)
            expected = N_IMPORTED + 1
            page.wait_for_function(
                "(n) => (document.querySelector('#entry-count')?.innerText || '').startsWith("
                "`Showing ${n} of ${n} verified entries`)", arg=expected,
            )  # fmt: skip
            elapsed = time.monotonic() - started
            assert elapsed < PAGE_UP_S, f"page with {expected} entries after {elapsed:.1f}s"
            text = page.locator("#leaderboard-table").inner_text()
            for model in ("gpt-4-0125-preview", "lmsys/vicuna-13b-v1.5", "THUDM/chatglm2-6b", "smollm2"):
                assert model in text
            assert "jailbreakbench" in text and "human-annotation" in text
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "10-make-leaderboard.png"), full_page=True)
            # The attack / method filter.
            page.locator("#method-filter input").first.click()
            page.get_by_role("option", name="PAIR", exact=True).click()
            page.wait_for_function(
                "(n) => (document.querySelector('#entry-count')?.innerText || '').startsWith(`Showing 4 of ${n}`)",
                arg=expected,
            )  # fmt: skip
            # The Calibration tab compares real models under one method, judged alike.
            page.get_by_role("tab", name="Calibration").click()
            image = page.locator("#calibration-plot img").first
            image.wait_for(state="visible")
            models = page.locator("#calibration-models").inner_text()
            assert models.count("human-annotation") >= 2 or models.count("jailbreakbench") >= 2, models
            page.screenshot(path=str(ARTIFACTS / "11-make-leaderboard-calibration.png"), full_page=True)
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
    assert "22 imported entries" in log.read_text()
