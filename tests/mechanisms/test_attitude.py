import numpy as np
import scipy.sparse as sp

from orgsim.mechanisms import attitude


def _ring(n):
    rows = np.arange(n)
    cols = (rows + 1) % n
    a = sp.csr_matrix((np.ones(n), (rows, cols)), shape=(n, n))
    return (a + a.T).tocsr()


def test_influence_matrix_is_row_stochastic_and_weights_multipliers():
    net = _ring(6)
    is_multiplier = np.zeros(6, dtype=bool)
    is_multiplier[1] = True
    w = attitude.influence_matrix(net, is_multiplier, np.zeros(6, dtype=bool), 4.0, 10.0).toarray()
    assert np.allclose(w.sum(axis=1), 1.0)
    # employee 0 hears 5, itself and the multiplier 1: weights 1, 1, 4
    assert np.allclose(w[0, [5, 0, 1]], [1 / 6, 1 / 6, 4 / 6])


def test_leader_outweighs_multiplier():
    net = _ring(5)
    leader = np.zeros(5, dtype=bool)
    leader[1] = True
    w = attitude.influence_matrix(net, leader.copy(), leader, 4.0, 10.0).toarray()
    assert np.isclose(w[0, 1], 10 / 12)


def test_step_is_the_friedkin_johnsen_update():
    rng = np.random.default_rng(0)
    net = _ring(8)
    w = attitude.influence_matrix(net, np.zeros(8, bool), np.zeros(8, bool), 1.0, 1.0)
    x0 = rng.uniform(-1, 1, 8)
    x = rng.uniform(-1, 1, 8)
    new = attitude.step(x, x0, w, 0.3, 0.0, 0.0, 0.0, np.zeros(8, bool))
    assert np.allclose(new, 0.7 * (w @ x) + 0.3 * x0)


def test_visible_success_raises_attitudes_and_carriers_twice():
    w = attitude.influence_matrix(_ring(4), np.zeros(4, bool), np.zeros(4, bool), 1.0, 1.0)
    x = np.zeros(4)
    carriers = np.array([True, False, False, False])
    new = attitude.step(x, x, w, 0.5, success=0.5, success_weight=0.1, visibility=1.0,
                        is_knowledge_carrier=carriers)
    assert np.allclose(new, [0.1, 0.05, 0.05, 0.05])
    hidden = attitude.step(x, x, w, 0.5, 0.5, 0.1, 0.0, carriers)
    assert np.allclose(hidden, 0.0)


def test_iterating_converges_to_equilibrium():
    rng = np.random.default_rng(3)
    net = _ring(30)
    is_mult = rng.random(30) < 0.2
    w = attitude.influence_matrix(net, is_mult, np.zeros(30, bool), 5.0, 1.0)
    x0 = rng.uniform(-1, 1, 30)
    x = x0.copy()
    for _ in range(500):
        x = attitude.step(x, x0, w, 0.2, 0.0, 0.0, 0.0, np.zeros(30, bool))
    assert np.allclose(x, attitude.equilibrium(x0, w, 0.2), atol=1e-10)


def test_multipliers_are_the_most_responsible():
    responsibility = np.array([0.1, 0.9, 0.5, 0.8, 0.3])
    already = np.array([False, True, False, False, False])
    chosen = attitude.select_multipliers(responsibility, already, 0.4)
    assert chosen.tolist() == [False, False, True, True, False]
