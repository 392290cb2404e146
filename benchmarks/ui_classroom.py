"""A classroom on one `orgsim ui` server: two students playing at once, and memory over 25 sessions.

Run: `.venv/bin/python benchmarks/ui_classroom.py` (about 3 minutes). Two browser
tabs (separate sessions) play compare mode at 10 weeks/s at the same time; each
tab's frames are counted in the page. Then 25 sessions open, step and close in
turn, twice, with a pause between the rounds for closed sessions to be freed;
the server's resident memory is read after each round (flat when sessions are
freed: Python keeps freed memory for reuse rather than returning it). The server runs with SOLARA_KERNEL_CULL_TIMEOUT=20s
here so that the wait is short (`orgsim ui` uses 2 minutes).
"""

from __future__ import annotations

import time
from pathlib import Path

from ui_frame import CHROMIUM_ARGS, RECORD_WEEKS, ui_server

CULL = 20  # seconds


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    from playwright.sync_api import sync_playwright

    with ui_server({"SOLARA_KERNEL_CULL_TIMEOUT": f"{CULL}s"}) as (base, pid):
        url = f"{base}?mode=compare&a=siloed&b=multiplier_led&seed=42"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            pages = [browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(2)]
            for page in pages:
                page.goto(url)
                page.get_by_text("Week 0", exact=True).wait_for(timeout=120_000)
            for page in pages:
                page.evaluate(RECORD_WEEKS)
            for page in pages:
                page.get_by_role("button", name="Play", exact=True).click()
            time.sleep(10)
            for page in pages:
                page.get_by_role("button", name="Pause", exact=True).click()
            for number, page in enumerate(pages, start=1):
                weeks, times = page.evaluate("[window.weeks, window.times]")
                rate = (len(weeks) - 1) / (times[-1] - times[0]) * 1000
                print(f"student {number} of 2 playing at once: {rate:.1f} frames/s, "
                      f"{(weeks[-1] - weeks[0]) / (len(weeks) - 1):.2f} weeks per frame")
                page.context.close()
            before = rss_mb(pid)
            readings = []
            for _ in range(2):  # two rounds: a second round reuses the first's freed memory, or grows
                for _ in range(25):
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(url)
                    page.get_by_text("Week 0", exact=True).wait_for(timeout=120_000)
                    for week in range(1, 6):
                        page.get_by_role("button", name="Step", exact=True).click()
                        page.get_by_text(f"Week {week}", exact=True).wait_for(timeout=60_000)
                    context.close()
                readings.append(rss_mb(pid))
                time.sleep(CULL + 25)  # closed sessions are freed
            browser.close()
        print(f"server memory: {before:.0f} MB after the two students; after 25 more sessions "
              f"{readings[0]:.0f} MB; after another 25 (the first 25 freed, {CULL} s cull timeout) {readings[1]:.0f} MB")


if __name__ == "__main__":
    main()
