"""Random networks as ``scipy.sparse`` CSR matrices.

* The internal communication network is a stochastic block model: dense
  inside departments, sparse across them, the sparseness set by the silo
  strength (S2.1).
* The customer network has strong ties inside small clusters (family, close
  colleagues) and random weak ties (acquaintances), as in Goldenberg, Libai &
  Muller (2001).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _symmetric_csr(rows: np.ndarray, cols: np.ndarray, n: int) -> sp.csr_matrix:
    """0/1 symmetric adjacency without self-loops or duplicate edges."""
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    index = np.int32 if n < 2**31 else np.int64
    # Built with one-byte counts and 32-bit indices (a fifth of the memory traffic of float64 and
    # int64, five times faster at a million customers), then given the 0/1 weights: duplicates summed.
    counts = sp.coo_matrix(
        (np.ones(2 * rows.size, dtype=np.int8),
         (np.concatenate([rows, cols]).astype(index), np.concatenate([cols, rows]).astype(index))),
        shape=(n, n),
    ).tocsr()
    counts.sort_indices()
    return sp.csr_matrix((np.ones(counts.nnz), counts.indices, counts.indptr), shape=(n, n))


def random_pairs(
    rng: np.random.Generator, group_a: np.ndarray, group_b: np.ndarray, n_pairs: int
) -> tuple[np.ndarray, np.ndarray]:
    """``n_pairs`` uniformly random (a, b) pairs, a from group_a, b from group_b."""
    return (
        group_a[rng.integers(0, group_a.size, n_pairs)],
        group_b[rng.integers(0, group_b.size, n_pairs)],
    )


def internal_network(
    rng: np.random.Generator,
    department: np.ndarray,
    within_degree: float,
    cross_degree: float,
    silo_strength: float,
) -> sp.csr_matrix:
    """Block-model network: mean ``within_degree`` ties inside the department and
    ``cross_degree * (1 - silo_strength)`` ties to other departments (S2.1).

    Edge counts are Poisson so that the expected degrees are exact.
    """
    n = department.size
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    everyone = np.arange(n)
    for dept in np.unique(department):
        members = np.flatnonzero(department == dept)
        n_within = rng.poisson(members.size * within_degree / 2)
        a, b = random_pairs(rng, members, members, n_within)
        rows.append(a)
        cols.append(b)
    n_cross = rng.poisson(n * cross_degree * (1.0 - silo_strength) / 2)
    a, b = random_pairs(rng, everyone, everyone, n_cross * 3)
    across = department[a] != department[b]
    rows.append(a[across][:n_cross])
    cols.append(b[across][:n_cross])
    return _symmetric_csr(np.concatenate(rows), np.concatenate(cols), n)


def with_ties(network: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> sp.csr_matrix:
    """The network with the ties a[i] -- b[i] added (self-ties and duplicates ignored)."""
    existing = network.tocoo()
    return _symmetric_csr(np.concatenate([existing.row, a]), np.concatenate([existing.col, b]), network.shape[0])


def add_cross_ties(
    rng: np.random.Generator,
    network: sp.csr_matrix,
    department: np.ndarray,
    n_ties: int,
    between: tuple[int, int] | None = None,
) -> sp.csr_matrix:
    """The network with ``n_ties`` new ties across departments (or between two)."""
    n = department.size
    if between is None:
        a, b = random_pairs(rng, np.arange(n), np.arange(n), n_ties * 3)
        across = department[a] != department[b]
        a, b = a[across][:n_ties], b[across][:n_ties]
    else:
        a, b = random_pairs(
            rng,
            np.flatnonzero(department == between[0]),
            np.flatnonzero(department == between[1]),
            n_ties,
        )
    return with_ties(network, a, b)


def clustered_strong_ties(rng: np.random.Generator, n: int, ties_per_node: int) -> sp.csr_matrix:
    """Complete cliques of ``ties_per_node + 1`` randomly chosen customers."""
    if ties_per_node == 0 or n < 2:
        return sp.csr_matrix((n, n))
    order = rng.permutation(n)  # customer at each position
    group_size = ties_per_node + 1
    position = np.arange(n)
    rows, cols = [], []
    for offset in range(1, group_size):
        partner = position + offset
        same_group = (partner < n) & (position // group_size == partner // group_size)
        rows.append(order[position[same_group]])
        cols.append(order[partner[same_group]])
    return _symmetric_csr(np.concatenate(rows), np.concatenate(cols), n)


def random_weak_ties(rng: np.random.Generator, n: int, mean_degree: float) -> sp.csr_matrix:
    """Erdos-Renyi-like random graph with the given mean degree."""
    n_edges = rng.poisson(n * mean_degree / 2) if n > 1 else 0
    everyone = np.arange(n)
    a, b = random_pairs(rng, everyone, everyone, n_edges)
    return _symmetric_csr(a, b, n)
