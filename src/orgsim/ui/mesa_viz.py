"""OrgModel in Mesa's own SolaraViz, with Mesa's own components.

orgsim's classroom UI is :mod:`orgsim.ui.app` (``orgsim ui``). This page shows
that OrgModel is an ordinary Mesa model as well: Mesa's ``SolaraViz`` drives
it (Reset, Play, Step), Mesa's ``make_plot_component`` draws the declared
outputs from ``model.datacollector``, and the sliders are Mesa ``model_params``
generated from orgsim's parameter declarations. Serve it with::

    orgsim ui --mesa            # or: solara run orgsim.ui.mesa_viz

or, in a notebook, display :data:`page`.
"""

from __future__ import annotations

from typing import Any

from mesa.visualization import SolaraViz, make_plot_component

from orgsim.model import OrgModel
from orgsim.parameters import PARAMS_BY_NAME, Param

#: The parameters offered as sliders (the rest keep their declared defaults).
SLIDERS: tuple[str, ...] = (
    "silo_strength", "multiplier_share", "carriers_per_department", "purpose_clarity",
    "ad_share", "marketing_budget", "freedom", "n_customers",
)
#: Mesa plot components: each is one panel of lines from the declared outputs.
PLOTS: tuple[tuple[str, ...], ...] = (
    ("active_customers", "prospects"),
    ("net_promoter_score",),
    ("mean_attitude", "mean_trust", "offer_fit"),
)
SEED = 42


def model_param(param: Param) -> dict[str, Any]:
    """A SolaraViz ``model_params`` entry for one declared parameter (type, range, label)."""
    entry: dict[str, Any] = {"value": param.default, "label": f"{param.name} ({param.unit})"}
    if param.kind is bool:
        return {**entry, "type": "Checkbox"}
    if param.choices:
        return {**entry, "type": "Select", "values": list(param.choices)}
    assert param.low is not None and param.high is not None
    if param.kind is int:
        return {**entry, "type": "SliderInt", "min": int(param.low), "max": int(param.high), "step": 1}
    return {**entry, "type": "SliderFloat", "min": param.low, "max": param.high, "step": (param.high - param.low) / 100}


def model_params(names: tuple[str, ...] = SLIDERS, seed: int = SEED) -> dict[str, Any]:
    """SolaraViz ``model_params``: sliders for ``names`` and a fixed seed."""
    return {"rng": seed, **{name: model_param(PARAMS_BY_NAME[name]) for name in names}}


def make_page(seed: int = SEED) -> Any:
    """The SolaraViz page for a fresh default OrgModel."""
    return SolaraViz(
        OrgModel(rng=seed),
        components=[make_plot_component(list(names)) for names in PLOTS],
        model_params=model_params(seed=seed),
        name="orgsim in Mesa's SolaraViz",
        play_interval=50,
    )


page = make_page()
