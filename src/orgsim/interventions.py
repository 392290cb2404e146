"""Interventions: actions a trainer, a scenario file or a notebook takes on a model (S0.2, S0.3, S1.6–S1.8, S2.1, S2.2, S3.2, S4.3).

Interventions are not a mechanism: they act on a model between weeks. Each
action is declared once here with its arguments (name, default, range, unit,
help — the same :class:`~orgsim.parameters.Param` machinery as the model's
parameters); the declaration validates scenario files, drives the UI's
buttons and the docs. An applied action is an :class:`Intervention` that
keeps its own undo data, so ``stop_ad_blitz`` restores exactly what the
blitz it stops replaced.

No action sets anyone's conviction by decree (S0.2): appointing multipliers
gives willing, responsible people more reach; only the leader can commit
(their own decision, S0.2 "the leader is the strongest multiplier").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from orgsim import departments as dep
from orgsim import networks
from orgsim.errors import UserError, did_you_mean
from orgsim.mechanisms import attitude
from orgsim.parameters import Param

if TYPE_CHECKING:
    from orgsim.model import OrgModel


@dataclass
class Intervention:
    """An action applied to a model at a week, with what it needs to be undone."""

    week: int
    action: str
    arguments: dict[str, Any]
    undo: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week, "action": self.action, "arguments": dict(self.arguments), "note": self.note}


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    help: str
    claim: str
    arguments: tuple[Param, ...]
    apply: Callable[..., str]  # (model, intervention, **arguments) -> a note on what happened


def _arg(name, default, unit, help, low, high) -> Param:
    return Param(name, default, "intervention", unit, help, "", low, high)


def _set_params(model: OrgModel, done: Intervention, **changes: Any) -> None:
    """Change parameters, keeping the old values in the intervention's undo data."""
    done.undo.update({k: getattr(model.params, k) for k in changes})
    model.params = model.params.replace(**changes)


def appoint_multipliers(model: OrgModel, done: Intervention, share: float) -> str:
    w, p = model.workforce, model.params
    new = attitude.select_multipliers(w.attitude, w.responsibility, w.is_multiplier, share,
                                      p.multiplier_selection, model.rng)
    w.is_multiplier |= new
    model.refresh_influence()
    return f"{int(new.sum())} willing employees appointed (asked for {round(share * w.size)})"


def leader_commits(model: OrgModel, done: Intervention, attitude: float) -> str:
    w = model.workforce
    done.undo["attitude"] = float(w.attitude[w.is_leader][0])
    w.attitude[w.is_leader] = attitude
    w.attitude_anchor[w.is_leader] = attitude
    return f"leader's own view set to {attitude:+.2f}"


def appoint_knowledge_carriers(model: OrgModel, done: Intervention, per_department: int) -> str:
    w = model.workforce
    score = np.where(w.is_knowledge_carrier, -np.inf, w.alignment)
    before = int(w.is_knowledge_carrier.sum())
    for d in range(dep.N_DEPARTMENTS):  # seven departments, not a loop over agents
        members = np.flatnonzero(w.department == d)
        best = members[np.argsort(-score[members], kind="stable")[:per_department]]
        w.is_knowledge_carrier[best] = True
    return f"{int(w.is_knowledge_carrier.sum()) - before} knowledge carriers appointed"


def start_ad_blitz(model: OrgModel, done: Intervention, budget_factor: float, ad_share: float) -> str:
    p = model.params
    _set_params(model, done, marketing_budget=min(p.marketing_budget * budget_factor, 1e9), ad_share=ad_share)
    return f"budget {model.params.marketing_budget:,.0f} EUR/week, {ad_share:.0%} on ads"


def stop_ad_blitz(model: OrgModel, done: Intervention) -> str:
    running = [i for i in model.applied_interventions if i.action == "start_ad_blitz" and not i.undo.get("stopped")]
    if not running:
        return "no ad blitz was running: nothing changed"
    blitz = running[-1]
    restore = {k: v for k, v in blitz.undo.items() if k != "stopped"}
    model.params = model.params.replace(**restore)
    blitz.undo["stopped"] = True
    return f"budget back to {restore['marketing_budget']:,.0f} EUR/week"


def open_silos(model: OrgModel, done: Intervention, silo_strength: float) -> str:
    p, w = model.params, model.workforce
    n_new = 0
    if silo_strength < p.silo_strength:
        n_new = int(model.rng.poisson(w.size * p.cross_department_degree * (p.silo_strength - silo_strength) / 2))
        w.network = networks.add_cross_ties(model.rng, w.network, w.department, n_new)
    _set_params(model, done, silo_strength=silo_strength)
    model.refresh_influence()
    return f"{n_new} new cross-department ties"


def start_partnership(model: OrgModel, done: Intervention, level: float, joint_ties: float) -> str:
    w = model.workforce
    n_ties = int(round(joint_ties * np.count_nonzero(w.department == dep.SALES)))
    w.network = networks.add_cross_ties(model.rng, w.network, w.department, n_ties, between=(dep.SALES, dep.MARKETING))
    _set_params(model, done, marketing_advocacy=level, marketing_support=level, marketing_buffering=level)
    model.refresh_influence()
    return f"{n_ties} joint sales-marketing ties"


def start_recognition(model: OrgModel, done: Intervention, rate: float, visibility: float) -> str:
    _set_params(model, done, recognition_rate=rate, results_visibility=visibility)
    return ""


def culture_not_control(model: OrgModel, done: Intervention, socialisation_rate: float,
                        code_learning_rate: float, freedom: float) -> str:
    _set_params(model, done, socialisation_rate=socialisation_rate, code_learning_rate=code_learning_rate,
                freedom=freedom)
    return ""


def clarify_purpose(model: OrgModel, done: Intervention, purpose_clarity: float) -> str:
    _set_params(model, done, purpose_clarity=purpose_clarity)
    return ""


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("appoint_multipliers", "Appoint multipliers",
               "Give the most responsible of the willing (attitude > 0) more reach; their views stay their own.", "S0.2",
               (_arg("share", 0.1, "share of staff", "Share of employees to appoint (fewer if fewer are willing).", 0.0, 0.5),),
               appoint_multipliers),
        Action("leader_commits", "Leader commits", "The managing director decides to back marketing: the leader's own view.",
               "S0.2", (_arg("attitude", 0.9, "attitude (-1 .. +1)", "The leader's new view.", -1.0, 1.0),),
               leader_commits),
        Action("appoint_knowledge_carriers", "Appoint knowledge carriers",
               "Name the most customer-oriented employees of every department knowledge carriers.", "S0.3",
               (_arg("per_department", 1, "employees", "Carriers per department.", 1, 50),),
               appoint_knowledge_carriers),
        Action("start_ad_blitz", "Start ad blitz", "Multiply the budget and spend it on mass advertising.", "S2.2",
               (_arg("budget_factor", 3.0, "x budget", "Budget multiplier during the blitz.", 1.0, 100.0),
                _arg("ad_share", 0.95, "share", "Share of the budget on advertising.", 0.0, 1.0)),
               start_ad_blitz),
        Action("stop_ad_blitz", "Stop ad blitz", "Return to the budget and ad share before the last running blitz.",
               "S2.2", (), stop_ad_blitz),
        Action("open_silos", "Open silos", "Create cross-department ties down to a lower silo strength.", "S2.1, S4.2",
               (_arg("silo_strength", 0.2, "0-1", "New silo strength.", 0.0, 1.0),),
               open_silos),
        Action("start_partnership", "Sales-marketing partnership", "Marketing treats sales as internal customers.",
               "S3.2, S3.3",
               (_arg("level", 0.9, "probability per week", "Advocacy, support and buffering.", 0.0, 1.0),
                _arg("joint_ties", 1.0, "ties per salesperson", "New ties between sales and marketing.", 0.0, 20.0)),
               start_partnership),
        Action("start_recognition", "Start recognition", "Recognise contributions and make results visible.",
               "S1.7, S0.5",
               (_arg("rate", 0.4, "share per week", "Share of employees recognised each week.", 0.0, 1.0),
                _arg("visibility", 0.8, "0-1", "Results visibility.", 0.0, 1.0)),
               start_recognition),
        Action("culture_not_control", "Culture instead of control",
               "Less conformity pressure, more learning from below, room for ideas.", "S1.6, S1.8, S0.5",
               (_arg("socialisation_rate", 0.05, "per dimension per week", "New socialisation rate (March's p1).", 0.0, 1.0),
                _arg("code_learning_rate", 0.9, "per dimension per week", "New code-learning rate (March's p2).", 0.0, 1.0),
                _arg("freedom", 0.7, "0-1", "New freedom.", 0.0, 1.0)),
               culture_not_control),
        Action("clarify_purpose", "Clarify the purpose", "Marketers learn what the firm stands for and what not.",
               "S4.3, S4.5", (_arg("purpose_clarity", 0.9, "0-1", "New purpose clarity.", 0.0, 1.0),),
               clarify_purpose),
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


def apply(model: OrgModel, week: int, action: str, arguments: dict[str, Any]) -> Intervention:
    """Validate and apply an action; the returned Intervention is recorded by the model."""
    resolved = validate_arguments(action, arguments, "intervention")
    done = Intervention(week, action, resolved)
    done.note = ACTIONS[action].apply(model, done, **resolved)
    return done
