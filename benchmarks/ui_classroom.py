"""A classroom on one `orgsim ui` server without browsers: N students playing compare mode at once.

Run: `make bench-classroom`, or `.venv/bin/python benchmarks/ui_classroom.py --sessions 1 5 10 20 30
--seconds 20 --speed 5` (6.5 minutes: a fresh server for each class size, 20 s of play, 35 s for
closed sessions to be freed, about 70 s a size). `--rounds K` plays K classes one after another on
the same server (does memory come back after each?). `--browser` first plays once in Debian's
Chromium (Playwright), on a server of its own, to check that a simulated student sees what a browser
sees (about 30 s more); `--help` lists the other options.

Thirty Chromium tabs cannot run on a 2-core machine next to the server, so each student here is a
websocket client that speaks what Solara's page speaks (captured from Chromium's traffic):

* open: GET the page (which sets the `solara-session-id` cookie), then open the Jupyter kernel
  websocket `/jupyter/api/kernels/<new uuid>/channels?session_id=<new uuid>` with that cookie and
  send `kernel_info_request`, a `comm_open` of target `solara.control`, and on that comm
  `{"method": "run", "args": {"path": "/?mode=compare&...", ...}}`. The server renders the app:
  a `comm_open` per widget (with its state), then `{"method": "finished"}` on the control comm.
  Every later change is a `comm_msg` `{"method": "update", "state": {...}}`; the client keeps the
  table of widget states (one `comm_id` per widget).
* the Speed select: `{"method": "update", "state": {"v_model": 5}, "buffer_paths": []}` on the
  v-select's comm (the server answers `echo_update`).
* a click on Play: `{"method": "custom", "content": {"event": "click", "data": {...}}}` on the
  button's comm (the browser sends the whole DOM event; the server ignores it).
* a frame: the hidden frame widget (frame.vue: a VuetifyTemplateModel with the trait `frame` and
  the event `event_ack`) gets `{"method": "update", "state": {"frame": "<JSON text>"}}` once a
  frame: everything the page shows of the models (the week, the charts' options, the live texts)
  in one message. The page answers two animation frames after painting with
  `{"method": "custom", "content": {"event": "event_ack", "data": <the frame's week>}}`. The
  server's playback waits for it (up to 1 s) before sending the next frame, so the client sends the
  same, `--paint-ms` after the frame arrived (default 33 ms: two animation frames at 60 Hz; the
  charts' paint in a real browser takes longer, which matters only when it exceeds a frame's time).

Each `frame` update is a frame: its arrival time is recorded per student. All students open the
page at once, set the speed, click Play at once and play for `--seconds`; then they click Pause
and close their websockets without the tab-close beacon (as a lost connection: their sessions are
freed after SOLARA_KERNEL_CULL_TIMEOUT, here `--cull`; `--close-beacon` sends the beacon).
Reported: per student frames and weeks per frame; over all students the frames/s per student,
the frame intervals (p50/p95/p99/max), the server's CPU (user + system of the server process and
its descendants, /proc) per frame, and its memory (proportional set size, summed over its processes) before the students, with them
playing and `--after` seconds after they closed. The clients run in this process (one asyncio
loop) on the same two cores: their own CPU time is printed too, as is the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import statistics
import struct
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from ui_frame import CHROMIUM_ARGS, RECORD_WEEKS, process_tree, tree_cpu_seconds, ui_server
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

FRAME_WEEK = re.compile(r'\{"week":(\d+),')
QUERY = "?mode=compare&a=siloed&b=multiplier_led&seed=42"
SPEED_LABEL = "Speed (weeks per second)"
CONTINUE_LABEL = "continue past the scenario's last week"
#: What the browser's click event looks like to the server (it sends every field of the DOM event).
CLICK = {"type": "click", "button": 0, "buttons": 0, "detail": 1, "isTrusted": True, "pointerType": "mouse",
         "altKey": False, "ctrlKey": False, "metaKey": False, "shiftKey": False}
TIMEOUT = 180.0  # seconds for a page to open when a whole class opens it at once


# ------------------------------------------------------------------ the server, from /proc
def memory_mb(pid: int) -> float:
    """Memory of ``pid`` and its descendants (the workers of `orgsim ui --workers N`): their
    proportional set size, where a page shared by k of them counts 1/k in each (the sum of their
    resident sizes would count the pages the workers share with the supervisor once per worker)."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) / 1024
    return total or float("nan")


def kernels(base: str, workers: int = 1) -> int | float:
    """Sessions (kernels) the server holds, from Solara's /resourcez (unknown with several workers:
    each request reaches one of them)."""
    if workers > 1:
        return float("nan")
    try:
        with urllib.request.urlopen(base.rstrip("/") + "/resourcez", timeout=30) as response:
            return json.loads(response.read())["kernels"]["total"]
    except (OSError, KeyError, ValueError):
        return float("nan")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ------------------------------------------------------------------ one student
def decode(raw: str | bytes) -> dict[str, Any]:
    """A kernel message: JSON text, or Solara's binary framing (a count, offsets, JSON, buffers)."""
    if isinstance(raw, str):
        return json.loads(raw)
    count = struct.unpack("!I", raw[:4])[0]
    offsets = [*struct.unpack("!" + "I" * count, raw[4:4 * (count + 1)]), len(raw)]
    return json.loads(raw[offsets[0]:offsets[1]].decode("utf-8"))


def frame_week(frame: str) -> int:
    """The week of a frame's JSON text. Screen.draw writes it first, so it is read from the text's
    start: the page parses the whole frame, but on its student's own machine; here, 30 students'
    parsing would take CPU from the server the benchmark measures."""
    match = FRAME_WEEK.match(frame)
    return int(match.group(1)) if match else json.loads(frame)["week"]


class Student:
    """One browser tab on the app, as the server sees it: a cookie, a kernel websocket, the widgets."""

    def __init__(self, base: str, query: str = QUERY, paint_ms: float = 33.0) -> None:
        self.base, self.query, self.paint = base.rstrip("/"), query, paint_ms / 1000
        self.kernel_id, self.page_id = str(uuid.uuid4()), str(uuid.uuid4())
        self.control = str(uuid.uuid4())  # the solara.control comm, opened by the page
        self.models: dict[str, dict[str, Any]] = {}  # comm_id -> the widget's state
        self.frames: list[tuple[float, int]] = []  # (arrival, week) of each frame
        self.acks: list[tuple[float, float]] = []  # (arrival, seconds the ack was late: this client's lag)
        self.opened_in = float("nan")  # seconds from the GET to the app's first render
        self.ws: ClientConnection | None = None
        self.rendered = asyncio.Event()
        self.changed = asyncio.Event()  # set on every message: waiters check their condition
        self.tasks: set[asyncio.Task] = set()
        self.receiver: asyncio.Task | None = None

    # -- the wire
    async def send(self, msg_type: str, content: dict[str, Any]) -> None:
        assert self.ws is not None
        header = {"date": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                  "msg_id": str(uuid.uuid4()), "msg_type": msg_type, "session": self.page_id, "username": "",
                  "version": "5.2"}
        await self.ws.send(json.dumps({"buffers": [], "channel": "shell", "content": content, "header": header,
                                       "metadata": {}, "parent_header": {}}))

    async def comm_msg(self, comm_id: str, data: dict[str, Any]) -> None:
        await self.send("comm_msg", {"comm_id": comm_id, "data": data})

    async def open(self) -> None:
        """What the page does: GET it, connect the kernel websocket, ask the server to run the app."""
        started = time.perf_counter()
        url = self.base + "/" + self.query
        response = await asyncio.to_thread(urllib.request.urlopen, url, timeout=TIMEOUT)
        cookie = response.headers["set-cookie"].split(";", 1)[0]  # solara-session-id=...
        response.read()
        host = urlsplit(self.base).netloc
        self.ws = await connect(f"ws://{host}/jupyter/api/kernels/{self.kernel_id}/channels?session_id={self.page_id}",
                                additional_headers={"Cookie": cookie}, max_size=None, proxy=None,
                                open_timeout=TIMEOUT, ping_interval=None)
        self.receiver = asyncio.create_task(self.receive())
        await self.send("kernel_info_request", {})
        await self.send("comm_open", {"comm_id": self.control, "target_name": "solara.control", "data": {}})
        await self.comm_msg(self.control, {"method": "run", "args": {"path": "/" + self.query, "dark": False,
                                                                     "themes": {}, "appName": None}})
        await asyncio.wait_for(self.rendered.wait(), TIMEOUT)
        self.opened_in = time.perf_counter() - started
        theme = self.find("ThemeModel")
        if theme:  # the page reports its light theme, as Chromium did
            await self.comm_msg(theme, {"method": "update", "state": {"dark_effective": False}, "buffer_paths": []})

    async def receive(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            now = time.perf_counter()
            msg = decode(raw)
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "comm_open":
                state = content["data"].get("state", {})
                self.models[content["comm_id"]] = state
                if state.get("frame") and "event_ack" in (state.get("events") or []):
                    self.acknowledge(content["comm_id"], frame_week(state["frame"]))  # frame.vue's mounted()
            elif kind == "comm_msg":
                data, comm_id = content["data"], content["comm_id"]
                if data.get("method") in ("update", "echo_update"):  # echo: a change the page sent, applied
                    state = data.get("state", {})
                    model = self.models.setdefault(comm_id, {})
                    model.update(state)
                    if state.get("frame") and "event_ack" in (model.get("events") or []):
                        week = frame_week(state["frame"])
                        self.frames.append((now, week))
                        self.acknowledge(comm_id, week)  # frame.vue's watch on frame
                elif data.get("method") == "finished" and comm_id == self.control:
                    self.rendered.set()
            elif kind == "comm_close":
                self.models.pop(content["comm_id"], None)
            self.changed.set()

    def acknowledge(self, comm_id: str, week: int) -> None:
        """``event_ack(week)`` after the page painted: ``paint_ms`` after the week arrived."""
        arrived = time.perf_counter()

        async def ack() -> None:
            await asyncio.sleep(self.paint)
            with contextlib.suppress(ConnectionClosed):  # the student left meanwhile
                await self.comm_msg(comm_id, {"method": "custom", "content": {"event": "event_ack", "data": week}})
                self.acks.append((arrived, time.perf_counter() - arrived - self.paint))
        task = asyncio.create_task(ack())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- the widgets
    def find(self, model_name: str, **state: Any) -> str | None:
        """The comm id of a widget of ``model_name`` whose state has these values."""
        for comm_id, model in self.models.items():
            if model.get("_model_name") == model_name and all(model.get(k) == v for k, v in state.items()):
                return comm_id
        return None

    def last_week(self) -> int | None:
        """The scenario's last week, from the control bar's "last week N"."""
        for model in self.models.values():
            children = model.get("children")
            if isinstance(children, list) and len(children) == 1 and str(children[0]).startswith("last week "):
                return int(str(children[0]).split()[-1])
        return None

    async def until(self, condition, timeout: float = 30.0) -> None:
        async def wait() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(wait(), timeout)

    async def choose(self, model_name: str, label: str, value: Any) -> None:
        """A change of a v-select or v-checkbox in the page: an update of its ``v_model``."""
        comm_id = self.find(model_name, label=label)
        if comm_id is None:
            raise RuntimeError(f"no {model_name} labelled {label!r} in the page")
        await self.comm_msg(comm_id, {"method": "update", "state": {"v_model": value}, "buffer_paths": []})
        await self.until(lambda: self.models[comm_id].get("v_model") == value)  # echo_update

    async def click(self, text: str, then: str | None = None) -> None:
        """A click on the button showing ``text``; waits until it shows ``then``."""
        comm_id = self.find("BtnModel", children=[text])
        if comm_id is None:
            raise RuntimeError(f"no button {text!r} in the page")
        await self.comm_msg(comm_id, {"method": "custom", "content": {"event": "click", "data": CLICK}})
        if then is not None:
            await self.until(lambda: self.models[comm_id].get("children") == [then])

    async def close(self) -> None:
        for task in [*self.tasks, *([self.receiver] if self.receiver else [])]:
            task.cancel()
        if self.ws is not None:
            await self.ws.close()


def close_beacon(student: Student) -> None:
    """What the page sends when its tab closes: the server closes the session at once."""
    request = urllib.request.Request(f"{student.base}/_solara/api/close/{student.kernel_id}?session_id="
                                     f"{student.page_id}", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=30).read()


# ------------------------------------------------------------------ statistics
def frame_stats(frames: list[list[tuple[float, int]]], start: float, end: float, start_weeks: list[int]
                ) -> dict[str, Any]:
    """Per student frames and weeks per frame in [start, end]; frames/s and intervals over all."""
    counts, weeks_per_frame, intervals = [], [], []
    for own, first_week in zip(frames, start_weeks, strict=True):
        shown = [(t, w) for t, w in own if start <= t <= end]
        counts.append(len(shown))
        weeks_per_frame.append((shown[-1][1] - first_week) / len(shown) if shown else float("nan"))
        intervals += [b[0] - a[0] for a, b in zip(shown, shown[1:], strict=False)]
    seconds = end - start
    ms = np.array(intervals) * 1000 if intervals else np.array([float("nan")])
    return {"frames": counts, "weeks_per_frame": weeks_per_frame, "seconds": seconds,
            "fps": [c / seconds for c in counts], "p50": np.percentile(ms, 50), "p95": np.percentile(ms, 95),
            "p99": np.percentile(ms, 99), "max": ms.max()}


# ------------------------------------------------------------------ a class
async def classroom(base: str, pid: int, sessions: int, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    """``sessions`` students open, set the speed, play ``args.seconds`` at once, pause and leave."""
    students = [Student(base, args.query, args.paint_ms) for _ in range(sessions)]
    memory_before, load_before = memory_mb(pid), load_average()
    try:
        started = time.perf_counter()
        await asyncio.gather(*(s.open() for s in students))  # the class opens the link at once
        open_seconds = time.perf_counter() - started
        await asyncio.gather(*(s.choose("SelectModel", SPEED_LABEL, args.speed) for s in students))
        last = students[0].last_week()
        past_end = last is not None and args.speed * args.seconds >= last
        if past_end:  # play would stop at the scenario's end before the time is up
            await asyncio.gather(*(s.choose("CheckboxModel", CONTINUE_LABEL, True) for s in students))
        await asyncio.sleep(args.settle)
        start_weeks = [s.frames[-1][1] if s.frames else 0 for s in students]
        cpu, client, start = tree_cpu_seconds(pid), time.process_time(), time.perf_counter()
        await asyncio.gather(*(s.click("Play", then="Pause") for s in students))
        await asyncio.sleep(args.seconds - (time.perf_counter() - start))
        end = time.perf_counter()
        cpu, client = tree_cpu_seconds(pid) - cpu, time.process_time() - client
        memory_open, load, kernels_open = memory_mb(pid), load_average(), await asyncio.to_thread(kernels, base, workers)
        await asyncio.gather(*(s.click("Pause", then="Play") for s in students), return_exceptions=True)
    finally:
        await asyncio.gather(*(s.close() for s in students), return_exceptions=True)
    if args.close_beacon:
        await asyncio.gather(*(asyncio.to_thread(close_beacon, s) for s in students))
    stats = frame_stats([s.frames for s in students], start, end, start_weeks)
    late = [lag for s in students for t, lag in s.acks if start <= t <= end] or [float("nan")]
    total = sum(stats["frames"])
    after = kernels_after = float("nan")
    if args.after > 0:
        await asyncio.sleep(args.after)
        after, kernels_after = memory_mb(pid), await asyncio.to_thread(kernels, base, workers)
    return {**stats, "sessions": sessions, "workers": workers, "open_seconds": open_seconds, "past_end": past_end,
            "opened_in": [s.opened_in for s in students], "cpu_ms_per_frame": cpu / total * 1000 if total else
            float("nan"), "client_cpu": client, "memory_before": memory_before, "memory_open": memory_open, "memory_after": after,
            "kernels_open": kernels_open, "kernels_after": kernels_after, "load": load,
            "load_before": load_before, "ack_late_p99": np.percentile(np.array(late) * 1000, 99),
            "ack_late_max": max(late) * 1000}


def browser_check(base: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    """The same play in Chromium (Playwright): frames are the page's "Week N" heading changes."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(base + args.query)
        page.get_by_text("Week 0", exact=True).wait_for(timeout=120_000)
        page.locator(".v-select").filter(has_text="Speed").first.click()
        page.get_by_role("option", name=str(args.speed), exact=True).click()
        page.wait_for_timeout(args.settle * 1000)
        page.evaluate(RECORD_WEEKS)
        cpu, start = tree_cpu_seconds(pid), page.evaluate("performance.now()")
        page.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_timeout(args.seconds * 1000)
        end, cpu = page.evaluate("performance.now()"), tree_cpu_seconds(pid) - cpu
        weeks, times = page.evaluate("[window.weeks, window.times]")
        page.get_by_role("button", name="Pause", exact=True).click()
        page.wait_for_timeout(500)
        browser.close()
    frames = [(t / 1000, w) for t, w in zip(times, weeks, strict=True)]
    stats = frame_stats([frames], start / 1000, end / 1000, [weeks[0]])
    return {**stats, "cpu_ms_per_frame": cpu / max(1, stats["frames"][0]) * 1000}


# ------------------------------------------------------------------ the report
def show_class(result: dict[str, Any]) -> None:
    n, fps = result["sessions"], result["fps"]
    opened = result["opened_in"]
    print(f"\n{n} session(s), {result['workers']} server worker(s): all open in {result['open_seconds']:.1f} s (each {min(opened):.1f}-{max(opened):.1f} s), "
          f"played {result['seconds']:.1f} s{' (past the last week)' if result['past_end'] else ''}; "
          f"load average before {result['load_before']}, at the end {result['load']}")
    per = [f"{f}/{w:.2f}" for f, w in zip(result["frames"], result["weeks_per_frame"], strict=True)]
    print("  frames/weeks per frame by session: " + " ".join(per))
    print(f"  frames/s per session: median {statistics.median(fps):.2f}, min {min(fps):.2f}, max {max(fps):.2f}; "
          f"frame interval ms: p50 {result['p50']:.0f}, p95 {result['p95']:.0f}, p99 {result['p99']:.0f}, "
          f"max {result['max']:.0f}")
    print(f"  server CPU {result['cpu_ms_per_frame']:.1f} ms per frame; clients' CPU "
          f"{result['client_cpu'] / result['seconds'] * 100:.0f} % of a core, their acks late by p99 "
          f"{result['ack_late_p99']:.0f} ms, max {result['ack_late_max']:.0f} ms; server memory (PSS): "
          f"{result['memory_before']:.0f} MB before, {result['memory_open']:.0f} MB playing, "
          f"{result['memory_after']:.0f} MB {result['after']:.0f} s after closing; sessions held by the server: "
          f"{result['kernels_open']} playing, {result['kernels_after']} after closing", flush=True)


def table(results: list[dict[str, Any]]) -> None:
    print("\n| sessions (round) | workers | frames/s per session (median) | weeks/frame | interval p50 / p95 / p99 / "
          "max ms | server CPU ms/frame | memory (PSS) before / open / after MB | load avg before / end (1 min) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['sessions']} ({r['round']}) | {r['workers']} | {statistics.median(r['fps']):.2f} | "
              f"{statistics.median(r['weeks_per_frame']):.2f} | {r['p50']:.0f} / {r['p95']:.0f} / {r['p99']:.0f} / "
              f"{r['max']:.0f} | {r['cpu_ms_per_frame']:.1f} | {r['memory_before']:.0f} / {r['memory_open']:.0f} / "
              f"{r['memory_after']:.0f} | {r['load_before'].split()[0]} / {r['load'].split()[0]} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10],
                        help="students in the class; several numbers: one class after another, a fresh server each")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of play")
    parser.add_argument("--speed", type=int, default=5, choices=[1, 2, 5, 10, 20, 50, 100],
                        help="weeks per second, set in the Speed select")
    parser.add_argument("--query", default=QUERY, help="the page's query string")
    parser.add_argument("--paint-ms", type=float, default=33.0, help="the ack's delay after a week arrives")
    parser.add_argument("--settle", type=float, default=1.5, help="seconds between opening and Play")
    parser.add_argument("--after", type=float, default=35.0,
                        help="seconds after the students left when memory is read again (0: not read)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="the server's worker processes (orgsim ui --workers); several: each class size with each")
    parser.add_argument("--cull", default="20s", help="the server's SOLARA_KERNEL_CULL_TIMEOUT")
    parser.add_argument("--close-beacon", action="store_true", help="send the tab-close beacon when leaving")
    parser.add_argument("--browser", action="store_true", help="first play once in Chromium, to compare")
    parser.add_argument("--rounds", type=int, default=1,
                        help="classes one after another on the same server (memory over closed sessions)")
    args = parser.parse_args(argv)

    print(f"compare mode ({args.query}), {args.speed} weeks/s, {args.seconds:.0f} s of play, "
          "load average "
          f"{load_average()} at the start", flush=True)
    if args.browser:
        with ui_server({"SOLARA_KERNEL_CULL_TIMEOUT": args.cull}) as (base, pid):
            seen = browser_check(base, pid, args)
        print(f"Chromium, one page: {seen['fps'][0]:.2f} frames/s, {seen['weeks_per_frame'][0]:.2f} weeks per frame, "
              f"interval ms p50 {seen['p50']:.0f} p95 {seen['p95']:.0f} max {seen['max']:.0f}, "
              f"server CPU {seen['cpu_ms_per_frame']:.1f} ms per frame", flush=True)
    results = []
    for workers in args.workers:
        for sessions in args.sessions:
            with ui_server({"SOLARA_KERNEL_CULL_TIMEOUT": args.cull}, workers) as (base, pid):
                for number in range(1, args.rounds + 1):
                    result = asyncio.run(classroom(base, pid, sessions, workers, args))
                    result["after"], result["round"] = args.after, number
                    show_class(result)
                    results.append(result)
    table(results)


if __name__ == "__main__":
    main()
