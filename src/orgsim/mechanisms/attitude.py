"""Mechanism 1 — attitude diffusion with multipliers (S0.2, S0.3, S0.5, S1.7, S1.8).

Attitudes toward marketing, ``x`` in [-1, 1] (-1 resistance, +1 support),
move toward a Friedkin & Johnsen (1990) target on the internal network at a
rate ``ρ`` (``attitude_rate``): culture changes over weeks to months, not in
one step (Kotter 1995), and the equilibrium does not depend on ``ρ``:

    y = Λ W x + (I − Λ) x0 + σ v (f s⁺ (1 − x) − s⁻ (1 + x)) − π
    x ← clip( x + ρ (y − x), −1, 1 )
    x0 ← x0 + δ (x − x0)

* ``W`` is row-stochastic, ``w_ij ∝ (a_ij + δ_ij) · influence_j``
  (:func:`orgsim.state.influence_matrix`): the leader, tied to every
  department head, carries most weight, and a multiplier
  ``1 + (multiplier_weight − 1) · responsibility_j`` (S0.2).
* ``Λ = (1 − attitude_anchoring) I``: employees are anchored to their own
  view ``x0`` (S0.1); nobody's view is set by decree (S0.2).
* ``x0`` drifts at ``δ`` (``anchor_drift``) toward the attitude the employee
  lives: what people keep hearing and doing slowly becomes their own view.
* ``s`` is last week's visible success (net promoter score / 100; ``s⁺``
  and ``s⁻`` its positive and negative parts): measured, visible success
  wins support, visible failure costs it (S0.5, S0.3); ``σ`` is the success
  weight and ``v`` the results visibility; ``f`` is the
  ``carrier_fan_factor`` for knowledge carriers, who see successes with
  customers first and become fans (S0.3), 1 otherwise. The push shrinks
  with the room left (``1 − x`` up, ``1 + x`` down), so attitudes stay
  bounded when anchors drift.
* ``π`` is the pressure on the overlooked from mechanism 8 (S1.7).

With ``σ = 0``, ``π = 0`` and ``δ = 0`` the fixed point is
x* = (I − ΛW)⁻¹ (I − Λ) x0 for any ``ρ`` > 0 (docking test).
"""

from __future__ import annotations

import numpy as np

from orgsim.mechanisms import Effects
from orgsim.parameter_types import ParameterValues
from orgsim.state import World


def target(world: World, p: ParameterValues) -> np.ndarray:
    """The Friedkin-Johnsen target y of every employee this week."""
    w = world.workforce
    # Carriers see customers' delight first and become fans: the factor acts on success only.
    fan = np.where(w.is_knowledge_carrier, p.carrier_fan_factor, 1.0)
    s = world.firm.success
    push = fan * max(s, 0.0) * (1.0 - w.attitude) - max(-s, 0.0) * (1.0 + w.attitude)
    success = p.success_weight * p.results_visibility * push
    susceptibility = 1.0 - p.attitude_anchoring
    return susceptibility * (w.influence @ w.attitude) + p.attitude_anchoring * w.attitude_anchor + success - w.overlooked_pressure


def step(world: World, p: ParameterValues, rng: np.random.Generator) -> Effects:
    w = world.workforce
    attitude = np.clip(w.attitude + p.attitude_rate * (target(world, p) - w.attitude), -1.0, 1.0)
    anchor = w.attitude_anchor + p.anchor_drift * (attitude - w.attitude_anchor)
    return Effects(workforce={"attitude": attitude, "attitude_anchor": anchor})


#: settle checks its progress every this many iterations.
SETTLE_WINDOW = 1000


def settle(world: World, p: ParameterValues, tolerance: float = 1e-12) -> None:
    """Week 0: attitudes at the fixed point of the full target, with this week's visible
    success and the expected pressure on the overlooked (S1.7), so nothing jumps at the start.

    The fixed point x = clip(y(x)) is found by iterating x ← x + α (clip(y(x)) − x), with α = 1
    (the plain iteration) unless it oscillates. Strong success feedback makes y fall steeply
    with x (slope −σ v f s, and the pressure on the overlooked), and the plain iteration then
    swings back and forth for ever: whenever a thousand iterations have not halved the residual
    *and* most of their updates turned back on the one before (a negative dot product), α is
    halved (down to 1/1024). The damped map has the same fixed points and, for a small enough α, no
    oscillation. A slow but steady iteration (updates in the same direction) stays plain.
    """
    w = world.workforce
    if p.attitude_anchoring == 0.0:  # no anchor: no unique fixed point (DeGroot); keep the views
        return
    s = max(world.firm.success, 0.0)
    overlooked = (1.0 - p.recognition_rate) if p.enable_recognition else 0.0
    step_size, residual_before, change_before, reversals = 1.0, np.inf, np.zeros(w.size), 0
    for iteration in range(1, 100_001):
        w.overlooked_pressure = p.overlooked_penalty * s * overlooked * (1.0 + w.attitude) / 2.0
        updated = np.clip(target(world, p), -1.0, 1.0)
        change = updated - w.attitude
        residual = np.max(np.abs(change))
        w.attitude = updated if step_size == 1.0 else w.attitude + step_size * change
        if residual <= tolerance:
            break
        reversals += float(change @ change_before) < 0.0
        change_before = change
        if iteration % SETTLE_WINDOW == 0:
            if reversals > SETTLE_WINDOW // 2 and residual > residual_before / 2.0 and step_size > 1.0 / 1024:
                step_size /= 2.0
            residual_before, reversals = residual, 0
    else:
        raise RuntimeError("attitudes did not settle at week 0")
    w.overlooked_pressure = np.zeros(w.size)


def select_multipliers(
    attitude: np.ndarray,
    responsibility: np.ndarray,
    already: np.ndarray,
    share: float,
    by: str,
    rng: np.random.Generator,
) -> np.ndarray:
    """Mask of up to ``round(share · n)`` new multipliers among the willing (attitude > 0).

    ``by = "responsibility"``: the most responsible first (S0.2: responsible
    people take risks); ``"random"``: any willing employee. Appointing a
    multiplier changes their reach, not their conviction.
    """
    n_new = int(round(share * responsibility.size))
    candidates = np.flatnonzero(~already & (attitude > 0.0))
    if by == "responsibility":
        chosen = candidates[np.argsort(-responsibility[candidates], kind="stable")[:n_new]]
    else:
        chosen = rng.permutation(candidates)[:n_new]
    mask = np.zeros(responsibility.size, dtype=bool)
    mask[chosen] = True
    return mask
