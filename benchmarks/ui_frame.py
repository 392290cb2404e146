"""Server CPU per frame of the browser UI, as a trainer's class sees it (run by `make bench`).

Starts `orgsim ui`, opens compare mode (siloed vs multiplier_led, the default
size) in Debian's Chromium (Playwright), plays, and records every frame the page
shows (a MutationObserver on the "Week N" heading, with its time), then clicks
Pause and records when the click happened in the page and which weeks still
appeared after it. Server CPU is the user + system time of the `orgsim ui`
process and its descendants (/proc), browser CPU that of all Chromium processes, both per frame shown; the
server's includes Solara's own work (rendering, diffing, websocket messages).
Browser and server share this machine's two cores.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

WEEKS = 60
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def proc_stats() -> dict[int, list[str]]:
    """The fields of /proc/<pid>/stat after the command name, for every process."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            stats[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
    return stats


def process_tree(pid: int, stats: dict[int, list[str]] | None = None) -> set[int]:
    """``pid`` and its descendants."""
    parents = {child: int(fields[1]) for child, fields in (stats or proc_stats()).items()}
    tree, added = {pid}, True
    while added:
        more = {c for c, p in parents.items() if p in tree and c not in tree}
        tree |= more
        added = bool(more)
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """User + system time of ``pid`` and its descendants (and of its children that have exited)."""
    stats = proc_stats()
    ticks = sum(sum(int(f) for f in stats[p][11:15]) for p in process_tree(pid, stats) if p in stats)
    return ticks / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


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


RECORD_WEEKS = """() => {
    window.weeks = []; window.times = [];
    const note = () => {
        const h2 = [...document.querySelectorAll('h2')].find(e => /^Week \\d+$/.test(e.innerText));
        const week = h2 ? Number(h2.innerText.split(' ')[1]) : null;
        if (week !== null && week !== window.weeks.at(-1)) { window.weeks.push(week); window.times.push(performance.now()); }
    };
    note();
    new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
    document.addEventListener('pointerdown', () => { window.clicked = performance.now(); }, {capture: true});
}"""


def browser_cpu_seconds() -> float:
    """User + system time of every Chromium process (renderer, GPU, browser)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            text = stat.read_text()
            if "(chrom" in text or "(headless" in text:
                fields = text.rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measure(browser, base: str, server: int, label: str, query: str, viewport: tuple[int, int],
            speed: int) -> None:
    """Play ``WEEKS`` weeks at ``speed`` weeks/s, then Pause; print what the viewer saw and what it cost."""
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.goto(base + query)
    page.get_by_text("Week 0", exact=True).wait_for(timeout=120_000)
    page.wait_for_function("document.querySelectorAll('.solara-echarts canvas').length >= 1", timeout=60_000)
    if speed != 10:  # the default
        page.locator(".v-select").filter(has_text="Speed").first.click()
        page.get_by_role("option", name=str(speed), exact=True).click()
    page.wait_for_timeout(1500)
    page.evaluate(RECORD_WEEKS)
    cpu, chrome, wall = tree_cpu_seconds(server), browser_cpu_seconds(), time.perf_counter()
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(f"window.weeks.at(-1) >= {WEEKS}", timeout=300_000)
    cpu, chrome, wall = tree_cpu_seconds(server) - cpu, browser_cpu_seconds() - chrome, time.perf_counter() - wall
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    weeks, times, clicked = page.evaluate("[window.weeks, window.times, window.clicked]")
    page.close()
    frames = sum(1 for t in times[1:] if t <= clicked)
    after = [w for w, t in zip(weeks, times, strict=True) if t > clicked]
    every_week = weeks == list(range(weeks[0], weeks[-1] + 1))
    print(f"{label}: {frames / (times[frames] - times[1]) * 1000:.1f} frames/s, "
          f"{(weeks[frames] - weeks[0]) / frames:.2f} weeks per frame (every week drawn: "
          f"{'yes' if every_week else 'no'}); Pause: {len(after)} more week(s) shown, the last "
          f"{(times[-1] - clicked) if after else 0:.0f} ms after the click; per frame: server CPU "
          f"{cpu / len(weeks) * 1000:.0f} ms, browser CPU {chrome / len(weeks) * 1000:.0f} ms", flush=True)


@contextlib.contextmanager
def ui_server(env: dict[str, str] | None = None, workers: int = 1) -> Iterator[tuple[str, int]]:
    """An `orgsim ui` server on a free port, ready to serve: (its base URL, its process id)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "orgsim.cli", "ui", "--port", str(port), "--workers", str(workers)],
                              env={**os.environ, **(env or {})},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        yield base, server.pid
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)


def main() -> None:
    from playwright.sync_api import sync_playwright

    compare = "?mode=compare&a=siloed&b=multiplier_led&seed=42"
    with ui_server() as (base, pid), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        measure(browser, base, pid, "compare, 1600x1300, 20 weeks/s", compare, (1600, 1300), 20)
        measure(browser, base, pid, "compare, 1024x768, 10 weeks/s", compare, (1024, 768), 10)
        measure(browser, base, pid, "compare, presentation, 1024x768, 10 weeks/s", compare + "&present=1",
                (1024, 768), 10)
        browser.close()
    print(f"chart options + JSON of a compare frame at week 104 (no browser): {option_build_ms():.1f} ms")


if __name__ == "__main__":
    main()
