"""OrgModel: a firm of employees in departments and its market of customers.

The state lives in numpy arrays (:mod:`orgsim.state`); each week the model
applies the mechanisms of :mod:`orgsim.mechanisms` in the order written in
:meth:`OrgModel.step`. Mesa agents (:mod:`orgsim.agents`) are thin views on
that state for inspection, AgentSet selections and the UI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd

from orgsim import departments as dep
from orgsim.agents import Customer, Employee
from orgsim.mechanisms import (
    attitude,
    coordination,
    customers,
    knowledge,
    marketing_mix,
    quality,
    recognition,
    trust,
)
from orgsim.mechanisms import interventions as actions
from orgsim.outputs import OUTPUT_NAMES
from orgsim.parameters import make_parameters
from orgsim.state import ACTIVE, LOST, PROSPECT, initial_firm, initial_market, initial_workforce

#: Above this market size customers get no Mesa agent views unless asked for.
CUSTOMER_VIEW_LIMIT = 20_000


class OrgModel(mesa.Model):
    """Agent-based model of marketing inside a firm and the firm's market.

    Args:
        params: a validated ``Parameters`` object or a mapping of overrides.
        seed: seeds ``model.rng``; the run is fully determined by params + seed.
        interventions: scheduled ``{"week", "action", "arguments"}`` entries.
        customer_views: create a Mesa ``Customer`` agent per customer (default:
            only when the market has at most 20,000 customers).
        **overrides: parameter overrides by name (for Mesa's tooling and the UI).
    """

    def __init__(
        self,
        params: Any = None,
        *,
        seed: int | None = None,
        interventions: Iterable[Mapping[str, Any]] = (),
        customer_views: bool | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(rng=seed)
        if params is None or isinstance(params, Mapping):
            params = make_parameters({**dict(params or {}), **overrides})
        elif overrides:
            params = params.replace(**overrides)
        self.params = params
        self.seed = seed
        self.pending_interventions = sorted(
            (dict(i) for i in interventions), key=lambda i: i["week"]
        )
        self.applied_interventions: list[dict[str, Any]] = []

        self.workforce = initial_workforce(params, self.rng)
        self.firm = initial_firm(params, self.rng)
        self.market = initial_market(params, self.rng)
        sizes = np.bincount(self.workforce.department, minlength=dep.N_DEPARTMENTS)
        self.department_size = sizes
        self.department_start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.offer_makers = np.isin(self.workforce.department, dep.OFFER_DEPARTMENTS)

        # Roles at week 0 are the same actions a scenario can take later.
        if params.multiplier_share > 0:
            actions.appoint_multipliers(self, params.multiplier_share, params.multiplier_conviction)
        if params.carriers_per_department > 0:
            actions.appoint_knowledge_carriers(self, params.carriers_per_department)
        self.refresh_influence()
        w = self.workforce

        self._week_counts: dict[str, float] = dict.fromkeys(
            ("handoff_failures", "duplicate_work", "new_customers", "referrals",
             "negative_reviews", "revenue", "marketing_spend"), 0.0)
        self._service_quality = 0.0
        self.records: list[dict[str, float]] = []

        for index in range(w.size):
            Employee(self, index)
        if customer_views or (customer_views is None and self.market.size <= CUSTOMER_VIEW_LIMIT):
            for index in range(self.market.size):
                Customer(self, index)
        self.record()

    # ------------------------------------------------------------------ helpers
    def refresh_influence(self) -> None:
        """Recompute the attitude influence matrix after roles or ties changed."""
        w, p = self.workforce, self.params
        self.influence = attitude.influence_matrix(
            w.network, w.is_multiplier, w.is_leader, p.multiplier_weight, p.leader_weight
        )

    @property
    def trust_matrix(self) -> np.ndarray:
        """Expected trust, row department in column department."""
        return trust.expected_trust(self.firm.trust_positive, self.firm.trust_negative)

    def intervene(self, action: str, **arguments: Any) -> None:
        """Apply an intervention now, before the next week (from the UI or a notebook)."""
        self._intervene(self.steps, action, arguments)

    def _intervene(self, week: int, action: str, arguments: Mapping[str, Any]) -> None:
        actions.apply(self, action, dict(arguments))
        self.applied_interventions.append({"week": week, "action": action, "arguments": dict(arguments)})

    def _apply_scheduled(self, weeks_done: int) -> None:
        while self.pending_interventions and self.pending_interventions[0]["week"] <= weeks_done:
            entry = self.pending_interventions.pop(0)
            self._intervene(weeks_done, entry["action"], entry.get("arguments", {}))

    # --------------------------------------------------------------------- step
    def step(self) -> None:
        """One week. Mesa has already counted it in ``self.steps``."""
        self._apply_scheduled(weeks_done=self.steps - 1)
        p, w, f, m, rng = self.params, self.workforce, self.firm, self.market, self.rng
        success = f.net_promoter_score / 100.0
        trust_now = self.trust_matrix

        # 1. attitude diffusion with multipliers
        if p.enable_attitude:
            w.attitude = attitude.step(
                w.attitude, w.attitude_anchor, self.influence, p.attitude_anchoring,
                success, p.success_weight, p.results_visibility, w.is_knowledge_carrier,
            )
        # 8. recognition and freedom
        if p.enable_recognition:
            w.engagement, w.attitude = recognition.step(
                w.engagement, w.attitude, success, p.recognition_rate, p.freedom,
                p.engagement_rate, p.overlooked_penalty, rng,
            )
        # 5a. customer orientation follows attitude; performance after last week's load
        if p.enable_quality:
            w.alignment = quality.alignment_step(w.alignment, w.attitude, p.alignment_rate)
            w.performance = quality.performance(w.capability, f.capacity_load)
        # 2. knowledge chain and organisational learning
        if p.enable_knowledge:
            self._knowledge_step(trust_now)
        offer_fit = knowledge.offer_fit(f.code, f.true_needs)

        # 6. marketing mix
        if p.enable_marketing_mix:
            ad_intensity, touch_intensity = marketing_mix.intensities(p.marketing_budget, p.ad_share)
            m.ad_fatigue = marketing_mix.fatigue_step(
                m.ad_fatigue, ad_intensity, p.ad_fatigue_gain, p.ad_fatigue_recovery
            )
            spend = p.marketing_budget
        else:
            ad_intensity = touch_intensity = spend = 0.0
        shielded = m.ad_fatigue > p.shield_threshold
        m.expectation = marketing_mix.expectation(
            shielded, p.expectation_base, p.ad_hype, ad_intensity, p.purpose_clarity
        )

        # 4 + 5. orders cross the departments; their quality is a weakest link
        active = m.status == ACTIVE
        ordering = np.flatnonzero(active & (rng.random(m.size) < p.order_rate))
        p_fail, p_dup = coordination.handoff_probabilities(
            trust_now, p.silo_strength, p.handoff_base_failure, p.handoff_silo_failure,
            p.handoff_distrust_failure, p.duplicate_work_rate,
        )
        if not p.enable_coordination:
            p_fail, p_dup = np.zeros_like(p_fail), np.zeros_like(p_dup)
        outcome = coordination.process_orders(ordering.size, p_fail, p_dup, p.duplicate_capacity_cost, rng)
        f.capacity_load = outcome.capacity_load
        if p.enable_quality:
            contribution = quality.contribution(w.performance, w.engagement, w.alignment)
            order_quality = quality.order_quality(
                contribution, self.department_start, self.department_size,
                ordering.size, p.weakest_link_weight, rng,
            )
        else:
            order_quality = np.ones(ordering.size)

        # 7. customer experience and the external chain
        touched = active & marketing_mix.touched(m.size, touch_intensity, p.touchpoint_reach, rng)
        if p.enable_experience:
            target = m.satisfaction + p.touchpoint_bonus * touched
            target[ordering] = customers.experience(
                order_quality, offer_fit, m.expectation[ordering], outcome.order_failed,
                touched[ordering], p.failure_penalty, p.touchpoint_bonus,
            )
            had_experience = touched.copy()
            had_experience[ordering] = True
            m.satisfaction = np.where(
                had_experience,
                customers.satisfaction_step(m.satisfaction, target, p.satisfaction_memory),
                m.satisfaction,
            )
        perceived = customers.perception(m.satisfaction, p.perception_threshold)

        n_reviews = 0
        if p.enable_reviews:
            n_negative = int(np.count_nonzero(active & (perceived == customers.NEGATIVE)))
            n_reviews = int(rng.binomial(n_negative, p.review_prob))
            m.shitstorm_weeks_left = customers.shitstorm_weeks_left(
                m.shitstorm_weeks_left, n_reviews, int(active.sum()), p.shitstorm_threshold,
                p.shitstorm_weeks,
            )

        new_customers, referrals, lead_failures = 0, 0, 0
        prospects = np.flatnonzero(m.status == PROSPECT)
        if p.enable_referrals and prospects.size:
            promoters = active & (perceived == customers.POSITIVE)
            weak_count, strong_count = customers.promoter_ties(promoters, m.strong_ties, m.weak_ties)
            p_ad, p_referral = customers.conversion_probability(
                marketing_mix.ad_pressure(
                    m.ad_fatigue[prospects], shielded[prospects], p.ad_conversion, ad_intensity
                ),
                weak_count[prospects], strong_count[prospects],
                p.referral_prob_weak, p.referral_prob_strong,
            )
            by_ad = rng.random(prospects.size) < p_ad
            by_referral = rng.random(prospects.size) < p_referral
            read_review = rng.random(prospects.size) < customers.review_exposure(
                n_reviews, p.review_reach, prospects.size
            )
            keeps = 1.0 - p.review_deterrence * read_review
            if m.shitstorm_weeks_left > 0:
                keeps = keeps * (1.0 - p.shitstorm_penalty)
            lead_lost = rng.random(prospects.size) < p_fail[coordination.LEAD_HANDOFF]
            interested = by_ad | by_referral
            converts = interested & (rng.random(prospects.size) < keeps) & ~lead_lost
            lead_failures = int(np.count_nonzero(interested & lead_lost))
            converted = prospects[converts]
            m.status[converted] = ACTIVE
            m.satisfaction[converted] = p.new_customer_satisfaction
            new_customers = converted.size
            referrals = int(np.count_nonzero(converts & by_referral))

        if p.enable_churn:
            leaves = active & (rng.random(m.size) < customers.churn_probability(
                perceived, p.churn_base, p.churn_negative))
            m.status[leaves] = LOST

        # 3. trust: evidence from this week's marketing behaviour and hand-offs
        if p.enable_trust:
            engagement_by_department = np.bincount(
                w.department, weights=w.engagement, minlength=dep.N_DEPARTMENTS
            ) / self.department_size
            positive, negative = trust.weekly_observations(
                (p.marketing_advocacy, p.marketing_support, p.marketing_buffering),
                outcome.handoff_success if p.enable_coordination else None,
                engagement_by_department, p.silo_strength, rng,
            )
            f.trust_positive, f.trust_negative = trust.update(
                f.trust_positive, f.trust_negative, positive, negative,
                p.trust_forgetting, p.trust_loss_weight,
            )

        revenue = (ordering.size - int(outcome.order_failed.sum())) * p.order_value
        self._service_quality = float(order_quality.mean()) if ordering.size else self._service_quality
        self._week_counts = {
            "handoff_failures": float(outcome.failures.sum() + lead_failures),
            "duplicate_work": float(outcome.duplicates.sum()),
            "new_customers": float(new_customers),
            "referrals": float(referrals),
            "negative_reviews": float(n_reviews),
            "revenue": float(revenue),
            "marketing_spend": float(spend),
        }
        self.record()

    def _knowledge_step(self, trust_now: np.ndarray) -> None:
        p, w, f, rng = self.params, self.workforce, self.firm, self.rng
        f.true_needs = knowledge.turbulence(f.true_needs, p.market_turbulence, rng)
        # Engaged, customer-oriented front-line staff listen to customers (S0.3, S1.2).
        listening = w.engagement * w.alignment
        learn = p.contact_learning_rate * listening * w.is_customer_contact
        w.beliefs, w.insight = knowledge.contact_learning(w.beliefs, w.insight, f.true_needs, learn, rng)
        if p.knowledge_diffusion_rate > 0:
            sender_weight = listening * np.where(w.is_knowledge_carrier, p.carrier_weight, 1.0)
            weights = knowledge.diffusion_weights(w.network, w.department, trust_now, sender_weight)
            w.beliefs, w.insight = knowledge.diffusion(
                w.beliefs, w.insight, weights, p.knowledge_diffusion_rate, w.is_knowledge_carrier, rng
            )
        w.beliefs, w.insight, f.code = knowledge.march_step(
            w.beliefs, w.insight, f.code, f.true_needs, p.socialisation_rate, p.code_learning_rate, rng,
            teachers=None if p.code_learns_from == "everyone" else self.offer_makers,
        )

    # ------------------------------------------------------------------ outputs
    def measure(self) -> dict[str, float]:
        """This week's outputs (see orgsim.outputs.OUTPUTS)."""
        p, w, f, m = self.params, self.workforce, self.firm, self.market
        counts = np.bincount(m.status, minlength=3)
        active = m.status == ACTIVE
        n_active = int(counts[ACTIVE])
        perceived = customers.perception(m.satisfaction[active], p.perception_threshold)
        share = np.bincount(perceived + 1, minlength=3) / max(n_active, 1)  # negative, neutral, positive
        f.net_promoter_score = 100.0 * (share[2] - share[0])
        trust_matrix = self.trust_matrix
        off_diagonal = ~np.eye(dep.N_DEPARTMENTS, dtype=bool)
        rnd = w.department == dep.RND
        week = self._week_counts
        return {
            "step": self.steps,
            "mean_attitude": float(w.attitude.mean()),
            "share_supporters": float(np.mean(w.attitude > p.supporter_threshold)),
            "share_resisters": float(np.mean(w.attitude < -p.supporter_threshold)),
            "mean_engagement": float(w.engagement.mean()),
            "knowledge_reach": float(knowledge.knowledge_share(w.beliefs[rnd], f.true_needs).mean()),
            "offer_fit": knowledge.offer_fit(f.code, f.true_needs),
            "trust_sales_in_marketing": float(trust_matrix[dep.SALES, dep.MARKETING]),
            "mean_trust": float(trust_matrix[off_diagonal].mean()),
            "handoff_failures": week["handoff_failures"],
            "duplicate_work": week["duplicate_work"],
            "service_quality": self._service_quality,
            "prospects": float(counts[PROSPECT]),
            "active_customers": float(n_active),
            "lost_customers": float(counts[LOST]),
            "new_customers": week["new_customers"],
            "share_positive": float(share[2]),
            "share_neutral": float(share[1]) if n_active else 0.0,
            "share_negative": float(share[0]),
            "net_promoter_score": float(f.net_promoter_score),
            "referrals": week["referrals"],
            "negative_reviews": week["negative_reviews"],
            "shitstorm": float(m.shitstorm_weeks_left > 0),
            "ad_fatigue": float(m.ad_fatigue.mean()),
            "revenue": week["revenue"],
            "marketing_spend": week["marketing_spend"],
            "acquisition_cost": week["marketing_spend"] / max(week["new_customers"], 1.0),
        }

    def record(self) -> None:
        self.records.append(self.measure())

    def timeseries(self) -> pd.DataFrame:
        """One row per week (week 0 is the initial state); columns: step + OUTPUT_NAMES."""
        return pd.DataFrame.from_records(self.records, columns=["step", *OUTPUT_NAMES])

    def run(self, steps: int, progress: bool = False) -> pd.DataFrame:
        """Simulate ``steps`` weeks and return the timeseries."""
        from tqdm.auto import tqdm

        for _ in tqdm(range(steps), desc="weeks", unit="wk", disable=not progress, delay=1.0):
            self.step()
        return self.timeseries()
