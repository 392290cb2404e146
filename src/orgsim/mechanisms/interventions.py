"""Mechanism 9 — interventions on a timeline (S0.2, S0.3, S2.1, S2.2, S3.2, S1.7).

Each action is declared once here with its arguments (name, default, range,
unit, help); the same declaration validates scenario files, drives the UI's
intervention buttons and the docs. ``apply`` returns the new parameters and
changes to roles and the network; it is called at the start of the chosen
week, from a scenario file or live from the UI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from orgsim import departments as dep
from orgsim import networks
from orgsim.errors import UserError, did_you_mean
from orgsim.mechanisms import attitude
from orgsim.parameters import Param

if TYPE_CHECKING:
    from orgsim.model import OrgModel


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    help: str
    claim: str
    arguments: tuple[Param, ...]
    apply: Callable[..., None]


def _arg(name, default, unit, help, low, high) -> Param:
    return Param(name, default, "intervention", unit, help, "", low, high)


def appoint_multipliers(model: OrgModel, share: float, conviction: float) -> None:
    """The leader wins the most responsible employees as allies (S0.2)."""
    w = model.workforce
    new = attitude.select_multipliers(w.responsibility, w.is_multiplier, share)
    w.is_multiplier |= new
    w.attitude[new] = np.maximum(w.attitude[new], conviction)
    w.attitude_anchor[new] = np.maximum(w.attitude_anchor[new], conviction)
    model.refresh_influence()


def appoint_knowledge_carriers(model: OrgModel, per_department: int) -> None:
    """Per department, the most customer-oriented employees collect and pass on knowledge (S0.3)."""
    w = model.workforce
    candidates_score = np.where(w.is_knowledge_carrier, -np.inf, w.alignment)
    for d in range(dep.N_DEPARTMENTS):  # seven departments, not a loop over agents
        members = np.flatnonzero(w.department == d)
        best = members[np.argsort(-candidates_score[members], kind="stable")[:per_department]]
        w.is_knowledge_carrier[best] = True


def start_ad_blitz(model: OrgModel, budget_factor: float, ad_share: float) -> None:
    """Flood the market: more budget, almost all of it on mass advertising (S2.2)."""
    p = model.params
    if not model.firm.ad_blitz:
        model.firm.ad_blitz = {"marketing_budget": p.marketing_budget, "ad_share": p.ad_share}
    base = model.firm.ad_blitz["marketing_budget"]
    model.params = p.replace(marketing_budget=min(base * budget_factor, 1e9), ad_share=ad_share)


def stop_ad_blitz(model: OrgModel) -> None:
    """Return to the budget and ad share before the blitz."""
    if model.firm.ad_blitz:
        model.params = model.params.replace(**model.firm.ad_blitz)
        model.firm.ad_blitz = {}


def open_silos(model: OrgModel, silo_strength: float) -> None:
    """Departments start talking: cross-department ties up to the new silo strength (S2.1, S4.2)."""
    p, w = model.params, model.workforce
    if silo_strength < p.silo_strength:
        n_new = model.rng.poisson(
            w.size * p.cross_department_degree * (p.silo_strength - silo_strength) / 2
        )
        w.network = networks.add_cross_ties(model.rng, w.network, w.department, int(n_new))
    model.params = p.replace(silo_strength=silo_strength)
    model.refresh_influence()


def start_partnership(model: OrgModel, level: float, joint_ties: float) -> None:
    """Marketing treats sales as internal customers (S3.2, S3.3): advocacy, support,
    buffering at ``level``, and ``joint_ties`` new ties per salesperson to marketing."""
    w = model.workforce
    n_ties = int(round(joint_ties * np.count_nonzero(w.department == dep.SALES)))
    w.network = networks.add_cross_ties(
        model.rng, w.network, w.department, n_ties, between=(dep.SALES, dep.MARKETING)
    )
    model.params = model.params.replace(
        marketing_advocacy=level, marketing_support=level, marketing_buffering=level
    )
    model.refresh_influence()


def start_recognition(model: OrgModel, rate: float, visibility: float) -> None:
    """Share success: recognise contributions and make results visible (S1.7, S0.5)."""
    model.params = model.params.replace(recognition_rate=rate, results_visibility=visibility)


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("appoint_multipliers", "Appoint multipliers", "Win the most responsible employees as multipliers.", "S0.2",
               (_arg("share", 0.1, "share of staff", "Share of employees appointed.", 0.0, 0.5),
                _arg("conviction", 0.8, "-1..1", "Attitude and anchor of the new multipliers.", -1.0, 1.0)),
               appoint_multipliers),
        Action("appoint_knowledge_carriers", "Appoint knowledge carriers", "Name knowledge carriers in every department.", "S0.3",
               (_arg("per_department", 1, "employees", "Carriers per department.", 1, 50),),
               appoint_knowledge_carriers),
        Action("start_ad_blitz", "Start ad blitz", "Multiply the budget and spend it on mass advertising.", "S2.2",
               (_arg("budget_factor", 3.0, "x budget", "Budget multiplier during the blitz.", 1.0, 100.0),
                _arg("ad_share", 0.95, "share", "Share of the budget on advertising.", 0.0, 1.0)),
               start_ad_blitz),
        Action("stop_ad_blitz", "Stop ad blitz", "Return to the budget before the blitz.", "S2.2", (), stop_ad_blitz),
        Action("open_silos", "Open silos", "Create cross-department ties down to a lower silo strength.", "S2.1, S4.2",
               (_arg("silo_strength", 0.1, "0-1", "New silo strength.", 0.0, 1.0),),
               open_silos),
        Action("start_partnership", "Sales-marketing partnership", "Marketing treats sales as internal customers.", "S3.2, S3.3",
               (_arg("level", 0.9, "probability per week", "Advocacy, support and buffering.", 0.0, 1.0),
                _arg("joint_ties", 1.0, "ties per salesperson", "New ties between sales and marketing.", 0.0, 20.0)),
               start_partnership),
        Action("start_recognition", "Start recognition", "Recognise contributions and make results visible.", "S1.7, S0.5",
               (_arg("rate", 0.5, "share per week", "Share of employees recognised each week.", 0.0, 1.0),
                _arg("visibility", 0.8, "0-1", "Results visibility.", 0.0, 1.0)),
               start_recognition),
    )
}


def validate_arguments(action: str, arguments: dict[str, Any], source: str) -> dict[str, Any]:
    """Complete ``arguments`` with defaults; raise UserError naming the source and key."""
    if action not in ACTIONS:
        raise UserError(
            f"{source}: unknown intervention action {action!r}{did_you_mean(action, ACTIONS)}; "
            f"allowed: {', '.join(ACTIONS)}"
        )
    declared = {a.name: a for a in ACTIONS[action].arguments}
    resolved = {name: a.default for name, a in declared.items()}
    for key, value in arguments.items():
        if key not in declared:
            allowed = ", ".join(declared) or "no arguments"
            raise UserError(f"{source}: {action} has no argument {key!r}{did_you_mean(key, declared)}; allowed: {allowed}")
        arg = declared[key]
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        ok = is_number and (arg.kind is float or isinstance(value, int)) and arg.low <= value <= arg.high
        if not ok:
            raise UserError(f"{source}: {action}.{key} = {value!r} is not allowed; allowed: {arg.describe_range()}")
        resolved[key] = arg.kind(value)
    return resolved


def apply(model: OrgModel, action: str, arguments: dict[str, Any]) -> None:
    ACTIONS[action].apply(model, **validate_arguments(action, arguments, "intervention"))
