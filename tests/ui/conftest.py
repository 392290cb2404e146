"""Browser tests: `orgsim ui` in a real process, driven by Playwright in Debian's Chromium.

Playwright's own browser download is never used: the tests launch
/usr/bin/chromium (`make test` installs Debian's package when missing).
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def patience(seconds: float) -> float:
    """A time limit in milliseconds for waiting on the page: ``seconds`` on an idle machine, up to
    six times longer under load (the one-minute load average per core). The tests wait for what
    the page shows, never for a time; a limit only ends a wait that would never succeed."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return seconds * 1000 * min(6.0, max(1.0, load))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_ui(*options: str):
    """``orgsim ui [options]`` on a free port, answering HTTP; yields its URL, stops it afterwards."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "orgsim.cli", "ui", "--port", str(port), *options],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + patience(60) / 1000
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                os.killpg(process.pid, signal.SIGKILL)
                raise RuntimeError(f"orgsim ui {' '.join(options)} did not start") from None
            time.sleep(0.3)
    try:
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def server_url():
    with running_ui() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (scripts/ensure-chromium.sh)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Session:
    """One browser session on the app, collecting console errors and failed requests."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1600, "height": 1300})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        self.page.goto(url)
        self.page.get_by_text("Week 0", exact=True).wait_for(timeout=patience(60))

    def click(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()

    def wait_week(self, week: int) -> None:
        self.page.get_by_text(f"Week {week}", exact=True).wait_for(timeout=patience(30))

    def week(self) -> int:
        return int(self.page.locator("h2").filter(has_text="Week").inner_text().split()[1])

    def record_weeks(self) -> None:
        """From now on, ``window.orgsimWeeks`` lists every week the page shows, in order (one entry
        per frame), and ``window.orgsimFrames`` when each appeared (``performance.now()``): a
        MutationObserver in the page, so no frame is missed however slow the test is."""
        self.page.evaluate("""() => {
            const shown = () => {
                const h2 = [...document.querySelectorAll('h2')].find(e => /^Week \\d+$/.test(e.innerText));
                return h2 ? Number(h2.innerText.split(' ')[1]) : null;
            };
            window.orgsimWeeks = [];
            window.orgsimFrames = [];
            const note = () => {
                const week = shown();
                if (week !== null && week !== window.orgsimWeeks.at(-1)) {
                    window.orgsimWeeks.push(week);
                    window.orgsimFrames.push(performance.now());
                }
            };
            note();
            new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
        }""")

    def weeks_shown(self) -> list[int]:
        return self.page.evaluate("window.orgsimWeeks")

    def wait_until(self, condition: str, seconds: float = 120) -> None:
        """Wait until the JavaScript ``condition`` (over ``weeks``, the weeks shown) holds."""
        self.page.wait_for_function(f"(() => {{ const weeks = window.orgsimWeeks; return {condition}; }})()",
                                    timeout=patience(seconds))

    def choose(self, label: str, option: str) -> None:
        self.page.locator(".v-select").filter(has_text=label).first.click()
        self.page.get_by_role("option", name=option, exact=True).click()
        self.page.locator(".v-select").filter(has_text=label).filter(has_text=option).wait_for(timeout=patience(10))

    def status(self, firm: str = "A") -> str:
        return self.page.locator(f".status-{firm}").inner_text()

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser, server_url):
    s = Session(browser, server_url)
    yield s
    s.close()
