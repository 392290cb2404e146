"""OrgModel: a firm of employees in departments and its market of customers.

The state lives in numpy arrays (:mod:`orgsim.state`); each week the model
walks the :data:`SCHEDULE`: every mechanism of :mod:`orgsim.mechanisms`
reads the world and returns its effects, which are applied before the next
one runs. The schedule is the single source of the process order (ODD,
docs/model.md). Mesa agents (:mod:`orgsim.agents`) are thin views on that
state for inspection, AgentSet selections and the UI.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd

from orgsim import departments as dep
from orgsim import interventions as actions
from orgsim.agents import Customer, Employee
from orgsim.errors import UserError, signals_unwrapped
from orgsim.mechanisms import (
    Effects,
    attitude,
    coordination,
    customers,
    knowledge,
    marketing_mix,
    quality,
    recognition,
    trust,
)
from orgsim.outputs import OUTPUT_NAMES
from orgsim.parameters import PARAMETERS, make_parameters
from orgsim.state import (
    ACTIVE,
    LOST,
    PROSPECT,
    Week,
    World,
    initial_firm,
    initial_market,
    initial_workforce,
    settle_attitudes,
    status_counts,
)

#: The pairs of different departments (the trust between them).
OFF_DIAGONAL = ~np.eye(dep.N_DEPARTMENTS, dtype=bool)
#: Above this market size customers get no Mesa agent views unless asked for.
CUSTOMER_VIEW_LIMIT = 20_000

Mechanism = Callable[[World, Any, np.random.Generator], Effects]


@dataclass(frozen=True)
class Stage:
    """One mechanism in the weekly schedule: its parameter group, switch, and what runs when off."""

    group: str
    switch: str | None  # None: always runs (its sub-switches act inside)
    run: Mechanism
    off: Mechanism | None = None


#: One week, in order. Each stage sees the effects of the stages before it.
SCHEDULE: tuple[Stage, ...] = (
    Stage("recognition", "enable_recognition", recognition.step),
    Stage("attitude", "enable_attitude", attitude.step),
    Stage("knowledge", "enable_knowledge", knowledge.step),
    Stage("marketing_mix", "enable_marketing_mix", marketing_mix.step),
    Stage("coordination", "enable_coordination", coordination.step, off=coordination.off),
    Stage("quality", "enable_quality", quality.step, off=quality.off),
    Stage("customers", None, customers.step),  # enable_experience/referrals/reviews/churn act inside
    Stage("trust", "enable_trust", trust.step),
)


class OrgModel(mesa.Model):
    """Agent-based model of marketing inside a firm and the firm's market.

    Args:
        params: a validated ``Parameters`` object or a mapping of overrides.
        rng: seeds ``model.rng`` as in every Mesa model (an int seed, or a
            ``numpy.random.Generator``); the run is fully determined by params + seed.
        seed: the same as ``rng`` (an integer), the name orgsim's CLI and scenario files use.
        interventions: scheduled ``{"week", "action", "arguments"}`` entries.
        customer_views: create a Mesa ``Customer`` agent per customer (default:
            only when the market has at most 20,000 customers).
        scenario: a Mesa ``Scenario`` (as SolaraViz passes on Reset): its fields
            are parameter overrides and its ``rng`` the seed.
        **overrides: parameter overrides by name (for Mesa's tooling and the UI);
            the class signature lists every one of them with its default.

    ``model.datacollector`` is a Mesa ``DataCollector`` whose model reporters are
    the declared outputs, so ``mesa.batch_run`` and SolaraViz's plot components
    work on OrgModel; :meth:`timeseries` gives the same numbers as a frame.
    """

    def __init__(
        self,
        params: Any = None,
        *,
        rng: int | np.random.Generator | None = None,
        seed: int | None = None,
        interventions: Iterable[Mapping[str, Any]] = (),
        customer_views: bool | None = None,
        scenario: Any = None,
        **overrides: Any,
    ) -> None:
        if scenario is not None:  # Mesa's (experimental) Scenario: its fields are parameter overrides
            fields = {key: value for key, value in scenario if key not in ("rng", "model")}
            overrides = {**fields, **overrides}
            if rng is None and seed is None:
                rng = scenario.rng
        if seed is not None and rng is not None:
            raise UserError(f"OrgModel: give rng or seed, not both (got rng={rng!r}, seed={seed!r})")
        if seed is None and isinstance(rng, int | np.integer):
            seed = int(rng)
        super().__init__(rng=seed if seed is not None else rng)
        if scenario is not None:
            self.scenario = scenario
        if params is None or isinstance(params, Mapping):
            params = make_parameters({**dict(params or {}), **overrides})
        elif overrides:
            params = params.replace(**overrides)
        self.params = params
        self.seed = seed
        self.pending_interventions = sorted((dict(i) for i in interventions), key=lambda i: i["week"])
        self.applied_interventions: list[actions.Intervention] = []

        # Separate random streams for the market's needs and for who the customers are, so that
        # two configurations run with the same seed share them (common random numbers).
        root = seed if seed is not None else int(self.rng.integers(2**63))
        needs_rng, market_rng = (np.random.default_rng([root, stream]) for stream in (1, 2))
        self.world = World(initial_workforce(params, self.rng), initial_market(params, market_rng),
                           initial_firm(params, needs_rng), Week.empty())
        # Roles at week 0 are the same actions a scenario can take later.
        if params.multiplier_share > 0:
            self._intervene(0, "appoint_multipliers", {"share": params.multiplier_share})
        if params.carriers_per_department > 0:
            self._intervene(0, "appoint_knowledge_carriers", {"per_department": params.carriers_per_department})
        # The build, like a week, runs compiled passes, and a Ctrl-C inside one arrives wrapped in a
        # SystemError: a notebook gets its KeyboardInterrupt, as anywhere.
        with signals_unwrapped():
            self._settle()
            self.records: list[dict[str, float]] = []
            self.datacollector = OutputCollector(
                model_reporters={name: partial(_latest_output, name) for name in OUTPUT_NAMES}
            )

            for index in range(self.workforce.size):
                Employee(self, index)
            if customer_views or (customer_views is None and self.market.size <= CUSTOMER_VIEW_LIMIT):
                for index in range(self.market.size):
                    Customer(self, index)
            self.record()

    # ------------------------------------------------------------------ state
    @property
    def workforce(self):
        return self.world.workforce

    @property
    def market(self):
        return self.world.market

    @property
    def firm(self):
        return self.world.firm

    @property
    def influence(self):
        return self.world.workforce.influence

    @property
    def trust_matrix(self) -> np.ndarray:
        """Expected trust, row department in column department."""
        return trust.expected_trust(self.firm.trust_positive, self.firm.trust_negative)

    def _settle(self) -> None:
        """Week 0 at the stationary state of each mechanism's own dynamics (no burn-in)."""
        p, w, f, m = self.params, self.workforce, self.firm, self.market
        settle_attitudes(w, p)
        # Staff know the official offer where it takes a position; elsewhere they hold their own views.
        w.beliefs = np.where(f.code[None, :] != 0, f.code[None, :], w.beliefs).astype(np.int8)
        if p.enable_knowledge:  # the firm's own history: its chain has shaped the code before week 0
            for week in range(p.knowledge_history_weeks):
                self.world.week.number = 2**32 + week
                knowledge.step(self.world, p, self.rng).apply_to(self.world)
            self.world.week = Week.empty()
        marketing_mix.settle(m, p)
        # Success (NPS) moves attitudes, attitudes move cooperation, quality and so success:
        # a first pass finds the success of the week-0 firm, the second settles everything on it.
        for final in (False, True):
            coop = coordination.cooperation(self.world)
            for _ in range(100):  # trust and hand-off success depend on each other: fixed point
                before = self.trust_matrix
                p_fail, _, p_sender = coordination.handoff_probabilities(self.trust_matrix, coop, p)
                if p.enable_trust:
                    f.trust_positive, f.trust_negative = trust.stationary_evidence(self.world, p, 1.0 - p_sender)
                if p.enable_coordination:
                    f.capacity_load = coordination.expected_load(self.trust_matrix, coop, p)
                if np.max(np.abs(self.trust_matrix - before)) < 1e-10:
                    break
            if not p.enable_coordination:
                p_fail = np.zeros_like(p_fail)
            w.performance = w.capability * (1.0 - f.capacity_load[w.department])
            self._service_quality = quality.expected_quality(w, p, self.rng) if p.enable_quality else 1.0
            order_failure = 1.0 - np.prod(1.0 - p_fail[dep.CUSTOMER_FACING])
            customers.settle(self.world, p, order_failure, self.rng)
            if not final and p.enable_attitude:
                attitude.settle(self.world, p)
                w.alignment = (1 + w.attitude) / 2

    def refresh_influence(self) -> None:
        """Recompute the attitude influence matrix after roles or ties changed."""
        from orgsim.state import influence_matrix

        self.workforce.influence = influence_matrix(self.workforce, self.params)

    # ----------------------------------------------------------- interventions
    def intervene(self, action: str, **arguments: Any) -> actions.Intervention:
        """Apply an intervention now, before the next week (from the UI or a notebook)."""
        return self._intervene(self.steps, action, arguments)

    def _intervene(self, week: int, action: str, arguments: Mapping[str, Any]) -> actions.Intervention:
        done = actions.apply(self, week, action, dict(arguments))
        self.applied_interventions.append(done)
        return done

    def _apply_scheduled(self, weeks_done: int) -> None:
        while self.pending_interventions and self.pending_interventions[0]["week"] <= weeks_done:
            entry = self.pending_interventions.pop(0)
            self._intervene(weeks_done, entry["action"], entry.get("arguments", {}))

    # --------------------------------------------------------------------- step
    def step(self) -> None:
        """One week (Mesa has already counted it in ``self.steps``): walk the schedule."""
        with signals_unwrapped():  # a Ctrl-C in a compiled pass (the schedule's, the outputs'), as in the build
            self._apply_scheduled(weeks_done=self.steps - 1)
            self.world.week = Week.empty()
            self.world.week.number = self.steps
            for stage in SCHEDULE:
                run = stage.run if stage.switch is None or getattr(self.params, stage.switch) else stage.off
                if run is not None:
                    run(self.world, self.params, self.rng).apply_to(self.world)
            if self.world.week.ordering.size and self.params.enable_quality:
                self._service_quality = float(self.world.week.order_quality.mean())
            self.record()

    # ------------------------------------------------------------------ outputs
    def measure(self) -> dict[str, float]:
        """This week's outputs (see orgsim.outputs.OUTPUTS); reads the state, changes nothing."""
        p, w, f, m, week = self.params, self.workforce, self.firm, self.market, self.world.week
        counts = status_counts(m.status)  # prospects, active and lost customers
        n_active = int(counts[ACTIVE])
        perception_counts = week.perception_counts  # counted by the customers' mechanism this week
        if perception_counts is None:  # week 0, or a week without it
            perception_counts = customers.perception_counts(customers.perception(m.satisfaction[m.status == ACTIVE], p))
        share = perception_counts / max(n_active, 1)  # negative, neutral, positive
        trust_matrix = self.trust_matrix
        rnd = w.department == dep.RND
        fit = knowledge.segment_fit(f.code, f.segment_needs)
        n_orders = week.ordering.size
        failed_orders = int(week.order_failed.sum())
        leads = week.leads.size + week.lost_leads
        return {
            "step": self.steps,
            "mean_attitude": float(w.attitude.mean()),
            "share_supporters": np.count_nonzero(w.attitude > p.supporter_threshold) / w.size,
            "share_resisters": np.count_nonzero(w.attitude < -p.supporter_threshold) / w.size,
            "mean_engagement": float(w.engagement.mean()),
            "knowledge_reach": float(knowledge.knowledge_share(w.beliefs[rnd], f.core_needs).mean()),
            "offer_fit": float(np.mean(fit[m.segment])),
            "trust_sales_in_marketing": float(trust_matrix[dep.SALES, dep.MARKETING]),
            "mean_trust": float(trust_matrix[OFF_DIAGONAL].mean()),
            "handoff_failures": float(week.handoff_failures.sum()),
            "order_failure_rate": failed_orders / n_orders if n_orders else 0.0,
            "duplicate_work": float(week.duplicates.sum()),
            "service_quality": self._service_quality,
            "prospects": float(counts[PROSPECT]),
            "active_customers": float(n_active),
            "lost_customers": float(counts[LOST]),
            "new_customers": float(week.new_customers),
            "leads": float(leads),
            "lost_leads": float(week.lost_leads),
            "churned": float(week.churned),
            "share_positive": float(share[2]),
            "share_neutral": float(share[1]) if n_active else 0.0,
            "share_negative": float(share[0]),
            "net_promoter_score": customers.net_promoter_score_of_counts(*perception_counts),
            "referrals": float(week.referrals),
            "negative_reviews": float(week.negative_reviews),
            "shitstorm": float(m.shitstorm_weeks_left > 0),
            "ad_fatigue": float(m.ad_fatigue.mean()),
            "revenue": float((n_orders - failed_orders) * p.order_value),
            "marketing_spend": float(week.spend),
            "acquisition_cost": week.spend / max(week.new_customers, 1.0),
        }

    def record(self) -> None:
        self.records.append(self.measure())
        self.datacollector.collect(self)

    def timeseries(self) -> pd.DataFrame:
        """One row per week (week 0 is the initial state); columns: step + OUTPUT_NAMES."""
        return pd.DataFrame.from_records(self.records, columns=["step", *OUTPUT_NAMES])

    def run(self, steps: int, progress: bool = False) -> pd.DataFrame:
        """Simulate ``steps`` weeks and return the timeseries."""
        weeks: Iterable[int] = range(steps)
        if progress:  # only then: even a disabled bar takes a process-wide lock, costly in a batch worker
            from tqdm.auto import tqdm

            weeks = tqdm(weeks, desc="weeks", unit="wk", delay=1.0)
        for _ in weeks:
            self.step()
        return self.timeseries()


class OutputCollector(mesa.DataCollector):
    """Mesa's DataCollector of the declared outputs, filled from the week's record.

    Its reporters, ``model_vars`` and data frames are Mesa's own (batch_run and SolaraViz read them);
    only ``collect`` takes the values the model has just measured instead of calling each reporter
    and deep-copying its float (a seventh of a small firm's week). Once a reporter is added or
    replaced, Mesa's own ``collect`` collects them all.
    """

    def __init__(self, model_reporters: Mapping[str, Any]) -> None:
        super().__init__(model_reporters=dict(model_reporters))
        self._declared = dict(self.model_reporters)

    def collect(self, model: mesa.Model) -> None:
        if self.model_reporters != self._declared or self.agent_reporters or self.agenttype_reporters:
            return super().collect(model)
        self._collection_steps.append(model.time)
        record = model.records[-1]
        for name, values in self.model_vars.items():
            values.append(record[name])
        return None


def _latest_output(name: str, model: OrgModel) -> float:
    """A DataCollector model reporter: this week's value of one declared output."""
    return model.records[-1][name]


def _signature() -> inspect.Signature:
    """OrgModel's signature with every declared parameter as a keyword, for Mesa's tooling and IDEs."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    fixed = [
        inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
        *(inspect.Parameter(name, keyword, default=default)
          for name, default in (("rng", None), ("seed", None), ("interventions", ()), ("customer_views", None),
                                ("scenario", None))),
    ]
    declared = [inspect.Parameter(p.name, keyword, default=p.default, annotation=p.kind) for p in PARAMETERS]
    return inspect.Signature([*fixed, *declared])


OrgModel.__signature__ = _signature()
