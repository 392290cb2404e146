"""Mechanism 3, trust: known answers of the docstring's rules (row observes column).

    T_ij = (P_ij + 1) / (P_ij + N_ij + 2)
    P ← (1 − φ) P + r,   N ← (1 − φ) N + ω s + m
    observations: sales observes marketing's advocacy, support, buffering (one each,
    neglect is a let-down s); the receiver of each kind of hand-off observes the sender
    once, positive with the share the SENDER did not drop (leads included), a let-down
    otherwise; every pair meets with chance 1 − silo, and the meeting goes well with the
    OBSERVED department's mean engagement (a bad meeting m weighs 1, not ω).
"""

import numpy as np
import pytest

from orgsim import departments as dep
from orgsim.mechanisms import coordination, trust
from tests.conftest import (
    CyclingRng,
    ThresholdRng,
    assert_same_world,
    just_above,
    just_below,
    small_world,
    snapshot,
)

D = dep.N_DEPARTMENTS
H = len(dep.ORDER_HANDOFFS)
SM = (dep.SALES, dep.MARKETING)  # sales observes marketing
OPERATIONS, SERVICE, CONTROLLING, RND = (dep.INDEX[n] for n in ("operations", "service", "controlling", "rnd"))
#: Forget everything and weigh losses double: P' = r and N' = 2 s show this week's observations.
COUNTING = {"trust_forgetting": 1.0, "trust_loss_weight": 2.0}


def make_world(**overrides):
    world, p = small_world(seed=14, **{**COUNTING, **overrides})
    w = world.workforce
    # mean engagement 0.8 in departments 0, 2, 4, 6 and 0.2 in 1, 3, 5 (spread inside each)
    level = np.where(w.department % 2 == 0, 0.8, 0.2)
    w.engagement = level + np.where(np.arange(w.size) % 2 == 0, 0.05, -0.05)
    world.week.handoff_attempts = np.zeros(H)
    world.week.handoff_failures = np.zeros(H)
    world.week.handoff_sender_failures = np.zeros(H)
    return world, p


def observations(world, p, rng):
    """This week's (positive, negative) counts, read off the step's effects with φ = 1, ω = 2:
    N' = 2 · let-downs + bad meetings, so bad meetings are the odd part when let-downs are known."""
    effects = trust.step(world, p, rng)["firm"]
    return effects["trust_positive"], effects["trust_negative"]


def department_engagement(world):
    w = world.workforce
    return np.array([w.engagement[w.department == d].mean() for d in range(D)])


def test_expected_trust_is_the_beta_mean():
    assert trust.expected_trust(np.array(0.0), np.array(0.0)) == 0.5
    assert trust.expected_trust(np.array(3.0), np.array(1.0)) == pytest.approx(4 / 6)


def test_update_forgets_and_weights_losses():
    positive, negative = trust.update(np.array(10.0), np.array(2.0), np.array(1.0), np.array(1.0), 0.1, 3.0)
    assert positive == pytest.approx(0.9 * 10 + 1) and negative == pytest.approx(0.9 * 2 + 3 * 1)


def test_meetings_are_scored_by_the_observed_departments_engagement():
    world, p = make_world(silo_strength=0.0, marketing_advocacy=0.0, marketing_support=0.0,
                          marketing_buffering=0.0)
    engagement = department_engagement(world)
    u = 0.5  # every pair meets (chance 1); a meeting goes well iff the observed engagement > 0.5
    positive, negative = observations(world, p, ThresholdRng(u))
    off_diagonal = ~np.eye(D, dtype=bool)
    good = np.broadcast_to(engagement[None, :] > u, (D, D))  # column: the observed
    expected_negative = (off_diagonal & ~good).astype(float)  # a bad meeting weighs 1
    expected_negative[SM] += 2 * 3  # marketing shows none of the behaviours: three let-downs, weight ω = 2
    np.testing.assert_array_equal(positive, (off_diagonal & good).astype(float))
    np.testing.assert_array_equal(negative, expected_negative)
    counted = trust.weekly_observations(world, p, ThresholdRng(u))
    np.testing.assert_array_equal(counted[2], (off_diagonal & ~good).astype(float))  # the bad meetings
    assert counted[1].sum() == 3 and counted[1][SM] == 3
    assert positive[dep.SALES, dep.MARKETING] == 0 and positive[dep.MARKETING, dep.SALES] == 1  # 0.2 vs 0.8


def test_meetings_go_well_at_the_observed_engagement_rate():
    """400 weeks per pair; the share of good meetings within 4 SE of the observed department's engagement."""
    world, p = make_world(silo_strength=0.0)
    engagement = department_engagement(world)
    rng = np.random.default_rng(6)
    good = np.zeros((D, D))
    weeks = 400
    for _ in range(weeks):
        good += observations(world, p, rng)[0]
    good[SM] = np.nan  # marketing's behaviours add to this pair
    share = good / weeks
    expected = np.broadcast_to(engagement[None, :], (D, D))
    se = np.sqrt(expected * (1 - expected) / weeks)
    off = ~np.eye(D, dtype=bool) & ~np.isnan(share)
    assert np.all(np.abs(share[off] - expected[off]) < 4 * se[off])


def test_pairs_meet_with_chance_one_minus_silo_and_nobody_observes_their_own_department():
    world, p = make_world(silo_strength=0.3, marketing_advocacy=0.0, marketing_support=0.0,
                          marketing_buffering=0.0)
    met = sum(trust.weekly_observations(world, p, just_below(0.2)))  # every pair meets, well or not
    expected = 1.0 - np.eye(D)
    expected[SM] += 3
    np.testing.assert_array_equal(met, expected)
    apart = sum(trust.weekly_observations(world, p, just_above(0.7)))
    expected_apart = np.zeros((D, D))
    expected_apart[SM] = 3
    np.testing.assert_array_equal(apart, expected_apart)


@pytest.mark.parametrize(("levels", "u", "shown"), [((0.9, 0.5, 0.2), 0.4, 2), ((0.9, 0.5, 0.2), 0.1, 3),
                                                    ((0.9, 0.5, 0.2), 0.95, 0)])
def test_sales_observes_marketings_three_behaviours(levels, u, shown):
    world, p = make_world(silo_strength=1.0, marketing_advocacy=levels[0], marketing_support=levels[1],
                          marketing_buffering=levels[2])
    positive, negative = observations(world, p, ThresholdRng(u))
    assert positive[SM] == shown and negative[SM] == 2 * (3 - shown)  # neglect is a let-down: weight ω = 2
    assert positive.sum() == shown and negative.sum() == 2 * (3 - shown)  # full silo: nobody else meets


def test_the_receiver_of_a_hand_off_observes_the_sender_once():
    world, p = make_world(silo_strength=1.0, marketing_advocacy=1.0, marketing_support=1.0,
                          marketing_buffering=1.0)
    week = world.week
    week.handoff_attempts = np.array([10.0, 20.0, 20.0, 20.0, 0.0])
    week.handoff_failures = np.array([10.0, 20.0, 15.0, 20.0, 0.0])  # what failed for whatever reason
    # what the senders dropped: shares that worked in the receiver's eyes 0, 1, 0.75, 0; none
    week.handoff_sender_failures = np.array([10.0, 0.0, 5.0, 20.0, 0.0])
    positive, negative = observations(world, p, ThresholdRng(0.5))
    expected_positive, expected_negative = np.zeros((D, D)), np.zeros((D, D))
    expected_positive[SM] = 3  # the three behaviours
    expected_negative[SM] = 2  # every lead was lost by marketing: a let-down for sales (weight ω = 2)
    expected_positive[OPERATIONS, dep.SALES] = 1
    expected_positive[SERVICE, OPERATIONS] = 1  # 0.75 > 0.5
    expected_negative[CONTROLLING, dep.SALES] = 2
    # operations' 20 failures were all its own doing: no evidence against sales. service -> R&D did not happen
    # this week: no observation
    np.testing.assert_array_equal(positive, expected_positive)
    np.testing.assert_array_equal(negative, expected_negative)


def test_a_hand_off_is_seen_to_work_with_the_share_that_worked():
    world, p = make_world(silo_strength=1.0, marketing_advocacy=1.0, marketing_support=1.0,
                          marketing_buffering=1.0)
    world.week.handoff_attempts = np.full(H, 20.0)
    world.week.handoff_failures = np.full(H, 12.0)
    world.week.handoff_sender_failures = np.full(H, 5.0)  # the sender did its part in 15 of 20
    worked, _ = observations(world, p, just_below(0.75))
    failed, let_down = observations(world, p, just_above(0.75))
    assert worked[OPERATIONS, dep.SALES] == 1 and failed[OPERATIONS, dep.SALES] == 0
    assert let_down[OPERATIONS, dep.SALES] == 2


def test_leads_marketing_lost_reach_trust_as_sales_evidence_against_marketing():
    """Coordination loses every lead (ThresholdRng below p_fail of leads); trust counts it only when the
    loss was marketing's doing (the sender's part of p_fail)."""
    world, p = make_world(silo_strength=1.0, marketing_advocacy=1.0, marketing_support=1.0,
                          marketing_buffering=1.0, handoff_base_failure=0.0, handoff_silo_failure=0.0,
                          handoff_distrust_failure=0.0, handoff_cooperation_failure=0.0,
                          lead_distrust_loss=1.0, order_rate=0.0)
    world.week.leads = np.arange(8)
    coordination.step(world, p, ThresholdRng(0.1)).apply_to(world)  # p_fail of leads = 1 − T_SM > 0.1
    assert world.week.handoff_failures[0] == world.week.handoff_attempts[0] == 8
    # sales dropped them for distrust: not marketing's fault, so no evidence against marketing
    assert world.week.handoff_sender_failures[0] == 0
    positive, negative = observations(world, p, ThresholdRng(0.1))
    assert negative[SM] == 0 and positive[SM] == 4
    # marketing itself loses them (its base failure): sales now holds it against marketing
    p = p.replace(handoff_base_failure=1.0)
    world.week.leads = np.arange(8)
    coordination.step(world, p, ThresholdRng(0.1)).apply_to(world)
    assert world.week.handoff_sender_failures[0] == world.week.handoff_attempts[0] == 8
    positive, negative = observations(world, p, ThresholdRng(0.1))
    assert negative[SM] == 2 and positive[SM] == 3
    assert negative[dep.MARKETING, dep.SALES] == 0 and negative.sum() == 2  # marketing does not observe sales


def test_step_discounts_old_evidence_and_weights_negative_observations():
    world, p = make_world(silo_strength=1.0, trust_forgetting=0.1, trust_loss_weight=3.0,
                          marketing_advocacy=1.0, marketing_support=1.0, marketing_buffering=0.0)
    f = world.firm
    draw = np.random.default_rng(2)
    f.trust_positive, f.trust_negative = draw.uniform(0, 30, (D, D)), draw.uniform(0, 30, (D, D))
    effects = trust.step(world, p, ThresholdRng(0.5))["firm"]
    r, s = np.zeros((D, D)), np.zeros((D, D))
    r[SM], s[SM] = 2, 1
    np.testing.assert_allclose(effects["trust_positive"], 0.9 * f.trust_positive + r, atol=1e-13)
    np.testing.assert_allclose(effects["trust_negative"], 0.9 * f.trust_negative + 3 * s, atol=1e-13)


def test_stationary_evidence_is_expected_observations_over_forgetting():
    world, p = make_world(silo_strength=0.3, trust_forgetting=0.05, trust_loss_weight=3.0,
                          marketing_advocacy=0.6, marketing_support=0.5, marketing_buffering=0.4)
    engagement = department_engagement(world)
    success = np.array([0.5, 0.9, 0.8, 0.7, 0.6])
    positive, negative = trust.stationary_evidence(world, p, success)
    r = 0.7 * np.broadcast_to(engagement[None, :], (D, D)) * (1 - np.eye(D))
    bad_meetings = 0.7 * np.broadcast_to(1 - engagement[None, :], (D, D)) * (1 - np.eye(D))
    s = np.zeros((D, D))
    for (sender, receiver), worked in zip(dep.ORDER_HANDOFFS, success, strict=True):
        r[receiver, sender] += worked
        s[receiver, sender] += 1 - worked
    r[SM] += 0.6 + 0.5 + 0.4
    s[SM] += 0.4 + 0.5 + 0.6
    np.testing.assert_allclose(positive, r / 0.05, atol=1e-12)
    np.testing.assert_allclose(negative, (3 * s + bad_meetings) / 0.05, atol=1e-12)
    # a fixed point in expectation: (1 − φ) P + E[r] = P
    np.testing.assert_allclose(0.95 * positive + r, positive, atol=1e-12)
    none = trust.stationary_evidence(world, p.replace(trust_forgetting=0.0), success)
    assert (none[0] == 0).all() and (none[1] == 0).all()


def test_writes_only_its_fields_and_does_not_mutate_the_world():
    world, p = make_world(trust_forgetting=0.05, trust_loss_weight=3.0)
    world.week.handoff_attempts = np.full(H, 10.0)
    world.week.handoff_failures = np.full(H, 3.0)
    world.week.handoff_sender_failures = np.full(H, 2.0)
    before = snapshot(world)
    effects = trust.step(world, p, np.random.default_rng(0))
    assert_same_world(world, before)
    assert {k: set(v) for k, v in effects.items()} == {"firm": {"trust_positive", "trust_negative"}}


# ------------------------------------------------------------------ every event its own draw; chance 0 never
def test_events_of_chance_zero_never_happen_even_on_a_draw_of_zero():
    """Full silo (no meetings, no one meets themselves), no behaviour shown, every hand-off dropped by its
    sender: with every draw exactly 0 only the let-downs are observed."""
    world, p = make_world(silo_strength=1.0, marketing_advocacy=0.0, marketing_support=0.0,
                          marketing_buffering=0.0)
    world.week.handoff_attempts = np.full(H, 4.0)
    world.week.handoff_sender_failures = np.full(H, 4.0)
    positive, negative, bad = trust.weekly_observations(world, p, ThresholdRng(0.0))
    expected = np.zeros((D, D))
    for s, r in dep.ORDER_HANDOFFS:
        expected[r, s] += 1
    expected[SM] += 3
    assert (positive == 0).all() and (bad == 0).all()
    np.testing.assert_array_equal(negative, expected)
    # open doors, but the observed departments disengaged: every meeting goes badly
    world, p = make_world(silo_strength=0.0)
    world.workforce.engagement[:] = 0.0
    positive, _, bad = trust.weekly_observations(world, p, ThresholdRng(0.0))
    np.testing.assert_array_equal(bad, 1.0 - np.eye(D))
    assert positive.sum() == 3  # marketing's three behaviours at 0.6 > 0


def test_every_pair_hand_off_and_behaviour_draws_on_its_own():
    world, p = make_world(silo_strength=0.5, marketing_advocacy=0.5, marketing_support=0.5,
                          marketing_buffering=0.5)
    world.week.handoff_attempts = np.full(H, 10.0)
    world.week.handoff_sender_failures = np.full(H, 5.0)  # worked with chance 0.5
    draws = CyclingRng([0.1, 0.9])
    positive, negative, bad = trust.weekly_observations(world, p, draws)
    grid = np.resize([0.1, 0.9], (D, D))
    meets = (grid < 0.5) & ~np.eye(D, dtype=bool)
    good = grid < department_engagement(world)[None, :]
    expected_positive, expected_negative = (meets & good).astype(float), np.zeros((D, D))
    for (s, r), worked in zip(dep.ORDER_HANDOFFS, np.resize([0.1, 0.9], H) < 0.5, strict=True):
        (expected_positive if worked else expected_negative)[r, s] += 1
    expected_positive[SM] += 2  # behaviours drew 0.1, 0.9, 0.1 against 0.5
    expected_negative[SM] += 1
    np.testing.assert_array_equal(positive, expected_positive)
    np.testing.assert_array_equal(negative, expected_negative)
    np.testing.assert_array_equal(bad, (meets & ~good).astype(float))
    assert positive.dtype == bad.dtype == np.float64


@pytest.mark.parametrize(("sender_failures", "u", "worked"), [(0.0, 0.3, True), (1.0, 0.3, False)])
def test_a_single_hand_off_is_observed_as_it_went(sender_failures, u, worked):
    world, p = make_world(silo_strength=1.0, marketing_advocacy=1.0, marketing_support=1.0,
                          marketing_buffering=1.0)
    world.week.handoff_attempts = np.array([0.0, 1.0, 0.0, 0.0, 0.0])  # one order to operations
    world.week.handoff_sender_failures = np.array([0.0, sender_failures, 0.0, 0.0, 0.0])
    positive, negative, _ = trust.weekly_observations(world, p, ThresholdRng(u))
    assert positive[OPERATIONS, dep.SALES] == float(worked) and negative[OPERATIONS, dep.SALES] == float(not worked)
    assert positive.sum() + negative.sum() == 3 + 1  # the three behaviours and the one hand-off


def test_department_engagement_is_the_mean_per_department():
    world, _ = make_world()
    w = world.workforce
    w.engagement = np.arange(w.size) / w.size
    expected = [w.engagement[w.department == d].mean() for d in range(D)]
    np.testing.assert_allclose(trust.department_engagement(world), expected, rtol=1e-15)
    assert np.ptp(expected) > 0.5


def test_stationary_evidence_without_forgetting_is_none_and_tiny_forgetting_is_capped():
    world, p = make_world(silo_strength=0.3, trust_loss_weight=3.0)
    success = np.full(H, 0.5)
    none = trust.stationary_evidence(world, p.replace(trust_forgetting=0.0), success)
    assert none[0].shape == none[1].shape == (D, D) and not none[0].any() and not none[1].any()
    one = trust.stationary_evidence(world, p.replace(trust_forgetting=1.0), success)
    capped = trust.stationary_evidence(world, p.replace(trust_forgetting=1e-14), success)
    np.testing.assert_allclose(capped[0], one[0] * 1e12, rtol=1e-15)  # memory min(1/φ, 10^12)
    np.testing.assert_allclose(capped[1], one[1] * 1e12, rtol=1e-15)
