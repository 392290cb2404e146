"""The UI as a trainer or student uses it."""

from __future__ import annotations

import re

import pytest

from tests.ui.conftest import Session, patience

pytestmark = pytest.mark.browser


def chart_sources(session: Session) -> list[str]:
    return [img.get_attribute("src") for img in session.page.locator("img").all()]


def test_page_loads_offline_without_console_errors(session):
    assert "siloed" in session.status()
    assert len(chart_sources(session)) >= 4
    session.screenshot("single_firm")
    assert session.errors == []


def test_step_advances_the_week_and_the_charts_change(session):
    before = chart_sources(session)
    session.click("Step")
    session.wait_week(1)
    session.page.wait_for_function(f"document.querySelector('img').src !== {before[0]!r}", timeout=patience(20))
    assert chart_sources(session)[0] != before[0]


def test_play_shows_frame_after_frame_and_pause_stops(session):
    """Play advances the week frame by frame, the charts follow, and Pause stops it. Checked on
    what the page shows (the week of every frame, recorded in the page), never against the clock:
    how many frames a second the machine draws depends on its load."""
    before = chart_sources(session)
    session.record_weeks()
    session.click("Play")
    session.wait_until("weeks.length >= 4 && weeks.at(-1) >= 20")  # week 0 and three frames or more
    session.click("Pause")
    session.page.get_by_role("button", name="Play", exact=True).wait_for(timeout=patience(30))
    weeks = session.weeks_shown()
    assert weeks[0] == 0 and weeks == sorted(set(weeks)), weeks  # forward only, each frame new
    assert chart_sources(session)[0] != before[0]
    # Frames run on the session's event loop, as clicks do: none follows the rendered Pause.
    session.page.wait_for_timeout(2000)
    assert session.weeks_shown() == weeks and session.week() == weeks[-1]
    assert not session.page.get_by_role("button", name="Step", exact=True).is_disabled()
    session.screenshot("after_play")


def test_play_catches_up_when_drawing_is_slower_than_the_pace(session):
    """At 50 weeks per second a week lasts 20 ms, less than any frame takes to draw (four
    Matplotlib figures): the model keeps the pace, so frames advance several weeks each."""
    # imported here: importing solara at collection would cost every test run a second
    from orgsim.ui.app import MAX_WEEKS_PER_FRAME

    session.choose("Speed (weeks per second)", "50")
    session.record_weeks()
    session.click("Play")
    session.wait_until("weeks.length >= 4 && weeks.at(-1) >= 100")
    session.click("Pause")
    session.page.get_by_role("button", name="Play", exact=True).wait_for(timeout=patience(30))
    weeks = session.weeks_shown()
    frames = len(weeks) - 1
    assert weeks[-1] > frames, f"{frames} frames for {weeks[-1]} weeks: no frame advanced several weeks"
    assert max(b - a for a, b in zip(weeks, weeks[1:], strict=False)) <= MAX_WEEKS_PER_FRAME


def test_slider_change_takes_effect_on_reset(session):
    assert "200 employees" in session.status()
    session.page.get_by_text("Firm and market:", exact=False).click()
    thumb = session.page.locator("[role=slider][aria-label=n_employees]")
    track = session.page.locator(".v-slider").filter(has=thumb)
    box = track.bounding_box()
    session.page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    session.page.get_by_role("button").filter(has_text="Clear overrides (1)").wait_for(timeout=patience(20))
    new_value = int(thumb.get_attribute("aria-valuenow"))
    assert new_value > 200
    assert "200 employees" in session.status()  # not before Reset
    session.click("Reset")
    session.page.get_by_text(f"{new_value} employees", exact=False).wait_for(timeout=patience(30))


def test_compare_mode_shows_both_scenarios(session):
    # imported here, not at collection: the fast tests never load playwright
    from playwright.sync_api import expect

    session.click("Compare")
    expect(session.page.locator(".status-B")).to_contain_text("multiplier_led", timeout=patience(30))
    expect(session.page.locator(".status-A")).to_contain_text("siloed", timeout=patience(10))
    # the sidebar gains the Scenario B choice above the buttons after the status lines: Step moves
    session.page.locator(".v-select").filter(has_text="Scenario B").wait_for(timeout=patience(30))
    session.click("Step")
    session.wait_week(1)
    session.screenshot("compare")


def test_intervention_button_takes_effect(session):
    assert "multipliers 1 " in session.status()
    before = float(re.search(r"attitude ([+-]\d\.\d\d)", session.status()).group(1))
    session.click("Appoint multipliers")
    # Only willing employees (attitude > 0) are appointed: more than the leader, fewer than 10 % of staff.
    session.page.wait_for_function(
        "(() => { const m = document.querySelector('.status-A').innerText.match(/multipliers (\\d+) /);"
        " return m && Number(m[1]) > 1; })()", timeout=patience(20))
    for week in range(1, 11):
        session.click("Step")
        session.wait_week(week)
    after = float(re.search(r"attitude ([+-]\d\.\d\d)", session.status()).group(1))
    assert before < after < before + 0.2  # multipliers pull attitudes up, at a believable pace
    session.screenshot("intervention")


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
