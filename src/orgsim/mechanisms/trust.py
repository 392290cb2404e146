"""Mechanism 3 — evidence-based trust between departments (S3.1–S3.4, S2.4).

Beta reputation (Jøsang & Ismail 2002). Department ``i`` keeps positive and
negative evidence ``(P_ij, N_ij)`` about department ``j``; its expected trust is

    T_ij = (P_ij + 1) / (P_ij + N_ij + 2).

Each week the evidence is discounted by the forgetting factor ``φ`` and new
observations are added; a negative observation counts ``ω`` times
(``trust_loss_weight``), so trust is lost faster than it is rebuilt (S2.4):

    P_ij ← (1 − φ) P_ij + r_ij,     N_ij ← (1 − φ) N_ij + ω s_ij.

Observations (see :func:`weekly_observations`):

* sales observes marketing's three trust-building behaviours of Malshe &
  Al-Khatib (2017), S3.2 (a) advocacy, (b) support, (c) buffering: one
  observation each, positive with the probability that marketing shows it,
  negative (neglect) otherwise;
* the receiver of each order hand-off observes the sender: positive if the
  hand-off worked (S3.1, S2.5);
* every other pair meets with probability ``1 − silo_strength`` (S2.1) and
  the meeting is positive with the probability of the observed
  department's mean engagement.

With ``φ = 0`` and ``ω = 1``, ``r`` positive and ``s`` negative observations give
exactly (r + 1)/(r + s + 2) (docking test).
"""

from __future__ import annotations

import numpy as np

from orgsim import departments as dep


def expected_trust(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """T = (P + 1) / (P + N + 2), elementwise."""
    return (positive + 1.0) / (positive + negative + 2.0)


def update(
    positive: np.ndarray,
    negative: np.ndarray,
    positive_observations: np.ndarray,
    negative_observations: np.ndarray,
    forgetting: float,
    loss_weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Discount old evidence and add this week's observations."""
    keep = 1.0 - forgetting
    return (
        keep * positive + positive_observations,
        keep * negative + loss_weight * negative_observations,
    )


def weekly_observations(
    marketing_behaviours: tuple[float, float, float],
    handoff_success: np.ndarray | None,
    department_engagement: np.ndarray,
    silo_strength: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Positive and negative observation counts (D, D) for one week; row observes column.

    ``handoff_success`` holds, per entry of ``ORDER_HANDOFFS``, the share of
    hand-offs that worked this week, or None when nothing was handed off.
    """
    d = dep.N_DEPARTMENTS
    positive = np.zeros((d, d))
    negative = np.zeros((d, d))

    # Every pair may meet; a meeting goes well with the observed department's engagement.
    meets = rng.random((d, d)) < 1.0 - silo_strength
    good = rng.random((d, d)) < department_engagement[None, :]
    np.fill_diagonal(meets, False)
    positive += meets & good
    negative += meets & ~good

    if handoff_success is not None:
        draws = rng.random(len(dep.ORDER_HANDOFFS))
        for h, (sender, receiver) in enumerate(dep.ORDER_HANDOFFS):
            worked = draws[h] < handoff_success[h]
            positive[receiver, sender] += worked
            negative[receiver, sender] += not worked

    shown = rng.random(3) < np.asarray(marketing_behaviours)
    positive[dep.SALES, dep.MARKETING] += shown.sum()
    negative[dep.SALES, dep.MARKETING] += (~shown).sum()
    return positive, negative
