"""Mechanism 1 — attitude diffusion with multipliers (S0.2, S0.3, S0.5, S1.8).

Attitudes toward marketing, ``x`` in [-1, 1] (-1 resistance, +1 support),
follow Friedkin & Johnsen (1990) on the internal network with a term for
visible, measured success:

    x(t+1) = clip( Λ W x(t) + (I - Λ) x0 + σ v s(t) f , -1, 1 )

* ``W`` is row-stochastic: ``w_ij ∝ (a_ij + δ_ij) · influence_j`` where
  ``a`` is the communication network (plus the employee's own view) and
  ``influence_j`` is ``leader_weight`` for the leader, ``multiplier_weight``
  for a multiplier and 1 otherwise (S0.2: the leader is the strongest
  multiplier).
* ``Λ = (1 - attitude_anchoring) I``: employees are anchored to their prior
  view ``x0`` (S0.1, S1.8: change cannot be imposed, it spreads).
* ``s(t)`` is the firm's visible success (last week's net promoter score /
  100), ``σ`` the success weight and ``v`` the results visibility (S0.5);
  ``f`` is 2 for knowledge carriers, who become fans once they see first
  successes (S0.3), 1 otherwise.

With ``σ = 0`` the fixed point is x* = (I − ΛW)⁻¹ (I − Λ) x0 (docking test).
Multipliers are chosen by responsibility (S0.2): see :func:`select_multipliers`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def influence_matrix(
    network: sp.csr_matrix,
    is_multiplier: np.ndarray,
    is_leader: np.ndarray,
    multiplier_weight: float,
    leader_weight: float,
) -> sp.csr_matrix:
    """Row-stochastic W with w_ij ∝ (a_ij + δ_ij) · influence_j."""
    n = network.shape[0]
    influence = np.where(is_leader, leader_weight, np.where(is_multiplier, multiplier_weight, 1.0))
    weighted = (network + sp.identity(n, format="csr")) @ sp.diags(influence)
    row_sums = np.asarray(weighted.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(1.0 / row_sums) @ weighted)


def step(
    attitude: np.ndarray,
    anchor: np.ndarray,
    influence: sp.csr_matrix,
    anchoring: float,
    success: float,
    success_weight: float,
    visibility: float,
    is_knowledge_carrier: np.ndarray,
) -> np.ndarray:
    """One Friedkin-Johnsen update with the visible-success term."""
    susceptibility = 1.0 - anchoring
    fan_factor = np.where(is_knowledge_carrier, 2.0, 1.0)
    updated = (
        susceptibility * (influence @ attitude)
        + anchoring * anchor
        + success_weight * visibility * success * fan_factor
    )
    return np.clip(updated, -1.0, 1.0)


def equilibrium(anchor: np.ndarray, influence: sp.csr_matrix, anchoring: float) -> np.ndarray:
    """Friedkin-Johnsen fixed point x* = (I − ΛW)⁻¹ (I − Λ) x0 (dense solve)."""
    n = anchor.size
    lam = 1.0 - anchoring
    system = np.eye(n) - lam * influence.toarray()
    return np.linalg.solve(system, anchoring * anchor)


def select_multipliers(responsibility: np.ndarray, already: np.ndarray, share: float) -> np.ndarray:
    """Mask of ``round(share · n)`` new multipliers, the most responsible first (S0.2)."""
    n_new = int(round(share * responsibility.size))
    candidates = np.flatnonzero(~already)
    chosen = candidates[np.argsort(-responsibility[candidates], kind="stable")[:n_new]]
    mask = np.zeros(responsibility.size, dtype=bool)
    mask[chosen] = True
    return mask
