"""The README's two screenshots of the browser UI (`make ui-figures`, about a minute).

Compare mode, siloed (A) against multiplier-led (B), seed 42: run to week 26, apply *Leader commits*
and *Appoint multipliers* to A (the start of the trainer's script), run on to week 78 and take the
page at 1400x1050 (docs/figures/ui_compare.png). Then *Present*, at 1024x768, the size of a
classroom projector (docs/figures/ui_present.png). Debian's Chromium, driven by Playwright.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, Session, patience, running_ui  # noqa: E402

FIGURES = ROOT / "docs" / "figures"
SETUP = "?mode=compare&a=siloed&b=multiplier_led&seed=42"


def run_to(session: Session, week: int) -> None:
    session.page.locator(".run-to input").fill(str(week))
    session.click("Run to")
    session.wait_week(week)
    session.page.get_by_role("button", name="Play", exact=True).wait_for(timeout=patience(30))


def apply(session: Session, action: str, week: int) -> None:
    session.choose("Intervention", action)
    session.click(f"Apply at week {week}")
    session.page.locator(".orgsim-note").filter(has_text=f"A, week {week}: {action}").wait_for(timeout=patience(30))


def main() -> None:
    from playwright.sync_api import sync_playwright

    FIGURES.mkdir(parents=True, exist_ok=True)
    with running_ui() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        session = Session(browser, url + SETUP)
        session.page.set_viewport_size({"width": 1400, "height": 1050})
        run_to(session, 26)
        apply(session, "Leader commits", 26)
        apply(session, "Appoint multipliers", 26)
        run_to(session, 78)
        session.page.wait_for_timeout(1000)  # the charts' last frame painted
        session.page.screenshot(path=str(FIGURES / "ui_compare.png"))
        session.page.set_viewport_size({"width": 1024, "height": 768})
        session.click("Present")
        session.page.get_by_role("button", name="Exit presentation").wait_for(timeout=patience(30))
        session.page.wait_for_timeout(1500)
        session.page.screenshot(path=str(FIGURES / "ui_present.png"))
        assert not session.errors, session.errors
        browser.close()
    print(f"wrote {FIGURES / 'ui_compare.png'} and {FIGURES / 'ui_present.png'}")


if __name__ == "__main__":
    main()
