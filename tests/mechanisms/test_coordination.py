import numpy as np

from orgsim import departments as dep
from orgsim.mechanisms import coordination


def test_failure_rises_with_silo_and_distrust():
    trusting = np.full((dep.N_DEPARTMENTS, dep.N_DEPARTMENTS), 0.9)
    distrusting = np.full((dep.N_DEPARTMENTS, dep.N_DEPARTMENTS), 0.2)
    base = coordination.handoff_probabilities(trusting, 0.0, 0.01, 0.1, 0.1, 0.2)
    silo = coordination.handoff_probabilities(trusting, 1.0, 0.01, 0.1, 0.1, 0.2)
    distrust = coordination.handoff_probabilities(distrusting, 0.0, 0.01, 0.1, 0.1, 0.2)
    assert np.allclose(base[0], 0.01 + 0.1 * 0.1)
    assert (silo[0] > base[0]).all() and (distrust[0] > base[0]).all()
    assert (silo[1] > base[1]).all() and (distrust[1] > base[1]).all()


def test_receiver_trust_in_sender_is_used():
    trust = np.full((dep.N_DEPARTMENTS, dep.N_DEPARTMENTS), 1.0)
    trust[dep.SALES, dep.MARKETING] = 0.0  # sales distrusts marketing
    p_fail, _ = coordination.handoff_probabilities(trust, 0.0, 0.0, 0.0, 0.5, 0.0)
    assert p_fail[coordination.LEAD_HANDOFF] == 0.5
    assert (p_fail[1:] == 0).all()


def test_orders_fail_at_the_expected_rate(rng):
    p_fail = np.array([0.9, 0.1, 0.1, 0.0, 0.0])
    outcome = coordination.process_orders(50_000, p_fail, np.full(5, 0.2), 1.0, rng)
    assert outcome.failures[coordination.LEAD_HANDOFF] == 0  # leads are not orders
    assert abs(outcome.order_failed.mean() - (1 - 0.9**2)) < 0.01
    assert abs(outcome.capacity_load - 0.2) < 0.01
    assert np.allclose(outcome.handoff_success[1:3], 0.9, atol=0.01)


def test_no_orders_no_evidence(rng):
    outcome = coordination.process_orders(0, np.full(5, 0.5), np.full(5, 0.5), 1.0, rng)
    assert outcome.handoff_success is None and outcome.capacity_load == 0.0
