"""Mechanism 5 — customer orientation and weakest-link service quality (S1.2, S1.3, S1.4, S1.8).

Customer orientation (alignment to brand, offer and customer, S1.2) follows
attitude toward marketing (S1.8):

    o_i ← o_i + α ((1 + x_i) / 2 − o_i).

Performance is capability minus the capacity lost to duplicate work in the
employee's department (mechanism 4): ``perf_i = cap_i (1 − load_d)``.
An employee's contribution is the product performance × engagement ×
orientation, put back on the scale of one factor (geometric mean):

    q_i = (perf_i · e_i · o_i)^{1/3}.

The offer is the performance of all employees, also those not directly
involved (S1.3): every order is served by a team of one randomly drawn member
of each department, and one under-performer can destroy the performance of
all (S1.4):

    Q_order = λ · min_{i ∈ team} q_i + (1 − λ) · mean_{i ∈ team} q_i.
"""

from __future__ import annotations

import numba
import numpy as np

from orgsim import departments as dep
from orgsim.mechanisms import Effects
from orgsim.parameter_types import ParameterValues
from orgsim.state import QUALITY_SAMPLE_TEAMS, Workforce, World


def contribution(performance: np.ndarray, engagement: np.ndarray, alignment: np.ndarray) -> np.ndarray:
    return np.cbrt(performance * engagement * alignment)


def department_blocks(department: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first index, size) of each department's contiguous block."""
    size = np.bincount(department, minlength=dep.N_DEPARTMENTS)
    return np.concatenate([[0], np.cumsum(size)[:-1]]), size


def order_quality(contrib: np.ndarray, department: np.ndarray, n_orders: int, weakest_link_weight: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Quality of each of ``n_orders`` orders, each served by one member per department."""
    start, size = department_blocks(department)
    return _team_quality(contrib, start, size, rng.random((n_orders, size.size)), weakest_link_weight)


@numba.njit(cache=True, nogil=True)
def _team_quality(contrib, start, size, draws, weakest_link_weight):  # pragma: no cover - compiled
    """Q = λ min + (1 − λ) mean over each order's team: member ⌊u · size_d⌋ of department d.

    The mean is the sequential sum over the count, which is numpy's mean of fewer than eight numbers
    (from eight on numpy sums pairwise; test_quality checks the pass against numpy's rule).
    """
    n_orders, n_departments = draws.shape
    quality = np.empty(n_orders)
    for order in range(n_orders):
        total, weakest = 0.0, np.inf
        for d in range(n_departments):
            q = contrib[start[d] + np.int64(draws[order, d] * size[d])]
            total += q
            weakest = min(weakest, q)
        quality[order] = weakest_link_weight * weakest + (1 - weakest_link_weight) * (total / n_departments)
    return quality


def step(world: World, p: ParameterValues, rng: np.random.Generator) -> Effects:
    w = world.workforce
    alignment = w.alignment + p.alignment_rate * ((1.0 + w.attitude) / 2.0 - w.alignment)
    performance = w.capability * (1.0 - world.firm.capacity_load[w.department])
    contrib = contribution(performance, w.engagement, alignment)
    quality = order_quality(contrib, w.department, world.week.ordering.size, p.weakest_link_weight, rng)
    return Effects(workforce={"alignment": alignment, "performance": performance}, week={"order_quality": quality})


def expected_quality(w: Workforce, p: ParameterValues, rng: np.random.Generator) -> float:
    """Mean quality of a sample of QUALITY_SAMPLE_TEAMS random order teams (week 0)."""
    contrib = contribution(w.performance, w.engagement, w.alignment)
    return float(order_quality(contrib, w.department, QUALITY_SAMPLE_TEAMS, p.weakest_link_weight, rng).mean())


def off(world: World, p: ParameterValues, rng: np.random.Generator) -> Effects:
    """Quality switched off: every order is served perfectly."""
    return Effects(week={"order_quality": np.ones(world.week.ordering.size)})
