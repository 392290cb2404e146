"""Every model parameter, declared once.

Each :class:`Param` carries its name, default, allowed range, unit, help text,
the source claim it models (IDs of docs/claims.md) and the mechanism group
it belongs to. This single table feeds:

* validation (:class:`Parameters`, a pydantic model built from the table),
* the CLI (``orgsim params``, ``--set KEY=VALUE``),
* the documentation (``orgsim docs`` writes the table in docs/model.md),
* the browser UI (one control per parameter, grouped by mechanism).

One step of the model is one week; every rate below is per week.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from orgsim.errors import UserError, did_you_mean
from orgsim.parameter_types import ParameterValues

#: Weekly advertising or touchpoint spend that counts as one unit of intensity.
SPEND_UNIT_EUR = 10_000.0


@dataclass(frozen=True)
class Param:
    """Declaration of one model parameter."""

    name: str
    default: float | int | bool | str
    group: str
    unit: str
    help: str
    claim: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    screen_in: str = "base"  # the preset where the parameter acts in the one-at-a-time screen ("structural": not screened)
    screen: tuple[float, float] | None = None  # screen range when the default one would not reach the effect

    def screen_range(self) -> tuple[float, float]:
        """Low and high end used by the one-at-a-time screen: the allowed range, at most 4x around the default."""
        assert self.low is not None and self.high is not None
        if self.screen is not None:
            return self.screen
        assert isinstance(self.default, int | float), f"{self.name} is not a number"
        if self.default == 0:
            return self.low, self.low + (self.high - self.low) / 4 if self.high > 1 else self.high
        low = max(self.low, self.default / 4) if self.default > 0 else self.low
        high = min(self.high, self.default * 4) if self.default > 0 else self.high
        return low, high

    @property
    def kind(self) -> type:
        return type(self.default)

    def describe_range(self) -> str:
        """Human-readable description of the allowed values."""
        if self.kind is bool:
            return "true or false"
        if self.choices:
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        kind = "an integer" if self.kind is int else "a number"
        return f"{kind} in [{self.low:g}, {self.high:g}]"


def _p(name, default, group, unit, help, claim="", low=None, high=None, choices=None, screen_in="base",
       screen=None) -> Param:
    return Param(name, default, group, unit, help, claim, low, high, choices, screen_in, screen)


#: Mechanism groups in the order the model applies them each week; this order
#: is the model's schedule (``orgsim.model.SCHEDULE``) and a test keeps them equal.
GROUPS: dict[str, str] = {
    "firm": "Firm and market: size, departments, internal network, customer segments",
    "recognition": "Recognition and freedom (mechanism 8)",
    "attitude": "Attitude diffusion with multipliers (mechanism 1)",
    "knowledge": "Knowledge chain and organisational learning (mechanism 2)",
    "marketing_mix": "Advertising against personal touchpoints (mechanism 6)",
    "coordination": "Hand-offs between departments (mechanism 4)",
    "quality": "Customer orientation and weakest-link service quality (mechanism 5)",
    "customers": "Customer experience and the external chain (mechanism 7)",
    "trust": "Evidence-based trust between departments (mechanism 3)",
}

PARAMETERS: tuple[Param, ...] = (
    # --- firm and market ---------------------------------------------------
    _p("n_employees", 200, "firm", "employees", "Number of employees across the seven departments.", "S1.3", 14, 100_000),
    _p("n_customers", 5000, "firm", "customers", "Size of the market: prospects + active + lost customers.", "S0.4", 10, 10_000_000),
    _p("initial_active_share", 0.2, "firm", "share", "Share of the market that is an active customer at week 0.", "S0.1", 0.0, 1.0),
    _p("silo_strength", 0.3, "firm", "0-1", "How closed departments are: 0 = cross-department ties as dense as cross_department_degree allows, 1 = none.", "S2.1, S2.5", 0.0, 1.0),
    _p("within_department_degree", 6.0, "firm", "ties per employee", "Mean number of communication ties to colleagues in the same department.", "S2.1", 0.0, 100.0, screen_in="knowledge_chain"),
    _p("cross_department_degree", 4.0, "firm", "ties per employee", "Mean number of ties to other departments when silo_strength = 0.", "S2.1, S4.2", 0.0, 100.0),
    _p("initial_attitude_mean", -0.2, "firm", "attitude (-1 resist .. +1 support)", "Mean prior view of marketing (the Friedkin-Johnsen anchor) at week 0.", "S0.1", -1.0, 1.0),
    _p("initial_attitude_spread", 0.3, "firm", "attitude units (SD)", "Standard deviation of prior views around the department mean.", "S0.1", 0.0, 1.0),
    _p("left_brain_scepticism", 0.3, "firm", "attitude units", "Extra scepticism of R&D and controlling in their prior view.", "S1.9", 0.0, 1.0),
    _p("marketing_staff_support", 0.6, "firm", "attitude units", "Extra support of marketing staff for their own function in their prior view (assumption: people back their own trade).", "S0.1", 0.0, 1.0),
    _p("leader_attitude", 0.0, "firm", "attitude (-1 .. +1)", "Prior view of the managing director, the strongest multiplier.", "S0.2", -1.0, 1.0),
    _p("performance_mean", 0.75, "firm", "0-1", "Mean individual capability (performance without overload) of employees.", "S1.3", 0.05, 0.95),
    _p("capability_concentration", 8.0, "firm", "beta concentration", "How alike employees' capabilities are (beta distribution a + b; high = homogeneous). Low values put weak links in every team.", "S1.4", 1.0, 1000.0),
    _p("n_segments", 4, "firm", "segments", "Customer segments, each with its own true needs.", "S0.3, S4.5", 1, 64),
    _p("segment_divergence", 0.2, "firm", "share of dimensions", "Probability that a segment's need on a dimension differs from the market's core need.", "S4.5", 0.0, 0.5),
    # --- mechanism 8: recognition -------------------------------------------------
    _p("enable_recognition", True, "recognition", "switch", "Recognition raises engagement; the overlooked lower their support while others are celebrated.", "S1.7, S0.5"),
    _p("recognition_rate", 0.1, "recognition", "share per week", "Share of employees whose contribution is recognised each week.", "S1.7", 0.0, 1.0),
    _p("freedom", 0.5, "recognition", "0-1", "Room and a culture to develop ideas (S0.5).", "S0.5", 0.0, 1.0),
    _p("intrinsic_motivation", 1.0, "recognition", "0-1", "Engagement an employee brings without freedom or recognition; engagement tends to the mean of this, freedom and recognition (equal thirds: an assumption).", "S0.5", 0.0, 1.0),
    _p("engagement_rate", 0.1, "recognition", "per week", "Share of the gap to the engagement target closed each week.", "S1.7", 0.0, 1.0, screen_in="siloed_turnaround"),
    _p("overlooked_penalty", 0.1, "recognition", "attitude units per unit success", "Drop in the attitude target of an overlooked employee per unit of visible success (S1.7: the overlooked stop supporting the favoured).", "S1.7", 0.0, 2.0),
    # --- mechanism 1: attitude ----------------------------------------------
    _p("enable_attitude", True, "attitude", "switch", "Attitudes move toward the Friedkin-Johnsen target on the internal network.", "S0.2, S1.8"),
    _p("attitude_rate", 0.4, "attitude", "per week", "Share of the gap to the Friedkin-Johnsen target closed each week (1 = the classic synchronous update; the equilibrium does not depend on it).", "S1.8", 0.0, 1.0),
    _p("attitude_anchoring", 0.2, "attitude", "0-1", "Weight of an employee's own anchor in their target (1 - susceptibility).", "S0.1, S1.8", 0.0, 1.0),
    _p("anchor_drift", 0.005, "attitude", "per week", "Share of the gap between attitude and anchor that becomes the employee's own view each week (lived experience).", "S1.8", 0.0, 1.0),
    _p("leader_weight", 20.0, "attitude", "x colleague", "Influence of the leader relative to an ordinary colleague.", "S0.2", 1.0, 100.0),
    _p("multiplier_weight", 6.0, "attitude", "x colleague", "Influence of a fully responsible multiplier; a multiplier with responsibility r has 1 + (weight - 1) r.", "S0.2", 1.0, 100.0, screen_in="multiplier_led"),
    _p("multiplier_share", 0.0, "attitude", "share", "Share of employees appointed multipliers at week 0 (from those willing, attitude > 0).", "S0.2", 0.0, 0.5),
    _p("multiplier_selection", "responsibility", "attitude", "-", "How multipliers are found: the most responsible of the willing (S0.2), or at random among the willing.", "S0.2", choices=("responsibility", "random")),
    _p("success_weight", 0.15, "attitude", "attitude units per unit success", "Shift of the attitude target per unit of visible success (net promoter score / 100).", "S0.3, S0.5", 0.0, 1.0),
    _p("results_visibility", 0.3, "attitude", "0-1", "How far results are measured and made visible to staff.", "S0.5", 0.0, 1.0),
    _p("carrier_fan_factor", 2.0, "attitude", "x", "Knowledge carriers see customer successes first and weigh them this many times (assumption).", "S0.3", 1.0, 10.0, screen_in="knowledge_chain"),
    _p("supporter_threshold", 0.2, "attitude", "attitude units", "Attitude above which an employee counts as a supporter (below minus it: a resister).", "S0.1", 0.0, 1.0),
    # --- mechanism 5: quality -------------------------------------------------
    _p("enable_quality", True, "quality", "switch", "Customer orientation follows attitude; service quality is a weakest-link aggregate (off: quality = 1).", "S1.3, S1.4"),
    _p("alignment_rate", 0.05, "quality", "per week", "Speed at which customer orientation follows attitude toward marketing.", "S1.2, S1.8", 0.0, 1.0, screen_in="siloed_turnaround"),
    _p("weakest_link_weight", 0.5, "quality", "0-1", "Weight of the weakest team member in an order's quality (rest: the team mean).", "S1.4", 0.0, 1.0),
    # --- mechanism 2: knowledge ----------------------------------------------
    _p("enable_knowledge", True, "knowledge", "switch", "Internal knowledge chain and organisational learning (March 1991).", "S0.3, S4.2, S1.6"),
    _p("need_dimensions", 50, "knowledge", "dimensions", "Number m of dimensions of the customers' true needs.", "S0.3", 1, 500, screen_in="structural"),
    _p("initial_code_defined", 0.8, "knowledge", "share", "Share of need dimensions the firm's code (official offer) takes a position on at week 0.", "S4.3", 0.0, 1.0, screen_in="siloed"),
    _p("initial_code_accuracy", 0.8, "knowledge", "share", "Probability that a defined dimension of the week-0 code matches the core need (assumption: a firm in business knows most of what it offers).", "S4.3", 0.0, 1.0, screen_in="siloed"),
    _p("contact_learning_rate", 0.05, "knowledge", "per dimension per week", "Probability that a fully engaged, customer-oriented contact employee learns a need of the customer they meet.", "S0.3", 0.0, 1.0),
    _p("knowledge_diffusion_rate", 0.1, "knowledge", "per dimension per week", "Probability that an employee adopts what colleagues pass on about a dimension.", "S0.3, S4.2", 0.0, 1.0, screen_in="knowledge_chain"),
    _p("carriers_per_department", 0, "knowledge", "employees", "Knowledge carriers appointed per department at week 0.", "S0.3", 0, 50),
    _p("socialisation_rate", 0.1, "knowledge", "per dimension per week", "March's p1: probability that an employee adopts the code where they differ (top-down).", "S1.8", 0.0, 1.0, screen_in="knowledge_chain"),
    _p("code_learning_rate", 0.5, "knowledge", "per dimension per week", "March's p2: rate at which the code adopts what the evidence says (bottom-up).", "S1.6", 0.0, 1.0),
    _p("code_evidence_quorum", 5.0, "knowledge", "votes", "Net evidence votes at which the code learns at the full rate p2; below it proportionally slower (one anecdote is not a quorum).", "S1.6, S0.3", 1.0, 1000.0),
    _p("code_learns_from", "offer_departments", "knowledge", "-", "Whose knowledge the code learns from: the departments that build the offer (management, marketing, R&D), or everyone.", "S4.2, S1.6", choices=("offer_departments", "everyone")),
    _p("code_evidence", "customer_insight", "knowledge", "-", "What the code learns from: customer insights that reached the teachers (the firm's own evidence), or March's (1991) comparison with reality (only for the docking).", "S0.3, S1.6", choices=("customer_insight", "reality")),
    _p("insight_forgetting", 0.1, "knowledge", "per dimension per week", "Probability that a customer insight goes stale and no longer counts as evidence (S0.4: the firm must keep listening).", "S0.3, S0.4", 0.0, 1.0),
    _p("knowledge_history_weeks", 104, "knowledge", "weeks", "Weeks of the firm's own knowledge chain before week 0, so that the code starts where the chain has brought it (0: the code as first defined).", "S0.3, S4.3", 0, 1000, screen=(0, 416)),
    _p("market_turbulence", 0.003, "knowledge", "per dimension per week", "Probability that a core customer need flips (market drift).", "S0.4", 0.0, 1.0),
    # --- mechanism 6: marketing mix --------------------------------------------
    _p("enable_marketing_mix", True, "marketing_mix", "switch", "Advertising raises promises and fatigue; touchpoints build bonds.", "S2.2-S2.4"),
    _p("marketing_budget", 10_000.0, "marketing_mix", "EUR per week", "Weekly marketing budget.", "S2.2", 0.0, 1e9),
    _p("ad_share", 0.5, "marketing_mix", "share", "Share of the budget spent on mass advertising; the rest goes to personal touchpoints.", "S2.2, S2.3", 0.0, 1.0),
    _p("ad_conversion", 0.003, "marketing_mix", "per week per 10k EUR", "Probability that an unshielded prospect of average exposure becomes a lead from advertising, per 10,000 EUR of weekly ad spend (Bass p).", "S2.2", 0.0, 1.0),
    _p("ad_exposure_spread", 0.5, "marketing_mix", "coefficient of variation", "How unequally customers are exposed to advertising (gamma-distributed exposure, mean 1).", "S2.2", 0.0, 3.0),
    _p("ad_fatigue_gain", 0.04, "marketing_mix", "per week per 10k EUR", "Growth of ad fatigue per unit of ad spend at average exposure.", "S2.2", 0.0, 1.0),
    _p("ad_fatigue_recovery", 0.05, "marketing_mix", "per week", "Share of ad fatigue that wears off each week.", "S2.2", 0.0, 1.0),
    _p("shield_threshold", 0.5, "marketing_mix", "0-1", "Mean ad fatigue above which a customer shields against advertising (individual thresholds spread around it).", "S2.2", 0.0, 1.0),
    _p("shield_threshold_spread", 0.15, "marketing_mix", "0-1 (SD)", "Standard deviation of the individual shielding thresholds.", "S2.2", 0.0, 0.5),
    _p("ad_annoyance", 0.2, "marketing_mix", "experience units", "Experience lost per unit of ad fatigue: spam annoys.", "S2.2", 0.0, 2.0),
    _p("ad_hype", 0.15, "marketing_mix", "experience units per 10k EUR", "Promise above the real offer per unit of ad spend when the purpose is unclear.", "S2.2, S4.5", 0.0, 2.0),
    _p("promise_memory", 0.97, "marketing_mix", "per week", "Share of last week's promise an unshielded customer still holds when today's promise is smaller; shielded customers keep theirs: broken promises are remembered.", "S2.2, S2.4", 0.0, 1.0, screen_in="ad_blitz"),
    _p("purpose_clarity", 0.5, "marketing_mix", "0-1", "How well marketers know the firm's purpose: promises match the real offer.", "S4.3, S4.5", 0.0, 1.0),
    _p("touchpoint_reach", 0.1, "marketing_mix", "per week per 10k EUR", "Share of active customers met personally per unit of touchpoint spend.", "S2.3, S2.4", 0.0, 1.0),
    _p("touchpoint_bonus", 0.15, "marketing_mix", "experience units", "Experience of a personal touchpoint (feeling taken seriously) above the customer's satisfaction.", "S0.6, S2.4", 0.0, 2.0),
    # --- mechanism 4: coordination -------------------------------------------
    _p("enable_coordination", True, "coordination", "switch", "Orders and leads cross departments; hand-offs fail or are duplicated.", "S2.5, S3.1"),
    _p("order_rate", 0.25, "coordination", "orders per customer per week", "Probability that an active customer orders (or needs service) in a week.", "S1.3", 0.0, 1.0),
    _p("order_value", 250.0, "coordination", "EUR per order", "Revenue of one order.", "S3.4", 0.0, 1e7),
    _p("handoff_base_failure", 0.001, "coordination", "probability per hand-off", "Failure probability of a hand-off between open, trusting, cooperative departments.", "S2.5", 0.0, 1.0, screen=(0.0, 0.01)),
    _p("handoff_silo_failure", 0.03, "coordination", "probability per hand-off", "Added failure probability at silo_strength = 1.", "S2.5", 0.0, 1.0),
    _p("handoff_distrust_failure", 0.015, "coordination", "probability per hand-off", "Added failure probability when the receiving department has no trust in the sender.", "S3.1", 0.0, 1.0),
    _p("handoff_cooperation_failure", 0.008, "coordination", "probability per hand-off", "Added failure probability when the two departments' staff do not cooperate at all (engagement x customer orientation = 0).", "S1.3, S1.8", 0.0, 1.0),
    _p("lead_distrust_loss", 0.5, "coordination", "probability per lead", "Extra share of marketing's leads sales ignores when it has no trust in marketing (assumption; Kotler, Rackham & Krishnaswamy 2006 report sales ignoring marketing's leads).", "S3.1, S3.4", 0.0, 1.0),
    _p("duplicate_work_rate", 0.2, "coordination", "probability per hand-off", "Probability that a hand-off is done twice at full silo and full distrust.", "S2.5, S3.1", 0.0, 1.0),
    _p("duplicate_capacity_cost", 1.0, "coordination", "share of capacity", "Capacity of the receiving department lost per unit share of its hand-offs done twice.", "S2.5, S3.1", 0.0, 5.0),
    # --- mechanism 7: customers -------------------------------------------------
    _p("enable_experience", True, "customers", "switch", "Customers' satisfaction follows their experience (off: it is never updated; new customers start at expectation).", "S0.4, S1.5"),
    _p("enable_referrals", True, "customers", "switch", "Promoters refer prospects through strong and weak ties (off: prospects come only through advertising leads).", "S0.4"),
    _p("enable_reviews", True, "customers", "switch", "Detractors post negative reviews; many at once make a shitstorm.", "S2.2, S2.5"),
    _p("enable_churn", True, "customers", "switch", "Active customers leave, detractors and shielded customers faster.", "S2.5, S2.2"),
    _p("quality_share", 0.65, "customers", "share", "Weight of service quality in the value of an order; the rest is the offer's fit to the customer's segment.", "S1.3, S4.5", 0.0, 1.0),
    _p("expectation_base", 0.38, "customers", "experience units", "Mean expectation of a customer before any advertising promise.", "S0.6", 0.0, 2.0),
    _p("expectation_spread", 0.15, "customers", "experience units (SD)", "Standard deviation of individual expectations.", "S0.6", 0.0, 1.0),
    _p("failure_penalty", 0.5, "customers", "experience units", "Experience lost when an order's hand-off fails.", "S2.5", 0.0, 2.0),
    _p("satisfaction_memory", 0.3, "customers", "per experience", "Weight of the newest experience in a customer's satisfaction.", "S1.5", 0.0, 1.0),
    _p("score_at_expectation", 7.0, "customers", "points (0-10)", "Likelihood-to-recommend score of a customer whose satisfaction is exactly at expectation.", "S1.5", 0.0, 10.0),
    _p("score_per_unit", 10.0, "customers", "points per experience unit", "Score points per experience unit of satisfaction above or below expectation.", "S1.5", 0.1, 100.0),
    _p("customer_network", "clustered", "customers", "-", "Customer social network: clustered strong ties plus random weak ties, or complete (mean field).", "S2.3", choices=("clustered", "complete")),
    _p("strong_ties", 4, "customers", "ties per customer", "Strong ties per customer (family, close colleagues).", "S2.3", 0, 100),
    _p("weak_ties", 12.0, "customers", "ties per customer", "Mean weak ties per customer (acquaintances).", "S2.3", 0.0, 1000.0),
    _p("referral_prob_strong", 0.003, "customers", "per tie per week", "Probability that one promoter interests a prospect with a strong tie, per week.", "S0.4, S2.3", 0.0, 1.0),
    _p("referral_prob_weak", 0.001, "customers", "per tie per week", "Probability that one promoter interests a prospect with a weak tie, per week.", "S0.4", 0.0, 1.0),
    _p("review_prob", 0.02, "customers", "per detractor per week", "Probability that a detractor (score 0-6) posts a public negative review.", "S2.2", 0.0, 1.0),
    _p("review_reach", 100.0, "customers", "prospects per review", "Prospects reached by one public review (wider than one referral).", "S2.2", 0.0, 1e6, screen_in="ad_spam"),
    _p("shitstorm_threshold", 0.01, "customers", "share of active customers", "Reviews in one week above this share of active customers start a shitstorm.", "S2.5", 0.0, 1.0),
    _p("shitstorm_weeks", 4, "customers", "weeks", "How long a shitstorm hits acquisition.", "S2.5", 0, 104, screen_in="ad_spam"),
    _p("shitstorm_penalty", 0.7, "customers", "share", "Share of acquisition lost during a shitstorm.", "S2.5", 0.0, 1.0, screen_in="ad_spam"),
    _p("churn_base", 0.002, "customers", "per week", "Weekly churn of a promoter or passive customer.", "S2.5", 0.0, 1.0),
    _p("churn_negative", 0.02, "customers", "per week", "Weekly churn of a detractor.", "S2.5", 0.0, 1.0),
    _p("shielded_churn", 0.005, "customers", "per week", "Extra weekly churn of a customer who shields against advertising (S2.2: people turn away).", "S2.2", 0.0, 1.0, screen_in="ad_spam"),
    # --- mechanism 3: trust --------------------------------------------------
    _p("enable_trust", True, "trust", "switch", "Beta-reputation trust between departments.", "S3.1-S3.4"),
    _p("marketing_advocacy", 0.6, "trust", "probability per week", "Marketing represents sales' interests to management and shares successes and failures.", "S3.2a", 0.0, 1.0),
    _p("marketing_support", 0.6, "trust", "probability per week", "Marketing supports sales with time, extra miles, equal treatment and coaching.", "S3.2b, S3.3", 0.0, 1.0),
    _p("marketing_buffering", 0.6, "trust", "probability per week", "Marketing buffers pressure from the top while giving leaders a true picture.", "S3.2c", 0.0, 1.0),
    _p("trust_forgetting", 0.05, "trust", "per week", "Share of past evidence forgotten each week (Josang & Ismail forgetting); with 0 the firm starts without evidence.", "S2.4", 0.0, 1.0, screen_in="sales_marketing_partnership"),
    _p("trust_loss_weight", 3.0, "trust", "x positive", "A negative observation counts this many times a positive one: trust is lost fast, rebuilt slowly (Slovic 1993).", "S2.4", 1.0, 20.0),
)

PARAMS_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}


def _field(param: Param) -> tuple[Any, Any]:
    """The pydantic (type, Field) pair for one declaration."""
    from typing import Literal

    if param.choices:
        annotation: Any = Literal[param.choices]
    else:
        annotation = param.kind
    return (
        annotation,
        Field(
            default=param.default,
            ge=param.low,
            le=param.high,
            description=param.help,
            strict=None if param.choices else True,  # no silent casts: "0.5" is not a number
        ),
    )


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False)

    def replace(self, **changes: Any) -> ParameterValues:
        """A validated copy with some parameters changed."""
        return make_parameters({**self.model_dump(), **changes})


#: The validated parameter set of one run (immutable; use ``.replace``).
Parameters: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "Parameters",
    __base__=_Base,
    **{p.name: _field(p) for p in PARAMETERS},
)



def _reject_bool_as_number(values: dict[str, Any], source: str) -> None:
    # pydantic's float fields accept True/False as 1/0; a user who writes
    # `silo_strength = true` has made a mistake we should name.
    for key, value in values.items():
        param = PARAMS_BY_NAME.get(key)
        if param and param.kind in (int, float) and isinstance(value, bool):
            raise UserError(f"{source}: {key} = {value!r} is a boolean; allowed: {param.describe_range()}")


def make_parameters(values: dict[str, Any] | None = None, source: str = "parameters") -> ParameterValues:
    """Validate ``values`` against the declarations; raise UserError naming source and key."""
    values = dict(values or {})
    for key in values:
        if key not in PARAMS_BY_NAME:
            raise UserError(f"{source}: unknown parameter {key!r}{did_you_mean(key, PARAMS_BY_NAME)}")
    _reject_bool_as_number(values, source)
    try:
        return cast(ParameterValues, Parameters(**values))
    except ValidationError as error:
        first = error.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else "?"
        param = PARAMS_BY_NAME.get(key)
        allowed = param.describe_range() if param else first["msg"]
        raise UserError(
            f"{source}: {key} = {first.get('input')!r} is not allowed; allowed: {allowed}"
        ) from None


def parameters_in_group(group: str) -> list[Param]:
    return [p for p in PARAMETERS if p.group == group]


#: Written by :func:`parameter_types_source` (``orgsim docs``); a test keeps it current.
PARAMETER_TYPES_MODULE = "parameter_types.py"


def parameter_types_source() -> str:
    """Source of :mod:`orgsim.parameter_types`: the declarations as a typed, read-only Protocol.

    pydantic builds ``Parameters`` at run time, so a type checker cannot see its
    fields; this generated Protocol lets it check every ``p.<name>``.
    """
    lines = [
        '"""Typed view of the validated parameters, GENERATED from orgsim/parameters.py by `orgsim docs`.',
        "",
        "Do not edit: change the declaration in orgsim/parameters.py and run `orgsim docs`.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any, Literal, Protocol",
        "",
        "",
        "class ParameterValues(Protocol):",
        '    """The validated parameters of one run (immutable); units and ranges: orgsim.parameters."""',
        "",
        "    def replace(self, **changes: Any) -> ParameterValues: ...",
        "",
        "    def model_dump(self) -> dict[str, Any]: ...",
    ]
    for param in PARAMETERS:
        kind = (f"Literal[{', '.join(repr(c) for c in param.choices)}]" if param.choices
                else param.kind.__name__)
        lines += ["", "    @property", f"    def {param.name}(self) -> {kind}: ..."]
    return "\n".join(lines) + "\n"
