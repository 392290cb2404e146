"""Mechanism 5 — weakest-link service quality (S1.3, S1.4, S1.2).

An employee's contribution is ``q_i = performance_i · engagement_i ·
alignment_i``. The offer is the performance of all employees, also those not
directly involved (S1.3): every order is served by a team of one randomly
drawn member of each department, and one under-performer can destroy the
performance of all (S1.4):

    Q_order = λ · min_{i ∈ team} q_i + (1 − λ) · mean_{i ∈ team} q_i

with λ the weakest-link weight. Performance is capability minus the capacity
lost to duplicate work (mechanism 4). Customer orientation (alignment to
brand, offer and customer, S1.2) follows attitude toward marketing:

    alignment(t+1) = alignment + α ((1 + x) / 2 − alignment)   (S1.8).
"""

from __future__ import annotations

import numpy as np


def contribution(performance: np.ndarray, engagement: np.ndarray, alignment: np.ndarray) -> np.ndarray:
    return performance * engagement * alignment


def order_quality(
    contribution: np.ndarray,
    department_start: np.ndarray,
    department_size: np.ndarray,
    n_orders: int,
    weakest_link_weight: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Quality of each of ``n_orders`` orders, each served by one member per department."""
    offsets = (rng.random((n_orders, department_size.size)) * department_size).astype(np.int64)
    team = contribution[department_start[None, :] + offsets]
    return weakest_link_weight * team.min(axis=1) + (1 - weakest_link_weight) * team.mean(axis=1)


def performance(capability: np.ndarray, capacity_load: float) -> np.ndarray:
    return capability * (1.0 - capacity_load)


def alignment_step(alignment: np.ndarray, attitude: np.ndarray, rate: float) -> np.ndarray:
    return alignment + rate * ((1.0 + attitude) / 2.0 - alignment)
