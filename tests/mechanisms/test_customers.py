import numpy as np

from orgsim import networks
from orgsim.mechanisms import customers


def test_experience_formula():
    x = customers.experience(np.array([0.5]), 0.8, np.array([0.9]), np.array([True]),
                             np.array([True]), 0.4, 0.3)
    assert np.isclose(x[0], 0.5 + 0.8 - 0.9 - 0.4 + 0.3)


def test_perception_thresholds():
    p = customers.perception(np.array([-0.5, -0.1, 0.0, 0.1, 0.5]), 0.1)
    assert p.tolist() == [-1, 0, 0, 0, 1]


def test_conversion_probability_is_goldenberg():
    p_ad, p_ref = customers.conversion_probability(np.array([0.1]), np.array([3.0]), np.array([2.0]), 0.05, 0.2)
    total = 1 - (1 - p_ad) * (1 - p_ref)
    assert np.isclose(total[0], 1 - 0.9 * 0.95**3 * 0.8**2)


def test_promoter_ties_on_networks(rng):
    strong = networks.clustered_strong_ties(rng, 10, 1)
    weak = networks.random_weak_ties(rng, 10, 3.0)
    promoters = np.zeros(10, bool)
    promoters[:3] = True
    w, s = customers.promoter_ties(promoters, strong, weak)
    assert np.allclose(w, weak @ promoters.astype(float))
    assert np.allclose(s, strong @ promoters.astype(float))


def test_complete_network_counts_every_other_promoter():
    promoters = np.array([True, True, False, False])
    weak, strong = customers.promoter_ties(promoters, None, None)
    assert weak.tolist() == [1, 1, 2, 2] and (strong == 0).all()


def test_review_exposure_and_shitstorm():
    assert customers.review_exposure(0, 100, 1000) == 0.0
    assert np.isclose(customers.review_exposure(10, 100, 1000), 1 - np.exp(-1))
    assert customers.shitstorm_weeks_left(0, 30, 1000, 0.02, 4) == 4
    assert customers.shitstorm_weeks_left(4, 5, 1000, 0.02, 4) == 3
    assert customers.shitstorm_weeks_left(0, 5, 1000, 0.02, 4) == 0


def test_negative_customers_churn_faster():
    p = customers.churn_probability(np.array([-1, 0, 1]), 0.01, 0.1)
    assert p.tolist() == [0.1, 0.01, 0.01]
