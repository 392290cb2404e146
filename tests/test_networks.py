import numpy as np
import pytest

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


def _scipy_adjacency(rows, cols, n):
    """The same 0/1 adjacency by scipy's COO → CSR (duplicates summed, indices sorted): the reference."""
    import scipy.sparse as sp

    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    counts = sp.coo_matrix((np.ones(2 * rows.size), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
                           shape=(n, n)).tocsr()
    counts.sort_indices()
    return counts


@pytest.mark.parametrize("n, n_pairs", [(1, 3), (2, 5), (40, 600), (300, 400), (5_000, 30_000)])
def test_adjacency_is_scipys_canonical_csr_of_the_ties(rng, n, n_pairs):
    """Self-ties dropped, duplicates once, each row sorted: rows of one tie to a hundred."""
    rows, cols = rng.integers(0, n, n_pairs), rng.integers(0, n, n_pairs)
    built, reference = networks._symmetric_csr(rows, cols, n), _scipy_adjacency(rows, cols, n)
    assert built.indices.dtype == built.indptr.dtype == np.int32 and built.data.dtype == np.float64
    assert np.array_equal(built.indptr, reference.indptr) and np.array_equal(built.indices, reference.indices)
    assert np.all(built.data == 1.0)


@pytest.mark.parametrize("n, ties_per_node", [(2, 1), (7, 2), (1_000, 4), (1_003, 4)])
def test_strong_ties_are_the_cliques_of_consecutive_customers_in_a_random_order(n, ties_per_node):
    order = np.random.default_rng(3).permutation(n)
    size = ties_per_node + 1
    rows, cols = zip(*[(order[a], order[b]) for start in range(0, n, size)
                       for a in range(start, min(start + size, n)) for b in range(a + 1, min(start + size, n))],
                     strict=True)
    strong = networks.clustered_strong_ties(np.random.default_rng(3), n, ties_per_node)
    reference = _scipy_adjacency(np.array(rows), np.array(cols), n)
    assert strong.indices.dtype == np.int32
    assert np.array_equal(strong.indptr, reference.indptr) and np.array_equal(strong.indices, reference.indices)


def test_the_index_type_holds_every_offset_not_only_every_customer(monkeypatch, rng):
    """More ties than a 32-bit offset holds need 64 bits even among few customers: scaled down here to
    a 16-bit type, which 300 customers with some 44,000 ties overflow."""
    monkeypatch.setattr(networks, "_index_type", lambda largest: np.int16 if largest < 2**15 else np.int64)
    rows, cols = rng.integers(0, 300, 30_000), rng.integers(0, 300, 30_000)
    built, reference = networks._symmetric_csr(rows, cols, 300), _scipy_adjacency(rows, cols, 300)
    assert np.array_equal(built.indptr, reference.indptr) and np.array_equal(built.indices, reference.indices)


def test_a_hub_with_thousands_of_ties_is_sorted_too(rng):
    """One customer tied to 3,000 others in random order, some ties twice: a long row to sort."""
    others = rng.permutation(np.concatenate([np.arange(1, 3_001), rng.integers(1, 3_001, 500)]))
    built = networks._symmetric_csr(np.zeros(others.size, dtype=np.int64), others, 3_001)
    reference = _scipy_adjacency(np.zeros(others.size, dtype=np.int64), others, 3_001)
    assert np.array_equal(built.indptr, reference.indptr) and np.array_equal(built.indices, reference.indices)
