import numpy as np

from orgsim import networks


def test_internal_network_is_symmetric_without_self_loops(rng):
    department = np.repeat(np.arange(4), 50)
    net = networks.internal_network(rng, department, 6.0, 4.0, 0.5)
    assert (net != net.T).nnz == 0
    assert net.diagonal().sum() == 0
    assert set(np.unique(net.data)) == {1.0}


def test_silo_strength_removes_cross_ties(rng):
    department = np.repeat(np.arange(5), 100)

    def cross_share(silo):
        coo = networks.internal_network(rng, department, 6.0, 4.0, silo).tocoo()
        return np.mean(department[coo.row] != department[coo.col])

    assert cross_share(1.0) == 0.0
    assert cross_share(0.0) > cross_share(0.7) > 0.0


def test_mean_degrees_match(rng):
    department = np.repeat(np.arange(2), 2000)
    net = networks.internal_network(rng, department, 6.0, 0.0, 1.0)
    assert abs(net.sum() / 4000 - 6.0) < 0.3  # a few duplicate pairs collapse


def test_strong_ties_form_cliques(rng):
    strong = networks.clustered_strong_ties(rng, 1000, 4)
    degrees = np.asarray(strong.sum(axis=1)).ravel()
    assert degrees.max() == 4 and np.mean(degrees == 4) == 1.0
    assert (strong != strong.T).nnz == 0


def test_weak_ties_mean_degree(rng):
    weak = networks.random_weak_ties(rng, 20_000, 12.0)
    assert abs(weak.sum() / 20_000 - 12.0) < 0.3


def test_add_cross_ties_between_two_departments(rng):
    department = np.repeat(np.arange(3), 30)
    net = networks.internal_network(rng, department, 4.0, 0.0, 1.0)
    more = networks.add_cross_ties(rng, net, department, 40, between=(0, 2))
    coo = more.tocoo()
    pairs = {tuple(sorted((department[r], department[c]))) for r, c in zip(coo.row, coo.col, strict=True)}
    assert (0, 2) in pairs and (0, 1) not in pairs and (1, 2) not in pairs
