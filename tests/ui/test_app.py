"""The UI as a trainer or student uses it: in Debian's Chromium, measured on what the page shows."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.ui.conftest import Session, patience, running_ui

pytestmark = pytest.mark.browser


def charts(session: Session) -> int:
    """How many ECharts charts the page shows (each draws on its own canvas)."""
    return session.page.locator(".solara-echarts canvas").count()


def wait_charts(session: Session, count: int) -> None:
    session.page.wait_for_function(f"document.querySelectorAll('.solara-echarts canvas').length >= {count}",
                                   timeout=patience(30))


def test_page_loads_offline_without_console_errors(session):
    assert "siloed" in session.status()
    wait_charts(session, 4)  # KPIs, staff, market, trust: drawn in the browser
    session.screenshot("single_firm")
    assert session.errors == []


def test_step_advances_one_week_and_clicks_while_busy_are_ignored(session):
    session.click("Step")
    session.wait_week(1)
    step = session.page.get_by_role("button", name="Step", exact=True)
    for _ in range(6):
        step.click(delay=0)  # faster than a week is computed and drawn on a loaded machine
    week, still = session.week(), 0
    while still < 3:  # settled: the same week for three checks in a row (load-scaled)
        session.page.wait_for_timeout(patience(0.7))
        still, week = (still + 1, week) if session.week() == week else (0, session.week())
    assert 2 <= week <= 7, f"{week}: six clicks after week 1 may add at most six weeks"


def test_play_draws_every_week_and_pause_stops_within_a_frame(session):
    session.record_weeks()
    session.click("Play")
    session.wait_until("weeks.length >= 12")
    # when the click really happens (Playwright's own checks before it take a while under load)
    session.page.evaluate("document.addEventListener('pointerdown', () => { window.orgsimClicked = performance.now(); },"
                          " {capture: true, once: true})")
    session.click("Pause")
    session.page.get_by_role("button", name="Play", exact=True).wait_for(timeout=patience(10))
    session.page.wait_for_timeout(1000)
    clicked = session.page.evaluate("window.orgsimClicked")
    weeks = session.weeks_shown()
    assert weeks == list(range(weeks[0], weeks[-1] + 1)), f"weeks were skipped at 10 weeks/s: {weeks}"
    after = session.page.evaluate(f"window.orgsimFrames.filter(t => t > {clicked}).length")
    assert after <= 2, f"{after} frames after Pause"
    stopped = session.page.evaluate("window.orgsimFrames.at(-1)") - clicked
    assert stopped <= patience(0.5), f"the last frame came {stopped:.0f} ms after Pause"


def test_play_stops_at_the_last_week_and_run_to_stops_at_its_week(session):
    session.page.locator(".run-to input").fill("26")
    session.click("Run to")
    session.wait_week(26)
    session.page.get_by_role("button", name="Play", exact=True).wait_for(timeout=patience(10))
    session.page.wait_for_timeout(800)
    assert session.week() == 26
    session.choose("Speed (weeks per second)", "100")
    session.click("Play")
    session.wait_week(104)
    session.page.get_by_role("button", name="Play", exact=True).wait_for(timeout=patience(10))
    session.page.wait_for_timeout(800)
    assert session.week() == 104
    session.click("Play")  # at the end: says why nothing happens
    session.page.locator(".orgsim-message").filter(has_text="ends at week 104").wait_for(timeout=patience(10))


def test_keyboard_space_plays_and_pauses_and_right_arrow_steps(session):
    session.page.locator("h2").first.click()
    session.page.keyboard.press("ArrowRight")
    session.wait_week(1)
    session.page.keyboard.press("Space")
    session.page.get_by_role("button", name="Pause", exact=True).wait_for(timeout=patience(10))
    session.page.keyboard.press("Space")
    session.page.get_by_role("button", name="Play", exact=True).wait_for(timeout=patience(10))
    assert session.week() > 1


@pytest.mark.parametrize("seed", ["abc", "-5", "1.5", ""])
def test_a_bad_seed_is_refused_next_to_the_field_and_nothing_else_changes(session, seed):
    wait_charts(session, 4)
    session.click("Step")
    session.wait_week(1)
    session.page.evaluate("document.querySelectorAll('.solara-echarts').forEach(e => { e.dataset.kept = 'yes'; })")
    field = session.page.locator(".seed-input input")
    field.fill(seed)
    field.press("Enter")
    session.page.locator(".seed-input").filter(has_text="a whole number").wait_for(timeout=patience(10))
    session.click("Reset")
    session.page.locator(".orgsim-message").filter(has_text="fix the seed first").wait_for(timeout=patience(10))
    assert session.week() == 1 and charts(session) == 4 and "seed 42" in session.status()
    # the same charts, not new ones: the message appeared without rebuilding the views after it
    assert session.page.locator(".solara-echarts[data-kept='yes']").count() == 4


def test_a_typed_parameter_value_is_highlighted_listed_and_applied_on_reset(session):
    session.page.get_by_text("Firm and market:", exact=False).click()
    box = session.page.locator(".number-n_employees input")
    box.fill("300")
    box.press("Enter")
    session.page.get_by_role("button").filter(has_text="Clear changes (1)").wait_for(timeout=patience(20))
    session.page.get_by_text("changes waiting: press Reset").wait_for(timeout=patience(10))
    assert "200 employees" in session.status()  # not before Reset
    session.click("Reset")
    session.page.locator(".status-A").filter(has_text="300 employees").wait_for(timeout=patience(30))
    assert "Number of employees = 300" in session.page.locator(".orgsim-overrides").inner_text()
    assert "set.n_employees=300" in session.page.url  # the link reproduces the setup
    box.fill("5")  # below the declared range: refused next to the box
    box.press("Enter")
    session.page.locator(".param-n_employees").filter(has_text="allowed: an integer in [14, 100000]").wait_for(
        timeout=patience(10))


def test_a_link_reproduces_the_setup(browser, server_url):
    session = Session(browser, server_url + "?mode=compare&a=siloed&b=multiplier_led&seed=7&set.freedom=0.7")
    try:
        assert "seed 7" in session.status("A") and "multiplier_led" in session.status("B")
        assert "Freedom = 0.7" in session.page.locator(".orgsim-overrides").inner_text()
    finally:
        session.close()


def test_compare_with_an_intervention_shows_its_note_and_marker(session):
    from playwright.sync_api import expect

    session.click("Compare")
    expect(session.page.locator(".status-B")).to_contain_text("multiplier_led", timeout=patience(30))
    session.page.get_by_role("button", name="B", exact=True).wait_for(timeout=patience(30))  # the target toggle
    before = re.search(r"multipliers (\d+) ", session.status("A")).group(1)
    session.click("Apply at week 0")
    note = session.page.locator(".orgsim-note").filter(has_text="A, week 0: Appoint multipliers")
    note.wait_for(timeout=patience(20))
    assert "willing employees appointed" in note.inner_text()
    session.click("Step")
    session.wait_week(1)
    assert re.search(r"multipliers (\d+) ", session.status("A")).group(1) != before
    assert "A1, week 0: appoint multipliers" in session.page.locator(".orgsim-chart-key").inner_text()
    session.screenshot("compare")


def test_time_series_and_setup_downloads_run_again_from_the_shell(session, tmp_path):
    for week in range(1, 4):
        session.click("Step")
        session.wait_week(week)
    session.click("Apply at week 3")
    session.page.locator(".orgsim-note").first.wait_for(timeout=patience(20))
    with session.page.expect_download() as csv:
        session.page.get_by_text("Download the time series (CSV)").click()
    rows = (tmp_path / "t.csv")
    csv.value.save_as(rows)
    lines = rows.read_text().splitlines()
    assert lines[0].startswith("firm,scenario,seed,step,mean_attitude") and len(lines) == 1 + 4
    with session.page.expect_download() as toml:
        session.page.get_by_text("Save firm A's setup (TOML)").click()
    setup = tmp_path / "setup.toml"
    toml.value.save_as(setup)
    text = setup.read_text()
    assert 'extends = "siloed"' in text and 'action = "appoint_multipliers"' in text and "week = 3" in text
    result = subprocess.run([sys.executable, "-m", "orgsim.cli", "validate", str(setup)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


def test_info_tab_explains_the_model_and_the_preset(session):
    session.page.get_by_role("tab", name="Info").click()
    session.page.get_by_text("What orgsim is").wait_for(timeout=patience(10))
    text = session.page.locator("body").inner_text()
    assert "The internal knowledge chain" in text and "Things to notice" in text and "Things to try" in text


def test_presentation_mode_at_1024_by_768(browser):
    with running_ui("--present") as url:
        context = browser.new_context(viewport={"width": 1024, "height": 768}, device_scale_factor=2)
        page = context.new_page()
        try:
            page.goto(url)
            page.get_by_text("Week 0", exact=True).wait_for(timeout=patience(60))
            page.wait_for_function("document.querySelectorAll('.solara-echarts canvas').length === 1",
                                   timeout=patience(30))
            page.get_by_role("button", name="Step", exact=True).click()
            page.get_by_text("Week 1", exact=True).wait_for(timeout=patience(30))
            assert page.locator(".v-navigation-drawer--open").count() == 0  # no sidebar
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing cut off
            box = page.locator(".solara-echarts").bounding_box()
            assert box["width"] > 900 and box["height"] > 450  # the KPIs take the screen
            page.screenshot(path=str(_artifacts() / "presentation_1024x768.png"))
        finally:
            context.close()


def _artifacts():
    from tests.ui.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def test_two_sessions_do_not_share_state(browser, server_url):
    first, second = Session(browser, server_url), Session(browser, server_url)
    try:
        first.click("Step")
        first.wait_week(1)
        first.click("Step")
        first.wait_week(2)
        assert second.week() == 0
        second.click("Step")
        second.wait_week(1)
        assert first.week() == 2
    finally:
        first.close()
        second.close()


def drop_file(session: Session, zone: str, path: Path) -> None:
    """Drop the file at ``path`` on ``zone`` as a user dragging it from the desktop would: a real
    drag through the browser (DevTools' Input.dispatchDragEvent), so the page receives a file backed
    by the file system. A DataTransfer built in the page would not do: Chromium gives its files no
    ``webkitGetAsEntry()``, which solara's FileDrop reads them with."""
    target = session.page.locator(zone)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
    data = {"items": [], "files": [str(path)], "dragOperationsMask": 1}  # 1: copy
    devtools = session.context.new_cdp_session(session.page)
    try:
        for kind in ("dragEnter", "dragOver", "drop"):
            devtools.send("Input.dispatchDragEvent", {"type": kind, **point, "data": data})
    finally:
        devtools.detach()


def download(session: Session, label: str, folder: Path) -> Path:
    """Click the download ``label`` and keep the file in ``folder`` under the name the page gives it."""
    folder.mkdir(exist_ok=True)
    with session.page.expect_download() as pending:
        session.page.get_by_text(label).click()
    path = folder / pending.value.suggested_filename
    pending.value.save_as(path)
    return path


def test_a_saved_setup_dropped_in_a_fresh_session_gives_the_same_run(browser, server_url, tmp_path):
    from playwright.sync_api import expect

    first = Session(browser, server_url)
    try:  # a setup unlike the defaults: another scenario, seed and firm size, and an intervention
        first.choose("Scenario A", "knowledge_chain")
        first.page.locator(".status-A").filter(has_text="knowledge_chain").wait_for(timeout=patience(30))
        seed = first.page.locator(".seed-input input")
        seed.fill("7")
        seed.press("Enter")
        first.page.get_by_text("Firm and market:", exact=False).click()
        box = first.page.locator(".number-n_employees input")
        box.fill("300")
        box.press("Enter")
        first.page.get_by_role("button").filter(has_text="Clear changes (1)").wait_for(timeout=patience(20))
        first.click("Reset")
        first.page.locator(".status-A").filter(has_text="300 employees").filter(has_text="seed 7").wait_for(
            timeout=patience(30))
        for week in (1, 2):
            first.click("Step")
            first.wait_week(week)
        first.click("Apply at week 2")
        first.page.locator(".orgsim-note").filter(has_text="A, week 2: Appoint multipliers").wait_for(
            timeout=patience(20))
        for week in (3, 4):
            first.click("Step")
            first.wait_week(week)
        setup = download(first, "Save firm A's setup (TOML)", tmp_path)
        expected = download(first, "Download the time series (CSV)", tmp_path / "first").read_text()
    finally:
        first.close()
    text = setup.read_text()
    assert "seed = 7" in text and "n_employees = 300" in text and "week = 2" in text, text

    second = Session(browser, server_url)  # a new browser context: the default setup at week 0
    try:
        assert "A: siloed" in second.status() and "seed 42" in second.status()
        drop_file(second, ".solara-file-drop", setup)
        second.page.locator(".orgsim-message").filter(has_text=f"loaded {setup.name}").wait_for(timeout=patience(30))
        expect(second.page.locator(".status-A")).to_contain_text(
            re.compile(r"A: knowledge_chain · 300 employees · .* · seed 7 "), timeout=patience(30))
        expect(second.page.locator(".seed-input input")).to_have_value("7", timeout=patience(10))
        expect(second.page.locator(".v-select").filter(has_text="Scenario A")).to_contain_text(
            "knowledge_chain", timeout=patience(10))
        expect(second.page.locator(".orgsim-overrides")).to_contain_text("Number of employees = 300",
                                                                         timeout=patience(10))
        for week in range(1, 5):
            second.click("Step")
            second.wait_week(week)
        rows = download(second, "Download the time series (CSV)", tmp_path / "second").read_text()
        assert rows == expected  # the same weeks, bit for bit: the intervention at week 2 included
        assert second.errors == []
    finally:
        second.close()
    # and the file alone gives them from the shell
    shell = subprocess.run([sys.executable, "-m", "orgsim.cli", "run", str(setup), "--steps", "4", "--format", "csv",
                            "--out", str(tmp_path / "run")], capture_output=True, text=True)
    assert shell.returncode == 0, shell.stderr
    ui_rows = [line.split(",", 3)[3] for line in expected.splitlines()]  # without firm, scenario, seed
    assert (tmp_path / "run" / "timeseries.csv").read_text().splitlines() == ui_rows


def test_a_chart_offers_png_and_svg_and_the_svg_is_the_chart(session, tmp_path):
    wait_charts(session, 4)
    for week in (1, 2, 3):
        session.click("Step")
        session.wait_week(week)
    chart = "document.querySelector('.solara-echarts').__vue__.chart"
    features = session.page.evaluate(f"Object.keys({chart}.getOption().toolbox[0].feature)")
    assert features == ["saveAsImage", "mySaveSvg"]  # the toolbox's two buttons: PNG, then SVG
    # What a click on the SVG button runs (on the canvas, the icon's place depends on the layout)
    with session.page.expect_download() as pending:
        session.page.evaluate(f"{chart}.getOption().toolbox[0].feature.mySaveSvg.onclick()")
    assert pending.value.suggested_filename == "orgsim_kpis.svg"
    svg = ElementTree.fromstring(Path(pending.value.path()).read_bytes())  # well-formed: a vector drawing
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert {"Active customers", "Net promoter score", "Service quality"} <= texts
    width = session.page.locator(".solara-echarts").first.bounding_box()["width"]
    assert abs(int(svg.get("width")) - width) <= 1 and len(list(svg.iter("{http://www.w3.org/2000/svg}path"))) > 50
    assert session.errors == []
