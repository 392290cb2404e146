"""Mechanism 7, customers: known answers of the docstring's equations.

    x_i = ω Q + (1 − ω) fit_g − E_i − φ failed − η f_i          (E_i = E0_i + P_i)
    S_i ← (1 − κ) S_i + κ x_i after an order;  + κ β after a touchpoint (chance min(1, τ J))
    score = clip(round(s0 + k S), 0, 10); promoters 9-10, detractors 0-6
    NPS = 100 (promoters − detractors) / active
    reviews: Binomial(active detractors, review_prob); more than σ · active start a
        shitstorm of shitstorm_weeks (reset, not added)
    interested = lead that reached sales, or referred (1 − (1 − b_w)^j (1 − b_s)^k);
        does not convert if it read a review this week (chance 1 − exp(−reviews · reach / prospects)),
        else converts, with chance 1 − penalty during a shitstorm
    churn hazard = churn_negative (detractors) or churn_base, + shielded_churn if shielded
"""

import numpy as np
import pytest
import scipy.sparse as sp

from orgsim.mechanisms import customers
from orgsim.state import ACTIVE, LOST, PROSPECT
from tests.conftest import (
    ThresholdRng,
    assert_same_world,
    just_above,
    just_below,
    small_world,
    snapshot,
)

SETTINGS = {"quality_share": 0.6, "failure_penalty": 0.5, "ad_annoyance": 0.2, "satisfaction_memory": 0.3,
            "touchpoint_bonus": 0.15, "touchpoint_reach": 0.1, "score_at_expectation": 7.0,
            "score_per_unit": 10.0, "review_prob": 0.0, "enable_referrals": False, "enable_churn": False,
            "shitstorm_threshold": 0.01, "shitstorm_weeks": 4, "shitstorm_penalty": 0.7,
            "churn_base": 0.01, "churn_negative": 0.2, "shielded_churn": 0.1}


@pytest.fixture
def world_and_params():
    world, p = small_world(seed=13, **SETTINGS)
    m, f, week = world.market, world.firm, world.week
    draw = np.random.default_rng(4)
    m.status = draw.choice(np.array([PROSPECT, ACTIVE, LOST], dtype=np.int8), m.size, p=[0.3, 0.5, 0.2])
    m.satisfaction = draw.normal(0, 0.2, m.size)
    m.expectation_base = draw.uniform(0.2, 0.5, m.size)
    m.promise = draw.uniform(0, 0.2, m.size)
    m.ad_fatigue = draw.uniform(0, 1, m.size)
    m.shield_threshold = np.full(m.size, 0.5)
    f.code = draw.integers(-1, 2, f.code.size).astype(np.int8)
    active = np.flatnonzero(m.status == ACTIVE)
    week.ordering = active[::2]
    week.order_quality = draw.uniform(0.3, 1.0, week.ordering.size)
    week.order_failed = draw.random(week.ordering.size) < 0.3
    week.touch_intensity = 0.0
    week.leads = np.zeros(0, dtype=np.int64)
    return world, p


def experience_by_hand(world, i, quality, failed):
    m, f = world.market, world.firm
    fit = np.mean(f.code == f.segment_needs[m.segment[i]])
    expectation = m.expectation_base[i] + m.promise[i]
    return 0.6 * quality + 0.4 * fit - expectation - 0.5 * failed - 0.2 * m.ad_fatigue[i]


def test_experience_formula(world_and_params):
    world, p = world_and_params
    week = world.week
    assert len(set(world.market.segment[week.ordering])) > 1  # segments differ in fit
    x = customers.experience(world, p, week.ordering, week.order_quality, week.order_failed)
    expected = [experience_by_hand(world, i, q, fail)
                for i, q, fail in zip(week.ordering, week.order_quality, week.order_failed, strict=True)]
    np.testing.assert_allclose(x, expected, atol=1e-14)


def test_satisfaction_is_an_exponential_average_of_experience(world_and_params):
    world, p = world_and_params
    m, week = world.market, world.week
    s = m.satisfaction.copy()
    x = np.array([experience_by_hand(world, i, q, fail)
                  for i, q, fail in zip(week.ordering, week.order_quality, week.order_failed, strict=True)])
    expected = s.copy()
    expected[week.ordering] = 0.7 * s[week.ordering] + 0.3 * x
    new = customers.step(world, p, ThresholdRng(0.5))["market"]["satisfaction"]
    np.testing.assert_allclose(new, expected, atol=1e-14)


def test_a_touchpoint_adds_kappa_beta_to_active_customers_with_chance_tau_j(world_and_params):
    world, p = world_and_params
    m, week = world.market, world.week
    week.touch_intensity = 2.0  # chance min(1, 0.1 * 2) = 0.2
    base = customers.step(world, p, just_above(0.2))["market"]["satisfaction"]
    touched = customers.step(world, p, just_below(0.2))["market"]["satisfaction"]
    active = m.status == ACTIVE
    np.testing.assert_allclose(touched[active] - base[active], 0.3 * 0.15, atol=1e-14)
    assert np.array_equal(touched[~active], base[~active])
    week.touch_intensity = 30.0  # chance capped at 1
    capped = customers.step(world, p, ThresholdRng(1 - 1e-12))["market"]["satisfaction"]
    np.testing.assert_allclose(capped[active] - base[active], 0.3 * 0.15, atol=1e-14)


def test_switched_off_experience_leaves_satisfaction_alone(world_and_params):
    world, p = world_and_params
    world.week.touch_intensity = 30.0
    new = customers.step(world, p.replace(enable_experience=False), ThresholdRng(0.0))["market"]["satisfaction"]
    assert np.array_equal(new, world.market.satisfaction)


def test_score_and_perception_use_the_standard_nps_cut_offs(world_and_params):
    _, p = world_and_params
    raw = np.array([-9.0, 0.4, 5.6, 6.4, 6.6, 7.0, 8.4, 8.6, 9.2, 10.4, 30.0])
    s = (raw - 7.0) / 10.0  # so that s0 + k S = raw
    assert customers.score(s, p).tolist() == [0, 0, 6, 6, 7, 7, 8, 9, 9, 10, 10]
    assert customers.perception(s, p).tolist() == [-1, -1, -1, -1, 0, 0, 0, 1, 1, 1, 1]


def test_net_promoter_score():
    assert customers.net_promoter_score(np.array([1, 1, 1, 0, -1], dtype=np.int8)) == pytest.approx(40.0)
    assert customers.net_promoter_score(np.array([-1, -1], dtype=np.int8)) == -100.0
    assert customers.net_promoter_score(np.zeros(0, dtype=np.int8)) == 0.0


def test_success_is_this_weeks_nps_of_the_active_customers(world_and_params):
    world, p = world_and_params
    effects = customers.step(world, p, ThresholdRng(0.5))
    market = effects["market"]
    scores = np.clip(np.rint(7 + 10 * market["satisfaction"][market["status"] == ACTIVE]), 0, 10)
    nps = 100 * (np.mean(scores >= 9) - np.mean(scores <= 6))
    assert effects["firm"]["success"] == pytest.approx(nps / 100, abs=1e-12)


# ------------------------------------------------------------------ reviews and shitstorms
def test_shitstorm_weeks_are_reset_to_the_duration_not_accumulated():
    assert customers.shitstorm_weeks_left(3, 30, 1000, 0.02, 4) == 4  # not 3 + 4
    assert customers.shitstorm_weeks_left(0, 30, 1000, 0.02, 4) == 4
    assert customers.shitstorm_weeks_left(3, 20, 1000, 0.02, 4) == 2  # exactly the threshold is no storm
    assert customers.shitstorm_weeks_left(0, 5, 1000, 0.02, 4) == 0
    assert customers.shitstorm_weeks_left(2, 5, 0, 0.02, 4) == 1  # no active customers


def test_every_active_detractor_reviews_at_review_prob_one_and_a_wave_resets_the_storm(world_and_params):
    world, p = world_and_params
    p = p.replace(review_prob=0.4)
    world.market.shitstorm_weeks_left = 3
    effects = customers.step(world, p, just_below(0.4))
    market = effects["market"]
    active = world.market.status == ACTIVE
    detractors = active & (customers.perception(market["satisfaction"], p) == -1)
    assert detractors.sum() > 0.01 * active.sum()
    assert effects["week"]["negative_reviews"] == detractors.sum()
    assert market["shitstorm_weeks_left"] == 4
    quiet = customers.step(world, p, just_above(0.4))
    assert quiet["week"]["negative_reviews"] == 0 and quiet["market"]["shitstorm_weeks_left"] == 2


def test_review_exposure():
    assert customers.review_exposure(0, 100, 1000) == 0.0
    assert customers.review_exposure(10, 100, 1000) == pytest.approx(1 - np.exp(-1))
    assert customers.review_exposure(10, 100, 0) == 0.0


# ------------------------------------------------------------------ acquisition
def leads_world(world_and_params, n=20):
    world, p = world_and_params
    world.week.leads = np.flatnonzero(world.market.status == PROSPECT)[:n]
    return world, p


def test_only_leads_that_reached_sales_convert(world_and_params):
    """Coordination removes lost leads from week.leads; no other prospect converts without referrals."""
    world, p = leads_world(world_and_params)
    m = world.market
    effects = customers.step(world, p, ThresholdRng(1 - 1e-12))
    status = effects["market"]["status"]
    converted = np.flatnonzero((m.status == PROSPECT) & (status == ACTIVE))
    assert np.array_equal(converted, world.week.leads)
    assert effects["week"]["new_customers"] == 20 and effects["week"]["referrals"] == 0
    assert (effects["market"]["satisfaction"][converted] == 0.0).all()  # exactly at expectation
    world.week.leads = np.zeros(0, dtype=np.int64)  # the same leads, all lost at the hand-off
    assert customers.step(world, p, ThresholdRng(0.0))["week"]["new_customers"] == 0


def test_a_lost_customer_never_comes_back(world_and_params):
    world, p = world_and_params
    lost = np.flatnonzero(world.market.status == LOST)
    world.week.leads = lost[:5]
    status = customers.step(world, p.replace(enable_referrals=True), ThresholdRng(0.0))["market"]["status"]
    assert (status[lost] == LOST).all()


@pytest.mark.parametrize("weeks_left", [2, 4])
def test_the_shitstorm_penalty_is_applied_to_conversions(world_and_params, weeks_left):
    world, p = leads_world(world_and_params)
    world.market.shitstorm_weeks_left = weeks_left  # still > 0 after this week's countdown
    keeps = 1 - 0.7
    assert customers.step(world, p, just_below(keeps))["week"]["new_customers"] == 20
    assert customers.step(world, p, just_above(keeps))["week"]["new_customers"] == 0
    world.market.shitstorm_weeks_left = 0
    assert customers.step(world, p, just_above(keeps))["week"]["new_customers"] == 20


def test_a_shitstorm_hits_acquisition_for_shitstorm_weeks_weeks(world_and_params):
    world, p = leads_world(world_and_params)
    wave = p.replace(review_prob=1.0, review_reach=0.0)  # week 1: every detractor reviews; nobody reads it
    hit = []
    for week in range(7):
        effects = customers.step(world, wave if week == 0 else p, ThresholdRng(0.5))  # keeps 0.3 < 0.5
        hit.append(effects["week"]["new_customers"] == 0)
        world.market.shitstorm_weeks_left = effects["market"]["shitstorm_weeks_left"]
    assert hit == [True] * 4 + [False] * 3  # the week of the wave and three more


def test_a_prospect_who_read_a_review_does_not_convert(world_and_params):
    world, p = leads_world(world_and_params)
    p = p.replace(review_prob=1.0, shitstorm_threshold=1.0)  # every active detractor reviews; no storm
    detractors = np.sum((world.market.status == ACTIVE)
                        & (customers.perception(customers.step(world, p, ThresholdRng(0.5))["market"]
                                                ["satisfaction"], p) == -1))
    n_prospects = np.sum(world.market.status == PROSPECT)
    reach = 0.7 * n_prospects / detractors  # exposure 1 − e^{−0.7} ≈ 0.503
    exposure = 1 - np.exp(-0.7)
    read = customers.step(world, p.replace(review_reach=reach), just_below(exposure))["week"]
    assert read["negative_reviews"] == detractors and read["new_customers"] == 0
    unread = customers.step(world, p.replace(review_reach=reach), just_above(exposure))["week"]
    assert unread["new_customers"] == 20
    nobody_reads = customers.step(world, p.replace(review_reach=0.0), ThresholdRng(0.0))["week"]
    assert nobody_reads["new_customers"] == 20


def test_referral_probability_is_goldenberg():
    chance = customers.referral_probability(np.array([3.0, 0.0]), np.array([2.0, 0.0]),
                                            small_world(seed=13, referral_prob_weak=0.05,
                                                        referral_prob_strong=0.2)[1])
    assert chance == pytest.approx([1 - 0.95**3 * 0.8**2, 0.0])


def test_promoter_ties_on_networks_and_in_the_complete_network():
    promoters = np.array([True, True, False, False])
    weak, strong = customers.promoter_ties(promoters, None, None)
    assert weak.tolist() == [1, 1, 2, 2] and (strong == 0).all()  # everyone else, not oneself
    net = sp.csr_matrix(np.array([[0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1], [1, 0, 1, 0]], dtype=float))
    weak, strong = customers.promoter_ties(promoters, 2 * net, net)
    assert weak.tolist() == [1, 1, 0, 1] and strong.tolist() == [2, 2, 0, 2]


def test_active_promoters_refer_prospects(world_and_params):
    world, p = world_and_params
    p = p.replace(enable_referrals=True, customer_network="complete", referral_prob_weak=0.01)
    m = world.market
    m.strong_ties = m.weak_ties = None
    m.satisfaction[m.status == LOST] = 5.0  # lost promoters do not refer
    after = customers.step(world, p, ThresholdRng(0.5))["market"]
    active_promoters = np.sum((m.status == ACTIVE) & (customers.perception(after["satisfaction"], p) == 1))
    assert active_promoters > 0
    chance = 1 - 0.99**active_promoters
    referred = customers.step(world, p, just_below(chance))
    prospects = m.status == PROSPECT
    assert (referred["market"]["status"][prospects] == ACTIVE).all()
    assert referred["week"]["referrals"] == referred["week"]["new_customers"] == prospects.sum()
    assert customers.step(world, p, just_above(chance))["week"]["new_customers"] == 0


# ------------------------------------------------------------------ churn
def test_churn_hazard():
    p = small_world(seed=13, **SETTINGS)[1]
    perceived = np.array([-1, 0, 1, -1, 0, 1], dtype=np.int8)
    shielded = np.array([False, False, False, True, True, True])
    assert customers.churn_hazard(perceived, shielded, p) == pytest.approx([0.2, 0.01, 0.01, 0.3, 0.11, 0.11])


@pytest.mark.parametrize("u", [0.15, 0.105, 0.005])
def test_active_customers_leave_at_their_hazard(world_and_params, u):
    world, p = world_and_params
    p = p.replace(enable_churn=True)
    m = world.market
    m.ad_fatigue = np.where(np.arange(m.size) % 3 == 0, 0.9, 0.1)  # every third shields (threshold 0.5)
    effects = customers.step(world, p, ThresholdRng(u))
    perceived = customers.perception(effects["market"]["satisfaction"], p)
    hazard = np.where(perceived == -1, 0.2, 0.01) + 0.1 * (m.ad_fatigue > 0.5)
    leaves = (m.status == ACTIVE) & (hazard > u)
    status = effects["market"]["status"]
    assert np.array_equal(status == LOST, (m.status == LOST) | leaves)
    assert effects["week"]["churned"] == leaves.sum() > 0


# ------------------------------------------------------------------ contract
def test_writes_only_its_fields_and_does_not_mutate_the_world(world_and_params):
    world, p = leads_world(world_and_params)
    p = p.replace(enable_referrals=True, enable_churn=True, review_prob=0.2)
    world.week.touch_intensity = 1.0
    before = snapshot(world)
    effects = customers.step(world, p, np.random.default_rng(0))
    assert_same_world(world, before)
    assert {k: set(v) for k, v in effects.items()} == {
        "market": {"status", "satisfaction", "shitstorm_weeks_left"}, "firm": {"success"},
        "week": {"new_customers", "referrals", "negative_reviews", "churned"}}
