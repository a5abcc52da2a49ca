"""The web timeline page in a real browser: Debian's headless Chromium, driven by Playwright,
against `tariffs serve` as a real process over a store loaded with the bundled timeline.

The browser is never downloaded (`playwright install` is not used): CHROMIUM names Debian's
executable. Without it the tests skip on a developer's machine and fail under CI (.ci/run
installs it). Screenshots are kept in the test's temporary folder and, when TARIFFS_SCREENSHOTS
names a folder, there too.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.test_cli import run
from tests.e2e.test_serve_and_batch import Served

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

CHROMIUM = os.environ.get("TARIFFS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WAIT_MS = 30_000
BRAZIL_COFFEE = {"origin": "BR", "hts": "0901.11.00"}
# The 40% Brazil layer was lifted for coffee on 20 Nov 2025, retroactive to 13 Nov 2025.
LIFTED = "2025-11-13"
LIFTED_AT = datetime(2025, 11, 13, 0, 1, tzinfo=ZoneInfo("America/New_York"))
KNOWN_BEFORE = "2025-10-01"



def require_browser() -> None:
    """Playwright and Debian's Chromium, or a skip here and a failure under CI."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("playwright (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if missing and os.environ.get("CI"):
        pytest.fail(f"CI needs {' and '.join(missing)}: .ci/run installs them",
                    pytrace=False)
    if missing:
        pytest.skip(f"missing {' and '.join(missing)}")


class Screenshots:
    """Where screenshots go: the test's temporary folder, and TARIFFS_SCREENSHOTS if set."""

    def __init__(self, folder: Path) -> None:
        self.folders = [folder]
        if os.environ.get("TARIFFS_SCREENSHOTS"):
            self.folders.append(Path(os.environ["TARIFFS_SCREENSHOTS"]))
        for each in self.folders:
            each.mkdir(parents=True, exist_ok=True)

    def keep(self, page: Page, name: str, selector: str | None = None) -> Path:
        """Take a screenshot of the page (or of one element) and keep it in every folder."""
        first = self.folders[0] / f"{name}.png"
        if selector is None:
            page.screenshot(path=str(first), full_page=True)
        else:
            page.locator(selector).screenshot(path=str(first))
        for other in self.folders[1:]:
            shutil.copyfile(first, other / first.name)
        return first


@pytest.fixture(scope="module")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("web-home")
    db = f"sqlite:///{home / 'web.sqlite'}"
    loaded = run(["import", "--db", db], home)
    assert loaded.returncode == 0, loaded.stderr
    served = Served(["--db", db], home)
    yield served
    served.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Screenshots:
    return Screenshots(tmp_path_factory.mktemp("screenshots"))


class Outside:
    """Every request the browser makes beyond the server: answered by a stub, and listed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.requested: list[str] = []

    def route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:"):
            route.continue_()
            return
        self.requested.append(url)
        route.fulfill(status=200, content_type="text/html", body="<p>a source (stub)</p>")


@pytest.fixture(scope="module")
def charted(server: Served, browser: Browser, shots: Screenshots
            ) -> Iterator[tuple[Page, Outside]]:
    """The page with Brazil and coffee charted from 2025 to mid-2026, as known on 1 October
    2025 and now."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside = Outside(server.url)
    context.route("**/*", outside.route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)
    page.fill("#origin", "Brazil")
    page.fill("#hts", "0901.11.00")
    page.fill("#from", "2025-01-01")
    page.fill("#to", "2026-06-30")
    page.fill("#known", f"{KNOWN_BEFORE}, now")
    page.click("#show")
    page.wait_for_selector(f'#changes li[data-date="{LIFTED}"]', timeout=WAIT_MS)
    page.wait_for_selector("#layers tbody tr", timeout=WAIT_MS)
    shots.keep(page, "01-brazil-coffee")
    shots.keep(page, "02-chart", "#chart-section")
    assert errors == []
    yield page, outside
    context.close()


def change_on(page: Page, date: str) -> dict[str, Any]:
    changes: list[dict[str, Any]] = page.evaluate("window.tariffTimeline.changes()")
    (found,) = [c for c in changes if c["date"] == date]
    return found


class TestTheTimelinePage:
    def test_the_november_2025_change_for_brazilian_coffee_is_on_the_chart_as_known_now(
            self, charted: tuple[Page, Outside]) -> None:
        page, _ = charted
        assert page.evaluate("window.tariffTimeline.seriesLabels()") == [
            f"known {KNOWN_BEFORE}", "known now"]
        lifted = change_on(page, LIFTED)
        # Known now: 50% until 13 Nov, then the 40% layer is exempt and the rest depends on
        # whether coffee is among the reciprocal exemption's products (0 or 10).
        (now,) = [r for r in lifted["rates"] if r["known"] == "known now"]
        assert (now["before"], now["after"], now["alternatives"]) == (50, None, [0, 10])
        assert "ieepa-brazil: 40% → exempt" in now["layers"]
        assert any("20 Nov 2025" in name for name in lifted["instruments"])
        # As known on 1 October 2025 nothing changed then: that line stays at 50%.
        assert [r["known"] for r in lifted["rates"]] == ["known now"]
        columns: list[list[float | None]] = page.evaluate("window.tariffTimeline.chartData()")
        at = columns[0].index(LIFTED_AT.timestamp())
        assert (columns[1][at], columns[2][at - 1], columns[2][at]) == (50, 50, None)
        listed = page.locator(f'#changes li[data-date="{LIFTED}"]').inner_text()
        assert "50% → depends on facts (0% or 10%)" in listed

    def test_a_layer_at_a_chosen_date_shows_its_rule_and_opens_its_source(
            self, charted: tuple[Page, Outside], server: Served, shots: Screenshots) -> None:
        page, outside = charted
        # A click on the chart near its right end asks for the layers at that date.
        plot = page.locator("#chart .u-over")
        box = plot.bounding_box()
        assert box is not None
        plot.click(position={"x": box["width"] - 5, "y": box["height"] / 2})
        page.wait_for_function(
            "document.querySelector('#layers-title').textContent.includes('2026-06')",
            timeout=WAIT_MS)
        page.locator(f'#changes li[data-date="{LIFTED}"] button.date-link').click()
        page.wait_for_function(
            f"document.querySelector('#layers-title').textContent.includes('{LIFTED}')",
            timeout=WAIT_MS)
        row = page.locator('#layers tr[data-measure="ieepa-brazil"]')
        assert "exempt" in row.inner_text()
        assert "40% on top of MFN" in row.inner_text()
        expected = httpx.get(server.url + "/v1/explain", timeout=30, params={
            **BRAZIL_COFFEE, "entered": LIFTED}).json()
        (brazil,) = [layer for layer in expected["layers"] if layer["measure"] == "ieepa-brazil"]
        link = row.locator("a.source-link").first
        assert link.get_attribute("href") == brazil["sources"][0]["url"]
        shots.keep(page, "03-layers", "#layers-section")
        with page.context.expect_page(timeout=WAIT_MS) as opened:
            link.click()
        source = opened.value
        source.wait_for_load_state()
        assert source.url == brazil["sources"][0]["url"]
        source.close()
        # The page itself asked nothing of any server but its own: only the source opened.
        assert outside.requested == [brazil["sources"][0]["url"]]

    def test_two_coordinates_compare_as_a_diff_of_the_cell(
            self, charted: tuple[Page, Outside], shots: Screenshots) -> None:
        page, _ = charted
        page.fill("#diff-entered-a", "2025-12-01")
        page.fill("#diff-entered-b", "2025-12-01")
        page.fill("#diff-known-a", KNOWN_BEFORE)
        page.fill("#diff-known-b", "now")
        page.click("#compare")
        page.wait_for_selector("#diff-cells tbody tr", timeout=WAIT_MS)
        cell = page.locator("#diff-cells tbody tr").first
        assert cell.locator("td.before").inner_text() == "50%"
        assert cell.locator("td.after").inner_text() == "depends on facts"
        assert "ieepa-brazil: 40% → exempt" in cell.inner_text()
        added = page.locator("#diff-changes").inner_text()
        assert "br-ag-nov2025" in added
        shots.keep(page, "04-diff", "#diff-section")
