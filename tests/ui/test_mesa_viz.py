"""`orgsim ui --mesa`: OrgModel in Mesa's own SolaraViz, driven in Chromium."""

from __future__ import annotations

import pytest

from tests.ui.conftest import ARTIFACTS, patience, running_ui

pytestmark = pytest.mark.browser


def test_mesa_solaraviz_steps_plots_and_resets_orgmodel(browser):
    with running_ui("--mesa") as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(url)
        step = page.get_by_role("button", name="Step", exact=True)
        step.wait_for(timeout=patience(60))
        page.get_by_text("Time: 0.0").wait_for(timeout=patience(30))
        for week in (1, 2, 3):  # one click per rendered week: Mesa's Step is not queued
            step.click()
            page.get_by_text(f"Time: {week}.0").wait_for(timeout=patience(30))
        # Mesa's make_plot_component draws the DataCollector's columns (matplotlib, as images)
        for label in ("Model Parameters", "silo_strength (0-1)", "Information"):
            assert page.get_by_text(label, exact=True).count() >= 1
        assert page.locator("img").count() >= 3
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "mesa_solaraviz.png"))
        page.get_by_role("button", name="Reset", exact=True).click()
        page.get_by_text("Time: 0.0").wait_for(timeout=patience(60))
        assert page.get_by_text("error in", exact=False).count() == 0
        assert errors == []
        context.close()
