"""The dashboard in a real browser: Debian's chromium driven by playwright (pytest-ipywidgets'
fixtures serve the app in-process with Solara's own server).

Run where chromium is installed (``/usr/bin/chromium`` or ``$ZONESIM_CHROMIUM``); skipped
elsewhere, except under ``CI=true`` or ``ZONESIM_BROWSER_TESTS=1``, where a missing browser
fails. ``ZONESIM_UPDATE_SCREENSHOTS=1`` also writes the page's screenshot to
docs/img/dashboard.png.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

import pytest

pytest.importorskip("solara")
pytest.importorskip("playwright")
pytest.importorskip("pytest_playwright")

from zonesim.dashboard import APP, CONFIG_ENV, charts
from zonesim.dashboard import state as st

pytestmark = [
    pytest.mark.browser,
    # Solara's advice on cookies for https and iframes: not our setting (plain http, localhost)
    pytest.mark.filterwarnings("ignore:Cookies with samesite=none:UserWarning"),
]

POP = 5_000
SMALL_ZONE = f"""
[zone]
name = "Small zone"
population = {POP}
n_municipalities = 5
"""
# Debian's chromium: the flags the environment's notes recommend for headless runs.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 60_000  # a step on a busy 2-core CI runner; the first page load gets longer
FIRST_LOAD_MS = 300_000


def _required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("ZONESIM_BROWSER_TESTS") == "1"


def _chromium() -> str:
    path = os.environ.get("ZONESIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        message = f"chromium not found at {path} (apt-get install chromium; see scripts/test.sh)"
        if _required():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, pointed at Debian's chromium."""
    return {**browser_type_launch_args, "executable_path": _chromium(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def solara_server():
    """pytest-ipywidgets' in-process Solara server, on a free port (not the fixed default, so
    two test runs on one machine do not collide)."""
    from solara.server.starlette import ServerStarlette

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ServerStarlette(port, "127.0.0.1")
    try:
        server.serve_threaded()
        server.wait_until_serving()
        yield server
    finally:
        server.stop_serving()


@pytest.fixture(scope="session")
def engine_warm():
    """One JIT warm-up per session, outside any browser timeout."""
    settings = st.make_settings(st.load_base_config(None), population=500, seed=1, years=1)
    st.Pair.build(settings, st.preset_policy("status_quo"), st.preset_policy("integrated")).step(1)
    return True


@pytest.fixture
def dashboard(engine_warm, solara_server, solara_app, tmp_path, monkeypatch) -> str:
    """The dashboard app served on a 5,000-inhabitant zone; yields its URL."""
    config = tmp_path / "small.toml"
    config.write_text(SMALL_ZONE)
    monkeypatch.setenv(CONFIG_ENV, str(config))
    with solara_app(APP):
        yield solara_server.base_url


@pytest.fixture
def open_page(browser):
    """``open_page(url)``: a page in a fresh browser context (its own cookies: its own session),
    loaded until the first chart shows."""
    contexts = []

    def open_(url: str):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        page.locator(".zonesim-chart-aims img").wait_for(timeout=FIRST_LOAD_MS)
        return page

    yield open_
    for context in contexts:
        context.close()


def months_text(page) -> str:
    return page.locator(".zonesim-view-month").inner_text()


def wait_months(page, month: int, alternative: str = ".*") -> None:
    """Wait until the charts show ``month`` for both models (and the alternative policy's name
    matches the regular expression ``alternative``) and the worker is idle."""
    text = re.compile(
        rf"Baseline \(.*\) month {month}, Alternative \({alternative}\) month {month}"
    )
    page.locator(".zonesim-view-month", has_text=text).wait_for()
    page.locator(".zonesim-idle").wait_for()


def step(page, month_after: int) -> None:
    page.locator(".zonesim-step").click()
    wait_months(page, month_after)


def chart_png(page, key: str) -> bytes:
    img = page.locator(f".zonesim-chart-{key} img")
    img.wait_for()
    width = img.evaluate("i => i.naturalWidth")
    assert width > 500, f"{key}: image {width} px wide"
    return img.screenshot()


def open_panel(page, key: str) -> None:
    page.locator(f".zonesim-panel-{key}").click()


def card_title(page, side: str) -> str:
    return page.locator(f".zonesim-policy-{side} .v-card__title").inner_text()


def set_lever(page, side: str, group: str, lever: str, text: str) -> None:
    card = page.locator(f".zonesim-policy-{side}")
    field = card.locator(f".zonesim-lever-{lever} input")
    if not field.is_visible():
        card.get_by_text(group, exact=True).click()
    field.fill(text)
    field.press("Enter")


def scorecard_row(page, metric: str) -> dict[str, str]:
    """The scorecard row of ``metric`` as {column header: cell text} (columns: section,
    metric, baseline, alternative, difference, difference_pct)."""
    table = page.locator(".zonesim-scorecard table")
    cell = page.get_by_role("cell", name=metric, exact=True)
    row = table.locator("tr").filter(has=cell).first
    row.wait_for()
    heads = [h.strip() for h in table.locator("th").all_inner_texts()]
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    return dict(zip(heads[-len(cells) :], cells, strict=True))


def test_page_loads_and_every_chart_has_content(dashboard, open_page, tmp_path):
    page = open_page(dashboard)
    assert "Month 0 of 12" in page.locator(".zonesim-month").inner_text()
    assert page.locator(".zonesim-error").count() == 0
    assert "Small zone: 5,000 inhabitants" in months_text(page)
    page.locator(".zonesim-play").click()
    wait_months(page, 12)
    for key in ("aims", "difference", "flow", "caseloads", "strain", "municipalities"):
        open_panel(page, key)
        shot = chart_png(page, key)
        assert not charts.is_blank(shot), f"the {key} chart is blank"
    open_panel(page, "scorecard")
    row = scorecard_row(page, "cost_per_capita_eur")
    assert float(row["baseline"].replace(",", "")) > 0
    assert float(row["alternative"].replace(",", "")) > 0
    open_panel(page, "economics")
    assert (
        "no official willingness-to-pay threshold"
        in page.locator(".zonesim-economics").inner_text()
    )
    for key in ("ce_plane", "ceac", "budget_impact"):
        assert not charts.is_blank(chart_png(page, key)), f"the {key} chart is blank"
    open_panel(page, "aims")
    chart_png(page, "aims")
    with page.expect_download() as download:
        page.locator(".zonesim-chart-aims").get_by_text("Download PNG").click()
    assert download.value.suggested_filename == "zonesim_aims_month12.png"
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\x89PNG") and not charts.is_blank(data)
    shot = tmp_path / "dashboard.png"
    page.set_viewport_size({"width": 1400, "height": 1620})  # the whole page, from the top
    page.evaluate("() => document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; })")
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 50_000
    if os.environ.get("ZONESIM_UPDATE_SCREENSHOTS") == "1":
        target = Path(__file__).resolve().parents[1] / "docs" / "img" / "dashboard.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


def test_a_step_advances_both_models(dashboard, open_page):
    page = open_page(dashboard)
    step(page, 1)
    assert "Month 1 of 12" in page.locator(".zonesim-month").inner_text()
    step(page, 2)
    open_panel(page, "scorecard")
    years = scorecard_row(page, "years")  # both models counted two months
    assert float(years["baseline"]) == float(years["alternative"]) == pytest.approx(61 / 365, 0.01)


def test_changing_a_lever_changes_only_the_alternative(dashboard, open_page):
    page = open_page(dashboard)
    step(page, 1)
    open_panel(page, "scorecard")
    metric = "cost_case_management_per_capita_eur"
    before = scorecard_row(page, metric)
    total = scorecard_row(page, "cost_per_capita_eur")
    set_lever(page, "alternative", "Case management", "case_manager_fte_per_100k", "30")
    wait_months(page, 1, alternative=r"integrated \(edited\)")
    after = scorecard_row(page, metric)
    assert after["baseline"] == before["baseline"]  # the baseline is untouched
    assert float(after["alternative"]) > 4 * float(before["alternative"])  # 30 FTE, not 6
    assert scorecard_row(page, "cost_per_capita_eur")["baseline"] == total["baseline"]
    assert card_title(page, "baseline") == "Baseline: status_quo"


def test_bad_input_shows_a_message_and_the_app_keeps_working(dashboard, open_page):
    page = open_page(dashboard)
    set_lever(page, "alternative", "Case management", "case_manager_fte_per_100k", "-2")
    error = page.locator(".zonesim-error", has_text="case_manager_fte_per_100k")
    error.wait_for()
    assert ">= 0" in error.inner_text()
    pop = page.locator(".zonesim-population input")
    pop.fill("")
    pop.press("Enter")
    page.locator(".zonesim-error", has_text="population").wait_for()
    set_lever(page, "alternative", "Care council and budget", "budget_envelope_per_capita", "1")
    page.locator(".zonesim-error", has_text="envelope").wait_for()
    assert card_title(page, "alternative") == "Alternative: integrated"
    step(page, 1)  # the models in force keep running


def test_two_sessions_do_not_share_state(dashboard, open_page):
    first, second = open_page(dashboard), open_page(dashboard)
    step(first, 1)
    step(first, 2)
    assert "Baseline (status_quo) month 0, Alternative (integrated) month 0" in months_text(second)
    set_lever(second, "alternative", "Case management", "case_manager_fte_per_100k", "12")
    wait_months(second, 0, alternative=r"integrated \(edited\)")
    assert card_title(first, "alternative") == "Alternative: integrated"
    assert "Baseline (status_quo) month 2, Alternative (integrated) month 2" in months_text(first)
    step(second, 1)
    assert "Baseline (status_quo) month 2, Alternative (integrated) month 2" in months_text(first)
