"""The wiring of ``OrgModel``: known answers at every point where the model joins the mechanisms.

One week (``OrgModel.step``) applies the scheduled interventions due, clears
the week, walks ``SCHEDULE`` (a stage runs its mechanism when its switch is on,
its ``off`` variant, if any, when it is off; the customers stage always runs)
applying each stage's effects before the next stage runs, updates the service
quality and records the outputs. Week 0 (``OrgModel._settle``) settles trust,
load, performance, quality, customers and attitudes on each other.

The tests use tiny models (14 employees, a few dozen customers), one mechanism
on and the rest off (``only``), and check exact values: a replay of the week
from the state before it, with the mechanisms the week should run written out
here, must give the same world bit for bit; stand-in stages show the order and
what each stage sees; the outputs are read off a hand-built state.
"""

import copy
import dataclasses

import numpy as np
import pytest

from orgsim import departments as dep
from orgsim import model as model_module
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
from orgsim.model import SCHEDULE, OrgModel, Stage
from orgsim.outputs import OUTPUT_NAMES
from orgsim.state import ACTIVE, LOST, PROSPECT, Week, initial_firm, initial_market
from tests.conftest import SWITCHES, as_numba_delivers, assert_same_world, only

TINY = {"n_employees": 14, "n_customers": 40, "knowledge_history_weeks": 2, "customer_views": False}

#: The schedule, written out: (group, switch, what runs when on, what runs when off).
EXPECTED_SCHEDULE = (
    ("recognition", "enable_recognition", recognition.step, None),
    ("attitude", "enable_attitude", attitude.step, None),
    ("knowledge", "enable_knowledge", knowledge.step, None),
    ("marketing_mix", "enable_marketing_mix", marketing_mix.step, None),
    ("coordination", "enable_coordination", coordination.step, coordination.off),
    ("quality", "enable_quality", quality.step, quality.off),
    ("customers", None, customers.step, None),
    ("trust", "enable_trust", trust.step, None),
)


def tiny(*switches, seed=3, **overrides):
    """A 14-employee model with only the named switches on."""
    return OrgModel(seed=seed, **{**TINY, **only(*switches), **overrides})


def expected_runs(params):
    """The mechanisms one week should run under ``params``, in order (from EXPECTED_SCHEDULE)."""
    runs = []
    for _, switch, on, off in EXPECTED_SCHEDULE:
        run = on if switch is None or getattr(params, switch) else off
        if run is not None:
            runs.append(run)
    return runs


def test_the_schedule_is_the_documented_order_of_mechanisms_switches_and_off_variants():
    assert [(s.group, s.switch, s.run, s.off) for s in SCHEDULE] == list(EXPECTED_SCHEDULE)


# ------------------------------------------------------------------ the loop, with stand-in stages
def recording_schedule(log):
    """SCHEDULE with every mechanism replaced by a stand-in that logs what it sees.

    Stage k (1..8) appends to ``log`` (group, variant, the spend it saw, the week number, and whether it
    got the model's world, parameters and random generator), then writes spend = 10 · seen + k: after
    the week, the spend's digits are the stages that ran, in order.
    """

    def stand_in(k, group, variant):
        def run(world, p, rng):
            log.append((group, variant, world.week.spend, world.week.number, world, p, rng))
            return Effects(week={"spend": 10 * world.week.spend + k})

        return run

    return tuple(
        dataclasses.replace(stage, run=stand_in(k, stage.group, "run"),
                            off=None if stage.off is None else stand_in(k, stage.group, "off"))
        for k, stage in enumerate(SCHEDULE, start=1)
    )


def test_every_stage_runs_once_in_order_on_the_models_world_params_and_rng_and_sees_the_stages_before_it(
        monkeypatch):
    model = tiny(*SWITCHES)
    log = []
    monkeypatch.setattr(model_module, "SCHEDULE", recording_schedule(log))
    model.world.week.spend = 999.0  # last week's: cleared before the first stage runs
    model.world.week.lost_leads = 7
    model.step()
    assert [entry[:2] for entry in log] == [(s.group, "run") for s in SCHEDULE]
    assert [entry[2] for entry in log] == [0.0, 1.0, 12.0, 123.0, 1234.0, 12345.0, 123456.0, 1234567.0]
    assert model.world.week.spend == 12345678.0  # the last stage's effects are applied too
    assert model.world.week.lost_leads == 0  # a new week
    for _, _, _, number, world, p, rng in log:
        assert number == 1 and world is model.world and p is model.params and rng is model.rng
    assert model.records[-1]["marketing_spend"] == 12345678.0  # recorded after the last stage
    log.clear()
    model.step()
    assert [entry[3] for entry in log] == [2] * 8 and log[0][2] == 0.0


@pytest.mark.parametrize("switch", [switch for _, switch, _, _ in EXPECTED_SCHEDULE if switch])
def test_a_switch_turns_its_stage_off_or_to_its_off_variant(monkeypatch, switch):
    model = tiny(*SWITCHES)
    log = []
    monkeypatch.setattr(model_module, "SCHEDULE", recording_schedule(log))
    model.params = model.params.replace(**{switch: False})
    model.step()
    group = switch.removeprefix("enable_")
    ran = [entry[:2] for entry in log]
    has_off = group in ("coordination", "quality")
    assert ran == [(s.group, "off" if s.group == group else "run") for s in SCHEDULE
                   if s.group != group or has_off]


def test_everything_off_runs_the_off_variants_and_the_customers(monkeypatch):
    model = tiny()
    log = []
    monkeypatch.setattr(model_module, "SCHEDULE", recording_schedule(log))
    model.step()
    assert [entry[:2] for entry in log] == [("coordination", "off"), ("quality", "off"), ("customers", "run")]
    assert model.world.week.spend == 567.0


# ------------------------------------------------------------------ one mechanism on: replay the week
@pytest.mark.parametrize("switches", [(), *((s,) for s in SWITCHES), tuple(SWITCHES)],
                         ids=lambda s: "+".join(s) or "none")
def test_one_week_is_the_scheduled_mechanisms_applied_in_order(switches):
    """The week, replayed from the state before it with the mechanisms written out here, bit for bit."""
    model = tiny(*switches, seed=11)
    replay, rng = copy.deepcopy(model.world), copy.deepcopy(model.rng)
    model.step()
    replay.week = Week.empty()
    replay.week.number = 1
    for run in expected_runs(model.params):
        run(replay, model.params, rng).apply_to(replay)
    assert_same_world(model.world, replay)
    assert rng.bit_generator.state == model.rng.bit_generator.state
    assert model.records[-1] == model.measure() and len(model.records) == 2


def test_service_quality_is_the_mean_quality_of_this_weeks_orders():
    model = tiny("enable_quality", order_rate=1.0, n_customers=60, initial_active_share=0.5)
    week0 = model._service_quality
    assert 0 < week0 < 1
    model.step()
    quality_of_orders = model.world.week.order_quality
    assert quality_of_orders.size == np.count_nonzero(model.market.status == ACTIVE) > 0
    assert model._service_quality == float(quality_of_orders.mean()) != week0
    assert model.records[-1]["service_quality"] == model._service_quality


def test_without_orders_service_quality_keeps_its_last_value():
    model = tiny("enable_quality", order_rate=0.0)
    week0 = model._service_quality
    model.step()
    assert model.world.week.ordering.size == 0
    assert model._service_quality == week0 and model.records[-1]["service_quality"] == week0


def test_with_quality_off_every_order_is_perfect_and_service_quality_stays_one():
    model = tiny(order_rate=1.0, initial_active_share=0.5)
    assert model._service_quality == 1.0
    model.step()
    assert model.world.week.ordering.size > 0 and (model.world.week.order_quality == 1.0).all()
    assert model.records[-1]["service_quality"] == 1.0


# ------------------------------------------------------------------ scheduled interventions
def test_scheduled_interventions_apply_before_the_week_after_their_week_in_week_order():
    """An intervention for week w acts after w weeks, before week w + 1; ties keep their given order."""
    schedule = [
        {"week": 2, "action": "clarify_purpose", "arguments": {"purpose_clarity": 0.9}},
        {"week": 0, "action": "start_recognition", "arguments": {"rate": 0.3, "visibility": 0.4}},
        {"week": 2, "action": "leader_commits", "arguments": {"attitude": 0.5}},
        {"week": 4, "action": "start_ad_blitz"},  # no arguments: the declared defaults
    ]
    model = tiny(interventions=schedule)
    w = model.workforce
    leader_before = float(w.attitude[w.is_leader][0])
    assert model.applied_interventions == [] and len(model.pending_interventions) == 4
    applied = []
    for _ in range(5):
        model.step()
        applied.append([(i.week, i.action) for i in model.applied_interventions])
    assert applied == [
        [(0, "start_recognition")],
        [(0, "start_recognition")],
        [(0, "start_recognition"), (2, "clarify_purpose"), (2, "leader_commits")],
        [(0, "start_recognition"), (2, "clarify_purpose"), (2, "leader_commits")],
        [(0, "start_recognition"), (2, "clarify_purpose"), (2, "leader_commits"), (4, "start_ad_blitz")],
    ]
    p = model.params
    assert (p.recognition_rate, p.results_visibility, p.purpose_clarity) == (0.3, 0.4, 0.9)
    assert p.marketing_budget == 30_000.0  # the blitz's default factor 3 on 10,000 EUR
    assert w.attitude[w.is_leader][0] == 0.5 != leader_before
    assert model.pending_interventions == []


def test_an_intervention_due_later_waits():
    model = tiny(interventions=[{"week": 3, "action": "clarify_purpose", "arguments": {"purpose_clarity": 0.9}}])
    for _ in range(3):
        model.step()
        assert model.params.purpose_clarity == 0.5 and model.applied_interventions == []
    model.step()
    assert model.params.purpose_clarity == 0.9


# ------------------------------------------------------------------ outputs read the right arrays
def hand_built():
    """A model whose state is set by hand so that every output has a known value (14 employees, 10 customers)."""
    model = OrgModel(seed=1, n_employees=14, n_customers=10, need_dimensions=4, n_segments=2, customer_views=False,
                     **only())
    w, m, f, week = model.workforce, model.market, model.firm, model.world.week
    assert w.department.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]  # R&D (4): employees 8 and 9
    w.attitude = np.array([0.5, -0.5, 0.1, 0.3, -0.3, 0.0, 0.0, 0.0, 0.9, -0.9, 0.25, -0.1, 0.2, -0.2])
    w.engagement = np.arange(14) / 20.0
    f.core_needs = np.array([1, -1, 1, 1], dtype=np.int8)
    w.beliefs = np.tile(-f.core_needs, (14, 1)).astype(np.int8)  # everyone wrong ...
    w.beliefs[8] = [1, -1, -1, 0]  # ... but R&D: half right
    w.beliefs[9] = [1, -1, 1, 1]  # and all right
    f.code = np.array([1, 1, 1, 0], dtype=np.int8)
    f.segment_needs = np.array([[1, -1, 1, 1], [1, 1, 1, -1]], dtype=np.int8)  # fit 0.5 and 0.75
    m.segment = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    f.trust_positive, f.trust_negative = np.zeros((7, 7)), np.zeros((7, 7))
    np.fill_diagonal(f.trust_positive, 8.0)  # self-trust 0.9: not part of the mean trust
    f.trust_positive[dep.SALES, dep.MARKETING], f.trust_negative[dep.SALES, dep.MARKETING] = 3.0, 1.0  # 4/6
    f.trust_negative[dep.MARKETING, dep.SALES] = 2.0  # 1/4
    m.status = np.array([PROSPECT, ACTIVE, ACTIVE, ACTIVE, ACTIVE, LOST, ACTIVE, PROSPECT, PROSPECT, LOST],
                        dtype=np.int8)
    # active: two promoters (10, 10), three passives (7, 8, 8); the others far off either way
    m.satisfaction = np.array([5.0, 0.3, 0.25, 0.0, 0.05, -5.0, 0.1, 5.0, -5.0, -5.0])
    m.ad_fatigue = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    m.shitstorm_weeks_left = 1  # this week is the storm's last
    week.handoff_failures = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    week.duplicates = np.array([0.0, 1.0, 0.0, 2.0, 0.0])
    week.ordering = np.array([1, 2, 3, 6])
    week.order_failed = np.array([True, False, False, False])
    week.leads = np.array([0, 7, 8])
    week.lost_leads, week.new_customers, week.churned = 2, 3, 1
    week.referrals, week.negative_reviews, week.spend = 2, 4, 20_000.0
    model._service_quality = 0.42
    return model


def test_every_output_reads_its_own_array():
    measured = hand_built().measure()
    expected = {
        "step": 0,
        "mean_attitude": 0.25 / 14,
        "share_supporters": 4 / 14,  # 0.5, 0.3, 0.9, 0.25 (0.2 is not above 0.2)
        "share_resisters": 3 / 14,  # -0.5, -0.3, -0.9 (-0.2 is not below -0.2)
        "mean_engagement": 91 / 20 / 14,
        "knowledge_reach": 0.75,  # R&D only: 2/4 and 4/4
        "offer_fit": (3 * 0.5 + 7 * 0.75) / 10,
        "trust_sales_in_marketing": 4 / 6,
        "mean_trust": (40 * 0.5 + 4 / 6 + 1 / 4) / 42,
        "handoff_failures": 15.0,
        "order_failure_rate": 0.25,
        "duplicate_work": 3.0,
        "service_quality": 0.42,
        "prospects": 3.0,
        "active_customers": 5.0,
        "lost_customers": 2.0,
        "new_customers": 3.0,
        "leads": 5.0,  # three that reached sales and two lost on the way
        "lost_leads": 2.0,
        "churned": 1.0,
        "share_positive": 0.4,
        "share_neutral": 0.6,
        "share_negative": 0.0,
        "net_promoter_score": 40.0,
        "referrals": 2.0,
        "negative_reviews": 4.0,
        "shitstorm": 1.0,
        "ad_fatigue": 0.55,
        "revenue": 3 * 250.0,
        "marketing_spend": 20_000.0,
        "acquisition_cost": 20_000.0 / 3,
    }
    assert list(measured) == ["step", *OUTPUT_NAMES]
    assert measured == pytest.approx(expected, abs=1e-12)


def test_outputs_of_a_quiet_week_and_of_a_single_customer():
    model = hand_built()
    m, week = model.market, model.world.week
    m.shitstorm_weeks_left = 0
    week.ordering, week.order_failed = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    week.new_customers = 0
    m.status = np.where(np.arange(10) == 4, ACTIVE, PROSPECT).astype(np.int8)  # one customer, a detractor
    m.satisfaction[4] = -0.3
    one = model.measure()
    assert (one["share_positive"], one["share_neutral"], one["share_negative"]) == (0.0, 0.0, 1.0)
    assert one["net_promoter_score"] == -100.0 and one["shitstorm"] == 0.0
    assert one["order_failure_rate"] == 0.0 and one["revenue"] == 0.0
    assert one["acquisition_cost"] == 20_000.0  # spend over max(new customers, 1)
    m.status[:] = PROSPECT
    nobody = model.measure()
    assert (nobody["share_positive"], nobody["share_neutral"], nobody["share_negative"]) == (0.0, 0.0, 0.0)
    assert nobody["net_promoter_score"] == 0.0 and nobody["active_customers"] == 0.0


def test_the_trust_matrix_is_the_beta_mean_of_the_firms_evidence():
    model = hand_built()
    t = model.trust_matrix
    assert t[dep.SALES, dep.MARKETING] == 4 / 6 and t[dep.MARKETING, dep.SALES] == 1 / 4 and t[0, 0] == 0.9
    assert model.influence is model.workforce.influence


# ------------------------------------------------------------------ week 0
def test_week_zero_trust_and_load_are_at_their_joint_fixed_point():
    model = tiny("enable_trust", "enable_coordination", silo_strength=0.6, handoff_distrust_failure=0.5,
                 duplicate_work_rate=0.8, trust_forgetting=0.2)
    p, w, f = model.params, model.workforce, model.firm
    t, coop = model.trust_matrix, coordination.cooperation(model.world)
    assert np.ptp(t[~np.eye(7, dtype=bool)]) > 0.05  # not the uninformed prior
    _, _, p_sender = coordination.handoff_probabilities(t, coop, p)
    positive, negative = trust.stationary_evidence(model.world, p, 1.0 - p_sender)
    np.testing.assert_allclose(f.trust_positive, positive, rtol=1e-8)
    np.testing.assert_allclose(f.trust_negative, negative, rtol=1e-8)
    np.testing.assert_allclose(f.capacity_load, coordination.expected_load(t, coop, p), rtol=1e-8)
    assert f.capacity_load.max() > 0.05
    np.testing.assert_array_equal(w.performance, w.capability * (1.0 - f.capacity_load[w.department]))


def test_week_zero_trust_without_coordination_and_no_load(monkeypatch):
    model = tiny("enable_trust", trust_forgetting=0.2)
    f = model.firm
    positive, negative = trust.stationary_evidence(model.world, model.params, np.ones(5))
    np.testing.assert_allclose(f.trust_positive, positive, rtol=1e-12)
    np.testing.assert_allclose(f.trust_negative, negative, rtol=1e-12)
    assert (f.capacity_load == 0).all()
    np.testing.assert_array_equal(model.workforce.performance, model.workforce.capability)


@pytest.mark.parametrize("coordination_on", [True, False])
def test_week_zero_customers_settle_on_the_order_failure_of_the_customer_facing_hand_offs(monkeypatch,
                                                                                         coordination_on):
    seen = []
    settle = customers.settle

    def spy(world, p, order_failure, rng):
        seen.append(order_failure)
        return settle(world, p, order_failure, rng)

    monkeypatch.setattr(customers, "settle", spy)
    switches = ("enable_coordination",) if coordination_on else ()
    model = tiny(*switches, handoff_silo_failure=0.2, handoff_base_failure=0.05)
    p_fail, _, _ = coordination.handoff_probabilities(model.trust_matrix, coordination.cooperation(model.world),
                                                      model.params)
    facing = 1.0 - (1.0 - p_fail[1]) * (1.0 - p_fail[2]) * (1.0 - p_fail[3])  # not leads, not feedback to R&D
    assert len(seen) == 2  # once on a first guess of success, once on the settled attitudes
    assert seen[-1] == pytest.approx(facing if coordination_on else 0.0, abs=1e-15)
    if coordination_on:
        assert facing > 0.1 and 1 - np.prod(1 - p_fail) > facing + 0.01


def test_week_zero_attitudes_settle_on_the_first_pass_and_orientation_follows():
    model = tiny("enable_attitude", success_weight=0.5, results_visibility=1.0)
    w = model.workforce
    np.testing.assert_allclose(w.attitude, np.clip(attitude.target(model.world, model.params), -1, 1), atol=1e-11)
    np.testing.assert_array_equal(w.alignment, (1 + w.attitude) / 2)
    assert np.ptp(w.attitude) > 0.1


def test_week_zero_staff_know_the_official_offer_where_it_takes_a_position():
    model = tiny()
    code, beliefs = model.firm.code, model.workforce.beliefs
    assert (code != 0).any() and (code == 0).any()
    assert (beliefs[:, code != 0] == code[code != 0]).all()
    assert beliefs.dtype == np.int8


def test_week_zero_knowledge_history_runs_its_weeks_then_clears_the_week(monkeypatch):
    numbers = []
    step = knowledge.step

    def spy(world, p, rng):
        numbers.append(world.week.number)
        return step(world, p, rng)

    monkeypatch.setattr(knowledge, "step", spy)
    model = tiny("enable_knowledge", knowledge_history_weeks=3)
    assert numbers == [2**32, 2**32 + 1, 2**32 + 2]
    assert model.world.week.number == 0 and model.steps == 0
    numbers.clear()
    tiny(knowledge_history_weeks=3)
    assert numbers == []


def test_week_zero_marketing_mix_is_settled():
    model = tiny("enable_marketing_mix", marketing_budget=40_000.0, ad_share=0.5)
    m, p = model.market, model.params
    push = p.ad_fatigue_gain * 2.0 * m.ad_exposure
    np.testing.assert_allclose(m.ad_fatigue, push / (push + p.ad_fatigue_recovery), rtol=1e-12)
    assert tiny().market.ad_fatigue.max() == 0.0


@pytest.mark.parametrize("quality_on", [True, False])
def test_week_zero_service_quality(quality_on):
    model = tiny(*(("enable_quality",) if quality_on else ()))
    assert (0 < model._service_quality < 1) if quality_on else model._service_quality == 1.0
    assert model.records[0]["service_quality"] == model._service_quality


def test_week_zero_roles_are_interventions_at_week_zero():
    model = tiny(multiplier_share=0.2, carriers_per_department=1, initial_attitude_mean=0.8,
                 initial_attitude_spread=0.0)
    assert [(i.week, i.action) for i in model.applied_interventions] == [
        (0, "appoint_multipliers"), (0, "appoint_knowledge_carriers")]
    w = model.workforce
    assert w.is_multiplier.sum() == 1 + round(0.2 * 14)  # the leader and the appointed
    assert w.is_knowledge_carrier.sum() == 7
    assert tiny().applied_interventions == []


def test_the_market_draws_from_its_own_streams_of_the_seed():
    """Common random numbers: two configurations with one seed share the market and its needs."""
    a = tiny(seed=5, silo_strength=0.1)
    b = tiny(seed=5, silo_strength=0.9, initial_attitude_mean=0.5)
    np.testing.assert_array_equal(a.market.segment, b.market.segment)
    np.testing.assert_array_equal(a.market.expectation_base, b.market.expectation_base)
    np.testing.assert_array_equal(a.firm.core_needs, b.firm.core_needs)
    market = initial_market(a.params, np.random.default_rng([5, 2]))
    np.testing.assert_array_equal(a.market.segment, market.segment)
    np.testing.assert_array_equal(a.market.shield_threshold, market.shield_threshold)
    firm = initial_firm(a.params, np.random.default_rng([5, 1]))
    np.testing.assert_array_equal(a.firm.segment_needs, firm.segment_needs)
    assert a.firm.needs_seed == firm.needs_seed


def test_one_record_per_week_starting_with_week_zero():
    model = tiny()
    assert len(model.records) == 1 and model.records[0]["step"] == 0
    frame = model.run(3)
    assert frame["step"].tolist() == [0, 1, 2, 3] and len(model.records) == 4
    assert list(frame.columns) == ["step", *OUTPUT_NAMES]


# ------------------------------------------------------------------ effects
def test_effects_set_every_field_of_every_container_and_refuse_unknown_fields():
    model = tiny()
    world = model.world
    status = np.zeros(world.market.size, dtype=np.int8)
    Effects(firm={"success": 0.25, "code": np.zeros(4)}, market={"status": status},
            week={"lost_leads": 3}).apply_to(world)
    assert world.firm.success == 0.25 and (world.firm.code == 0).all() and world.market.status is status
    assert world.week.lost_leads == 3
    with pytest.raises(AttributeError, match="Market has no field 'stat'"):
        Effects(market={"stat": status}).apply_to(world)
    assert Effects(week={"spend": 1.0}) == {"week": {"spend": 1.0}}


def test_stage_defaults_to_no_off_variant():
    assert Stage("x", "enable_x", trust.step).off is None


# ------------------------------------------------------------------ leads through the week, deterministic draws
@pytest.mark.parametrize(("u", "lost"), [(0.4, True), (0.6, False)])
def test_leads_lost_at_the_hand_off_do_not_convert_and_kept_leads_do(u, lost):
    """Trust off (evidence 0: T = ½) and only the distrust loss: a lead is lost with chance ½. Every draw
    u: a prospect is a lead iff its lead chance > u, the lead is lost iff ½ > u, and a kept lead converts."""
    from tests.conftest import ThresholdRng

    model = tiny("enable_marketing_mix", "enable_coordination", n_customers=200, ad_conversion=1.0,
                 marketing_budget=40_000.0, ad_share=1.0, lead_distrust_loss=1.0, handoff_base_failure=0.0,
                 handoff_silo_failure=0.0, handoff_distrust_failure=0.0, handoff_cooperation_failure=0.0)
    p_fail, _, p_sender = coordination.handoff_probabilities(model.trust_matrix, coordination.cooperation(
        model.world), model.params)
    assert p_fail[0] == 0.5 and p_sender[0] == 0.0
    prospects = np.flatnonzero(model.market.status == PROSPECT)
    model.rng = ThresholdRng(u)
    model.step()
    record, week = model.records[-1], model.world.week
    assert record["leads"] > 0
    if lost:
        assert record["lost_leads"] == record["leads"] and record["new_customers"] == 0
        assert week.handoff_failures[0] == record["leads"] and week.leads.size == 0
    else:
        assert record["lost_leads"] == 0 and record["new_customers"] == record["leads"]
        assert np.isin(week.leads, prospects).all() and (model.market.status[week.leads] == ACTIVE).all()
    assert record["active_customers"] == np.count_nonzero(model.market.status == ACTIVE)


# ------------------------------------------------------------------ views, interventions now, influence
@pytest.mark.parametrize(("customer_views", "n_customers", "viewed"),
                         [(None, 40, True), (None, 41, False), (False, 40, False), (True, 41, True)])
def test_every_employee_gets_a_view_and_customers_up_to_the_limit(monkeypatch, customer_views, n_customers,
                                                                   viewed):
    from orgsim import Customer, Employee

    monkeypatch.setattr(model_module, "CUSTOMER_VIEW_LIMIT", 40)
    model = OrgModel(seed=1, n_employees=14, n_customers=n_customers, customer_views=customer_views, **only())
    assert sorted(e.index for e in model.agents_by_type[Employee]) == list(range(14))
    customers_viewed = model.agents_by_type.get(Customer, [])
    assert sorted(c.index for c in customers_viewed) == (list(range(n_customers)) if viewed else [])


def test_an_intervention_now_is_recorded_at_the_weeks_done():
    model = tiny()
    model.run(2)
    done = model.intervene("clarify_purpose", purpose_clarity=0.9)
    assert model.applied_interventions[-1] is done and (done.week, done.action) == (2, "clarify_purpose")
    assert model.params.purpose_clarity == 0.9


def test_refreshing_the_influence_matrix_follows_the_roles():
    from orgsim.state import influence_matrix

    model = tiny()
    w = model.workforce
    w.is_multiplier[:4] = True
    before = model.influence.toarray()
    model.refresh_influence()
    np.testing.assert_array_equal(model.influence.toarray(), influence_matrix(w, model.params).toarray())
    assert not np.array_equal(model.influence.toarray(), before)


def test_week_zero_quality_and_customers_are_settled_on_the_settled_attitudes(monkeypatch):
    """The second pass runs on the attitudes the first pass settled: the last expected quality sees the
    final orientation (1 + x)/2."""
    seen = []
    expected_quality = quality.expected_quality

    def spy(w, p, rng):
        seen.append(w.alignment.copy())
        return expected_quality(w, p, rng)

    monkeypatch.setattr(quality, "expected_quality", spy)
    model = tiny("enable_attitude", "enable_quality", "enable_experience", success_weight=0.5,
                 results_visibility=1.0)
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[-1], model.workforce.alignment)
    assert not np.array_equal(seen[0], seen[-1])  # the first pass ran on the attitudes before settling


def test_recording_a_week_appends_its_outputs_to_the_records_and_the_datacollector():
    model = hand_built()
    before = len(model.records)
    model.record()
    assert len(model.records) == before + 1 and model.records[-1] == model.measure()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == before + 1
    assert frame.iloc[-1].to_dict() == pytest.approx({name: model.records[-1][name] for name in OUTPUT_NAMES})
    assert model_module._latest_output("net_promoter_score", model) == 40.0


def test_the_generated_signature_lists_the_keywords_then_every_parameter_with_its_default_and_type():
    """Built once at import (OrgModel.__signature__); called here so that what builds it is tested too."""
    import inspect

    from orgsim.parameters import PARAMETERS

    signature = model_module._signature()
    assert signature == inspect.signature(OrgModel)
    rows = [(q.name, q.kind, q.default, q.annotation) for q in signature.parameters.values()]
    keyword, empty = inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.empty
    assert rows[:6] == [("params", inspect.Parameter.POSITIONAL_OR_KEYWORD, None, empty),
                        ("rng", keyword, None, empty), ("seed", keyword, None, empty),
                        ("interventions", keyword, (), empty), ("customer_views", keyword, None, empty),
                        ("scenario", keyword, None, empty)]
    declared = {name: (kind, default, annotation) for name, kind, default, annotation in rows[6:]}
    assert len(declared) == len(rows) - 6 == len(PARAMETERS)
    assert declared["silo_strength"] == (keyword, 0.3, float)
    assert declared["enable_trust"] == (keyword, True, bool)
    assert declared["n_employees"] == (keyword, 200, int)
    assert declared["customer_network"] == (keyword, "clustered", str)


# ------------------------------------------------------------------ construction: parameters, scenario, seed
class StandInScenario:
    """A Mesa Scenario as the model sees it: iterable (field, value) pairs, its own rng and model among them."""

    rng = 5

    def __iter__(self):
        return iter([("silo_strength", 0.6), ("rng", 5), ("model", "the model it was bound to")])


def test_a_scenarios_fields_are_overrides_but_its_rng_and_model_are_not():
    scenario = StandInScenario()
    model = OrgModel(scenario=scenario, **{**TINY, **only()})
    assert model.params.silo_strength == 0.6 and model.seed == 5 and model.scenario is scenario


@pytest.mark.parametrize("keyword", ["rng", "seed"])
def test_an_explicit_seed_wins_over_the_scenarios(keyword):
    model = OrgModel(scenario=StandInScenario(), **{keyword: 7}, **{**TINY, **only()})
    assert model.seed == 7 and model.params.silo_strength == 0.6


def test_overrides_apply_on_top_of_a_parameters_object():
    base = tiny().params
    model = OrgModel(base, seed=1, silo_strength=0.55, customer_views=False)
    assert model.params.silo_strength == 0.55 and model.params.n_employees == 14
    assert model.params.replace(silo_strength=base.silo_strength) == base


def test_ctrl_c_inside_a_compiled_pass_reaches_a_notebook_as_keyboard_interrupt(monkeypatch):
    """numba hands a signal handler's exception back wrapped in a SystemError; step() unwraps it."""
    def ctrl_c(world, p, rng):
        raise as_numba_delivers(KeyboardInterrupt())

    model = OrgModel(n_employees=30, n_customers=300, seed=1, customer_views=False)
    monkeypatch.setattr(model_module, "SCHEDULE", (Stage("knowledge", None, ctrl_c),))
    with pytest.raises(KeyboardInterrupt):
        model.step()
