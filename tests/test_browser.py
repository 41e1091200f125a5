"""The campaign form in a real browser: JupyterLab and Voila driven by Playwright in Chromium.

One JupyterLab server (and one page with the notebook open) is shared by the module; each Lab
test runs all cells again, so it starts from a fresh form. Each test leaves a screenshot of its
end state in test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _lab import (
    chromium,
    copy_notebooks,
    jupyterlab,
    open_notebook,
    require_browser,
    run_all_cells,
    run_cell,
    screenshot,
    voila,
)

if TYPE_CHECKING:
    from _lab import Server
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.browser

NOTEBOOK = "notebooks/02_campaign_form.ipynb"
EXAMPLE_NAME = "Q3 founders outreach"  # the draft the notebook loads into the form
CAMPAIGN_ID = re.compile(r"campaign_[0-9a-f]{20}")
VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_browser()  # before paying for a server
    home = tmp_path_factory.mktemp("lab")
    root = home / "root"
    root.mkdir()
    copy_notebooks(root)
    with jupyterlab(home / "jupyter", root) as server:
        yield server
    assert server.leftovers == [], f"JupyterLab did not shut down cleanly: {server.leftovers}"


@pytest.fixture(scope="module")
def lab_page(lab: Server, browser: Browser) -> Iterator[Page]:
    """The form notebook open in JupyterLab, its kernel attached and idle."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    open_notebook(page, lab, NOTEBOOK)
    yield page
    context.close()


@pytest.fixture
def form(lab_page: Page, request: pytest.FixtureRequest) -> Iterator[Locator]:
    """Run > Run All Cells, then the freshly built form; a screenshot when the test ends."""
    run_all_cells(lab_page)
    found = lab_page.locator(".alsona-form")
    found.wait_for()
    yield found
    screenshot(lab_page, f"lab-{request.node.name}")


def preview(form: Locator) -> Locator:
    return form.locator(".alsona-preview")


def week_day(form: Locator, day: str) -> Locator:
    """The lit hours of ``day`` in the week picture."""
    return form.locator(f'.alsona-week [data-day="{day}"] [data-on="1"]')


def type_name(form: Locator, text: str) -> None:
    box = form.locator(".alsona-name input")
    box.click()
    box.press("Control+A")
    box.press("Delete")
    box.press_sequentially(text, delay=20)


# -- JupyterLab -----------------------------------------------------------------------------


def test_run_all_shows_the_form_on_the_sandbox(form: Locator, lab_page: Page) -> None:
    banner = form.locator(".alsona-banner [data-mode]")
    assert banner.get_attribute("data-mode") == "sandbox"
    assert "SANDBOX" in banner.inner_text()
    # connect() says so above the form, too: no key reached the server's kernel.
    lab_page.get_by_text("no ALSONA_API_KEY set").first.wait_for()
    assert f'"name": "{EXAMPLE_NAME}"' in preview(form).inner_text()
    assert form.locator(".alsona-create").is_enabled()
    assert week_day(form, "monday").count() == 8


def test_typing_a_name_changes_the_json_preview(form: Locator) -> None:
    type_name(form, "Spring webinar follow-up")
    body = preview(form).locator(".alsona-preview-json")
    body.filter(has_text='"name": "Spring webinar follow-up"').wait_for()
    assert EXAMPLE_NAME not in body.inner_text()
    body.scroll_into_view_if_needed()


def test_unticking_and_ticking_a_day_changes_the_week_picture(form: Locator) -> None:
    total = form.locator(".alsona-week-total")
    tuesday = form.locator(".alsona-day-tuesday input[type=checkbox]")
    assert total.inner_text() == "40 hours a week"
    assert week_day(form, "tuesday").count() == 8

    tuesday.uncheck()
    total.filter(has_text="32 hours a week").wait_for()
    assert week_day(form, "tuesday").count() == 0
    preview(form).filter(has_text='"tuesday": [false, 9, 17]').wait_for()

    tuesday.check()
    total.filter(has_text="40 hours a week").wait_for()
    assert week_day(form, "tuesday").count() == 8
    preview(form).filter(has_text='"tuesday": [true, 9, 17]').wait_for()
    form.locator(".alsona-week").scroll_into_view_if_needed()


def test_moving_an_hour_slider_changes_picture_and_body(form: Locator, lab_page: Page) -> None:
    slider = form.locator(".alsona-hours-monday")
    slider.scroll_into_view_if_needed()  # the mouse works in the visible part of the notebook
    track = slider.locator(".noUi-base").bounding_box()
    handle = slider.locator(".noUi-handle-upper").bounding_box()
    assert track is not None and handle is not None
    # Drag Monday's end hour from 17 to 20 with the mouse (the slider spans 0-24).
    lab_page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    lab_page.mouse.down()
    lab_page.mouse.move(track["x"] + track["width"] * 20 / 24, handle["y"] + handle["height"] / 2,
                        steps=8)
    lab_page.mouse.up()

    slider.locator(".widget-readout").filter(has_text=re.compile(r"^9\s*[–-]\s*20$")).wait_for()
    preview(form).filter(has_text='"monday": [true, 9, 20]').wait_for()
    form.locator(".alsona-week-total").filter(has_text="43 hours a week").wait_for()
    lit = week_day(form, "monday")
    assert [lit.nth(i).get_attribute("data-hour") for i in range(lit.count())] == [
        str(h) for h in range(9, 20)
    ]
    form.locator(".alsona-week").scroll_into_view_if_needed()


def test_create_campaign_reports_success_and_adds_a_row(form: Locator, lab_page: Page) -> None:
    type_name(form, "Browser launch")
    preview(form).filter(has_text='"name": "Browser launch"').wait_for()
    button = form.locator(".alsona-create")
    button.click()

    ok = form.locator(".alsona-message-ok")
    ok.wait_for()
    text = ok.inner_text()
    assert "Created campaign" in text and "Browser launch" in text and "SANDBOX" in text, text
    found = CAMPAIGN_ID.search(text)
    assert found, text
    campaign_id = found.group(0)
    assert button.is_disabled()  # the same campaign is not sent twice by a second click

    # The form's own results table gains the row at once.
    row = form.locator(".alsona-results tbody tr", has_text=campaign_id)
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert "Browser launch" in cells and "True" in cells, cells
    # The notebook's DataFrame cell shows the same log when it runs again.
    run_cell(lab_page, "results_log.to_frame()")
    frame_rows = lab_page.locator(".jp-OutputArea-output table:not(.alsona-results-table) tbody tr")
    frame_rows.filter(has_text=campaign_id).wait_for()
    row.scroll_into_view_if_needed()


def test_an_invalid_name_disables_the_button_and_says_why(form: Locator) -> None:
    button = form.locator(".alsona-create")
    error = form.locator(".alsona-error-name")
    assert button.is_enabled() and error.inner_text().strip() == ""

    type_name(form, "   ")
    error.filter(has_text="must not be empty").wait_for()
    assert button.is_disabled()
    preview(form).filter(has_text="No request body while the form has problems").wait_for()

    type_name(form, "Fixed name")
    preview(form).filter(has_text='"name": "Fixed name"').wait_for()
    assert button.is_enabled() and error.inner_text().strip() == ""
    type_name(form, "")  # leave the screenshot showing the message
    error.filter(has_text="must not be empty").wait_for()
    error.scroll_into_view_if_needed()


# -- Voila ----------------------------------------------------------------------------------


def test_voila_a_person_who_never_sees_code_creates_a_campaign(
    browser: Browser, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    notebook = copy_notebooks(root) / Path(NOTEBOOK).name
    home = tmp_path / "voila"
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        with voila(home, notebook) as server:
            page.goto(server.url("/"), timeout=90_000)
            form = page.locator(".alsona-form")
            form.wait_for(timeout=90_000)
            # Voila shows outputs only: none of the notebook's code is on the page.
            html = page.content()
            assert "alsona_nb.connect()" not in html and "CampaignForm(client" not in html
            assert page.locator(".jp-CodeCell .jp-InputArea, .cm-editor").count() == 0
            assert "SANDBOX" in form.locator(".alsona-banner").inner_text()
            # The kernel's connection file is in the test's directory, not the system's /tmp.
            assert list((home / "voila-connections").glob("voila_*/kernel-*.json"))

            type_name(form, "Voila launch")
            preview(form).filter(has_text='"name": "Voila launch"').wait_for()
            form.locator(".alsona-create").click()
            ok = form.locator(".alsona-message-ok")
            ok.wait_for()
            found = CAMPAIGN_ID.search(ok.inner_text())
            assert "Voila launch" in ok.inner_text() and found
            row = form.locator(".alsona-results tbody tr", has_text=found.group(0))
            row.wait_for()
            assert "Voila launch" in row.locator("td").all_inner_texts()
            row.scroll_into_view_if_needed()
            screenshot(page, "voila-create-campaign")
    finally:
        context.close()
    assert server.leftovers == [], f"Voila did not shut down cleanly: {server.leftovers}"
