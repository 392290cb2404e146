"""Mechanism 4, coordination: known answers of the docstring's equations.

For a hand-off from sender s to receiver r (T_rs: the receiver's trust in
the sender, the beta mean (P + 1)/(P + N + 2) of the firm's evidence;
c_d: mean engagement × orientation of department d):

    p_sender   = f0 + f_silo silo + f_coop (1 − c_s)/2
    p_receiver = f_trust (1 − T_rs) + f_coop (1 − c_r)/2
                 (+ ℓ (1 − T_sales,marketing) for marketing's leads)
    p_fail     = clip(p_sender + p_receiver, 0, 1);  the sender's part min(clip(p_sender, 0, 1), p_fail)
    p_dup      = clip(u (silo + 1 − T_rs) / 2, 0, 1)
    load_d     = min(cost · (hand-offs d received twice) / (hand-offs d sent or received), 1)

One uniform draw v per hand-off: it fails if v < p_fail, by the sender's fault
if v < p_sender. An order fails for its customer if one of its customer-facing
hand-offs fails (sales → operations, operations → service, sales → controlling;
not the lead hand-off and not service → R&D). Index 0 of the week's hand-off
arrays is the marketing → sales lead hand-off.
"""

import numpy as np
import pytest

from orgsim import departments as dep
from orgsim.mechanisms import coordination
from orgsim.state import ACTIVE, LOST, PROSPECT
from tests.conftest import (
    ThresholdRng,
    assert_same_world,
    just_above,
    just_below,
    small_world,
    snapshot,
)

D = dep.N_DEPARTMENTS
RATES = {"handoff_base_failure": 0.01, "handoff_silo_failure": 0.05, "silo_strength": 0.4,
         "handoff_distrust_failure": 0.1, "handoff_cooperation_failure": 0.2, "lead_distrust_loss": 0.3,
         "duplicate_work_rate": 0.4, "duplicate_capacity_cost": 0.5, "order_rate": 1.0}


#: The hand-offs whose failure fails the order for its customer: sales -> operations, operations -> service,
#: sales -> controlling (not marketing's leads, index 0, nor service's feedback to R&D, index 4).
CUSTOMER_FACING = [1, 2, 3]


def expected_probabilities(trust, coop, p):
    """(p_fail, p_dup, p_sender) written out hand-off by hand-off."""
    p_fail, p_dup, p_sender = [], [], []
    for k, (s, r) in enumerate(dep.ORDER_HANDOFFS):
        sender = (p.handoff_base_failure + p.handoff_silo_failure * p.silo_strength
                  + p.handoff_cooperation_failure * (1 - coop[s]) / 2)
        receiver = p.handoff_distrust_failure * (1 - trust[r, s]) + p.handoff_cooperation_failure * (1 - coop[r]) / 2
        if k == 0:
            assert (s, r) == (dep.MARKETING, dep.SALES)
            receiver += p.lead_distrust_loss * (1 - trust[dep.SALES, dep.MARKETING])
        fail = min(max(sender + receiver, 0.0), 1.0)
        p_fail.append(fail)
        p_sender.append(min(min(max(sender, 0.0), 1.0), fail))
        p_dup.append(min(max(p.duplicate_work_rate * (p.silo_strength + 1 - trust[r, s]) / 2, 0.0), 1.0))
    return np.array(p_fail), np.array(p_dup), np.array(p_sender)


@pytest.fixture
def world_and_params():
    world, p = small_world(seed=10, **RATES)
    w, f, m = world.workforce, world.firm, world.market
    draw = np.random.default_rng(2)
    w.engagement = draw.uniform(0, 1, w.size)
    w.alignment = draw.uniform(0, 1, w.size)
    f.trust_positive = draw.uniform(0, 20, (D, D))  # asymmetric: T_rs != T_sr
    f.trust_negative = draw.uniform(0, 20, (D, D))
    m.status = draw.choice(np.array([PROSPECT, ACTIVE, LOST], dtype=np.int8), m.size)
    world.week.leads = np.flatnonzero(m.status == PROSPECT)[:12]
    return world, p


def beta_trust(world):
    f = world.firm
    return (f.trust_positive + 1) / (f.trust_positive + f.trust_negative + 2)


def cooperation_by_hand(world):
    w = world.workforce
    return np.array([np.mean((w.engagement * w.alignment)[w.department == d]) for d in range(D)])


def test_cooperation_is_mean_engagement_times_orientation_per_department(world_and_params):
    world, _ = world_and_params
    np.testing.assert_allclose(coordination.cooperation(world), cooperation_by_hand(world), atol=1e-15)


def test_handoff_probabilities_use_the_receivers_trust_in_the_sender(world_and_params):
    world, p = world_and_params
    trust, coop = beta_trust(world), cooperation_by_hand(world)
    assert not np.allclose(trust, trust.T)
    p_fail, p_dup, p_sender = coordination.handoff_probabilities(trust, coop, p)
    expected_fail, expected_dup, expected_sender = expected_probabilities(trust, coop, p)
    np.testing.assert_allclose(p_fail, expected_fail, atol=1e-15)
    np.testing.assert_allclose(p_dup, expected_dup, atol=1e-15)
    np.testing.assert_allclose(p_sender, expected_sender, atol=1e-15)
    assert (p_sender < p_fail).all()  # every receiver here distrusts its sender a little


def test_the_senders_part_does_not_depend_on_the_receivers_trust_or_cooperation(world_and_params):
    world, p = world_and_params
    trust, coop = beta_trust(world), cooperation_by_hand(world)
    _, _, p_sender = coordination.handoff_probabilities(trust, coop, p)
    receivers_changed = coop.copy()
    receivers_changed[dep.HANDOFF_RECEIVERS] = 0.0
    receivers_changed[dep.HANDOFF_SENDERS] = coop[dep.HANDOFF_SENDERS]
    _, _, unchanged = coordination.handoff_probabilities(np.zeros((D, D)), receivers_changed, p)
    np.testing.assert_allclose(unchanged, p_sender, atol=1e-15)


def test_duplicate_probability_is_u_times_silo_plus_distrust_over_two():
    trust = np.full((D, D), 0.25)
    p = small_world(seed=10, duplicate_work_rate=0.4, silo_strength=0.5)[1]
    _, p_dup, _ = coordination.handoff_probabilities(trust, np.ones(D), p)
    np.testing.assert_allclose(p_dup, 0.4 * (0.5 + 0.75) / 2)  # 0.25, not doubled


def test_probabilities_are_clipped():
    p = small_world(seed=10, handoff_base_failure=0.9, handoff_silo_failure=0.9, silo_strength=1.0,
                    lead_distrust_loss=1.0, duplicate_work_rate=1.0)[1]
    p_fail, p_dup, p_sender = coordination.handoff_probabilities(np.zeros((D, D)), np.zeros(D), p)
    assert (p_fail == 1.0).all() and (p_dup == 1.0).all() and (p_sender == 1.0).all()
    # all rates zero: nothing fails or is doubled, whatever trust and cooperation are
    p = p.replace(handoff_base_failure=0.0, handoff_silo_failure=0.0, handoff_cooperation_failure=0.0,
                  handoff_distrust_failure=0.0, lead_distrust_loss=0.0, duplicate_work_rate=0.0)
    p_fail, p_dup, p_sender = coordination.handoff_probabilities(np.zeros((D, D)), np.zeros(D), p)
    assert (p_fail == 0.0).all() and (p_dup == 0.0).all() and (p_sender == 0.0).all()


def test_lost_leads_are_counted_at_index_0_and_do_not_reach_sales(world_and_params):
    world, p = world_and_params
    p_fail, _, _ = expected_probabilities(beta_trust(world), cooperation_by_hand(world), p)
    assert p_fail[0] > p_fail[1:].max()
    n_active, n_leads = int((world.market.status == ACTIVE).sum()), world.week.leads.size
    lost = coordination.step(world, p, just_below(p_fail[0]))["week"]  # every lead lost, no order fails
    assert lost["handoff_attempts"].tolist() == [n_leads] + [n_active] * (len(p_fail) - 1)
    assert lost["handoff_failures"].tolist() == [n_leads] + [0] * (len(p_fail) - 1)
    assert lost["lost_leads"] == n_leads and lost["leads"].size == 0
    kept = coordination.step(world, p, just_above(p_fail[0]))["week"]
    assert kept["lost_leads"] == 0 and kept["handoff_failures"][0] == 0
    assert np.array_equal(kept["leads"], world.week.leads)


def test_an_order_fails_if_any_of_its_customer_facing_hand_offs_fails(world_and_params):
    world, p = world_and_params
    p_fail, _, _ = expected_probabilities(beta_trust(world), cooperation_by_hand(world), p)
    ordering = np.flatnonzero(world.market.status == ACTIVE)  # order rate 1: every active customer
    one = p_fail[CUSTOMER_FACING].max()  # only customer-facing hand-offs at least this failure-prone fail
    week = coordination.step(world, p, just_below(one))["week"]
    assert np.array_equal(week["ordering"], ordering)
    assert week["order_failed"].all() and week["order_failed"].size == ordering.size
    assert week["handoff_failures"][1:].tolist() == [ordering.size * (f >= one) for f in p_fail[1:]]
    none = coordination.step(world, p, just_above(p_fail.max()))["week"]
    assert not none["order_failed"].any() and none["handoff_failures"].sum() == 0


def test_a_failed_feedback_to_rnd_does_not_fail_the_order(world_and_params):
    world, p = world_and_params
    rnd_feedback = dep.ORDER_HANDOFFS.index((dep.INDEX["service"], dep.INDEX["rnd"]))
    # only cooperation fails hand-offs, and R&D does not cooperate: its feedback hand-off fails most
    p = p.replace(handoff_base_failure=0.0, handoff_silo_failure=0.0, handoff_distrust_failure=0.0,
                  handoff_cooperation_failure=0.5, lead_distrust_loss=0.0)
    world.workforce.alignment[world.workforce.department == dep.INDEX["rnd"]] = 0.0
    p_fail, _, _ = expected_probabilities(beta_trust(world), cooperation_by_hand(world), p)
    u = (p_fail[rnd_feedback] + p_fail[CUSTOMER_FACING].max()) / 2
    assert p_fail[CUSTOMER_FACING].max() < u < p_fail[rnd_feedback]
    week = coordination.step(world, p, ThresholdRng(u))["week"]
    assert week["handoff_failures"][rnd_feedback] == week["ordering"].size > 0
    assert not week["order_failed"].any()


def test_a_failure_is_the_senders_fault_only_below_the_senders_part(world_and_params):
    world, p = world_and_params
    p_fail, _, p_sender = expected_probabilities(beta_trust(world), cooperation_by_hand(world), p)
    k = int(np.argmax(p_fail - p_sender))
    between = coordination.step(world, p, ThresholdRng((p_sender[k] + p_fail[k]) / 2))["week"]
    assert between["handoff_failures"][k] == between["handoff_attempts"][k] > 0
    assert between["handoff_sender_failures"][k] == 0  # the receiver dropped it: no evidence against the sender
    below = coordination.step(world, p, just_below(p_sender[k]))["week"]
    assert below["handoff_sender_failures"][k] == below["handoff_failures"][k] == below["handoff_attempts"][k]
    assert (below["handoff_sender_failures"] <= below["handoff_failures"]).all()


def test_failure_and_duplicate_rates_match_the_probabilities(world_and_params):
    """5,000 leads and 6,000 orders; each rate within 4 binomial SE."""
    world, p = world_and_params
    world.market.status[:] = ACTIVE
    world.week.leads = np.arange(250)  # leads need not be prospects for this count
    p_fail, p_dup, p_sender = expected_probabilities(beta_trust(world), cooperation_by_hand(world), p)
    rng = np.random.default_rng(4)
    weeks = [coordination.step(world, p, rng)["week"] for _ in range(20)]
    attempts = sum(w["handoff_attempts"] for w in weeks)
    failures = sum(w["handoff_failures"] for w in weeks)
    duplicates = sum(w["duplicates"] for w in weeks)
    sender_failures = sum(w["handoff_sender_failures"] for w in weeks)
    assert attempts.tolist() == [5000.0] + [6000.0] * (len(p_fail) - 1)  # 20 x 250 leads, 20 x 300 orders
    assert np.all(np.abs(failures / attempts - p_fail) < 4 * np.sqrt(p_fail * (1 - p_fail) / attempts))
    assert np.all(np.abs(duplicates / attempts - p_dup) < 4 * np.sqrt(p_dup * (1 - p_dup) / attempts))
    assert np.all(np.abs(sender_failures / attempts - p_sender) < 4 * np.sqrt(p_sender * (1 - p_sender) / attempts))
    order_failed = np.concatenate([w["order_failed"] for w in weeks])
    chance = 1 - np.prod(1 - p_fail[CUSTOMER_FACING])
    assert abs(order_failed.mean() - chance) < 4 * np.sqrt(chance * (1 - chance) / order_failed.size)


def test_only_active_customers_order_at_the_order_rate(world_and_params):
    world, p = world_and_params
    p = p.replace(order_rate=0.25)
    active = world.market.status == ACTIVE
    assert np.array_equal(coordination.step(world, p, just_below(0.25))["week"]["ordering"], np.flatnonzero(active))
    assert coordination.step(world, p, just_above(0.25))["week"]["ordering"].size == 0
    rng = np.random.default_rng(5)
    counts = [coordination.step(world, p, rng)["week"]["ordering"] for _ in range(40)]
    assert all(active[c].all() for c in counts)
    n = 40 * active.sum()
    assert abs(sum(c.size for c in counts) / n - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n)


def workload_by_hand(attempts):
    workload = np.zeros(D)
    for (sender, receiver), a in zip(dep.ORDER_HANDOFFS, attempts, strict=True):
        workload[sender] += a
        workload[receiver] += a
    return workload


def test_capacity_load_is_the_cost_of_what_was_received_twice_over_all_hand_offs_taken_part_in():
    attempts = np.array([4.0, 10.0, 10.0, 10.0, 10.0])
    duplicates = np.array([1.0, 2.0, 5.0, 0.0, 10.0])
    load = coordination.capacity_load(attempts, duplicates, 0.5)
    doubled = np.zeros(D)
    for (_, receiver), d in zip(dep.ORDER_HANDOFFS, duplicates, strict=True):
        doubled[receiver] += d
    workload = workload_by_hand(attempts)
    expected = np.divide(0.5 * doubled, workload, out=np.zeros(D), where=workload > 0)
    np.testing.assert_allclose(load, expected, atol=1e-15)
    # sales receives the 4 leads and sends 20 orders: 0.5 * 1 / 24; R&D only receives service's 10
    assert load[dep.SALES] == pytest.approx(0.5 / 24) and load[dep.INDEX["rnd"]] == 0.5
    assert load[dep.MARKETING] == 0.0  # sends leads, receives nothing
    assert coordination.capacity_load(attempts, duplicates, 2.0)[dep.INDEX["rnd"]] == 1.0  # at most all
    assert (coordination.capacity_load(np.zeros(5), np.zeros(5), 1.0) == 0).all()  # no work at all


def test_step_loads_receivers_with_their_duplicates(world_and_params):
    world, p = world_and_params
    _, p_dup, _ = expected_probabilities(beta_trust(world), cooperation_by_hand(world), p)
    ranked = np.sort(p_dup)
    u = (ranked[1] + ranked[2]) / 2  # ThresholdRng duplicates all of a hand-off kind iff p_dup > u
    assert ranked[1] < u < ranked[2]
    effects = coordination.step(world, p, ThresholdRng(u))
    week = effects["week"]
    attempts = week["handoff_attempts"]
    assert week["duplicates"].tolist() == [a if d > u else 0.0 for a, d in zip(attempts, p_dup, strict=True)]
    doubled = np.zeros(D)
    for (_, receiver), a, d in zip(dep.ORDER_HANDOFFS, attempts, p_dup, strict=True):
        doubled[receiver] += a * (d > u)
    workload = workload_by_hand(attempts)
    expected = np.minimum(np.divide(0.5 * doubled, workload, out=np.zeros(D), where=workload > 0), 1.0)
    np.testing.assert_allclose(effects["firm"]["capacity_load"], expected, atol=1e-15)
    assert (expected > 0).sum() >= 2


def test_switched_off_orders_still_come_but_no_hand_off_fails_is_doubled_or_observed(world_and_params):
    world, p = world_and_params
    effects = coordination.off(world, p, ThresholdRng(0.0))
    week = effects["week"]
    assert week["ordering"].size == (world.market.status == ACTIVE).sum()
    assert not week["order_failed"].any()
    assert (week["handoff_attempts"] == 0).all() and (week["handoff_failures"] == 0).all()
    assert (week["handoff_sender_failures"] == 0).all()
    assert (week["duplicates"] == 0).all() and (effects["firm"]["capacity_load"] == 0).all()
    assert np.array_equal(week["leads"], world.week.leads) and week["lost_leads"] == 0


@pytest.mark.parametrize("run", [coordination.step, coordination.off])
def test_writes_only_its_fields_and_does_not_mutate_the_world(world_and_params, run):
    world, p = world_and_params
    before = snapshot(world)
    effects = run(world, p, np.random.default_rng(0))
    assert_same_world(world, before)
    assert {k: set(v) for k, v in effects.items()} == {
        "week": {"ordering", "order_failed", "handoff_attempts", "handoff_failures", "handoff_sender_failures",
                 "duplicates", "leads", "lost_leads"},
        "firm": {"capacity_load"}}


def test_no_orders_at_order_rate_zero_even_on_a_draw_of_zero(world_and_params):
    world, p = world_and_params
    week = coordination.step(world, p.replace(order_rate=0.0), ThresholdRng(0.0))["week"]
    assert week["ordering"].size == 0 and week["handoff_attempts"][1:].tolist() == [0.0] * 4


def test_capacity_load_of_a_single_hand_off():
    """One lead, done twice: marketing sent one, sales received one (workload 1): sales loses cost · 1/1."""
    load = coordination.capacity_load(np.array([1.0, 0, 0, 0, 0]), np.array([1.0, 0, 0, 0, 0]), 0.6)
    expected = np.zeros(D)
    expected[dep.SALES] = 0.6
    np.testing.assert_allclose(load, expected, atol=1e-15)


def test_week_zero_load_is_one_unit_per_order_hand_off_at_the_expected_duplicate_rate():
    """p_dup = u (silo + 1 − T)/2 = 0.4 · 0.9 / 2 = 0.18 on every order hand-off, none on leads.
    Workloads: sales sends 2, operations and service send and receive 1 each, controlling and R&D
    receive 1; load = cost · 0.18 / workload."""
    p = small_world(seed=10, **{**RATES, "duplicate_capacity_cost": 0.5})[1]
    load = coordination.expected_load(np.full((D, D), 0.5), np.ones(D), p)
    expected = np.zeros(D)
    for name, workload in (("service", 2), ("rnd", 1), ("controlling", 1), ("operations", 2)):
        expected[dep.INDEX[name]] = 0.5 * 0.18 / workload
    np.testing.assert_allclose(load, expected, atol=1e-15)
    everything = small_world(seed=10, **{**RATES, "duplicate_capacity_cost": 5.0, "duplicate_work_rate": 1.0,
                                         "silo_strength": 1.0})[1]
    assert coordination.expected_load(np.zeros((D, D)), np.ones(D), everything)[dep.INDEX["rnd"]] == 1.0


@pytest.mark.parametrize("n_orders", [0, 1, 300])
def test_the_compiled_order_hand_offs_give_the_rule_on_whole_arrays(n_orders):
    """Failures and sender failures per hand-off, and orders failed at a customer-facing hand-off."""
    rng = np.random.default_rng(5)
    p_fail = rng.random(dep.CUSTOMER_FACING.size) * 0.5
    p_sender = p_fail * rng.random(p_fail.size)
    draws = rng.random((n_orders, p_fail.size))
    draws[:, 1] = p_fail[1]  # a draw equal to the chance: no failure
    failures, sender_failures, order_failed = coordination._order_handoffs(draws, p_fail, p_sender,
                                                                             dep.CUSTOMER_FACING)
    failed = draws < p_fail[None, :]
    np.testing.assert_array_equal(failures, failed.sum(axis=0).astype(float))
    np.testing.assert_array_equal(sender_failures, (draws < p_sender[None, :]).sum(axis=0).astype(float))
    np.testing.assert_array_equal(order_failed, failed[:, dep.CUSTOMER_FACING].any(axis=1))
    assert order_failed.dtype == bool and (n_orders < 300 or 0 < order_failed.sum() < n_orders)
