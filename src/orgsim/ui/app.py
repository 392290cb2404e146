"""The orgsim browser UI (Solara): live scenarios, side-by-side comparison, interventions.

Every browser session gets its own models: all state lives in component
hooks (``use_reactive``/``use_ref``), never in module globals. Parameter
controls are generated from the declarations in ``orgsim.parameters``;
intervention buttons from ``orgsim.interventions.ACTIONS``.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from typing import Any, cast

import numpy as np
import solara
import solara.lab
from solara.server import kernel_context

from orgsim.errors import UserError
from orgsim.interventions import ACTIONS
from orgsim.model import OrgModel
from orgsim.parameters import GROUPS, PARAMS_BY_NAME, Param, parameters_in_group
from orgsim.scenario import Scenario, load, scenario_dir
from orgsim.ui import views

PRESETS = sorted(p.stem for p in scenario_dir().glob("*.toml"))
MODES = ["Single firm", "Compare"]
SPEEDS = [1, 2, 5, 10, 20, 50]
MAX_WEEKS_PER_FRAME = 100


def ui_range(param: Param) -> tuple[float, float]:
    """The declared range, narrowed for parameters whose range spans orders of magnitude."""
    assert param.low is not None and param.high is not None and isinstance(param.default, int | float)
    low, high = param.low, param.high
    if param.default and high / abs(param.default) > 50:
        high = param.default * 10
    return low, high


def ui_step(param: Param) -> float:
    """A round slider step (a power of ten) so that declared defaults sit on the grid."""
    if param.kind is int:
        return 1
    low, high = ui_range(param)
    return float(10 ** math.floor(math.log10((high - low) / 100)))


def build_models(names: list[str], seed: int, overrides: dict[str, Any]) -> list[OrgModel]:
    models = []
    for name in names:
        scenario: Scenario = load(name)
        models.append(scenario.with_overrides({**overrides, "seed": seed}, source="UI").model(customer_views=False))
    return models


@solara.component
def ParameterControl(param: Param, value: Any, on_value) -> None:
    caption = f"{param.help} [{param.unit}] ({param.claim})" if param.claim else f"{param.help} [{param.unit}]"
    if param.kind is bool:
        solara.Checkbox(label=param.name, value=value, on_value=on_value)
    elif param.choices:
        solara.Select(label=param.name, values=list(param.choices), value=value, on_value=on_value)
    elif param.kind is int:
        low, high = ui_range(param)
        solara.SliderInt(label=param.name, value=int(value), min=int(low), max=int(high),
                         step=1, on_value=on_value)
    else:
        low, high = ui_range(param)
        solara.SliderFloat(label=param.name, value=float(value), min=low, max=high,
                           step=ui_step(param), on_value=on_value)
    solara.Text(caption, style={"font-size": "11px", "color": "#666", "display": "block", "margin-bottom": "6px"})


@solara.component
def Page() -> None:
    solara.Title("orgsim")
    mode = solara.use_reactive(MODES[0])
    scenario_a = solara.use_reactive("siloed")
    scenario_b = solara.use_reactive("multiplier_led")
    seed = solara.use_reactive(42)
    overrides: solara.Reactive[dict[str, Any]] = solara.use_reactive({})
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(10)
    target = solara.use_reactive("A")
    tick = solara.use_reactive(0)
    message = solara.use_reactive("")

    def chosen() -> list[str]:
        return [scenario_a.value] if mode.value == MODES[0] else [scenario_a.value, scenario_b.value]

    names = chosen()
    # the session's models live across renders; built on the first render
    models = solara.use_ref(cast(list[OrgModel], []))
    layouts = solara.use_ref(cast(list[np.ndarray], []))
    if not models.current:
        models.current = build_models(names, seed.value, overrides.value)
        layouts.current = [views.org_layout(m) for m in models.current]

    def reset() -> None:
        playing.value = False
        try:
            models.current = build_models(chosen(), seed.value, overrides.value)
        except UserError as error:  # e.g. an intervention week past the end
            message.value = str(error)
            return
        layouts.current = [views.org_layout(m) for m in models.current]
        message.value = ""
        tick.value += 1

    def step(weeks: int = 1) -> None:
        for _ in range(weeks):
            for model in models.current:  # lockstep: both firms advance together
                model.step()
        tick.value += 1

    def play_loop() -> None:
        # Renders triggered from this worker thread do not reach the page, so the
        # thread only paces: each frame runs on the session's own event loop,
        # exactly like a click on Step. The model keeps the wall-clock speed; when
        # drawing is slower than that, a frame advances several weeks.
        loop = kernel_context.get_current_context().event_loop
        started, start_week = time.perf_counter(), models.current[0].steps
        while playing.value:
            due = int(speed.value * (time.perf_counter() - started)) - (models.current[0].steps - start_week)
            if due < 1:
                time.sleep(1.0 / speed.value)
                continue
            frame_done = threading.Event()

            def frame(weeks: int = min(due, MAX_WEEKS_PER_FRAME), done: threading.Event = frame_done) -> None:
                try:
                    if playing.value:
                        step(weeks)
                finally:
                    done.set()

            loop.call_soon_threadsafe(frame, context=contextvars.copy_context())
            frame_done.wait()

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    def intervene(action: str) -> None:
        index = 0 if target.value == "A" or len(models.current) == 1 else 1
        models.current[index].intervene(action)
        tick.value += 1

    def set_override(name: str, value: Any) -> None:
        # a slider snapping to its grid is not a change: keep only real departures
        param = PARAMS_BY_NAME[name]
        scenario_value = getattr(load(scenario_a.value).params, name)
        rest = {k: v for k, v in overrides.value.items() if k != name}
        same = value == scenario_value if not isinstance(value, float) else math.isclose(
            value, scenario_value, abs_tol=ui_step(param) / 2)
        overrides.value = rest if same else {**rest, name: value}

    base = load(scenario_a.value).params
    labels = [f"A: {names[0]}"] if len(names) == 1 else [f"A: {names[0]}", f"B: {names[1]}"]
    current = models.current

    with solara.Sidebar():
        solara.ToggleButtonsSingle(value=mode, values=MODES, on_value=lambda _: reset())
        solara.Select(label="Scenario A", values=PRESETS, value=scenario_a, on_value=lambda _: reset())
        if mode.value == MODES[1]:
            solara.Select(label="Scenario B", values=PRESETS, value=scenario_b, on_value=lambda _: reset())
        solara.InputInt(label="Seed", value=seed)
        with solara.Row():
            solara.Button("Reset", on_click=reset, color="primary")
            solara.Button("Step", on_click=lambda: step(1), disabled=playing.value)
            solara.Button("Pause" if playing.value else "Play", on_click=lambda: playing.set(not playing.value))
        solara.Select(label="Speed (weeks per second)", values=SPEEDS, value=speed)
        # solara.Markdown would pull KaTeX from a CDN; plain HTML keeps the page offline
        solara.HTML(tag="div", unsafe_innerHTML="<b>Interventions</b> (at the current week)")
        if mode.value == MODES[1]:
            solara.ToggleButtonsSingle(value=target, values=["A", "B"])
        for action in ACTIONS.values():
            solara.Button(action.label, on_click=lambda a=action.name: intervene(a), outlined=True,
                          style={"margin": "2px", "text-transform": "none"})
        solara.HTML(tag="div", unsafe_innerHTML="<b>Parameters</b> (apply on Reset; changed values override "
                    "the scenario" + (" in both firms)" if mode.value == MODES[1] else ")"))
        # always present, so the panels below keep their place (and their open state)
        solara.Button(f"Clear overrides ({len(overrides.value)})", on_click=lambda: overrides.set({}), text=True,
                      disabled=not overrides.value)
        for group, title in GROUPS.items():
            with solara.Details(summary=title):
                for param in parameters_in_group(group):
                    value = overrides.value.get(param.name, getattr(base, param.name))
                    ParameterControl(param, value, on_value=lambda v, n=param.name: set_override(n, v))

    _ = tick.value  # re-render on every tick
    week = current[0].steps
    with solara.Column():
        if message.value:
            solara.Error(message.value)
        solara.HTML(tag="h2", unsafe_innerHTML=f"Week {week}")
        for label, model in zip(labels, current, strict=True):
            w, frame = model.workforce, model.records[-1]
            solara.Text(
                f"{label} · {w.size} employees · {model.market.size} customers · seed {model.seed} · "
                f"multipliers {int(w.is_multiplier.sum())} · knowledge carriers {int(w.is_knowledge_carrier.sum())} · "
                f"attitude {frame['mean_attitude']:+.2f} · NPS {frame['net_promoter_score']:.0f} · "
                f"active customers {int(frame['active_customers'])}",
                classes=[f"status-{label[0]}"],
            )
        solara.FigureMatplotlib(views.kpi_figure(current, labels), format="png", dependencies=[tick.value])
        solara.FigureMatplotlib(views.org_figure(current, layouts.current, labels), format="png",
                                dependencies=[tick.value])
        with solara.Columns([1, 1]):
            solara.FigureMatplotlib(views.market_figure(current, labels), format="png", dependencies=[tick.value])
            solara.FigureMatplotlib(views.trust_figure(current, labels), format="png", dependencies=[tick.value])
