"""The leaderboard app in a real browser: Debian chromium driven by Playwright (sync API).

The app is started here (``python -m leaderboard.app``) on a free 127.0.0.1 port over a temporary
local store seeded with verified entries, and stopped by PID afterwards. Screenshots go to
``test-artifacts/leaderboard/`` (git-ignored).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from leaderboard_fixtures import CHROMIUM, CHROMIUM_ARGS, entry_variant, make_entry, seed_store, serve_app

from eh_bench.submission.stores import LocalStore

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "leaderboard"
XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=2</script>"
TIMEOUT_MS = 60_000  # generous: CI shares 2 cores with other work

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect


@pytest.fixture(scope="module")
def base_entry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_entry(tmp_path_factory.mktemp("browser-entry"), base_rate=0.35, slope=-0.06)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, base_entry: dict[str, Any]) -> Path:
    root = tmp_path_factory.mktemp("browser")
    safer = make_entry(root / "safer", model_id="org/careful-model", seed=5, base_rate=0.08, slope=0.03)
    # A model id follows the model-id grammar, so markup can only come in free text: a judge id here.
    hostile = make_entry(root / "hostile", model_id="org/hostile-judge", seed=6, base_rate=0.2)
    hostile["judge"]["id"] = XSS_IMG
    seed_store(root / "store", [base_entry, safer, hostile])
    return root / "store"


@pytest.fixture(scope="module")
def app_url(store_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("log") / "app.log"
    with serve_app(store_dir, log, env={"EH_SUBMIT_LIMIT": "50"}) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (the CI script does)")
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.goto(app_url)
    wait_loaded(pg)
    yield pg
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def table_text(page: Any) -> str:
    return str(page.locator("#leaderboard-table").inner_text())


def test_page_loads_with_seeded_models_sorted_by_expected_harm(page: Any) -> None:
    assert page.title() == "Expected Harm leaderboard"
    assert page.locator("#entry-count").inner_text().startswith("Showing 3 of 3 verified entries")
    text = table_text(page)
    for model in ("org/model-a", "org/careful-model", "org/hostile-judge", XSS_IMG):
        assert model in text
    assert "Expected Harm ↓" in text and "Judge" in text and "Method" in text
    # Lowest Expected Harm first: the careful model (base rate 0.08) tops the table.
    assert text.index("org/careful-model") < text.index("org/model-a")
    shot(page, "01-leaderboard")


def test_search_filters_the_table(page: Any) -> None:
    search = page.locator("#search textarea, #search input").first
    search.fill("careful")
    search.press("Enter")
    page.wait_for_function("() => document.querySelector('#entry-count').innerText.startsWith('Showing 1 of 3')")
    text = table_text(page)
    assert "org/careful-model" in text and "org/model-a" not in text
    shot(page, "02-search")
    search.fill("")
    search.press("Enter")
    page.wait_for_function("() => document.querySelector('#entry-count').innerText.startsWith('Showing 3 of 3')")


def test_column_groups_add_columns(page: Any) -> None:
    page.locator("#column-groups").get_by_text("ASR by cost", exact=True).click()
    page.wait_for_function("() => document.querySelector('#leaderboard-table').innerText.includes('ASR cost 5')")
    text = table_text(page)
    assert "ASR cost 1" in text and "Calibration (diagnostic)" in text
    assert re.search(r"\d\.\d{3} \(n=\d+\)", text), "per-level rates carry their sample size"


def test_calibration_plot_and_heatmap_render(page: Any) -> None:
    page.get_by_role("tab", name="Calibration").click()
    for plot in ("#calibration-plot", "#heatmap-plot"):
        image = page.locator(f"{plot} img").first
        image.wait_for(state="visible")
        size = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert size[0] > 300 and size[1] > 200, size
    shot(page, "03-calibration")


def test_empty_attack_and_probe_tabs_explain_what_will_appear(page: Any) -> None:
    page.get_by_role("tab", name="Decomposition attacks").click()
    assert "No decomposition-attack results yet" in page.locator("#attacks-empty").inner_text()
    assert "attacks.json" in page.locator("#attacks-empty").inner_text()
    page.get_by_role("tab", name="Probes").click()
    assert "accuracy_by_layer" in page.locator("#probes-empty").inner_text()
    page.get_by_role("tab", name="About").click()
    about = page.get_by_text("calibration_index", exact=True).first
    about.wait_for(state="visible")
    assert page.get_by_text("expert team", exact=True).first.is_visible()


def wait_loaded(page: Any) -> None:
    page.wait_for_function("() => /Showing \\d+ of \\d+/.test(document.querySelector('#entry-count')?.innerText || '')")


def _upload(page: Any, path: Path) -> str:
    """Upload ``path`` on a freshly loaded Submit tab; return the Result text."""
    page.reload()
    wait_loaded(page)
    page.get_by_role("tab", name="Submit").click()
    # The page loads in two steps (table, then the other tabs and the queue); submitting before the
    # second has landed would let its older snapshot of the queue overwrite the submission's.
    expect(page.locator("#submit-queue")).to_contain_text("VERIFIED", timeout=TIMEOUT_MS)
    # The widget has taken the file once its drop zone (the file input) is replaced by the file
    # preview; the name in the preview is not always rendered at once.
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.wait_for_function(
        "(name) => { const el = document.querySelector('#upload');"
        " return !!el && (!el.querySelector('input[type=file]') || el.innerText.includes(name)); }",
        arg=path.name,
    )
    page.locator("#submit-button").click()
    page.wait_for_function("() => document.querySelector('#submit-status textarea').value.length > 0")
    return str(page.locator("#submit-status textarea").input_value())


def test_valid_upload_is_stored_as_pending(page: Any, base_entry: dict[str, Any], store_dir: Path,
                                           tmp_path: Path) -> None:
    entry = entry_variant(base_entry, 4242)
    path = tmp_path / "entry.json"
    path.write_text(json.dumps(entry))
    status = _upload(page, path)
    assert status.startswith("Accepted: stored as org-model-04242--"), status
    assert "PENDING" in status
    pending = [r for r in LocalStore(store_dir).records("PENDING")]
    assert [r.entry["model"]["id"] for r in pending] == ["org/model-04242"]
    expect(page.locator("#submit-queue")).to_contain_text("org/model-04242")
    shot(page, "04-upload-accepted")
    # The same entry again is a duplicate.
    status = _upload(page, path)
    assert status.startswith("Refused: an entry for the same model revision"), status


def test_hostile_upload_is_refused_with_readable_messages(page: Any, base_entry: dict[str, Any],
                                                         store_dir: Path, tmp_path: Path) -> None:
    before = len(LocalStore(store_dir).records())
    hostile = copy.deepcopy(base_entry)
    hostile["model"]["revision"] = "x" * 5000
    hostile["metrics"]["asr"]["value"] = 7
    hostile["admin"] = XSS_SCRIPT
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(hostile))
    status = _upload(page, path)
    assert re.match(r"Refused: the entry has \d+ problems; fix them and upload again\.", status), status
    issues = page.locator("#submit-issues")
    for text in ("$.model.revision", "text is 5000 characters long; at most 128 allowed",
                 "$.metrics.asr.value", "out of range: must be <= 1", "$.admin", "unknown field"):
        expect(issues).to_contain_text(text)
    shot(page, "05-upload-refused")
    nan = tmp_path / "nan.json"
    nan.write_text(json.dumps(base_entry).replace('"n_boot": 50', '"n_boot": NaN', 1))
    status = _upload(page, nan)
    assert status.startswith("Refused: the entry has 1 problem"), status
    expect(page.locator("#submit-issues")).to_contain_text("NaN is not allowed")
    assert len(LocalStore(store_dir).records()) == before
    assert page.evaluate("window.__xss") is None


def test_markup_is_refused_in_a_model_id_and_shown_as_text_elsewhere(page: Any, base_entry: dict[str, Any],
                                                                     tmp_path: Path) -> None:
    # Seeded verified entry: the table shows the markup of its judge id literally, and no <img src=x> exists.
    assert XSS_IMG in table_text(page)
    assert page.locator("#leaderboard-table img").count() == 0
    # Markup in a model id is refused by the schema, with a message shown as text.
    entry = entry_variant(base_entry, 777)
    entry["model"]["id"] = XSS_SCRIPT
    path = tmp_path / "xss-id.json"
    path.write_text(json.dumps(entry))
    status = _upload(page, path)
    assert status.startswith("Refused: the entry has 1 problem"), status
    expect(page.locator("#submit-issues")).to_contain_text("is not a model id")
    expect(page.locator("#submit-issues")).to_contain_text(XSS_SCRIPT)
    # In free text it is data: accepted, and the queue shows it literally; neither payload runs.
    entry["model"]["id"] = "org/model-00777"
    entry["judge"]["id"] = XSS_SCRIPT
    entry["submitter"]["name"] = XSS_IMG
    path = tmp_path / "xss.json"
    path.write_text(json.dumps(entry))
    status = _upload(page, path)
    assert status.startswith("Accepted: stored as org-model-00777--"), status
    expect(page.locator("#submit-queue")).to_contain_text(XSS_SCRIPT)
    page.get_by_role("tab", name="Calibration").click()
    page.locator("#calibration-plot img").first.wait_for(state="visible")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src='x']").count() == 0
    shot(page, "06-markup-as-text")
