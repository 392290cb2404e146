"""The UI as a trainer or student uses it."""

from __future__ import annotations

import re
import time

import pytest

from tests.ui.conftest import Session

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
    session.page.wait_for_function(f"document.querySelector('img').src !== {before[0]!r}", timeout=10_000)
    assert chart_sources(session)[0] != before[0]


def test_play_keeps_up_with_ten_weeks_per_second_and_pause_stops(session):
    """At the default 10 weeks/s the model keeps wall-clock pace; when drawing a
    frame takes longer than a week, a frame advances several weeks. The pace is
    measured between the first and the last frame seen while playing, so the
    drawing time itself (which varies with machine load) cancels out."""
    session.click("Play")
    seen: list[tuple[float, int]] = []
    deadline = time.time() + 10
    while time.time() < deadline:
        week = session.week()
        if not seen or week != seen[-1][1]:
            seen.append((time.time(), week))
        session.page.wait_for_timeout(100)
    session.click("Pause")
    (t0, w0), (t1, w1) = seen[1], seen[-1]  # seen[0] is week 0, before the first frame
    assert len(seen) >= 4, f"only {len(seen)} frames in 10 s"
    pace = (w1 - w0) / (t1 - t0)
    assert pace >= 8, f"{pace:.1f} weeks per second"
    session.page.get_by_role("button", name="Play", exact=True).wait_for(timeout=10_000)
    session.page.wait_for_timeout(3000)  # the frame in flight finishes
    paused = session.week()
    session.page.wait_for_timeout(1500)
    assert session.week() == paused
    session.screenshot("after_play")


def test_slider_change_takes_effect_on_reset(session):
    assert "200 employees" in session.status()
    session.page.get_by_text("Firm and market:", exact=False).click()
    thumb = session.page.locator("[role=slider][aria-label=n_employees]")
    track = session.page.locator(".v-slider").filter(has=thumb)
    box = track.bounding_box()
    session.page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    session.page.get_by_role("button").filter(has_text="Clear overrides (1)").wait_for(timeout=10_000)
    new_value = int(thumb.get_attribute("aria-valuenow"))
    assert new_value > 200
    assert "200 employees" in session.status()  # not before Reset
    session.click("Reset")
    session.page.get_by_text(f"{new_value} employees", exact=False).wait_for(timeout=20_000)


def test_compare_mode_shows_both_scenarios(session):
    session.click("Compare")
    session.page.locator(".status-B").wait_for(timeout=20_000)
    session.page.wait_for_timeout(2000)  # let the two-firm page finish drawing
    assert "siloed" in session.status("A") and "multiplier_led" in session.status("B")
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
        " return m && Number(m[1]) > 1; })()", timeout=10_000)
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
