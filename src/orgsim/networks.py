"""Random networks as ``scipy.sparse`` CSR matrices.

* The internal communication network is a stochastic block model: dense
  inside departments, sparse across them, the sparseness set by the silo
  strength (S2.1).
* The customer network has strong ties inside small clusters (family, close
  colleagues) and random weak ties (acquaintances), as in Goldenberg, Libai &
  Muller (2001).
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp


def _index_type(largest: int) -> type:
    """The index type of a CSR matrix whose indices and offsets are at most ``largest``: 32-bit where
    they fit (half the memory traffic), as scipy chooses it."""
    return np.int32 if largest < 2**31 else np.int64


def _symmetric_csr(rows: np.ndarray, cols: np.ndarray, n: int) -> sp.csr_matrix:
    """0/1 symmetric adjacency without self-loops or duplicate edges (each row's ties in order)."""
    start = _row_starts(rows, cols, n)
    # The offsets count the ties before duplicates are dropped: the type must hold them too (scipy
    # stores the result in 32 bits again where the unique ties fit).
    indptr, indices = _adjacency(rows, cols, start, np.empty(0, _index_type(max(n, start[n]))))
    return sp.csr_matrix((np.ones(indices.size), indices, indptr), shape=(n, n))


@numba.njit(cache=True, nogil=True)
def _row_starts(rows, cols, n):  # pragma: no cover - compiled
    """Where each row's ties begin, both directions of each tie counted, self-ties not, duplicates still in."""
    start = np.zeros(n + 1, np.int64)
    for k in range(rows.size):
        if rows[k] != cols[k]:
            start[rows[k] + 1] += 1
            start[cols[k] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    return start


@numba.njit(cache=True, nogil=True)
def _adjacency(rows, cols, start, index_type):  # pragma: no cover - compiled
    """CSR structure (indptr, indices) of the ties rows[k] -- cols[k], both ways, sorted and unique;
    ``index_type`` is an empty array of the index type to use.

    A counting sort by row (``start`` from :func:`_row_starts`), then each row sorted and its
    duplicates dropped: the canonical CSR of the 0/1 matrix, as scipy's COO → CSR with summed
    duplicates and sorted indices gives it, without the COO copies (a million customers: 16 million
    ties).
    """
    n = start.size - 1
    indices = np.empty(start[n], index_type.dtype)
    fill = start[:n].copy()
    for k in range(rows.size):
        a, b = rows[k], cols[k]
        if a != b:
            indices[fill[a]] = b
            fill[a] += 1
            indices[fill[b]] = a
            fill[b] += 1
    indptr = np.empty(n + 1, index_type.dtype)
    indptr[0] = kept = 0
    for i in range(n):
        first, end = start[i], start[i + 1]
        _sort(indices, first, end)
        for t in range(first, end):  # kept <= t: the row is compacted in place
            if t == first or indices[t] != indices[t - 1]:
                indices[kept] = indices[t]
                kept += 1
        indptr[i + 1] = kept
    return indptr, indices[:kept].copy()


@numba.njit(cache=True, nogil=True)
def _sort(values, first, end):  # pragma: no cover - compiled
    """Sort values[first:end] in place (Shell's sort with Knuth's gaps; a row holds a few to a few
    hundred ties). numba's own sort would do, but compiling it takes seconds at the first run."""
    gap = 1
    while gap < (end - first) // 3:
        gap = 3 * gap + 1
    while gap > 0:
        for t in range(first + gap, end):
            value, u = values[t], t
            while u - gap >= first and values[u - gap] > value:
                values[u] = values[u - gap]
                u -= gap
            values[u] = value
        gap //= 3


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
    order = rng.permutation(n)  # customer at each position; consecutive positions form a clique
    group_size, last_group = ties_per_node + 1, n % (ties_per_node + 1)
    n_ties = (n // group_size) * group_size * ties_per_node + last_group * max(last_group - 1, 0)
    indptr, indices = _cliques(order, group_size, np.empty(0, _index_type(max(n, n_ties))))
    return sp.csr_matrix((np.ones(indices.size), indices, indptr), shape=(n, n))


@numba.njit(cache=True, nogil=True)
def _cliques(order, group_size, index_type):  # pragma: no cover - compiled
    """CSR structure of complete cliques of ``group_size`` consecutive customers in ``order`` (the last
    clique may be smaller): each customer's row holds the other members, sorted. ``index_type`` is
    an empty array of the index type to use."""
    n = order.size
    indptr = np.zeros(n + 1, index_type.dtype)
    for position in range(n):
        first = position - position % group_size
        indptr[order[position] + 1] = min(group_size, n - first) - 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    indices = np.empty(indptr[n], index_type.dtype)
    for first in range(0, n, group_size):
        members = order[first:min(first + group_size, n)].copy()
        _sort(members, 0, members.size)
        for member in members:
            at = indptr[member]
            for other in members:
                if other != member:
                    indices[at] = other
                    at += 1
    return indptr, indices


def random_weak_ties(rng: np.random.Generator, n: int, mean_degree: float) -> sp.csr_matrix:
    """Erdos-Renyi-like random graph with the given mean degree."""
    n_edges = rng.poisson(n * mean_degree / 2) if n > 1 else 0
    everyone = np.arange(n)
    a, b = random_pairs(rng, everyone, everyone, n_edges)
    return _symmetric_csr(a, b, n)
