"""Server CPU per frame of the browser UI, as a trainer's class sees it (run by `make bench`).

Starts `orgsim ui`, opens compare mode (siloed vs multiplier_led, the default
size) in Debian's Chromium (Playwright), plays at 20 weeks per second, and
counts the frames the page shows (a MutationObserver on the "Week N" heading,
so every frame is seen). Server CPU is the `orgsim ui` process's user + system
time (/proc) over the run, divided by the frames shown; it includes Solara's
own work (rendering, diffing, websocket messages), not only the charts.
Also reports the part spent building the chart options (no browser).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

WEEKS = 80
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def option_build_ms() -> float:
    """Building the four chart options of a compare-mode frame at week 104 and their JSON, no browser."""
    from orgsim.ui import charts
    from orgsim.ui.app import build_runner

    runner = build_runner(["siloed", "multiplier_led"], 42, {})
    runner.step(104)
    labels = ["A: siloed", "B: multiplier_led"]
    started, n = time.process_time(), 20
    for _ in range(n):
        for option in (charts.kpi_option(runner.models, labels, runner.last_week),
                       charts.org_option(runner.models, runner.layouts, labels),
                       charts.market_option(runner.models, labels), charts.trust_option(runner.models, labels)):
            json.dumps(option)
    return (time.process_time() - started) / n * 1000


def main() -> None:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "orgsim.cli", "ui", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/?mode=compare&a=siloed&b=multiplier_led&seed=42"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1300})
            page.goto(url)
            page.get_by_text("Week 0", exact=True).wait_for(timeout=120_000)
            page.wait_for_function("document.querySelectorAll('.solara-echarts canvas').length >= 4",
                                   timeout=60_000)
            page.locator(".v-select").filter(has_text="Speed").first.click()
            page.get_by_role("option", name="20", exact=True).click()
            page.wait_for_timeout(1000)
            page.evaluate("""() => {
                window.weeks = [];
                const note = () => {
                    const h2 = [...document.querySelectorAll('h2')].find(e => /^Week \\d+$/.test(e.innerText));
                    const week = h2 ? Number(h2.innerText.split(' ')[1]) : null;
                    if (week !== null && week !== window.weeks.at(-1)) window.weeks.push(week);
                };
                note();
                new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
            }""")
            cpu_before, wall_before = cpu_seconds(server.pid), time.perf_counter()
            page.get_by_role("button", name="Play", exact=True).click()
            page.wait_for_function(f"window.weeks.at(-1) >= {WEEKS}", timeout=300_000)
            page.get_by_role("button", name="Pause", exact=True).click()
            page.get_by_role("button", name="Play", exact=True).wait_for(timeout=30_000)
            cpu, wall = cpu_seconds(server.pid) - cpu_before, time.perf_counter() - wall_before
            weeks = page.evaluate("window.weeks")
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
    frames = len(weeks) - 1
    every_week = weeks == list(range(weeks[0], weeks[-1] + 1))
    print(f"UI, compare mode, 20 weeks/s: {frames} frames in {wall:.1f} s ({frames / wall:.1f} frames/s), "
          f"every week drawn: {'yes' if every_week else 'no'}")
    print(f"  server CPU per frame: {cpu / frames * 1000:.1f} ms (budget 30 ms); "
          f"of which chart options + JSON: {option_build_ms():.1f} ms")


if __name__ == "__main__":
    main()
