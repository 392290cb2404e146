import numpy as np

from orgsim import departments as dep
from orgsim.mechanisms import trust


def test_expected_trust_is_beta_mean():
    assert trust.expected_trust(np.array(0.0), np.array(0.0)) == 0.5
    assert np.isclose(trust.expected_trust(np.array(3.0), np.array(1.0)), 4 / 6)


def test_update_forgets_and_weights_losses():
    pos, neg = trust.update(np.array(10.0), np.array(2.0), np.array(1.0), np.array(1.0), 0.1, 3.0)
    assert np.isclose(pos, 10.0)  # 0.9 * 10 + 1
    assert np.isclose(neg, 4.8)  # 0.9 * 2 + 3 * 1


def test_lost_faster_than_gained():
    pos = neg = np.array(0.0)
    for _ in range(5):
        pos, neg = trust.update(pos, neg, np.array(1.0), np.array(0.0), 0.0, 3.0)
    high = trust.expected_trust(pos, neg)
    pos2, neg2 = trust.update(pos, neg, np.array(0.0), np.array(1.0), 0.0, 3.0)
    pos3, neg3 = trust.update(pos, neg, np.array(1.0), np.array(0.0), 0.0, 3.0)
    loss = high - trust.expected_trust(pos2, neg2)
    gain = trust.expected_trust(pos3, neg3) - high
    assert loss > 3 * gain


def test_marketing_behaviours_feed_sales_trust_in_marketing(rng):
    pos, neg = trust.weekly_observations((1.0, 1.0, 0.0), None, np.ones(dep.N_DEPARTMENTS), 1.0, rng)
    assert pos[dep.SALES, dep.MARKETING] == 2 and neg[dep.SALES, dep.MARKETING] == 1
    assert pos.sum() == 2 and neg.sum() == 1  # full silo: nobody else meets


def test_handoffs_are_observed_by_the_receiver(rng):
    success = np.zeros(len(dep.ORDER_HANDOFFS))
    pos, neg = trust.weekly_observations((0.0, 0.0, 0.0), success, np.ones(dep.N_DEPARTMENTS), 1.0, rng)
    for sender, receiver in dep.ORDER_HANDOFFS:
        assert neg[receiver, sender] >= 1
