"""The model as a whole: schedule, outputs, reproducibility, agent views, week 0, invariants.

The single-mechanism tests switch one mechanism on (``only``) and check one
week of the model against the mechanism's equation, computed here from the
state before the week: the schedule really runs that mechanism, with the
model's own parameters, on the model's own state.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgsim import Customer, Employee, OrgModel
from orgsim import departments as dep
from orgsim.mechanisms import Effects, coordination, customers, knowledge, trust
from orgsim.model import SCHEDULE
from orgsim.outputs import OUTPUT_NAMES
from orgsim.parameters import GROUPS, PARAMS_BY_NAME
from orgsim.state import ACTIVE
from tests.conftest import SWITCHES, assert_same_world, only, small_model, snapshot

SHARES = ("share_supporters", "share_resisters", "knowledge_reach", "offer_fit",
          "trust_sales_in_marketing", "mean_trust", "service_quality", "share_positive",
          "share_neutral", "share_negative", "ad_fatigue", "mean_engagement", "order_failure_rate")


# ------------------------------------------------------------------ schedule and outputs
def test_the_schedule_is_the_order_of_the_parameter_groups():
    assert [stage.group for stage in SCHEDULE] == [g for g in GROUPS if g != "firm"]


def test_every_switch_belongs_to_a_stage():
    stage_switches = {stage.switch for stage in SCHEDULE} - {None}
    assert stage_switches == {f"enable_{stage.group}" for stage in SCHEDULE if stage.switch}
    customer_switches = {p.name for p in PARAMS_BY_NAME.values()
                         if p.group == "customers" and p.name.startswith("enable_")}
    assert set(SWITCHES) == stage_switches | customer_switches
    assert [s for s in SCHEDULE if s.switch is None] == [s for s in SCHEDULE if s.group == "customers"]


def test_only_leaves_only_the_named_switches_on():
    assert only("enable_trust") == {s: s == "enable_trust" for s in SWITCHES}
    with pytest.raises(ValueError, match="enable_magic"):
        only("enable_magic")


def test_timeseries_has_every_output_one_row_per_week():
    frame = small_model(seed=1).run(5)
    assert list(frame.columns) == ["step", *OUTPUT_NAMES]
    assert frame["step"].tolist() == list(range(6))


def test_effects_write_existing_fields_and_reject_unknown_ones():
    world = small_model(seed=1).world
    Effects(firm={"success": 0.25}, week={"lost_leads": 3}).apply_to(world)
    assert world.firm.success == 0.25 and world.week.lost_leads == 3
    with pytest.raises(AttributeError, match="Firm has no field 'sucess'"):
        Effects(firm={"sucess": 0.3}).apply_to(world)


# ------------------------------------------------------------------ reproducibility
@pytest.mark.slow
def test_same_seed_same_run_bit_for_bit():
    a, b = small_model(seed=7, n_employees=80, n_customers=1000), small_model(seed=7, n_employees=80, n_customers=1000)
    pd.testing.assert_frame_equal(a.run(30), b.run(30), check_exact=True)
    assert_same_world(a.world, b.world)


@pytest.mark.slow
def test_other_seed_other_run():
    a = small_model(seed=7, n_employees=80, n_customers=1000).run(20)
    b = small_model(seed=8, n_employees=80, n_customers=1000).run(20)
    assert not a.equals(b)


def test_measure_is_pure():
    model = small_model(seed=5)
    model.run(3)
    before, records, quality = snapshot(model.world), len(model.records), model._service_quality
    first, second = model.measure(), model.measure()
    assert first == second == model.records[-1]
    assert_same_world(model.world, before)
    assert len(model.records) == records and model._service_quality == quality


def test_measure_counts_perceptions_itself_when_the_week_did_not():
    model = small_model(seed=5)
    model.run(3)
    counted_by_the_week = model.measure()
    model.world.week.perception_counts = None
    assert model.measure() == counted_by_the_week


# ------------------------------------------------------------------ Mesa views
def test_agents_are_views_on_the_arrays():
    model = small_model(seed=2, n_employees=60, n_customers=200, multiplier_share=0.1, customer_views=True)
    employees, people = model.agents_by_type[Employee], model.agents_by_type[Customer]
    assert len(employees) == model.workforce.size and len(people) == 200
    assert len(employees.select(lambda e: e.is_multiplier)) == model.workforce.is_multiplier.sum() > 1
    someone = next(e for e in employees if e.index == 5)
    model.workforce.attitude[5] = 0.42
    assert someone.attitude == 0.42
    someone.attitude = -0.3
    assert model.workforce.attitude[5] == -0.3
    assert someone.department == dep.NAMES[model.workforce.department[5]]
    customer = next(c for c in people if c.index == 7)
    customer.satisfaction = 0.25  # score round(7 + 2.5) = 10 (banker's rounding of 9.5 gives 10)
    assert model.market.satisfaction[7] == 0.25
    assert customer.score == customers.score(np.array([0.25]), model.params)[0] and customer.perception == "positive"
    model.market.satisfaction[7] = -0.2
    assert customer.score == 5 and customer.perception == "negative"
    assert customer.expectation == model.market.expectation_base[7] + model.market.promise[7]
    assert customer.status == ("prospect", "active", "lost")[model.market.status[7]]
    assert customer.segment == model.market.segment[7]


def test_employee_knowledge_is_the_share_of_core_needs_believed():
    model = small_model(seed=2)
    w = model.workforce
    for someone in list(model.agents_by_type[Employee])[:5]:
        assert someone.knowledge == np.mean(w.beliefs[someone.index] == model.firm.core_needs)


@pytest.mark.slow
def test_large_markets_get_no_customer_views():
    model = OrgModel(seed=1, n_employees=20, n_customers=30_000)
    assert Customer not in model.agents_by_type
    assert len(model.agents_by_type[Employee]) == model.workforce.size


# ------------------------------------------------------------------ interventions in the run
def test_scheduled_interventions_apply_at_their_week_in_week_order():
    model = small_model(seed=1, interventions=[
        {"week": 3, "action": "start_ad_blitz", "arguments": {"budget_factor": 3.0}},
        {"week": 1, "action": "leader_commits", "arguments": {"attitude": 0.8}},
        {"week": 5, "action": "stop_ad_blitz"},
    ])
    frame = model.run(7)
    assert [(i.week, i.action) for i in model.applied_interventions] == [
        (1, "leader_commits"), (3, "start_ad_blitz"), (5, "stop_ad_blitz")]
    # week 0 records no spend; the blitz runs in weeks 4 and 5 (after three and four weeks)
    assert frame["marketing_spend"].tolist() == [0, 10_000, 10_000, 10_000, 30_000, 30_000, 10_000, 10_000]
    assert model.pending_interventions == []


# ------------------------------------------------------------------ switched off
def test_everything_off_changes_nothing_but_time():
    """All switches off: the state never changes; of the outputs only revenue varies.

    Customers still order at random with coordination off (no hand-off fails),
    so revenue = orders x order value changes from week to week (and is 0 in
    week 0, which records no orders). Everything else stays at its week-0
    value: no spend, no leads, no conversions, no churn, no reviews.
    """
    model = small_model(seed=1, **only())
    week0 = snapshot(model.world)
    frame = model.run(10)
    varying = frame.columns[frame.nunique() > 1].tolist()
    assert varying == ["step", "revenue"]
    assert frame["revenue"].iloc[0] == 0 and (frame["revenue"].iloc[1:] > 0).all()
    for container in ("workforce", "market", "firm"):
        for field in dataclasses.fields(getattr(week0, container)):
            before, after = getattr(getattr(week0, container), field.name), getattr(getattr(model.world, container),
                                                                                     field.name)
            if isinstance(before, np.ndarray):
                assert np.array_equal(before, after), field.name
    assert frame["marketing_spend"].eq(0).all() and frame["handoff_failures"].eq(0).all()


# ------------------------------------------------------------------ one mechanism at a time
def test_only_recognition():
    model = small_model(seed=21, **only("enable_recognition"), recognition_rate=0.3, freedom=0.6,
                        engagement_rate=0.2, intrinsic_motivation=0.9, overlooked_penalty=0.5)
    w = model.workforce
    model.firm.success = 0.4  # last week's visible success (experience is off: it would be 0)
    e, x = w.engagement.copy(), w.attitude.copy()
    model.step()
    recognised = w.recognised
    assert 0 < recognised.sum() < w.size
    np.testing.assert_allclose(w.engagement, e + 0.2 * ((0.9 + 0.6 + recognised) / 3 - e), atol=1e-15)
    np.testing.assert_allclose(w.overlooked_pressure, 0.5 * 0.4 * ~recognised * (1 + x) / 2, atol=1e-15)
    assert (w.overlooked_pressure[~recognised] > 0).all()
    assert np.array_equal(w.attitude, x)  # attitude is off: the pressure acts on nobody


def test_only_attitude():
    model = small_model(seed=22, **only("enable_attitude"), success_weight=0.4, results_visibility=0.5,
                        attitude_rate=0.3, attitude_anchoring=0.25, anchor_drift=0.05)
    w = model.workforce
    w.attitude = np.random.default_rng(0).uniform(-0.8, 0.8, w.size)  # away from the equilibrium
    model.firm.success = -0.3  # visible failure
    x, x0, influence = w.attitude.copy(), w.attitude_anchor.copy(), w.influence.toarray()
    model.step()
    y = 0.75 * influence @ x + 0.25 * x0 + 0.4 * 0.5 * (-0.3) * (1 + x)  # no recognition: no pressure
    np.testing.assert_allclose(w.attitude, x + 0.3 * (y - x), atol=1e-13)
    np.testing.assert_allclose(w.attitude_anchor, x0 + 0.05 * (w.attitude - x0), atol=1e-13)
    assert model.records[-1]["mean_attitude"] == pytest.approx(w.attitude.mean())


def test_only_knowledge_with_turbulence():
    """Every need flips (p4 = 1) and nothing else moves: reach and fit are known from week 0."""
    model = small_model(seed=23, **only("enable_knowledge"), market_turbulence=1.0, contact_learning_rate=0.0,
                        knowledge_diffusion_rate=0.0, socialisation_rate=0.0, code_learning_rate=0.0,
                        insight_forgetting=0.0)
    w, f, m = model.workforce, model.firm, model.market
    core, segments, beliefs, code = f.core_needs.copy(), f.segment_needs.copy(), w.beliefs.copy(), f.code.copy()
    model.step()
    assert np.array_equal(f.core_needs, -core) and np.array_equal(f.segment_needs, -segments)
    assert np.array_equal(w.beliefs, beliefs) and np.array_equal(f.code, code)
    record = model.records[-1]
    rnd = w.department == dep.RND
    assert record["knowledge_reach"] == pytest.approx(np.mean(beliefs[rnd] == -core[None, :]))
    fit = np.mean(code[None, :] == -segments, axis=1)
    assert record["offer_fit"] == pytest.approx(np.mean(fit[m.segment]))


def test_only_marketing_mix():
    """Week-0 fatigue is stationary; every lead converts (no lead is lost, no review, no storm)."""
    model = small_model(seed=24, n_customers=3000, **only("enable_marketing_mix"), marketing_budget=20_000.0,
                        ad_share=0.8, ad_conversion=0.05)
    m = model.market
    fatigue, promise = m.ad_fatigue.copy(), m.promise.copy()
    frame = model.run(3)
    np.testing.assert_allclose(m.ad_fatigue, fatigue, atol=1e-12)
    np.testing.assert_allclose(m.promise, promise, atol=1e-12)
    weeks = frame.iloc[1:]
    assert (weeks["leads"] > 0).all() and weeks["leads"].equals(weeks["new_customers"])
    assert (weeks["lost_leads"] == 0).all() and (weeks["marketing_spend"] == 20_000).all()
    assert frame["active_customers"].diff().iloc[1:].equals(weeks["new_customers"])


def test_only_marketing_mix_and_coordination_lost_leads_do_not_convert():
    """Leads = kept + lost; only the kept convert; the lost share is p_fail of the lead hand-off (4 SE)."""
    model = small_model(seed=24, n_customers=3000, **only("enable_marketing_mix", "enable_coordination"),
                        marketing_budget=20_000.0, ad_share=0.8, ad_conversion=0.05, lead_distrust_loss=0.6)
    p_fail, _, _ = coordination.handoff_probabilities(model.trust_matrix, coordination.cooperation(model.world),
                                                      model.params)
    frame = model.run(10).iloc[1:]
    assert (frame["lost_leads"] > 0).all()
    assert frame["leads"].equals(frame["new_customers"] + frame["lost_leads"])
    n = frame["leads"].sum()
    assert abs(frame["lost_leads"].sum() / n - p_fail[0]) < 4 * np.sqrt(p_fail[0] * (1 - p_fail[0]) / n)


def test_only_coordination():
    """30 weeks: failures per hand-off within 4 SE of p_fail from the (frozen) trust and cooperation."""
    model = small_model(seed=25, n_customers=2000, **only("enable_coordination"), handoff_silo_failure=0.3,
                        handoff_distrust_failure=0.2, order_value=100.0)
    p_fail, _, p_sender = coordination.handoff_probabilities(model.trust_matrix, coordination.cooperation(model.world),
                                                   model.params)
    attempts, failures, sender_failures = np.zeros(p_fail.size), np.zeros(p_fail.size), np.zeros(p_fail.size)
    for _ in range(30):
        model.step()
        week, record = model.world.week, model.records[-1]
        attempts += week.handoff_attempts
        failures += week.handoff_failures
        sender_failures += week.handoff_sender_failures
        good_orders = week.ordering.size - week.order_failed.sum()
        assert record["revenue"] == 100.0 * good_orders
        assert record["order_failure_rate"] == pytest.approx(week.order_failed.mean())
        np.testing.assert_array_equal(model.firm.capacity_load,
                                      coordination.capacity_load(week.handoff_attempts, week.duplicates, 1.0))
    assert attempts[0] == 0 and (attempts[1:] > 2500).all()  # no marketing, no leads; ~100 orders a week
    rate, chance = failures[1:] / attempts[1:], p_fail[1:]
    assert np.all(np.abs(rate - chance) < 4 * np.sqrt(chance * (1 - chance) / attempts[1:]))
    rate, chance = sender_failures[1:] / attempts[1:], p_sender[1:]
    assert np.all(np.abs(rate - chance) < 4 * np.sqrt(chance * (1 - chance) / attempts[1:]))


def test_only_quality():
    model = small_model(seed=26, **only("enable_quality"), alignment_rate=0.3, weakest_link_weight=1.0)
    w = model.workforce
    w.attitude[:] = 0.5
    o = w.alignment.copy()
    model.step()
    np.testing.assert_allclose(w.alignment, o + 0.3 * (0.75 - o), atol=1e-15)
    np.testing.assert_array_equal(w.performance, w.capability)  # coordination off: no load
    q = model.world.week.order_quality
    assert q.size == model.world.week.ordering.size > 0
    assert model.records[-1]["service_quality"] == pytest.approx(q.mean())
    contribution = np.cbrt(w.capability * w.engagement * w.alignment)
    weakest = min(contribution[w.department == d].min() for d in range(dep.N_DEPARTMENTS))
    strongest_min = min(contribution[w.department == d].max() for d in range(dep.N_DEPARTMENTS))
    assert (q >= weakest - 1e-12).all() and (q <= strongest_min + 1e-12).all()  # λ = 1: the team's minimum


def test_only_trust():
    """Full silo, marketing shows all three behaviours: per week P_SM gains exactly 3, the rest fades."""
    model = small_model(seed=27, **only("enable_trust"), silo_strength=1.0, marketing_advocacy=1.0,
                        marketing_support=1.0, marketing_buffering=1.0, trust_forgetting=0.1)
    f = model.firm
    positive, negative = f.trust_positive.copy(), f.trust_negative.copy()
    model.step()
    expected = 0.9 * positive
    expected[dep.SALES, dep.MARKETING] += 3
    np.testing.assert_allclose(f.trust_positive, expected, atol=1e-12)
    np.testing.assert_allclose(f.trust_negative, 0.9 * negative, atol=1e-12)
    t = (expected[dep.SALES, dep.MARKETING] + 1) / (expected[dep.SALES, dep.MARKETING]
                                                    + 0.9 * negative[dep.SALES, dep.MARKETING] + 2)
    assert model.records[-1]["trust_sales_in_marketing"] == pytest.approx(t)


def test_only_experience():
    """Quality 1, no failures, no fatigue, no promises, no touchpoints: x = ω + (1 − ω) fit_g − E0."""
    model = small_model(seed=28, **only("enable_experience"), quality_share=0.6, satisfaction_memory=0.3)
    m, f = model.market, model.firm
    s = m.satisfaction.copy()
    model.step()
    ordering = model.world.week.ordering
    assert ordering.size > 0
    fit = knowledge.segment_fit(f.code, f.segment_needs)[m.segment[ordering]]
    x = 0.6 + 0.4 * fit - m.expectation_base[ordering]
    expected = s.copy()
    expected[ordering] = 0.7 * s[ordering] + 0.3 * x
    np.testing.assert_allclose(m.satisfaction, expected, atol=1e-14)
    perceived = customers.perception(m.satisfaction[m.status == ACTIVE], model.params)
    assert model.records[-1]["net_promoter_score"] == pytest.approx(customers.net_promoter_score(perceived))
    assert model.firm.success == pytest.approx(model.records[-1]["net_promoter_score"] / 100)


def test_only_churn():
    """40 weeks: the churned count is within 4 SE of the summed hazards of the week's active customers."""
    model = small_model(seed=29, n_customers=2000, initial_active_share=0.8, **only("enable_churn"),
                        churn_base=0.01, churn_negative=0.05)
    m, p = model.market, model.params
    expected = variance = churned = 0.0
    for _ in range(40):
        active = m.status == ACTIVE
        hazard = customers.churn_hazard(customers.perception(m.satisfaction, p), m.shielded, p)[active]
        expected, variance = expected + hazard.sum(), variance + np.sum(hazard * (1 - hazard))
        model.step()
        churned += model.records[-1]["churned"]
    assert model.records[-1]["lost_customers"] == churned
    assert abs(churned - expected) < 4 * np.sqrt(variance)


# ------------------------------------------------------------------ week 0
BASE_SEEDS = range(20)


@pytest.fixture(scope="module")
def first_weeks():
    """Weeks 0 and 1 of the base model (scenarios/base.toml: the defaults, 200 employees, 5,000
    customers) for 20 seeds."""
    return [OrgModel(seed=seed, customer_views=False).run(1) for seed in BASE_SEEDS]


# Tolerances from the measured noise (60 seeds x 40 weeks of the base model): the first week's change
# must look like any later week's, not like a burn-in.
@pytest.mark.parametrize(("output", "tolerance"), [
    # first week |Δ| at most 0.028; later weeks: sd 0.010, 99th percentile 0.023, max 0.033
    ("trust_sales_in_marketing", 0.04),
    # first week +0.0012 ± 0.0004, at most 0.0023; later weeks at most 0.0022; started at the anchors,
    # without the success term, it would move by ~0.003 a week, without settling at all by ~0.1
    ("mean_attitude", 0.01),
    # first week at most 0.02 (one code dimension of 50); later weeks at most 0.06
    ("offer_fit", 0.08),
    # first week at most 0.005; later weeks: 99th percentile 0.006, max 0.009
    ("service_quality", 0.02),
])
@pytest.mark.slow
def test_week_zero_is_a_state_the_model_would_hold(first_weeks, output, tolerance):
    jumps = np.array([abs(f[output].iloc[1] - f[output].iloc[0]) for f in first_weeks])
    assert jumps.max() <= tolerance, jumps


@pytest.mark.slow
def test_week_zero_capacity_load_is_the_mean_load_of_the_first_weeks():
    """10 seeds x 20 weeks of the base model. Measured: week-0 load and run mean differ by at most
    0.0024 in any department (SE of the run mean <= 0.0013); tolerance 0.005 of capacity. (An earlier
    version settled sales at 0 against a run mean of 0.08: week 0 ignored the leads sales receives.)"""
    week0, later = [], []
    for seed in range(10):
        model = OrgModel(seed=seed, customer_views=False)
        week0.append(model.firm.capacity_load.copy())
        for _ in range(20):
            model.step()
            later.append(model.firm.capacity_load.copy())
    gap = np.abs(np.mean(week0, axis=0) - np.mean(later, axis=0))
    assert gap.max() < 0.005, gap


def test_week_zero_trust_evidence_without_coordination_holds_only_the_observations_made():
    """Coordination off: no hand-off is ever observed, so week 0 holds meetings and behaviours only."""
    model = small_model(seed=3, enable_coordination=False, trust_forgetting=0.05)
    p = model.params
    meet, good = trust.observation_chances(model.world, p)
    operations = dep.INDEX["operations"]
    stationary = meet[operations, dep.SALES] * good[operations, dep.SALES] / 0.05
    assert model.firm.trust_positive[operations, dep.SALES] == pytest.approx(stationary, rel=1e-12)
    # a bad meeting is an ordinary negative observation (weight 1, not trust_loss_weight)
    assert model.firm.trust_negative[operations, dep.SALES] == pytest.approx(
        meet[operations, dep.SALES] * (1 - good[operations, dep.SALES]) / 0.05, rel=1e-12)
    assert model.params.trust_loss_weight != 1.0


@pytest.mark.parametrize("anchoring", [1e-17, 1e-9, 1.0])
def test_any_anchoring_gives_a_valid_week_zero(anchoring):
    """Without the success term, week-0 attitudes solve x = (1 − a) W x + a x0 (for a → 0: consensus)."""
    model = small_model(seed=1, attitude_anchoring=anchoring, success_weight=0.0, overlooked_penalty=0.0)
    w = model.workforce
    x = w.attitude
    assert np.isfinite(x).all() and np.abs(x).max() <= 1
    residual = x - ((1 - anchoring) * (w.influence @ x) + anchoring * w.attitude_anchor)
    assert np.abs(residual).max() < 1e-9


def test_a_tiny_positive_trust_forgetting_gives_a_valid_week_zero():
    model = small_model(seed=0, trust_forgetting=2.2e-311)
    assert np.isfinite(model.trust_matrix).all()


# ------------------------------------------------------------------ invariants
@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(silo=st.floats(0.0, 1.0), ad_share=st.floats(0.0, 1.0),
       anchoring=st.floats(0.0, 1.0),
       recognition=st.floats(0.0, 1.0), purpose=st.floats(0.0, 1.0), budget=st.floats(0.0, 200_000.0),
       network=st.sampled_from(["clustered", "complete"]),
       forgetting=st.one_of(st.just(0.0), st.floats(1e-9, 1.0)),  # subnormal: see the xfail test above
       order_rate=st.floats(0.0, 1.0), active=st.floats(0.0, 1.0), segments=st.integers(1, 8),
       switches=st.fixed_dictionaries({s: st.booleans() for s in SWITCHES}), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_any_parameters(silo, ad_share, anchoring, recognition, purpose, budget, network,
                                            forgetting, order_rate, active, segments, switches, seed):
    model = OrgModel(seed=seed, n_employees=30, n_customers=400, silo_strength=silo, ad_share=ad_share,
                     attitude_anchoring=anchoring, recognition_rate=recognition, purpose_clarity=purpose,
                     marketing_budget=budget, customer_network=network, trust_forgetting=forgetting,
                     order_rate=order_rate, initial_active_share=active, n_segments=segments,
                     churn_negative=0.3, review_prob=0.2, knowledge_history_weeks=10, **switches)
    frame = model.run(40)
    assert not frame.isna().any().any()
    assert ((frame[list(SHARES)] >= 0) & (frame[list(SHARES)] <= 1)).all().all()
    assert ((frame.prospects + frame.active_customers + frame.lost_customers) == 400).all()
    assert (frame.lost_customers.diff().dropna() >= 0).all()  # lost customers stay lost
    assert frame.mean_attitude.between(-1, 1).all()
    assert frame.net_promoter_score.between(-100, 100).all()
    shares = frame.share_positive + frame.share_neutral + frame.share_negative
    assert np.allclose(shares, np.where(frame.active_customers > 0, 1.0, 0.0), atol=1e-9)
    w = model.workforce
    assert np.isin(w.beliefs, [-1, 0, 1]).all() and np.isin(model.firm.code, [-1, 0, 1]).all()
    assert w.engagement.min() >= 0 and w.engagement.max() <= 1
    assert np.abs(w.attitude).max() <= 1 and (model.firm.capacity_load <= 1).all()


@pytest.mark.slow
def test_flagship_direction_on_default_seed():
    """The flagship contrast on the presets' own seed (about 1.5 s)."""
    from orgsim import load_scenario

    ends = {}
    for name in ("siloed", "multiplier_led"):
        s = load_scenario(name)
        ends[name] = s.model().run(s.steps).iloc[-1]
    for column in ("mean_attitude", "offer_fit", "trust_sales_in_marketing", "net_promoter_score", "active_customers"):
        assert ends["multiplier_led"][column] > ends["siloed"][column], column
