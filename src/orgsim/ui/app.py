"""The orgsim browser UI (Solara): live scenarios, side by side, with interventions; a presentation mode.

Every browser session has its own models: all state lives in component hooks
(``use_reactive``/``use_ref``), never in module globals. Controls are generated
from the declarations (``orgsim.parameters``, ``orgsim.interventions``); charts
are ECharts options (``orgsim.ui.charts``) drawn by the browser.

Playback: a session thread steps the models and hands each frame to the
session's event loop, where it is drawn, before it steps again. At up to
``FRAME_RATE`` weeks per second every week is a frame; faster speeds draw
every few weeks. Pause is a click on the event loop between two frames, so it
stops within one frame. Model state changes only under the runner's lock and
never while a frame is drawn.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import ctypes
import functools
import gc
import html
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, cast

import pandas as pd
import solara
import solara.lab
import traitlets
from solara.components.echarts import EchartsWidget
from solara.server import kernel_context

from orgsim.errors import UserError
from orgsim.interventions import ACTIONS
from orgsim.model import OrgModel
from orgsim.outputs import OUTPUT_NAMES
from orgsim.parameters import GROUPS, PARAMS_BY_NAME, Param, parameters_in_group
from orgsim.scenario import Scenario, load, scenario_dir
from orgsim.ui import charts, info
from orgsim.ui.serve import PRESENT_ENV

PRESETS = sorted(p.stem for p in scenario_dir().glob("*.toml"))
DESCRIPTIONS = {name: load(name).description for name in PRESETS}
MODES = {"single": "Single firm", "compare": "Compare"}
SPEEDS = [1, 2, 5, 10, 20, 50, 100]
#: At most this many frames a second: up to this speed every week is drawn.
FRAME_RATE = 20
#: Playback waits this long at most for the browser to paint a frame (a hidden tab paints nothing).
PAINT_TIMEOUT = 1.0
#: A frame whose drawing waits longer than this for its session's event loop (busy building a new firm,
#: or closing) gives up its turn (Turns), so that the other sessions are not held up by it.
TURN_SECONDS = 0.5
#: Run-to-week gets there in about this many frames, whatever the distance.
RUN_TO_FRAMES = 20
#: A firm larger than this takes seconds to build and hundreds of MB per session: the UI says so.
LARGE_FIRM = 100_000
CONTINUE = "continue past the scenario's last week"
KEYS = "Space plays and pauses; the right arrow steps one week"
CHART_KEY = ("A solid blue, B dashed orange · shaded: shitstorm weeks, in the colour of the firm they hit · "
             "vertical lines: interventions")


class Runner:
    """A session's models (one, or A and B in lockstep) and what the UI did to them."""

    def __init__(self, scenarios: list[Scenario], names: list[str], added: list[list[dict[str, Any]]]) -> None:
        self.scenarios, self.names = scenarios, names
        self.added = added  # per firm: the interventions of a loaded setup file, on top of its preset's
        self.models: list[OrgModel] = [s.model(customer_views=False) for s in scenarios]
        self.layouts = [charts.org_layout(m) for m in self.models]
        self.last_week = max(s.steps for s in scenarios)
        self.lock = threading.Lock()
        self.busy = False  # a Step is being computed: further Step clicks are ignored
        self.painted_week = -1  # the last week the browser painted (frame.vue)
        self.painted = threading.Condition()
        self.ui_interventions: list[list[dict[str, Any]]] = [[] for _ in self.models]

    @property
    def week(self) -> int:
        return self.models[0].steps

    def was_painted(self, week: int) -> None:
        with self.painted:
            self.painted_week = week
            self.painted.notify_all()

    def wait_painted(self, week: int, timeout: float) -> None:
        """Until the browser painted ``week`` (or ``timeout`` seconds passed: a hidden tab paints nothing)."""
        with self.painted:
            self.painted.wait_for(lambda: self.painted_week >= week, timeout)

    def step(self, weeks: int = 1) -> None:
        with self.lock:
            for _ in range(weeks):
                for model in self.models:  # lockstep: both firms advance together
                    model.step()


class Screen:
    """What the page shows of the models, sent to the browser as one message a frame.

    Each live view (a chart's option, a text's HTML) is a name and the function that computes it
    from the session's models. A frame computes them all and sends them as one JSON text to the
    frame widget (frame.vue), which hands each view its part. Rendering the page each frame
    (reacton walks every component) or a message a view cost several times more."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner  # the session's use_ref: its Runner changes with each new setup
        self.views: dict[tuple[str, str], Callable[[], Any]] = {}
        self.widget: Any = None  # the frame widget, once the page shows it
        self.sent = 0  # frames sent: each is new to the page, even if nothing changed (it acknowledges each)
        self.pending = False  # a frame is due once the views being shown now have all joined

    def draw(self) -> None:
        """Show the models as they are now (on the session's event loop, between two weeks)."""
        if self.widget is None:
            return
        runner = cast(Runner, self.runner.current)
        with runner.lock:  # an intervention does not change the models halfway through a frame
            self.sent += 1
            frame: dict[str, Any] = {"week": runner.week, "number": self.sent, "charts": {}, "html": {}}
            for (kind, name), produce in list(self.views.items()):
                frame[kind][name] = produce()
            text = json.dumps(frame, separators=(",", ":"), allow_nan=False)  # the page's JSON.parse has no NaN
        self.widget.frame = text

    def draw_soon(self) -> None:
        """Draw once the current render is done: views shown together (a new page, the Charts tab)
        then share one frame instead of sending one each."""
        if self.pending:
            return
        self.pending = True

        def draw() -> None:
            self.pending = False
            self.draw()

        session_loop().call_soon(draw, context=contextvars.copy_context())


def use_view(screen: Screen, kind: str, name: str, produce: Callable[[], Any]) -> None:
    """Add ``frame[kind][name] = produce()`` to the screen's frames while the component is shown."""
    def attach() -> Callable[[], None]:
        screen.views[kind, name] = produce
        screen.draw_soon()

        def detach() -> None:  # unless a component shown since took the name (presentation mode)
            if screen.views.get((kind, name)) is produce:
                del screen.views[kind, name]
        return detach

    solara.use_effect(attach, [])


def session_loop() -> asyncio.AbstractEventLoop:
    """The event loop that handles this session's messages now: a click's own. (The kernel context
    keeps the loop of the page's first connection, which is closed after the page reconnects.)"""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return kernel_context.get_current_context().event_loop


def in_session_thread(function: Callable[[], None], name: str) -> None:
    """Run ``function`` in a thread of its own that belongs to this browser session, so that the
    values it reads (play, speed) are the session's.

    Not ``solara.lab.use_task``: each call of it registers a Singleton with solara.lifecycle that
    holds the component's first render for the life of the server, and with it the session's
    models (about 3 MB a closed session)."""
    context = kernel_context.get_current_context()

    def run() -> None:
        with context:
            function()

    threading.Thread(target=run, name=name, daemon=True).start()


class Turns:
    """The sessions of this server process take turns at the CPU-bound parts of playback (a week's
    step, a frame's drawing), first come first served, one at a time.

    Without turns every playing session's threads contend for the GIL at once: each frame is
    computed in slices between everyone else's, so all frames of a class arrive late together,
    and the GIL's handovers are not first come first served, so some students wait far longer
    than others. In turns, each piece of work finishes at once and nobody is passed over."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = False
        self._waiting: collections.deque[threading.Event] = collections.deque()

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        with self._lock:
            if self._busy:
                mine = threading.Event()
                self._waiting.append(mine)
            else:
                self._busy, mine = True, None
        if mine is not None:
            mine.wait()  # the previous holder hands its turn over: _busy stays True
        try:
            yield
        finally:
            with self._lock:
                if self._waiting:
                    self._waiting.popleft().set()
                else:
                    self._busy = False


#: One queue for every session of this process.
TURNS = Turns()

_release_pending = threading.Lock()


def release_memory_soon(delay: float = 5.0) -> None:
    """Give the memory of closed sessions back to the system a little later.

    Python frees a closed session's objects, but glibc keeps the freed pages for reuse, so the
    server's resident memory only ever grew (by ~40 MB over 48 closed sessions); ``malloc_trim``
    returns them. One pending release serves every session closed meanwhile."""
    if not _release_pending.acquire(blocking=False):
        return

    def release() -> None:
        _release_pending.release()  # a session closed from now on gets a release of its own
        gc.collect()
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to return
            ctypes.CDLL("libc.so.6").malloc_trim(0)

    timer = threading.Timer(delay, release)
    timer.daemon = True
    timer.start()


def build_runner(names: list[str], seed: int, overrides: dict[str, Any],
                 extra: dict[str, list[dict[str, Any]]] | None = None) -> Runner:
    """Models for the presets ``names`` with the UI's seed and overrides (UserError if not allowed)."""
    scenarios, added = [], [(extra or {}).get(name, []) for name in names]
    for name, more in zip(names, added, strict=True):
        scenario = load(name).with_overrides({**overrides, "seed": seed}, source="UI")
        scenarios.append(replace(scenario, interventions=(*scenario.interventions, *more)))  # the model sorts them
    return Runner(scenarios, names, added)


def firm_labels(names: list[str]) -> list[str]:
    return [f"{letter}: {name}" for letter, name in zip("AB", names, strict=False)]


def timeseries_csv(runner: Runner) -> str:
    with runner.lock:  # during play: both firms at the same week
        frames = [m.timeseries().assign(firm=letter, scenario=name, seed=m.seed)
                  for letter, name, m in zip("AB", runner.names, runner.models, strict=False)]
    table = pd.concat(frames)[["firm", "scenario", "seed", "step", *OUTPUT_NAMES]]
    return table.to_csv(index=False)


def setup_toml(runner: Runner, index: int, overrides: dict[str, Any]) -> str:
    """Firm ``index``'s setup as a scenario file: its preset, the changed values, its seed, and the
    interventions of a loaded file and of the UI so far (long enough to hold the last of them)."""
    with runner.lock:
        model, own, week = runner.models[index], list(runner.ui_interventions[index]), runner.week
    steps = max([runner.scenarios[index].steps, *(e["week"] + 1 for e in own)])
    setup = info.Setup(runner.names[index], cast(int, model.seed), steps, dict(overrides),
                       [*runner.added[index], *own])
    return setup.to_toml(f"firm {'AB'[index]} at week {week}")


# ------------------------------------------------------------------ controls
@solara.component_vue("frame.vue")
def FrameView(event_ack: Callable[[int], None], frame: str = "") -> None:
    """Receives each frame (``Screen.draw``) and calls ``event_ack(week)`` once the browser has painted it."""


@solara.component_vue("live.vue")
def LiveHtml(name: str, tag: str = "div", css_class: str = "", css_style: str = "") -> None:
    """A text that changes with the models: ``frame["html"][name]`` of each frame."""


def live_text(screen: Screen, name: str, produce: Callable[[], str], tag: str = "div", css_class: str = "",
              css_style: str = "") -> Any:
    """A ``tag`` showing ``produce()`` (HTML), redrawn on each frame; called from a component's render."""
    use_view(screen, "html", name, produce)
    return LiveHtml(name=name, tag=tag, css_class=css_class, css_style=css_style)


@solara.component_vue("keyboard.vue")
def Keyboard(event_key: Callable[[str], None]) -> None:
    """Space plays or pauses, the right arrow steps: a listener on the page (keyboard.vue)."""


def kpi_chart(runner: Runner) -> dict[str, Any]:
    return charts.kpi_option(runner.models, firm_labels(runner.names), runner.last_week)


def presentation_chart(runner: Runner) -> dict[str, Any]:
    return charts.kpi_option(runner.models, firm_labels(runner.names), runner.last_week, charts.PRESENTATION_PANELS,
                             columns=2, big=True)


def staff_chart(runner: Runner) -> dict[str, Any]:
    return charts.org_option(runner.models, runner.layouts, firm_labels(runner.names))


def market_chart(runner: Runner) -> dict[str, Any]:
    return charts.market_option(runner.models, firm_labels(runner.names))


def trust_chart(runner: Runner) -> dict[str, Any]:
    return charts.trust_option(runner.models, firm_labels(runner.names))


class ChartWidget(EchartsWidget):
    """Solara's ECharts widget with a view (chart.vue) that draws ``frame["charts"][name]`` of each
    frame, merged into the chart when it can instead of rebuilding it (a third of the browser's work)."""

    template_file = (__file__, "chart.vue")
    name = traitlets.Unicode("").tag(sync=True)


@solara.component
def Chart(option: Callable[[Runner], dict[str, Any]], runner: Any, screen: Screen, style: str) -> Any:
    """An ECharts chart of the session's models, redrawn on each frame."""
    use_view(screen, "charts", option.__name__, lambda: option(runner.current))
    return ChartWidget.element(name=option.__name__, attributes={"style": style})


@solara.component
def ParameterControl(param: Param, value: Any, preset_value: Any, on_value: Callable[[Any], None]) -> None:
    """A friendly label with the value and unit always shown, a slider, a number box; the code name
    and the claim it models in the tooltip; highlighted when it departs from the scenario's value."""
    changed = not info.same_value(param, value, preset_value)
    style = {"padding": "2px 6px", "border-radius": "4px", "margin-bottom": "4px",
             "background": "#fff4d6" if changed else "transparent"}
    shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else (
        f"{value:.4g}" if isinstance(value, float) else str(value))
    with solara.Column(gap="0px", style=style, classes=[f"param-{param.name}"]):
        with solara.Tooltip(info.tooltip(param)):
            solara.HTML(tag="div", unsafe_innerHTML=(
                f"<span style='font-weight:500'>{info.label(param.name)}</span>"
                f" <span class='param-value' style='float:right'>{shown} <small>{param.unit}</small></span>"
                + (f"<br><small style='color:#8a5a00'>scenario: {preset_value}</small>" if changed else "")))
        if param.kind is bool:
            solara.Checkbox(label="on" if value else "off", value=bool(value), on_value=on_value)
        elif param.choices:
            solara.Select(label="", values=list(param.choices), value=value, on_value=on_value)
        else:
            NumberControl(param, value, on_value)


@solara.component
def NumberControl(param: Param, value: float | int, on_value: Callable[[Any], None]) -> None:
    assert param.low is not None and param.high is not None
    error = solara.use_reactive("")

    def typed(text: str | None) -> None:
        try:
            number = info.parse_value(param, text or "")
        except ValueError as problem:
            error.value = str(problem)
            return
        error.value = ""
        on_value(number)

    with solara.Row(gap="6px", style={"align-items": "center"}):
        with solara.Column(style={"flex": "1 1 auto", "min-width": "120px"}, gap="0px"):
            if info.log_scaled(param):
                solara.SliderInt(label="", value=info.to_position(param, value), min=0, max=info.LOG_POSITIONS,
                                 on_value=lambda position: on_value(info.from_position(param, position)),
                                 thumb_label=False)
            elif param.kind is int:
                solara.SliderInt(label="", value=int(value), min=int(param.low), max=int(param.high),
                                 on_value=on_value, thumb_label=False)
            else:
                solara.SliderFloat(label="", value=float(value), min=param.low, max=param.high,
                                   step=info.slider_step(param), on_value=lambda v: on_value(float(f"{v:.4g}")),
                                   thumb_label=False)
        solara.InputText(label="", value=f"{value:g}" if isinstance(value, float) else str(value), on_value=typed,
                         error=bool(error.value), message=error.value or None,
                         style={"max-width": "96px"}, classes=[f"number-{param.name}"])


@solara.component
def InterventionPanel(session_runner: Any, screen: Screen, compare: bool,
                      on_done: Callable[[str], None]) -> None:
    """Pick an action, read what it does and which claim it models, set its arguments, apply it."""
    action = solara.use_reactive("appoint_multipliers")
    target = solara.use_reactive("A")
    arguments: solara.Reactive[dict[str, Any]] = solara.use_reactive({})
    problem = solara.use_reactive("")
    declared = ACTIONS[action.value]

    def choose(name: str) -> None:
        action.value, arguments.value, problem.value = name, {}, ""

    def set_argument(name: str, text: str | None) -> None:
        arg = next(a for a in declared.arguments if a.name == name)
        try:
            value = info.parse_value(arg, text or "")
        except ValueError as error:
            problem.value = f"{name}: {error}"
            return
        problem.value = ""
        arguments.value = {**arguments.value, name: value}

    def apply() -> None:
        if problem.value:
            return
        index = 1 if compare and target.value == "B" else 0
        runner = cast(Runner, session_runner.current)
        with runner.lock:
            model = runner.models[index]
            done = model.intervene(action.value, **arguments.value)
        runner.ui_interventions[index].append({"week": done.week, "action": done.action,
                                               "arguments": dict(done.arguments)})
        note = done.note or "applied"
        on_done(f"{'AB'[index]}, week {done.week}: {declared.label} — {note}")

    labels = {a.label: a.name for a in ACTIONS.values()}
    solara.Select(label="Intervention", values=list(labels), value=declared.label,
                  on_value=lambda text: choose(labels[text]))
    solara.Text(declared.help, style={"font-size": "13px", "display": "block"})
    with solara.Tooltip(info.explain_claims(declared.claim)):
        solara.Text(f"models {declared.claim} (hover to read)",
                    style={"font-size": "12px", "color": "#555", "display": "block"})
    for arg in declared.arguments:
        solara.InputText(label=f"{info.label(arg.name)} ({arg.unit}; {arg.describe_range()})",
                         value=str(arguments.value.get(arg.name, arg.default)),
                         on_value=functools.partial(set_argument, arg.name), classes=[f"argument-{arg.name}"])
    if problem.value:
        solara.Error(problem.value, dense=True)
    with solara.Row():
        if compare:
            solara.ToggleButtonsSingle(value=target, values=["A", "B"])
        ApplyButton(session_runner, screen, apply, bool(problem.value))


@solara.component
def ApplyButton(runner: Any, screen: Screen, apply: Callable[[], None], disabled: bool) -> None:
    """The one part of the intervention panel that changes each frame: the week on the button."""
    def label() -> str:
        return f"Apply at week {cast(Runner, runner.current).week}"

    solara.Button(children=[live_text(screen, "apply", label, tag="span")], on_click=apply, color="primary",
                  outlined=True, disabled=disabled, style={"text-transform": "none"})


# ---------------------------------------------------------------------- page
@solara.component
def Page() -> None:
    solara.Title("orgsim")
    router = solara.use_router()
    start = solara.use_memo(lambda: info.from_query(router.search, PRESETS), [])
    mode = solara.use_reactive(start.mode or "single")
    scenario_a = solara.use_reactive(start.a or "siloed")
    scenario_b = solara.use_reactive(start.b or "multiplier_led")
    seed = solara.use_reactive(start.seed if start.seed is not None else 42)
    seed_text = solara.use_reactive(str(seed.value))
    seed_error = solara.use_reactive("")
    overrides: solara.Reactive[dict[str, Any]] = solara.use_reactive(dict(start.overrides))
    present = solara.use_reactive(start.present or os.environ.get(PRESENT_ENV) == "1")  # orgsim ui --present
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(10)
    past_end = solara.use_reactive(False)
    run_to = solara.use_reactive(None, cast(Any, None))
    run_to_text = solara.use_reactive("26")
    built = solara.use_reactive(0)  # a new setup: the page around the charts changes too
    playback = solara.use_ref(0)  # each Play starts a new playback; an older one stops
    message = solara.use_reactive("; ".join(f"left out of the link: {p}" for p in start.problems))
    notes: solara.Reactive[list[str]] = solara.use_reactive([])
    loaded: solara.Reactive[dict[str, list[dict[str, Any]]]] = solara.use_reactive({})

    def names() -> list[str]:
        return [scenario_a.value] if mode.value == "single" else [scenario_a.value, scenario_b.value]

    runner = solara.use_ref(cast(Runner | None, None))
    solara.use_memo(lambda: kernel_context.get_current_context().on_close(release_memory_soon), [])
    screen = solara.use_memo(lambda: Screen(runner), [])  # the views a frame redraws
    if runner.current is None:
        try:
            runner.current = build_runner(names(), seed.value, overrides.value, loaded.value)
        except UserError as error:  # a link with values that do not fit together: start from the presets
            message.value = f"{error}; started without the link's changes"
            overrides.value = {}
            runner.current = build_runner(names(), seed.value, {})
    current = cast(Runner, runner.current)
    applied = solara.use_ref(dict(overrides.value))  # the overrides the running models were built with

    def reset() -> None:
        playing.value = False
        run_to.value = None
        if seed_error.value:
            message.value = "fix the seed first: " + seed_error.value
            return
        old = cast(Runner, runner.current)
        try:
            with old.lock:  # the play thread finishes its week first
                fresh = build_runner(names(), seed.value, overrides.value, loaded.value)
        except UserError as error:
            message.value = str(error)
            return
        runner.current = fresh
        applied.current = dict(overrides.value)
        message.value, notes.value = "", []
        built.value += 1
        router.push(info.to_query(mode.value, scenario_a.value, scenario_b.value, seed.value, overrides.value,
                                  present.value))
        screen.draw()

    def set_seed(text: str | None) -> None:
        seed_text.value = text or ""
        try:
            seed.value = info.parse_seed(text or "")
        except ValueError as error:
            seed_error.value = str(error)
            return
        seed_error.value = ""

    def on_loop(function: Callable[[], None], loop: asyncio.AbstractEventLoop) -> Callable[..., bool]:
        """``function`` to be called on the session's event loop from another thread. Returns a
        waiter: ``wait(timeout=None)`` is True once it ran; False after ``timeout`` seconds, or
        once the loop is closed (the page went away: a closing loop drops what it had not run)."""
        context = contextvars.copy_context()
        done = threading.Event()

        def call() -> None:
            try:
                function()
            finally:
                done.set()

        try:
            loop.call_soon_threadsafe(call, context=context)
        except RuntimeError:  # the loop is closed already
            return lambda timeout=None: False

        def wait(timeout: float | None = None) -> bool:
            deadline = math.inf if timeout is None else time.monotonic() + timeout
            while not done.wait(min(0.25, max(0.0, deadline - time.monotonic()))):
                if loop.is_closed() or time.monotonic() >= deadline:
                    return done.is_set()
            return True

        return wait

    def stop_at() -> int | None:
        if run_to.value is not None:
            return int(run_to.value)
        return None if past_end.value else current.last_week

    def play_loop(generation: int, loop: asyncio.AbstractEventLoop) -> None:
        r = cast(Runner, runner.current)
        due = time.perf_counter()
        start_week = shown = r.week
        while playing.value and runner.current is r and playback.current == generation:
            end = stop_at()
            if end is not None and r.week >= end:
                def finished() -> None:
                    if playback.current == generation:  # not a newer playback's
                        playing.value = False
                        run_to.value = None
                on_loop(finished, loop)()
                return
            per_frame = max(1, round(speed.value / FRAME_RATE))
            if run_to.value is not None:
                per_frame = max(per_frame, math.ceil((int(run_to.value) - start_week) / RUN_TO_FRAMES))
            weeks = per_frame if end is None else min(per_frame, end - r.week)
            with TURNS.turn():
                r.step(weeks)
            # at most one frame on its way to the viewer: frames never queue up (Pause would land late)
            r.wait_painted(shown, PAINT_TIMEOUT)
            with TURNS.turn():  # drawn before the next week is computed
                drawn = on_loop(screen.draw, loop)
                shown_in_turn = drawn(TURN_SECONDS)
            if not shown_in_turn and not drawn():  # waited out of turn: False only if the page went away
                return
            shown = r.week
            due += weeks / speed.value if run_to.value is None else 1 / FRAME_RATE
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            else:
                due = time.perf_counter()  # slower than the pace: every week still drawn, later

    def start_playing() -> None:
        playing.value = True
        playback.current += 1
        in_session_thread(functools.partial(play_loop, playback.current, session_loop()), "orgsim-play")

    def toggle_play() -> None:
        end = stop_at()
        if not playing.value and end is not None and current.week >= end:
            message.value = f"the scenario ends at week {current.last_week}: tick '{CONTINUE}' or Reset"
            return
        message.value = ""
        if playing.value:
            playing.value = False
        else:
            start_playing()

    def step_once() -> None:
        r = cast(Runner, runner.current)
        if playing.value or r.busy:
            return  # one step at a time: clicks while one is computed and drawn are ignored
        r.busy = True
        loop = session_loop()

        def step() -> None:
            try:
                r.step(1)
            finally:
                def finish() -> None:
                    r.busy = False
                    screen.draw()
                on_loop(finish, loop)()

        in_session_thread(step, "orgsim-step")

    def start_run_to() -> None:
        text = run_to_text.value.strip()
        if not text.isdigit() or int(text) <= current.week:
            message.value = f"run to week: a week after the current one ({current.week})"
            return
        message.value = ""
        run_to.value = int(text)
        start_playing()

    def key(name: str) -> None:
        if name == "space":
            toggle_play()
        elif name == "right":
            step_once()

    def set_override(name: str, value: Any) -> None:
        base_value = getattr(load(scenario_a.value).params, name)
        rest = {k: v for k, v in overrides.value.items() if k != name}
        overrides.value = rest if info.same_value(PARAMS_BY_NAME[name], value, base_value) else {**rest, name: value}

    def note(text: str) -> None:
        notes.value = [*notes.value[-4:], text]
        screen.draw()  # the intervention's marker

    def load_file(file: dict[str, Any]) -> None:
        try:
            setup = info.read_setup(file["data"].decode("utf-8", errors="replace"), file["name"], PRESETS)
        except UserError as error:
            message.value = str(error)
            return
        playing.value = False
        mode.value, scenario_a.value = "single", setup.preset
        seed.value, seed_text.value, seed_error.value = setup.seed, str(setup.seed), ""
        overrides.value = dict(setup.overrides)
        loaded.value = {setup.preset: setup.interventions}
        reset()
        message.value = f"loaded {file['name']}"

    _ = built.value
    current_names = current.names
    compare = mode.value == "compare"
    base = load(scenario_a.value).params
    pending = overrides.value != applied.current or current_names != names() or seed.value != current.models[0].seed

    # A frame renders no component: it sets the live views' widgets (Screen.draw).
    Keyboard(event_key=key)
    if not present.value:
        with solara.Sidebar():
            Sidebar(mode, scenario_a, scenario_b, seed_text, seed_error, set_seed, speed, past_end, overrides, base,
                    set_override, reset, runner, screen, compare, note, load_file)
    Stage(runner, screen, playing.value, present, message.value, notes.value, dict(applied.current), pending,
          toggle_play, step_once, reset, run_to_text, start_run_to)


@solara.component
def Stage(runner: Any, screen: Screen, playing: bool, present: solara.Reactive[bool], message: str,
          notes: list[str], applied: dict[str, Any], pending: bool, toggle_play, step_once, reset, run_to_text,
          start_run_to) -> None:
    """The main view. Its live views (week, status lines, summary, charts, chart key) are redrawn on
    each frame without rendering it."""
    current = cast(Runner, runner.current)
    with solara.Column(style={"padding": "0 8px"}):
        Painted(runner, screen)
        ControlBar(runner, screen, current.last_week, playing, toggle_play, step_once, reset, run_to_text,
                   start_run_to, present, pending)
        # Messages come and go inside a column that is always there: the views after it keep their
        # place among its siblings, so they are not built anew (charts blank while they redraw).
        with solara.Column(gap="4px"):
            if message:
                solara.Warning(message, dense=True, classes=["orgsim-message"])
            for text in notes[-1:] if present.value else notes:
                solara.Info(text, dense=True, classes=["orgsim-note"])
        if present.value:
            Chart(presentation_chart, runner, screen, "height: calc(100vh - 200px); min-height: 460px; width: 100%")
            ChartKey(runner, screen, "16px")
            return
        StatusLines(runner, screen)
        with solara.Column(gap="0px"):
            if applied:
                solara.HTML(tag="div", classes=["orgsim-overrides"], unsafe_innerHTML=(
                    "<b>Changed from the scenario:</b> " + ", ".join(
                        f"<span style='background:#fff4d6;padding:0 4px'>{info.label(k)} = {v}</span>"
                        for k, v in sorted(applied.items()))))
        with solara.lab.Tabs(value=0, lazy=True):
            with solara.lab.Tab("Charts"):
                Chart(kpi_chart, runner, screen, "height: 580px; width: 100%")
                ChartKey(runner, screen, "13px")
                Chart(staff_chart, runner, screen, "height: 440px; width: 100%")
                with solara.Columns([1, 1]):
                    Chart(market_chart, runner, screen, "height: 300px; width: 100%")
                    Chart(trust_chart, runner, screen, "height: 360px; width: 100%")
            with solara.lab.Tab("Info"):
                InfoPanel(current.names)


@solara.component
def Painted(runner: Any, screen: Screen) -> None:
    """The frame widget: receives the frames and reports each painted one to the runner, whose
    playback waits for it."""
    element = FrameView(event_ack=lambda painted: cast(Runner, runner.current).was_painted(painted))

    def attach() -> Callable[[], None]:
        widget = screen.widget = solara.get_widget(element)
        screen.draw_soon()

        def detach() -> None:
            if screen.widget is widget:
                screen.widget = None
        return detach

    solara.use_effect(attach, [])


@solara.component
def ControlBar(runner: Any, screen: Screen, last_week: int, playing: bool, toggle_play, step_once, reset,
               run_to_text, start_run_to, present: solara.Reactive[bool], pending: bool) -> None:
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "min-height": "56px"}, gap="8px"):
        live_text(screen, "week", lambda: f"Week {cast(Runner, runner.current).week}", tag="h2",
                  css_style="margin: 0 12px 0 0; min-width: 5.5em; font-variant-numeric: tabular-nums")
        with solara.Tooltip(KEYS):
            solara.Button("Pause" if playing else "Play", on_click=toggle_play, color="primary",
                          style={"min-width": "90px"})
        solara.Button("Step", on_click=step_once, disabled=playing)
        solara.Button("Reset", on_click=reset, color="warning" if pending else None,
                      outlined=not pending)
        solara.InputText(label="Run to week", value=run_to_text, style={"max-width": "90px"},
                         classes=["run-to"])
        solara.Button("Run to", on_click=start_run_to, disabled=playing, outlined=True)
        solara.Text(f"last week {last_week}", style={"color": "#555", "font-size": "13px"})
        solara.Button("Exit presentation" if present.value else "Present",
                      on_click=lambda: present.set(not present.value), text=True, icon_name="mdi-presentation")
        if pending:
            solara.Text("changes waiting: press Reset", style={"color": "#8a5a00", "font-size": "13px"})


@solara.component
def ChartKey(runner: Any, screen: Screen, size: str) -> None:
    """What the lines, shades and intervention codes on the charts mean."""
    def key() -> str:
        current = cast(Runner, runner.current)
        labels = firm_labels(current.names)
        return CHART_KEY + "".join(f"<br><b>{code}</b>, {rest}" for code, _, rest in
                                   (line.partition(", ") for line in charts.marker_legend(current.models, labels)))

    live_text(screen, "key", key, css_class="orgsim-chart-key", css_style=f"font-size: {size}; color: #333")


@solara.component
def StatusLines(runner: Any, screen: Screen) -> None:
    """A line per firm and the summary of what happened: one widget, so one message a frame."""
    def lines() -> str:
        current = cast(Runner, runner.current)
        labels = firm_labels(current.names)
        shown = []
        for firm, (label, model) in enumerate(zip(labels, current.models, strict=True)):
            w, frame = model.workforce, model.records[-1]
            shown.append(
                f"<div class='status-{label[0]}' style='white-space:nowrap;overflow:hidden;text-overflow:ellipsis;"
                f"color:{charts.FIRM_COLOURS[firm]};font-weight:500;line-height:1.9'>"
                f"{html.escape(label)} · {w.size:,} employees · {model.market.size:,} customers · seed {model.seed} · "
                f"multipliers {int(w.is_multiplier.sum())} · knowledge carriers {int(w.is_knowledge_carrier.sum())} · "
                f"attitude {frame['mean_attitude']:+.2f} · NPS {frame['net_promoter_score']:.0f} · "
                f"active customers {int(frame['active_customers'])}</div>")
        shown.append(f"<div class='orgsim-summary' style='font-size:15px;margin:6px 0'>"
                     f"{html.escape(info.summary(current.models, labels))}</div>")
        return "".join(shown)

    live_text(screen, "status", lines)


@solara.component
def Sidebar(mode, scenario_a, scenario_b, seed_text, seed_error, set_seed, speed, past_end, overrides, base,
            set_override, reset, runner: Any, screen: Screen, compare: bool, note, load_file) -> None:
    current = cast(Runner, runner.current)
    keys = {label: key for key, label in MODES.items()}

    def then_reset(reactive: solara.Reactive[str], translate: Callable[[str], str] = str) -> Callable[[Any], None]:
        """A new mode or scenario is a new setup: built at once (parameter changes wait for Reset)."""
        def change(value: Any) -> None:
            reactive.set(translate(value))
            reset()
        return change

    solara.ToggleButtonsSingle(value=MODES[mode.value], values=list(keys), on_value=then_reset(mode, keys.__getitem__))
    solara.Select(label="Scenario A", values=PRESETS, value=scenario_a.value, on_value=then_reset(scenario_a))
    solara.Text(DESCRIPTIONS[scenario_a.value], style={"font-size": "12px", "color": "#444", "display": "block"})
    if compare:
        solara.Select(label="Scenario B", values=PRESETS, value=scenario_b.value, on_value=then_reset(scenario_b))
        solara.Text(DESCRIPTIONS[scenario_b.value], style={"font-size": "12px", "color": "#444", "display": "block"})
    solara.InputText(label="Seed", value=seed_text.value, on_value=set_seed, error=bool(seed_error.value),
                     message=seed_error.value or None, classes=["seed-input"])
    solara.Select(label="Speed (weeks per second)", values=SPEEDS, value=speed)
    solara.Checkbox(label=CONTINUE, value=past_end)
    solara.HTML(tag="h4", unsafe_innerHTML="Interventions (now, at the current week)")
    InterventionPanel(runner, screen, compare, note)
    solara.HTML(tag="h4", unsafe_innerHTML="Parameters (apply on Reset"
                + (", to both firms)" if compare else ")"))
    solara.Button(f"Clear changes ({len(overrides.value)})", on_click=lambda: overrides.set({}), text=True,
                  disabled=not overrides.value)
    if overrides.value.get("n_customers", 0) > LARGE_FIRM or overrides.value.get("n_employees", 0) > LARGE_FIRM / 10:
        solara.Warning("A firm this large takes seconds to build and step, and much memory per session.", dense=True)
    ParameterGroups(overrides.value, base, set_override)
    solara.HTML(tag="h4", unsafe_innerHTML="Save and share")
    solara.FileDownload(lambda: timeseries_csv(runner.current), filename="orgsim_timeseries.csv",
                        label="Download the time series (CSV)")
    for index, name in enumerate(current.names):
        solara.FileDownload(lambda i=index: setup_toml(runner.current, i, overrides.value),
                            filename=f"{name}_setup.toml", label=f"Save firm {'AB'[index]}'s setup (TOML)")
    solara.FileDrop(label="Drop a saved setup (TOML) here to load it", on_file=load_file, lazy=False)


@solara.component
def ParameterGroups(overrides: dict[str, Any], base: Any, set_override: Callable[[str, Any], None]) -> None:
    """One group of parameter controls open at a time; the others are not rendered at all: rendering
    all sixty made every render of the page walk them (reacton visits the whole tree)."""
    open_group = solara.use_reactive(cast(str | None, None))
    solara.Style(".parameter-group .v-btn__content { white-space: normal; flex: 1 1 auto; text-align: left; "
                 "justify-content: flex-start; line-height: 1.3; padding: 6px 0; }")
    for group, title in GROUPS.items():
        is_open = open_group.value == group
        solara.Button(title, on_click=lambda g=group, o=is_open: open_group.set(None if o else g), text=True,
                      icon_name="mdi-chevron-up" if is_open else "mdi-chevron-down", block=True,
                      classes=["parameter-group"], style={"text-transform": "none", "height": "auto",
                                                          "min-height": "40px", "letter-spacing": "normal"})
        if is_open:
            for param in parameters_in_group(group):
                preset_value = getattr(base, param.name)
                value = overrides.get(param.name, preset_value)
                ParameterControl(param, value, preset_value, on_value=functools.partial(set_override, param.name))


@solara.component
def InfoPanel(names: list[str]) -> None:
    solara.HTML(tag="h3", unsafe_innerHTML="What orgsim is")
    solara.Text(info.ABOUT, style={"display": "block", "max-width": "62em"})
    solara.HTML(tag="h3", unsafe_innerHTML="How it works: one week, mechanism by mechanism")
    html = "".join(f"<li><b>{title}</b>: {text} <i>({GROUPS[group].split('(')[0].strip()})</i></li>"
                   for group, title, text in info.MECHANISMS if group in GROUPS)
    solara.HTML(tag="ol", unsafe_innerHTML=html, style={"max-width": "62em"})
    for name in names:
        notice, try_ = info.notice_and_try(name)
        solara.HTML(tag="h3", unsafe_innerHTML=f"{name}")
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<p>{DESCRIPTIONS[name]}</p><p><b>Things to notice:</b> {notice}</p><p><b>Things to try:</b> {try_}</p>"),
            style={"max-width": "62em"})
    solara.HTML(tag="h3", unsafe_innerHTML="Keyboard")
    solara.Text(f"{KEYS}.")
