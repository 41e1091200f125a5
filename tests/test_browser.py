"""The campaign form in a real browser: JupyterLab (Light and Dark), Notebook 7 and Voila, driven
by Playwright in Debian's Chromium.

One Jupyter server (it serves both JupyterLab and Notebook 7) and one Voila server for the
module; pages are reused, and a test that needs a fresh form runs all cells again. Each test
leaves a screenshot of its end state in test-artifacts/. With ``ALSONA_UPDATE_DOCS=1`` the Voila
test also writes docs/form.png, the picture at the top of the README.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _lab import (
    CELLS,
    CONTRAST,
    IN_CI,
    REPO,
    chromium,
    copy_notebooks,
    jupyterlab,
    open_notebook,
    open_notebook7,
    press_keys_on_every_control,
    require_browser,
    run_all_cells,
    screenshot,
    set_theme,
    voila,
    wait_for_theme,
)
from playwright.sync_api import expect

if TYPE_CHECKING:
    from _lab import Server
    from playwright.sync_api import Browser, FloatRect, Locator, Page, ViewportSize

pytestmark = pytest.mark.browser

NOTEBOOK = "notebooks/02_campaign_form.ipynb"
EXAMPLE_NAME = "Q3 founders outreach"  # the draft the notebook loads into the form
CAMPAIGN_ID = re.compile(r"campaign_[0-9a-f]{20}")
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}
AA = 4.5  # WCAG AA contrast for text


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One Jupyter server: JupyterLab at /lab, Notebook 7 at /notebooks."""
    require_browser()  # before paying for a server
    home = tmp_path_factory.mktemp("lab")
    root = home / "root"
    root.mkdir()
    copy_notebooks(root)
    with jupyterlab(home / "jupyter", root) as server:
        yield server
    assert server.leftovers == [], f"Jupyter did not shut down cleanly: {server.leftovers}"


@pytest.fixture(scope="module")
def lab_page(jupyter: Server, browser: Browser) -> Iterator[Page]:
    """The form notebook open in JupyterLab (Light), its kernel attached and idle."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    open_notebook(page, jupyter, NOTEBOOK)
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


def type_into(form: Locator, selector: str, text: str) -> None:
    box = form.locator(selector)
    box.click()
    box.press("Control+A")
    box.press("Delete")
    if text:
        box.press_sequentially(text, delay=10)
    box.press("Tab")  # leave the box: a Combobox reports its value on change


def type_name(form: Locator, text: str) -> None:
    type_into(form, ".alsona-name input", text)


def contrast(locator: Locator) -> float:
    value = locator.evaluate(CONTRAST)
    assert isinstance(value, float | int)
    return float(value)


def create(form: Locator, name: str) -> str:
    """Type ``name``, press Create campaign, wait for the success line; the new id."""
    type_name(form, name)
    preview(form).filter(has_text=f'"name": "{name}"').wait_for()
    form.locator(".alsona-create").click()
    ok = form.locator(".alsona-message-ok")
    ok.filter(has_text=name).wait_for()
    found = CAMPAIGN_ID.search(ok.inner_text())
    assert found and ok.inner_text().startswith("✔ Created campaign"), ok.inner_text()
    row = form.locator(".alsona-results tbody tr", has_text=found.group(0))
    row.wait_for()
    assert name in row.inner_text() and "✔ created" in row.inner_text()
    return found.group(0)


def check_contrast(form: Locator, where: str) -> dict[str, float]:
    """Banner, an error and the success line: each at least 4.5:1 against what is behind it."""
    type_name(form, "")
    error = form.locator(".alsona-error-name .alsona-line")
    error.wait_for()
    measured = {
        "banner": contrast(form.locator(".alsona-banner [data-mode]")),
        "error": contrast(error),
        "problems": contrast(form.locator(".alsona-problems")),
    }
    create(form, f"Contrast {where}")
    measured["success"] = contrast(form.locator(".alsona-message-ok"))
    assert all(v >= AA for v in measured.values()), (where, measured)
    return measured


# -- JupyterLab -----------------------------------------------------------------------------


def test_lab_no_keystroke_on_the_form_changes_the_notebook(form: Locator, lab_page: Page) -> None:
    assert form.get_attribute("data-lm-suppress-shortcuts") == "true"
    before = lab_page.evaluate(CELLS)
    assert [kind for kind, _ in before] == ["jp-MarkdownCell", "jp-CodeCell"] * 3
    form.locator(".alsona-banner").click()  # the cell is selected, the notebook in command mode
    assert lab_page.locator(".jp-Notebook.jp-mod-commandMode").count() == 1
    controls = press_keys_on_every_control(lab_page, form, before)
    assert controls > 30  # text boxes, status buttons, seats, days, sliders, buttons...
    assert lab_page.evaluate(CELLS) == before


def test_lab_form_shows_the_example_on_the_sandbox(form: Locator) -> None:
    banner = form.locator(".alsona-banner [data-mode]")
    assert banner.get_attribute("data-mode") == "sandbox"
    assert banner.inner_text().startswith("SANDBOX")
    body = preview(form).inner_text()
    assert f'"name": "{EXAMPLE_NAME}"' in body and CAMPAIGN_ID.search(body)  # the id to be sent
    assert form.locator(".alsona-create").is_enabled()
    assert week_day(form, "monday").count() == 8
    assert "No campaigns sent" in form.locator(".alsona-results").inner_text()


def test_lab_zone_by_city_and_seats_by_label(form: Locator) -> None:
    type_into(form, ".alsona-timezone input", "york")
    info = form.locator(".alsona-timezone-info")
    info.filter(has_text="America/New_York").wait_for()
    assert "daylight saving" in info.inner_text()
    preview(form).filter(has_text=re.compile(r'"timezone": -(300|240)')).wait_for()

    seat = form.locator(".alsona-seat", has_text="Ben Okafor (LinkedIn)")
    seat.locator("input[type=checkbox]").check()
    preview(form).filter(has_text="seat_1f0c9a7e2b4d8c3a5e61").wait_for()

    tuesday = form.locator(".alsona-day-tuesday input[type=checkbox]")
    tuesday.uncheck()
    form.locator(".alsona-week-total").filter(has_text="32 hours a week").wait_for()
    preview(form).filter(has_text='"tuesday": [false, 9, 17]').wait_for()
    form.locator(".alsona-timezone-info").scroll_into_view_if_needed()


def test_lab_light_contrast_and_a_created_campaign(form: Locator, lab_page: Page) -> None:
    wait_for_theme(lab_page, "JupyterLab Light")
    check_contrast(form, "Light")
    assert form.locator(".alsona-create").is_disabled()  # not sent twice by a second click
    assert "New campaign" in form.locator(".alsona-reason").inner_text()
    form.locator(".alsona-duplicate").click()
    expect(form.locator(".alsona-name input")).to_have_value("Contrast Light (copy)")
    assert form.locator(".alsona-create").is_enabled()
    form.locator(".alsona-message-ok, .alsona-dup").first.scroll_into_view_if_needed()


def test_lab_an_invalid_form_says_why_next_to_the_button(form: Locator) -> None:
    type_name(form, "   ")
    reason = form.locator(".alsona-reason")
    reason.filter(has_text="Give the campaign a name").wait_for()
    assert "Not ready to create" in reason.inner_text()
    assert form.locator(".alsona-create").is_disabled()
    assert "schedule." not in form.inner_text() and "validation" not in form.inner_text()
    reason.scroll_into_view_if_needed()


def test_lab_at_800px_rows_stay_aligned(form: Locator, lab_page: Page) -> None:
    lab_page.set_viewport_size({"width": 800, "height": 1000})
    try:
        readout = form.locator(".alsona-hours-wednesday .widget-readout")
        readout.click()
        lab_page.keyboard.press("Control+A")
        lab_page.keyboard.type("10 - 10")
        lab_page.keyboard.press("Enter")
        form.locator(".alsona-error-wednesday .alsona-line").wait_for()
        lefts = [
            form.locator(f".alsona-hours-{day} .noUi-base").bounding_box()
            for day in ("monday", "wednesday", "friday")
        ]
        assert all(box is not None for box in lefts)
        xs = {round(box["x"]) for box in lefts if box is not None}
        widths = {round(box["width"]) for box in lefts if box is not None}
        assert len(xs) == 1 and len(widths) == 1, (xs, widths)
        overflow = form.evaluate("f => f.scrollWidth - f.clientWidth")
        assert overflow <= 1, overflow
        form.locator(".alsona-error-wednesday").scroll_into_view_if_needed()
    finally:
        screenshot(lab_page, "lab-800px")
        lab_page.set_viewport_size(VIEWPORT)


def test_lab_dark_contrast(jupyter: Server, browser: Browser) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        set_theme(page, jupyter, "JupyterLab Dark")
        open_notebook(page, jupyter, NOTEBOOK)
        wait_for_theme(page, "JupyterLab Dark")
        run_all_cells(page)
        form = page.locator(".alsona-form")
        check_contrast(form, "Dark")
        form.locator(".alsona-message-ok").scroll_into_view_if_needed()
        screenshot(page, "lab-dark")
    finally:
        set_theme(page, jupyter, "JupyterLab Light")
        context.close()


# -- Notebook 7 -------------------------------------------------------------------------------


def test_notebook7_no_keystroke_on_the_form_changes_the_notebook(
    jupyter: Server, browser: Browser
) -> None:
    if importlib.util.find_spec("notebook") is None:
        message = "Notebook 7 is not installed (pip install 'notebook>=7')"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        open_notebook7(page, jupyter, NOTEBOOK)
        run_all_cells(page)
        form = page.locator(".alsona-form")
        form.wait_for()
        before = page.evaluate(CELLS)
        assert len(before) == 6
        form.locator(".alsona-banner").click()
        assert press_keys_on_every_control(page, form, before) > 30
        run_all_cells(page)  # a fresh form: the keys typed into its text boxes
        create(form, "Notebook 7 launch")
        screenshot(page, "notebook7-keys-and-create")
    finally:
        context.close()


# -- Voila ----------------------------------------------------------------------------------


def test_voila_app_creates_nothing_on_load_then_a_campaign(
    browser: Browser, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    notebook = copy_notebooks(root) / "app.ipynb"
    home = tmp_path / "voila"
    context = browser.new_context(viewport={"width": 1000, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        with voila(home, notebook) as server:
            page.goto(server.url("/"), timeout=90_000)
            form = page.locator(".alsona-form")
            form.wait_for(timeout=90_000)
            # Outputs only: none of the notebook's code, and nothing was created on load.
            assert "CampaignForm(client" not in page.content()
            assert "No campaigns sent" in form.locator(".alsona-results").inner_text()
            assert form.locator(".alsona-banner").inner_text().startswith("SANDBOX")
            assert list((home / "voila-connections").glob("voila_*/kernel-*.json"))

            assert press_keys_on_every_control(page, form, None) > 30
            page.reload()  # a fresh form after the keys (Voila runs the notebook again)
            form.wait_for(timeout=90_000)
            assert "No campaigns sent" in form.locator(".alsona-results").inner_text()

            form.locator(".alsona-seat", has_text="Chen Wei (Email)").locator("input").check()
            type_into(form, ".alsona-timezone input", "paris")
            form.locator(".alsona-timezone-info").filter(has_text="Europe/Paris").wait_for()
            campaign_id = create(form, "Voila launch")
            sent = preview(form).inner_text()  # the body previewed is the body sent
            assert campaign_id in sent and '"seats": ["seat_93d2b7c0a4e5f6182b3c"]' in sent
            assert contrast(form.locator(".alsona-message-ok")) >= AA
            assert contrast(form.locator(".alsona-banner [data-mode]")) >= AA
            form.locator(".alsona-message-ok").scroll_into_view_if_needed()
            shot = screenshot(page, "voila-create-campaign")
            # The whole form in one picture (Voila scrolls inside the page, not the page).
            page.set_viewport_size({"width": 1000, "height": 2000})
            form.evaluate("f => f.scrollIntoView()")
            box = form.bounding_box()
            assert box is not None
            clip: FloatRect = {
                "x": 0,
                "y": 0,
                "width": 1000,
                "height": min(2000, box["y"] + box["height"] + 16),
            }
            page.screenshot(path=str(shot.with_name("voila-form.png")), clip=clip)
            if os.environ.get("ALSONA_UPDATE_DOCS") == "1":
                shutil.copy(shot.with_name("voila-form.png"), REPO / "docs" / "form.png")

            page.set_viewport_size({"width": 800, "height": 1000})
            assert form.evaluate("f => f.scrollWidth - f.clientWidth") <= 1
            screenshot(page, "voila-800px")
    finally:
        context.close()
    assert server.leftovers == [], f"Voila did not shut down cleanly: {server.leftovers}"
