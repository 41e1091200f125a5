"""The campaign form in a real browser: JupyterLab (Light and Dark), Notebook 7 and Voila, driven
by Playwright in Debian's Chromium.

One Jupyter server (it serves both JupyterLab and Notebook 7) and one Voila server for the
module; pages are reused, and a test that needs a fresh form runs all cells again. Each test
leaves a screenshot of its end state in test-artifacts/. With ``ALSONA_UPDATE_DOCS=1`` the Voila
test also writes docs/form.png, the picture at the top of the README.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _lab import (
    BG_CONTRAST,
    CELLS,
    CONTRAST,
    IN_CI,
    REPO,
    choose_theme,
    chromium,
    copy_notebooks,
    jupyterlab,
    open_notebook,
    open_notebook7,
    press_keys_on_every_control,
    require_browser,
    run_all_cells,
    screenshot,
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
# Assertions wait for the page to follow the kernel: seconds when idle, more on a busy machine.
expect.set_options(timeout=30_000)
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
    notebooks = copy_notebooks(root)
    typed = json.loads((notebooks / "app.ipynb").read_text())  # its metadata: the kernel
    cell = {"cell_type": "code", "metadata": {}, "source": TYPED_SEATS, "outputs": []}
    typed["cells"] = [{**cell, "execution_count": None}]
    (notebooks / "typed_seats.ipynb").write_text(json.dumps(typed))
    # Saving keeps the form's placeholder, not its widget view (as make demo's server does).
    hook = "--ContentsManager.pre_save_hook=alsona_nb.form.placeholder_outputs"
    with jupyterlab(home / "jupyter", root, args=(hook,)) as server:
        server.root = root  # type: ignore[attr-defined]
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


# A form whose seats are typed (as when the account's seats cannot be read).
TYPED_SEATS = """import alsona_nb
from alsona_nb import CampaignForm

CampaignForm(alsona_nb.connect(quiet=True), seats=[])"""


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
    preview(form).filter(has_text=f'"name": "{name}"').wait_for(state="attached")
    expect(form.locator(".alsona-create")).to_have_text("Create campaign")
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
    # The chosen status stands out from the others (non-text contrast, 3:1).
    chosen = form.locator(".alsona-status button.mod-active").element_handle()
    other = form.locator(".alsona-status button:not(.mod-active)").first.element_handle()
    status = float(form.page.evaluate(BG_CONTRAST, [chosen, other]))
    assert status >= 3.0, (where, status)
    measured["status"] = status
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
    expect(form.locator(".alsona-create")).to_be_enabled()
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
    # Created: the form edits it now, with nothing to send until something changes.
    expect(form.locator(".alsona-create")).to_have_text("Update campaign")
    expect(form.locator(".alsona-create")).to_be_disabled()  # not sent twice by a 2nd click
    assert "No changes to send" in form.locator(".alsona-reason").inner_text()
    form.locator(".alsona-duplicate").click()
    expect(form.locator(".alsona-name input")).to_have_value("Contrast Light (copy)")
    expect(form.locator(".alsona-create")).to_be_enabled()  # the state follows the kernel
    form.locator(".alsona-message-ok, .alsona-dup").first.scroll_into_view_if_needed()


def test_lab_an_invalid_form_says_why_next_to_the_button(form: Locator) -> None:
    type_name(form, "   ")
    reason = form.locator(".alsona-reason")
    reason.filter(has_text="Give the campaign a name").wait_for()
    assert "Not ready to create" in reason.inner_text()
    expect(form.locator(".alsona-create")).to_be_disabled()
    assert "schedule." not in form.inner_text() and "validation" not in form.inner_text()
    reason.scroll_into_view_if_needed()


def test_lab_at_800px_rows_stay_aligned(form: Locator, lab_page: Page) -> None:
    lab_page.set_viewport_size({"width": 800, "height": 1000})
    try:
        # The hours readout is text, not a box to type in; the handles take the keys.
        assert form.locator(".alsona-hours-wednesday .widget-readout").is_hidden()
        form.locator(".alsona-hours-wednesday .noUi-handle-lower").focus()
        lab_page.keyboard.press("End")  # from = until: no hours
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


def test_lab_assistive_technology_names_states_and_announces(form: Locator) -> None:
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        for end in ("from", "until"):
            expect(form.get_by_role("slider", name=f"{day}, {end}", exact=True)).to_have_count(1)
    expect(form.get_by_role("button", name="DRAFT", pressed=True)).to_have_count(1)
    expect(form.get_by_role("button", name="RUN", pressed=False)).to_have_count(1)
    form.locator(".alsona-status button", has_text="PAUSE").click()
    expect(form.get_by_role("button", name="PAUSE", pressed=True)).to_have_count(1)
    expect(form.get_by_role("button", name="DRAFT", pressed=False)).to_have_count(1)
    assert form.locator('[title="null"]').count() == 0
    # Unticked days' handles are not Tab stops.
    for handle in form.locator(".alsona-hours-saturday .noUi-handle").all():
        assert handle.get_attribute("tabindex") == "-1"
    type_name(form, "")
    expect(form.locator(".alsona-name input")).to_have_attribute("aria-invalid", "true")
    type_name(form, "Announced")
    expect(form.locator(".alsona-name input")).to_have_attribute("aria-invalid", "false")
    form.locator(".alsona-create").click()
    status = form.get_by_role("status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_contain_text("Created campaign “Announced”")


def test_lab_keyboard_only_creation_keeps_the_focus_in_the_form(
    form: Locator, lab_page: Page
) -> None:
    name = form.locator(".alsona-name input")
    name.focus()
    lab_page.keyboard.press("Control+A")
    lab_page.keyboard.type("Keyboard only")
    visited = []
    for _ in range(120):  # Tab to the Create button, as a keyboard user does
        lab_page.keyboard.press("Tab")
        here = lab_page.evaluate(
            "() => [document.activeElement.className, document.activeElement.closest("
            "'[class*=alsona-hours-]')?.className ?? '']"
        )
        visited.append(here)
        if "alsona-create" in here[0]:
            break
    assert "alsona-create" in visited[-1][0], visited[-5:]
    assert not any("saturday" in hours or "sunday" in hours for _, hours in visited)
    ring = form.locator(".alsona-create").evaluate(
        "b => [getComputedStyle(b).outlineStyle, parseFloat(getComputedStyle(b).outlineWidth)]"
    )
    assert ring[0] != "none" and ring[1] >= 2, ring
    lab_page.keyboard.press("Enter")
    form.locator(".alsona-message-ok").filter(has_text="Keyboard only").wait_for()
    inside = lab_page.evaluate(
        "() => !!document.activeElement.closest('.alsona-form')"
        " && document.activeElement !== document.body"
    )
    assert inside, lab_page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")


def test_lab_editing_a_campaign_shows_the_diff_and_updates(form: Locator) -> None:
    campaign_id = create(form, "Before the edit")
    type_name(form, "After the edit")
    changes = form.locator(".alsona-changes")
    changes.filter(has_text="Before the edit → After the edit").wait_for()
    button = form.locator(".alsona-create")
    expect(button).to_have_text("Update campaign")
    expect(button).to_be_enabled()
    button.click()
    ok = form.locator(".alsona-message-ok").filter(has_text="Updated campaign “After the edit”")
    ok.wait_for()
    assert campaign_id in ok.inner_text()
    changes.filter(has_text="No changes to send").wait_for()
    rows = form.locator(".alsona-results tbody tr", has_text=campaign_id)
    expect(rows).to_have_count(2)  # created, then updated: one campaign
    form.locator(".alsona-pause").wait_for(state="hidden")  # a DRAFT is not running
    form.locator(".alsona-delete").click()
    question = form.locator(".alsona-delete-question")
    expect(question).to_contain_text("Delete campaign “After the edit”")
    form.locator(".alsona-cancel").click()
    expect(form.locator(".alsona-delete-confirm")).to_be_hidden()


def test_lab_saving_keeps_the_placeholder_not_a_widget_view(
    form: Locator, lab_page: Page, jupyter: Server, browser: Browser
) -> None:
    path = jupyter.root / NOTEBOOK  # type: ignore[attr-defined]
    before = path.stat().st_mtime_ns
    # File ▸ Save (Ctrl+S is a notebook shortcut, which the form's shield keeps out).
    lab_page.get_by_role("menuitem", name="File", exact=True).click()
    lab_page.locator('.lm-Menu-item[data-command="docmanager:save"]').click()
    saved = None
    for _ in range(300):  # the server writes the file: wait for all of it, 30 s at most
        if path.stat().st_mtime_ns != before:
            try:
                saved = json.loads(path.read_text())
                break
            except json.JSONDecodeError:  # caught mid-write (seen under a CPU hog)
                pass
        lab_page.wait_for_timeout(100)
    assert path.stat().st_mtime_ns != before, "File ▸ Save wrote nothing"
    assert saved is not None, "File ▸ Save left a notebook that is not JSON"
    assert "widgets" not in saved["metadata"]
    outputs = [o for c in saved["cells"] for o in c.get("outputs", ())]
    form_out = next(o for o in outputs if "<CampaignForm" in "".join(o["data"]["text/plain"]))
    assert "application/vnd.jupyter.widget-view+json" not in form_out["data"]
    assert "alsona-form-static" in "".join(form_out["data"]["text/html"])
    # Opened again, as a reader would: the placeholder, not "model not found".
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(jupyter.url(f"lab/tree/{NOTEBOOK}"))
        page.get_by_text("The campaign form appears here when the notebook runs").first.wait_for()
        assert page.get_by_text("model not found").count() == 0
    finally:
        context.close()


def test_lab_typed_seat_ids_are_added_by_enter(jupyter: Server, browser: Browser) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        open_notebook(page, jupyter, "notebooks/typed_seats.ipynb?reset")  # only this one
        run_all_cells(page)
        form = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .alsona-form")
        box = form.locator(".alsona-seats input.jupyter-widget-taginput")
        for seat in ("seat_typed_1", "seat_typed_2"):
            box.click()
            page.keyboard.type(seat)
            page.keyboard.press("Enter")
        tags = form.locator(".alsona-seats div.jupyter-widget-tag")
        expect(tags).to_have_text(["seat_typed_1", "seat_typed_2"])  # each once, in order
        type_name(form, "Typed seats")
        preview(form).filter(has_text='"seats": ["seat_typed_1", "seat_typed_2"]').wait_for()
    finally:
        screenshot(page, "lab-typed-seats")
        context.close()


def test_lab_dark_contrast(form: Locator, lab_page: Page) -> None:
    """The same form, the theme switched live from the menu (no second page and kernel: a
    busy machine made that one time out)."""
    choose_theme(lab_page, "JupyterLab Dark")
    try:
        wait_for_theme(lab_page, "JupyterLab Dark")
        check_contrast(form, "Dark")
        form.locator(".alsona-message-ok").scroll_into_view_if_needed()
        screenshot(lab_page, "lab-dark")
    finally:
        choose_theme(lab_page, "JupyterLab Light")
        wait_for_theme(lab_page, "JupyterLab Light")


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
            assert "CampaignForm" not in page.content()
            assert "No campaigns sent" in form.locator(".alsona-results").inner_text()
            assert form.locator(".alsona-banner").inner_text().startswith("SANDBOX")
            # Opens clean: no red error before anything is touched, a neutral list of what
            # is still needed, the JSON and code folded under Details, a real page title.
            assert page.title() == "Create an Alsona campaign"
            assert form.locator('.alsona-line[data-kind="error"]').count() == 0
            assert "Still needed" in form.locator(".alsona-needed").inner_text()
            assert preview(form).is_hidden() and form.locator(".alsona-copy-code").is_hidden()
            assert "javascript error" not in form.inner_text().lower()
            assert list((home / "voila-connections").glob("voila_*/kernel-*.json"))

            assert press_keys_on_every_control(page, form, None) > 30
            page.reload()  # a fresh form after the keys (Voila runs the notebook again)
            form.wait_for(timeout=90_000)
            assert "No campaigns sent" in form.locator(".alsona-results").inner_text()

            form.locator(".alsona-seat", has_text="Chen Wei (Email)").locator("input").check()
            type_into(form, ".alsona-timezone input", "paris")
            form.locator(".alsona-timezone-info").filter(has_text="Europe/Paris").wait_for()
            campaign_id = create(form, "Voila launch")
            form.locator(".alsona-details-toggle").click()
            sent = preview(form).inner_text()  # the update it would send next: same seats
            assert '"seats": ["seat_93d2b7c0a4e5f6182b3c"]' in sent
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
            page.reload()  # a new kernel: "Sent from this form" is what the journal holds
            form.wait_for(timeout=90_000)
            row = form.locator(".alsona-results tbody tr", has_text=campaign_id)
            row.wait_for()
            assert "Voila launch" in row.inner_text() and "✔ created" in row.inner_text()
    finally:
        context.close()
    assert server.leftovers == [], f"Voila did not shut down cleanly: {server.leftovers}"


def test_voila_render_path_of_the_binder_badge_opens_the_app(
    jupyter: Server, browser: Browser
) -> None:
    """The Binder badge opens /voila/render/notebooks/app.ipynb: Voila as an extension of
    the Jupyter server (not the standalone `voila` above). The app opens clean there too."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto(jupyter.url("/voila/render/notebooks/app.ipynb"), timeout=90_000)
        form = page.locator(".alsona-form")
        form.wait_for(timeout=90_000)
        assert page.title() == "Create an Alsona campaign"
        assert form.locator(".alsona-banner").inner_text().startswith("SANDBOX")
        assert form.locator('.alsona-line[data-kind="error"]').count() == 0
        assert "CampaignForm" not in page.content()  # outputs only, no code
        assert "javascript error" not in form.inner_text().lower()
    finally:
        context.close()


# -- where the front-end script cannot load ------------------------------------------------


def test_lab_without_anywidget_the_form_shows_no_script_error(
    browser: Browser, tmp_path: Path
) -> None:
    """anywidget's front-end turned off (as where it cannot load): the shield's error view
    stays in its undisplayed box; the form works without it."""
    root = tmp_path / "root"
    root.mkdir()
    copy_notebooks(root)
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        with jupyterlab(tmp_path / "jupyter", root, disabled=("anywidget",)) as server:
            open_notebook(page, server, NOTEBOOK)
            run_all_cells(page)
            form = page.locator(".alsona-form")
            form.locator(".alsona-banner").wait_for()
            shield = form.locator(".alsona-shield")
            # The script did not load (no shield on the form), and its failure shows nothing.
            shield.locator(":scope > *").first.wait_for(state="attached")
            assert form.get_attribute("data-lm-suppress-shortcuts") is None
            assert shield.is_hidden()
            assert "javascript error" not in form.inner_text().lower()
            assert (
                page.get_by_text("Click to show javascript error").filter(visible=True).count() == 0
            )
            create(form, "Without the script")
            screenshot(page, "lab-without-anywidget")
    finally:
        context.close()
