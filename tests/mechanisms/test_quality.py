import numpy as np

from orgsim.mechanisms import quality


def test_one_underperformer_drags_every_team_down(rng):
    contribution = np.array([0.8, 0.8, 0.0, 0.8])  # department 1 has one under-performer
    start, size = np.array([0, 1]), np.array([1, 3])
    q = quality.order_quality(contribution, start, size, 30_000, 1.0, rng)
    assert set(np.round(np.unique(q), 6)) == {0.0, 0.8}
    assert abs(np.mean(q == 0.0) - 1 / 3) < 0.01
    mean_only = quality.order_quality(contribution, start, size, 10, 0.0, rng)
    assert (mean_only >= 0.4 - 1e-12).all()


def test_contribution_is_a_product():
    assert np.isclose(quality.contribution(np.array(0.5), np.array(0.5), np.array(0.8)), 0.2)


def test_alignment_follows_attitude():
    a = np.array([0.0, 1.0])
    for _ in range(500):
        a = quality.alignment_step(a, np.array([1.0, -1.0]), 0.05)
    assert np.allclose(a, [1.0, 0.0], atol=1e-6)


def test_duplicate_work_costs_performance():
    assert np.allclose(quality.performance(np.array([0.8]), 0.25), 0.6)
