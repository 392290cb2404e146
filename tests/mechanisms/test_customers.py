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
    CyclingRng,
    ThresholdRng,
    assert_same_world,
    just_above,
    just_below,
    small_model,
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
    assert customers.perception(s, p).dtype == np.int8  # a brand is stored in a byte, like status


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


@pytest.mark.parametrize("share_changed", [0.001, 0.01, 0.2, 1.0])  # updates below and full recounts above 5 %
def test_updated_promoter_ties_equal_a_full_count(share_changed):
    from orgsim import networks

    rng = np.random.default_rng(3)
    n = 3_000
    strong, weak = networks.clustered_strong_ties(rng, n, 4), networks.random_weak_ties(rng, n, 12.0)
    promoters = rng.random(n) < 0.3
    known = customers.updated_promoter_ties(promoters, None, strong, weak)
    for _ in range(5):  # several weeks in a row, each updated from the last
        flip = rng.random(n) < share_changed
        promoters = promoters ^ flip
        known = customers.updated_promoter_ties(promoters, known, strong, weak)
        expected_weak, expected_strong = customers.promoter_ties(promoters, strong, weak)
        assert np.array_equal(known.weak, expected_weak) and np.array_equal(known.strong, expected_strong)
        assert np.array_equal(known.promoters, promoters)


def test_net_promoter_score_of_counts():
    assert customers.net_promoter_score_of_counts(2, 3, 5) == pytest.approx(30.0)
    assert customers.net_promoter_score_of_counts(0, 0, 0) == 0.0
    perceived = np.array([-1, -1, 0, 0, 0, 1, 1, 1, 1, 1], dtype=np.int8)
    assert customers.net_promoter_score(perceived) == customers.net_promoter_score_of_counts(2, 3, 5)


def test_perception_counts_are_those_of_the_customers_after_the_week(world_and_params):
    world, p = world_and_params
    p = p.replace(enable_referrals=True, enable_churn=True, review_prob=0.2)
    effects = customers.step(world, p, np.random.default_rng(4))
    status, satisfaction = effects["market"]["status"], effects["market"]["satisfaction"]
    perceived = customers.perception(satisfaction[status == ACTIVE], p)
    assert effects["week"]["perception_counts"].tolist() == np.bincount(perceived + 1, minlength=3).tolist()
    assert effects["firm"]["success"] == customers.net_promoter_score(perceived) / 100


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
        "market": {"status", "satisfaction", "shitstorm_weeks_left", "promoter_ties"}, "firm": {"success"},
        "week": {"new_customers", "referrals", "negative_reviews", "churned", "perception_counts"}}


# ------------------------------------------------------------------ week 0: the customer base's own history
class ChoosingRng(ThresholdRng):
    """ThresholdRng that also chooses: the first ``size`` candidates."""

    def choice(self, a, size=None, replace=True):
        return np.asarray(a)[:size]


HISTORY = {**SETTINGS, "satisfaction_memory": 0.01, "order_rate": 0.5, "weakest_link_weight": 0.4,
           "marketing_budget": 20_000.0, "ad_share": 0.5, "touchpoint_reach": 0.1}  # touch chance 0.1


def history_world(**overrides):
    world, p = small_world(seed=13, **{**HISTORY, **overrides})
    m, w = world.market, world.workforce
    draw = np.random.default_rng(8)
    m.status = np.where(np.arange(m.size) < 10, ACTIVE, PROSPECT).astype(np.int8)
    m.expectation_base = draw.uniform(0.2, 0.5, m.size)
    m.promise = draw.uniform(0, 0.2, m.size)
    m.ad_fatigue = draw.uniform(0, 0.4, m.size)
    m.shield_threshold = np.full(m.size, 0.5)
    w.performance, w.engagement, w.alignment = (draw.uniform(0.2, 1.0, w.size) for _ in range(3))
    world.firm.code = draw.integers(-1, 2, world.firm.code.size).astype(np.int8)
    return world, p


def history_by_hand(world, u, p_order_failed, quality=True, touches=True):
    """Satisfaction after CUSTOMER_HISTORY_WEEKS weeks in which every draw is u < order rate: every active
    customer orders every week, from the same team (member floor(u · size) of each department)."""
    m, w, f = world.market, world.workforce, world.firm
    contrib = np.cbrt(w.performance * w.engagement * w.alignment)
    sizes = np.bincount(w.department)
    team = contrib[np.concatenate([[0], np.cumsum(sizes)[:-1]]) + np.floor(u * sizes).astype(int)]
    q = 0.4 * team.min() + 0.6 * team.mean() if quality else 1.0
    fit = np.mean(f.code[None, :] == f.segment_needs[m.segment], axis=1)
    x = (0.6 * q + 0.4 * fit - m.expectation_base - m.promise - 0.5 * (p_order_failed > u)
         - 0.2 * m.ad_fatigue)
    s = np.zeros(m.size)
    for _ in range(104):
        s = s + 0.01 * (x - s)
        if touches and u < 0.1:
            s = s + 0.01 * 0.15
    return np.where(m.status == ACTIVE, s, 0.0)


@pytest.mark.parametrize(("u", "p_order_failed"), [(0.05, 0.2), (0.05, 0.01), (0.3, 0.2)])
def test_week_zero_satisfaction_is_the_history_of_orders_failures_and_touchpoints(u, p_order_failed):
    world, p = history_world()
    status = world.market.status.copy()
    customers.settle(world, p, p_order_failed, ChoosingRng(u))
    m = world.market
    assert customers.CUSTOMER_HISTORY_WEEKS == 104
    np.testing.assert_allclose(m.satisfaction, history_by_hand(world, u, p_order_failed), atol=1e-12)
    assert np.array_equal(m.status, status)  # no churn: nobody leaves, nobody joins
    expected = customers.net_promoter_score(customers.perception(m.satisfaction[status == ACTIVE], p)) / 100
    assert world.firm.success == expected


def test_week_zero_history_without_quality_or_marketing_serves_perfectly_and_touches_nobody():
    world, p = history_world()
    p = p.replace(enable_quality=False, enable_marketing_mix=False)
    customers.settle(world, p, 0.2, ChoosingRng(0.05))
    np.testing.assert_allclose(world.market.satisfaction,
                               history_by_hand(world, 0.05, 0.2, quality=False, touches=False), atol=1e-12)


def test_week_zero_history_nobody_orders_above_the_order_rate():
    world, p = history_world()
    customers.settle(world, p, 0.2, ChoosingRng(0.6))  # order rate 0.5 < 0.6; touches 0.1 < 0.6
    assert (world.market.satisfaction == 0).all() and world.firm.success == 0.0


def test_week_zero_history_replaces_each_leaver_by_a_prospect_at_expectation():
    """Everyone active leaves every week (hazard 0.5 > u) and as many prospects join: the first ten
    customers and the next ten take turns; after an even number of weeks the first ten are the
    customers again, just joined, exactly at expectation. Nobody is lost at week 0."""
    world, p = history_world(enable_churn=True, churn_base=0.5, churn_negative=0.5, shielded_churn=0.0,
                             score_at_expectation=9.0)
    customers.settle(world, p, 0.0, ChoosingRng(0.05))
    m = world.market
    assert np.flatnonzero(m.status == ACTIVE).tolist() == list(range(10))
    assert (m.status != LOST).all() and (m.satisfaction == 0).all()
    assert world.firm.success == 1.0  # at expectation the score is 9: promoters


def test_week_zero_history_keeps_customers_below_their_hazard():
    world, p = history_world(enable_churn=True, churn_base=0.01, churn_negative=0.04, shielded_churn=0.0)
    customers.settle(world, p, 0.2, ChoosingRng(0.05))
    np.testing.assert_allclose(world.market.satisfaction, history_by_hand(world, 0.05, 0.2), atol=1e-12)


def test_week_zero_without_experience_everyone_is_at_expectation():
    world, p = history_world(score_at_expectation=9.0)
    status = world.market.status.copy()
    world.market.satisfaction = np.full(world.market.size, 0.5)
    customers.settle(world, p.replace(enable_experience=False), 0.2, ChoosingRng(0.05))
    assert (world.market.satisfaction == 0).all() and np.array_equal(world.market.status, status)
    assert world.firm.success == 1.0
    world.market.status[:] = PROSPECT
    customers.settle(world, p.replace(enable_experience=False), 0.2, ChoosingRng(0.05))
    assert world.firm.success == 0.0


# ------------------------------------------------------------------ every event its own draw; chance 0 never
class CyclingChoosingRng(CyclingRng, ChoosingRng):
    """CyclingRng that also chooses (the first ``size`` candidates)."""


ALTERNATING = CyclingChoosingRng([0.1, 0.9])  # events of chance 0.5 happen to every other customer
EVERY_OTHER = np.arange(300) % 2 == 0


def test_each_active_customer_is_touched_and_leaves_by_their_own_draw(world_and_params):
    world, p = world_and_params
    m = world.market
    active = m.status == ACTIVE
    p = p.replace(enable_churn=True, churn_base=0.5, churn_negative=0.5, shielded_churn=0.0)
    world.week.touch_intensity = 5.0  # chance 0.1 · 5 = 0.5
    touched = customers.step(world, p, ALTERNATING)
    world.week.touch_intensity = 0.0
    untouched = customers.step(world, p, ALTERNATING)
    bonus = touched["market"]["satisfaction"] - untouched["market"]["satisfaction"]
    np.testing.assert_allclose(bonus, np.where(active & EVERY_OTHER, 0.3 * 0.15, 0.0), atol=1e-15)
    assert np.array_equal(touched["market"]["status"] == LOST, (m.status == LOST) | (active & EVERY_OTHER))


def test_each_prospect_is_referred_by_their_own_draw(world_and_params):
    world, p = world_and_params
    m = world.market
    m.strong_ties = m.weak_ties = None  # complete network: j = all active promoters
    p = p.replace(enable_referrals=True, customer_network="complete", enable_experience=False)
    m.satisfaction = np.where(m.status == ACTIVE, 0.3, 0.0)  # every active customer a promoter
    j = np.count_nonzero(m.status == ACTIVE)
    p = p.replace(referral_prob_weak=1 - 0.5 ** (1 / j))  # chance 1 − (1 − b)^j = 0.5
    effects = customers.step(world, p, ALTERNATING)
    prospects = np.flatnonzero(m.status == PROSPECT)
    referred = prospects[::2]  # draws 0.1, 0.9, 0.1, ... over the prospects
    assert np.flatnonzero((m.status == PROSPECT) & (effects["market"]["status"] == ACTIVE)).tolist() == \
        referred.tolist()
    assert effects["week"]["referrals"] == effects["week"]["new_customers"] == referred.size


def test_each_interested_prospect_reads_reviews_and_converts_by_their_own_draw(world_and_params):
    world, p = leads_world(world_and_params)
    m = world.market
    p = p.replace(review_prob=1.0, shitstorm_threshold=1.0, enable_experience=False)  # reviews, no storm
    detractors = np.count_nonzero((m.status == ACTIVE) & (customers.perception(m.satisfaction, p) == -1))
    reach = np.log(2) * np.count_nonzero(m.status == PROSPECT) / detractors  # chance to read one: 0.5
    effects = customers.step(world, p.replace(review_reach=reach), ALTERNATING)
    assert effects["week"]["negative_reviews"] == detractors > 0
    converted = np.flatnonzero((m.status == PROSPECT) & (effects["market"]["status"] == ACTIVE))
    assert converted.tolist() == world.week.leads[1::2].tolist()  # the even ones read a review
    m.shitstorm_weeks_left = 3
    storm = customers.step(world, p.replace(review_prob=0.0, shitstorm_penalty=0.5), ALTERNATING)
    converted = np.flatnonzero((m.status == PROSPECT) & (storm["market"]["status"] == ACTIVE))
    assert converted.tolist() == world.week.leads[::2].tolist()  # keeps 0.5: draws 0.1 convert


def test_events_of_chance_zero_never_happen_even_on_a_draw_of_zero(world_and_params):
    world, p = leads_world(world_and_params)
    m = world.market
    p = p.replace(touchpoint_reach=0.0, enable_referrals=True, referral_prob_weak=0.0, referral_prob_strong=0.0,
                  enable_churn=True, churn_base=0.0, churn_negative=0.0, shielded_churn=0.0,
                  shitstorm_penalty=1.0)
    m.shitstorm_weeks_left = 3
    world.week.touch_intensity = 5.0
    untouched = m.satisfaction.copy()
    effects = customers.step(world, p, ThresholdRng(0.0))
    ordered = np.zeros(m.size, dtype=bool)
    ordered[world.week.ordering] = True
    np.testing.assert_array_equal(effects["market"]["satisfaction"][~ordered], untouched[~ordered])  # no touch
    assert np.array_equal(effects["market"]["status"], m.status)  # nobody referred, converted or leaving
    assert effects["week"]["new_customers"] == effects["week"]["churned"] == 0


def test_leads_convert_when_referrals_are_on_but_nobody_refers(world_and_params):
    world, p = leads_world(world_and_params)
    world.market.satisfaction[:] = -0.5  # no promoters
    effects = customers.step(world, p.replace(enable_referrals=True, enable_experience=False), ThresholdRng(0.5))
    assert effects["week"]["new_customers"] == 20 and effects["week"]["referrals"] == 0


def test_referrals_travel_only_along_the_customer_network(world_and_params):
    world, p = world_and_params
    m = world.market
    assert m.weak_ties is not None and m.strong_ties is not None  # the clustered network of small_world
    p = p.replace(enable_referrals=True, enable_experience=False, referral_prob_weak=0.3, referral_prob_strong=0.5)
    active = np.flatnonzero(m.status == ACTIVE)
    m.satisfaction = np.zeros(m.size)  # passives ...
    m.satisfaction[active[:3]] = 0.3  # ... but three promoters
    promoters = np.zeros(m.size)
    promoters[active[:3]] = 1.0
    tied = (m.weak_ties @ promoters + m.strong_ties @ promoters) > 0  # chance ≥ 0.3 > 0.2, else 0
    prospects = m.status == PROSPECT
    assert 0 < np.count_nonzero(tied & prospects) < np.count_nonzero(prospects)
    status = customers.step(world, p, ThresholdRng(0.2))["market"]["status"]
    assert np.array_equal(prospects & (status == ACTIVE), prospects & tied)


def test_reviews_come_from_active_detractors_only(world_and_params):
    world, p = world_and_params
    m = world.market
    active = np.flatnonzero(m.status == ACTIVE)
    m.satisfaction = np.full(m.size, -0.5)  # detractors everywhere ...
    m.satisfaction[active[5:]] = 0.3  # ... but among the active only five
    effects = customers.step(world, p.replace(enable_experience=False, review_prob=0.4), just_below(0.4))
    assert effects["week"]["negative_reviews"] == 5


def test_switched_off_parts_count_nothing(world_and_params):
    world, p = world_and_params
    m = world.market
    m.shitstorm_weeks_left = 3
    m.satisfaction[:] = -0.5  # detractors who would review and leave
    quiet = customers.step(world, p.replace(enable_reviews=False, review_prob=1.0, enable_churn=False),
                           ThresholdRng(0.0))
    assert quiet["week"]["negative_reviews"] == 0 and quiet["week"]["churned"] == 0
    assert quiet["market"]["shitstorm_weeks_left"] == 3  # reviews off: the storm neither grows nor counts down
    m.status[m.status == PROSPECT] = LOST  # no prospects: nobody to win
    world.week.leads = np.zeros(0, dtype=np.int64)
    none = customers.step(world, p.replace(enable_referrals=True), ThresholdRng(0.0))["week"]
    assert none["new_customers"] == 0 and none["referrals"] == 0


def test_one_active_customer_can_start_a_shitstorm():
    assert customers.shitstorm_weeks_left(0, 1, 1, 0.5, 4) == 4


def test_a_certain_referral_is_certain_and_no_tie_is_no_referral():
    p = small_world(seed=13, referral_prob_weak=1.0, referral_prob_strong=1.0)[1]
    chance = customers.referral_probability(np.array([0.0, 2.0, 0.0]), np.array([0.0, 0.0, 1.0]), p)
    assert chance[0] == 0.0 and chance[1] == pytest.approx(1.0) and chance[2] == pytest.approx(1.0)


def test_week_zero_history_events_of_chance_zero_never_happen_even_on_a_draw_of_zero():
    """Every draw 0: everyone orders (rate 0.5), but no order fails (chance 0), nobody is touched (reach 0)
    and nobody leaves (hazard 0)."""
    world, p = history_world(enable_churn=True, churn_base=0.0, churn_negative=0.0, shielded_churn=0.0,
                             touchpoint_reach=0.0)
    status = world.market.status.copy()
    customers.settle(world, p, 0.0, ChoosingRng(0.0))
    np.testing.assert_allclose(world.market.satisfaction, history_by_hand(world, 0.0, 0.0, touches=False),
                               atol=1e-12)
    assert np.array_equal(world.market.status, status)
    world, p = history_world(order_rate=0.0)
    customers.settle(world, p, 0.0, ChoosingRng(0.0))
    np.testing.assert_allclose(world.market.satisfaction[world.market.status == ACTIVE], 0.01 * 0.15 * 104,
                               rtol=1e-12)  # touches only


def test_week_zero_history_each_order_fails_and_each_customer_is_touched_by_their_own_draw():
    """Draws 0.1, 0.9, ...: every other active customer orders (rate 0.5) and is touched (chance 0.5);
    of those orders every other one fails (chance 0.5)."""
    world, p = history_world(enable_quality=False, touchpoint_reach=0.25)  # touch chance 0.25 · 2 = 0.5
    m, f = world.market, world.firm
    customers.settle(world, p, 0.5, CyclingChoosingRng([0.1, 0.9]))
    active = np.flatnonzero(m.status == ACTIVE)
    fit = np.mean(f.code[None, :] == f.segment_needs[m.segment], axis=1)
    expected = np.zeros(m.size)
    for k, i in enumerate(active):
        orders, failed, touched = k % 2 == 0, k % 4 == 0, k % 2 == 0
        x = 0.6 + 0.4 * fit[i] - m.expectation_base[i] - m.promise[i] - 0.5 * failed - 0.2 * m.ad_fatigue[i]
        s = 0.0
        for _ in range(104):
            s = s + 0.01 * (x - s) * orders + 0.01 * 0.15 * touched
        expected[i] = s
    np.testing.assert_allclose(m.satisfaction, expected, atol=1e-12)


def test_week_zero_history_leavers_are_replaced_by_prospects(monkeypatch):
    """One week of history, every other active customer leaves (hazard 0.5, draws 0.1, 0.9, ...): as many
    prospects join, the first ones (ChoosingRng), at expectation."""
    monkeypatch.setattr(customers, "CUSTOMER_HISTORY_WEEKS", 1)
    world, p = history_world(enable_churn=True, churn_base=0.5, churn_negative=0.5, shielded_churn=0.0)
    customers.settle(world, p, 0.0, CyclingChoosingRng([0.1, 0.9]))
    assert np.flatnonzero(world.market.status == ACTIVE).tolist() == [1, 3, 5, 7, 9, 10, 11, 12, 13, 14]
    assert (world.market.satisfaction[10:15] == 0).all()


def test_week_zero_history_detractors_leave_at_their_own_hazard(monkeypatch):
    monkeypatch.setattr(customers, "CUSTOMER_HISTORY_WEEKS", 1)
    world, p = history_world(enable_churn=True, churn_base=0.0, churn_negative=0.9, shielded_churn=0.0,
                             satisfaction_memory=1.0)
    world.market.expectation_base[:5] = 3.0  # the first five are let down by their first order: detractors
    world.market.expectation_base[5:] = -1.0  # the other five delighted
    customers.settle(world, p, 0.0, ChoosingRng(0.3))  # everyone orders; only the detractors leave
    assert np.flatnonzero(world.market.status == ACTIVE).tolist() == [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]


def test_week_zero_history_keeps_the_number_of_customers():
    """Every active customer leaves every week and is replaced by a distinct prospect (no one joins twice)."""
    world, p = history_world(enable_churn=True, churn_base=1.0, churn_negative=1.0)
    world.market.status = np.where(np.arange(world.market.size) < 100, ACTIVE, PROSPECT).astype(np.int8)
    customers.settle(world, p, 0.1, np.random.default_rng(0))
    assert np.count_nonzero(world.market.status == ACTIVE) == 100


def test_no_referral_of_chance_zero_even_on_a_draw_of_zero(world_and_params):
    world, p = world_and_params
    p = p.replace(enable_referrals=True, referral_prob_weak=0.0, referral_prob_strong=0.0)
    world.market.satisfaction[:] = 0.3  # promoters everywhere, but their word carries no weight
    week = customers.step(world, p, ThresholdRng(0.0))["week"]
    assert week["referrals"] == week["new_customers"] == 0


# ------------------------------------------------------------------ the compiled week is the rules, bit for bit
def week_by_the_rules(world, p, rng):
    """The customers' week as whole-array rules, in the order of the module docstring: the statement
    the compiled passes (``customers._touch_and_perceive``, ``_interested_prospects``, ``_churn``) follow."""
    m, week = world.market, world.week
    status, satisfaction = m.status.copy(), m.satisfaction.copy()
    active = np.flatnonzero(status == ACTIVE)
    if p.enable_experience:
        ordering = week.ordering
        x = customers.experience(world, p, ordering, week.order_quality, week.order_failed)
        satisfaction[ordering] = (1.0 - p.satisfaction_memory) * satisfaction[ordering] + p.satisfaction_memory * x
        touch_draws = rng.random(m.size)
        touched = active[touch_draws[active] < min(1.0, p.touchpoint_reach * week.touch_intensity)]
        satisfaction[touched] += p.satisfaction_memory * p.touchpoint_bonus
    perceived = customers.perception(satisfaction[active], p)
    n_reviews, weeks_left = 0, m.shitstorm_weeks_left
    if p.enable_reviews:
        n_reviews = int(rng.binomial(np.count_nonzero(perceived == customers.NEGATIVE), p.review_prob))
        weeks_left = customers.shitstorm_weeks_left(weeks_left, n_reviews, active.size, p.shitstorm_threshold,
                                                    p.shitstorm_weeks)
    new_customers = referrals = 0
    ties = m.promoter_ties
    prospects = np.flatnonzero(status == PROSPECT)
    converted = prospects[:0]
    if prospects.size:
        interested = np.zeros(m.size, dtype=bool)
        interested[week.leads] = True
        referred = np.zeros(m.size, dtype=bool)
        if p.enable_referrals:
            is_promoter = np.zeros(m.size, dtype=bool)
            is_promoter[active[perceived == customers.POSITIVE]] = True
            ties = customers.updated_promoter_ties(is_promoter, m.promoter_ties, m.strong_ties, m.weak_ties)
            chance = customers.referral_probability(ties.weak[prospects], ties.strong[prospects], p)
            referred[prospects] = rng.random(prospects.size) < chance
            interested |= referred
        candidates = prospects[interested[prospects]]
        exposure = customers.review_exposure(n_reviews, p.review_reach, prospects.size)
        keeps = np.where(rng.random(candidates.size) < exposure, 0.0, 1.0)
        if weeks_left > 0:
            keeps = keeps * (1.0 - p.shitstorm_penalty)
        converted = candidates[rng.random(candidates.size) < keeps]
        status[converted] = ACTIVE
        satisfaction[converted] = 0.0
        new_customers, referrals = converted.size, int(np.count_nonzero(referred[converted]))
    stays = np.ones(active.size, dtype=bool)
    if p.enable_churn:
        churn_draws = rng.random(m.size)
        stays = churn_draws[active] >= customers.churn_hazard(perceived, m.shielded_of(active), p)
        status[active[~stays]] = LOST
    counts = customers.perception_counts(np.concatenate([perceived[stays],
                                                         customers.perception(satisfaction[converted], p)]))
    return {"status": status, "satisfaction": satisfaction, "shitstorm_weeks_left": weeks_left,
            "promoter_ties": ties, "success": customers.net_promoter_score_of_counts(*counts) / 100.0,
            "new_customers": new_customers, "referrals": referrals, "negative_reviews": n_reviews,
            "churned": int(active.size - np.count_nonzero(stays)), "perception_counts": counts}


@pytest.mark.parametrize("overrides", [
    {},  # the defaults
    {"review_prob": 0.5, "shitstorm_threshold": 0.01, "touchpoint_reach": 0.5, "referral_prob_weak": 0.3},
    {"enable_experience": False, "enable_reviews": False},
    {"enable_referrals": False, "enable_churn": False},
    {"customer_network": "complete", "referral_prob_weak": 0.001},
    {"initial_active_share": 1.0},  # no prospects
])
def test_the_compiled_week_gives_the_rules_bit_for_bit(overrides):
    model = small_model(seed=5, **overrides)
    for week in range(6):  # weeks of a running model: orders, leads, promoter-tie counts kept from week to week
        model.step()
        rules_rng, rng = np.random.default_rng(week), np.random.default_rng(week)
        rules = week_by_the_rules(model.world, model.params, rules_rng)
        compiled = customers.step(model.world, model.params, rng)
        assert rng.random() == rules_rng.random()  # the same number of draws
        values = {**compiled["market"], **compiled["firm"], **compiled["week"]}
        assert set(values) == set(rules)
        for name, expected in rules.items():
            value = values[name]
            if name == "promoter_ties":
                assert (value is None) == (expected is None), week
                if value is not None:
                    for part in ("promoters", "weak", "strong"):
                        assert np.array_equal(getattr(value, part), getattr(expected, part)), (week, part)
            elif isinstance(expected, np.ndarray):
                assert value.dtype == expected.dtype and np.array_equal(value, expected), (week, name)
            else:
                assert value == expected and type(value) is type(expected), (week, name)


def history_by_the_rules(world, p, p_order_failed, rng):
    """The customers' history of ``settle`` as whole-array rules (its compiled week: ``_history_week``)."""
    from orgsim.mechanisms.knowledge import segment_fit
    from orgsim.mechanisms.marketing_mix import intensities
    from orgsim.mechanisms.quality import contribution, order_quality

    m, w = world.market, world.workforce
    fit = segment_fit(world.firm.code, world.firm.segment_needs)[m.segment]
    fixed = (1.0 - p.quality_share) * fit - m.expectation - p.ad_annoyance * m.ad_fatigue
    _, touch = intensities(p.marketing_budget, p.ad_share) if p.enable_marketing_mix else (0.0, 0.0)
    touch_rate = min(1.0, p.touchpoint_reach * touch)
    contrib = contribution(w.performance, w.engagement, w.alignment)
    status, satisfaction = m.status.copy(), np.zeros(m.size)
    for _ in range(customers.CUSTOMER_HISTORY_WEEKS):
        active = np.flatnonzero(status == ACTIVE)
        ordering = active[rng.random(active.size) < p.order_rate]
        quality = (order_quality(contrib, w.department, ordering.size, p.weakest_link_weight, rng)
                   if p.enable_quality else np.ones(ordering.size))
        failed = rng.random(ordering.size) < p_order_failed
        x = p.quality_share * quality + fixed[ordering] - p.failure_penalty * failed
        satisfaction[ordering] += p.satisfaction_memory * (x - satisfaction[ordering])
        touched = active[rng.random(active.size) < touch_rate]
        satisfaction[touched] += p.satisfaction_memory * p.touchpoint_bonus
        if p.enable_churn:
            hazard = customers.churn_hazard(customers.perception(satisfaction[active], p), m.shielded_of(active), p)
            leavers = active[rng.random(active.size) < hazard]
            prospects = np.flatnonzero(status != ACTIVE)
            joiners = rng.choice(prospects, size=min(leavers.size, prospects.size), replace=False)
            status[leavers] = PROSPECT
            status[joiners] = ACTIVE
            satisfaction[joiners] = 0.0
    return status, np.where(status == ACTIVE, satisfaction, 0.0)


@pytest.mark.parametrize("overrides", [{}, {"enable_churn": False}, {"enable_quality": False, "churn_base": 0.2}])
def test_the_compiled_history_gives_the_rules_bit_for_bit(overrides):
    world, p = small_world(seed=9, **overrides)
    status, satisfaction = history_by_the_rules(world, p, 0.1, rules_rng := np.random.default_rng(3))
    customers.settle(world, p, 0.1, rng := np.random.default_rng(3))
    assert rng.random() == rules_rng.random()
    assert np.array_equal(world.market.status, status) and np.array_equal(world.market.satisfaction, satisfaction)


@pytest.mark.parametrize("active_share", [0.0, 0.3, 1.0])
def test_active_and_others_split_the_customers_in_order(active_share):
    draws = np.random.default_rng(4).random(777)
    status = np.where(draws < active_share, ACTIVE, np.where(draws < 0.8, PROSPECT, LOST)).astype(np.int8)
    active, others = customers._active_and_others(status)
    assert np.array_equal(active, np.flatnonzero(status == ACTIVE))
    assert np.array_equal(others, np.flatnonzero(status != ACTIVE))
