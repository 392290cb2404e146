"""Mechanism 2 — the internal knowledge chain and organisational learning (S0.3, S4.2, S1.6, S1.8).

Built on March (1991). The market has core needs ``r ∈ {−1, +1}^m``; each
customer segment ``g`` has its own needs ``r_g`` (the core with a share of
dimensions flipped). Every employee holds beliefs ``b_i ∈ {−1, 0, +1}^m``;
the firm's code ``c`` (its purpose and official offer, S4.3) has the same
form. One week:

1. **Turbulence** (S0.4): each core need flips with probability ``p4``, in
   every segment.
2. **Customer contact** (S0.3): each customer-contact employee meets a
   customer of a segment drawn from the active customers and learns each of
   that segment's needs with probability ``κ · e_i · o_i`` (engagement times
   customer orientation, S1.2). What one learns from a customer oneself is
   *first-hand* evidence. Evidence ages: each insight goes stale with
   probability ``insight_forgetting`` per week (S0.4: keep listening).
3. **Knowledge chain** (S0.3, S4.2, S3.4): employee ``j`` passes on
   evidence ``u_jk b_jk`` where ``u_jk = 1`` for first-hand beliefs and, for
   knowledge carriers, for anything they heard; others pass on only what
   they learned themselves; carriers listen only to first-hand evidence, so
   relayed knowledge travels at most front line → carrier → anyone. Employee ``i`` hears ``s_ik = Σ_j w_ij u_jk b_jk``
   with ``w_ij = a_ij · g_ij · h_j``: ``g_ij = 1`` inside a department and
   ``√(T_ij T_ji) / ½`` across (mutual trust relative to the uninformed
   prior ½: distrust is a communication deficit, S3.1, S3.4), ``h_j = e_j o_j``
   the sender's willingness to share (engagement times customer orientation). With probability ``ρ (1 − e^{−|s_ik|})``
   the employee adopts ``sign(s_ik)``.
4. **Socialisation** (top-down, S1.8, March's p1): where the code is
   non-zero and a belief differs, it moves one step toward the code; a
   belief that moved is no longer evidence.
5. **Code learning** (bottom-up, S1.6, March's p2). By default
   (``code_evidence = "customer_insight"``) the code learns only from what
   the knowledge chain delivered: on dimension ``k`` the teachers' insights
   vote ``v_k = Σ_i u_ik b_ik`` (teachers: the offer departments, S4.2, or
   everyone); where ``sign(v_k)`` differs from the code it is adopted with
   probability ``p2 · min(1, |v_k| / q)``: one anecdote moves the offer
   little, a quorum ``q`` of evidence moves it at March's full rate. The firm
   cannot know more than its chain delivered, and learns as fast as the
   chain delivers. ``code_evidence = "reality"`` is March's own rule for the
   docking: employees act on their beliefs (a coin flip where 0), those whose
   actions beat the code against reality form the superior group, whose
   majority the code adopts with probability ``1 − (1 − p2)^k``.

Offer fit (S4.5) of segment ``g`` is the share of dimensions where the code
equals ``r_g``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from orgsim import departments as dep
from orgsim.mechanisms import Effects
from orgsim.mechanisms.trust import expected_trust
from orgsim.parameter_types import ParameterValues
from orgsim.state import ACTIVE, World

#: The beta-reputation prior mean: cross-department channels at this trust carry as much as inside ones.
UNINFORMED_TRUST = 0.5
IS_OFFER_DEPARTMENT = np.isin(np.arange(dep.N_DEPARTMENTS), dep.OFFER_DEPARTMENTS)


def turbulence(core: np.ndarray, segment_needs: np.ndarray, rate: float, rng: np.random.Generator):
    """Each core need flips with probability ``rate``, in every segment."""
    flips = rng.random(core.size) < rate
    sign = np.where(flips, -1, 1).astype(np.int8)
    return core * sign, segment_needs * sign[None, :]


def contact_learning(world: World, p: ParameterValues, rng: np.random.Generator, segment_needs: np.ndarray):
    """(beliefs, first_hand, learns): what contact staff learn from the customers they meet."""
    w, m = world.workforce, world.market
    active_segments = m.segment[m.status == ACTIVE]
    pool = active_segments if active_segments.size else m.segment
    met_segment = pool[rng.integers(0, pool.size, w.size)]
    learn = p.contact_learning_rate * w.engagement * w.alignment * w.is_customer_contact
    learns = rng.random(w.beliefs.shape) < learn[:, None]
    heard = segment_needs[met_segment]
    return np.where(learns, heard, w.beliefs).astype(np.int8), w.first_hand | learns, learns


def diffusion_weights(network: sp.csr_matrix, department: np.ndarray, trust: np.ndarray,
                      sender_weight: np.ndarray) -> sp.csr_matrix:
    """w_ij = a_ij · g_ij · h_j, g = 1 inside a department, √(T_ij T_ji)/½ across."""
    # g for every pair of departments first, then per tie: one lookup instead of a computation per tie.
    between = np.sqrt(trust * trust.T) / UNINFORMED_TRUST
    np.fill_diagonal(between, 1.0)
    # Same sparsity structure as the network: only the values change from week to week.
    rows = np.repeat(np.arange(network.shape[0]), np.diff(network.indptr))
    channel = between[department[rows], department[network.indices]]
    data = network.data * channel * sender_weight[network.indices]
    return sp.csr_matrix((data, network.indices, network.indptr), shape=network.shape)


def diffusion(beliefs, insight, first_hand, is_carrier, weights, rate, rng):
    """Adopt sign(s) with probability rate · (1 − exp(−|s|)); evidence only through the chain.

    Everyone hears ``s = W (b ∘ first_hand) + W (b ∘ carried)``, where carriers
    pass on all their evidence. Carriers collect from the front line: they
    listen to first-hand evidence only and what they adopt is evidence.
    Anyone else adopts the belief, but it counts as evidence only where a
    carrier brought it (the same sign came through carriers); hearsay is not
    evidence. So relayed knowledge travels front line → carrier → anyone.
    """
    carried = is_carrier[:, None] & insight & ~first_hand  # first-hand evidence is already in the front-line term
    heard = weights @ np.hstack([beliefs * first_hand, beliefs * carried]).astype(np.float64)  # one sparse product
    from_front_line, from_carriers = heard[:, :beliefs.shape[1]], heard[:, beliefs.shape[1]:]
    signal = np.where(is_carrier[:, None], from_front_line, from_front_line + from_carriers)
    adopt = (rng.random(beliefs.shape) < rate * (1.0 - np.exp(-np.abs(signal)))) & (signal != 0)
    sign = np.sign(signal)
    evidence = adopt & (is_carrier[:, None] | (np.sign(from_carriers) == sign))
    changed = adopt & (sign != beliefs)  # hearing what one already believes takes no evidence away
    return np.where(adopt, sign, beliefs).astype(np.int8), (insight & ~changed) | evidence, changed


def socialisation(beliefs: np.ndarray, code: np.ndarray, rate: float, rng: np.random.Generator):
    """Where the code is non-zero and differs, move a belief one step toward it (prob. p1).

    Returns the new beliefs and the mask of beliefs that moved (no longer evidence).
    """
    differs = (code[None, :] != 0) & (beliefs != code[None, :])
    moves = differs & (rng.random(beliefs.shape) < rate)
    step_toward_code = np.sign(code[None, :] - beliefs)
    return (beliefs + moves * step_toward_code).astype(np.int8), moves


def learn_from_insight(beliefs, insight, code, rate, quorum, rng, teachers):
    """The code adopts the sign of the teachers' evidence vote v with prob. p2 · min(1, |v| / quorum)."""
    votes = ((beliefs * insight)[teachers]).sum(axis=0, dtype=np.int64)
    draws = rng.random(code.size)
    majority = np.sign(votes).astype(np.int8)
    change = (majority != 0) & (majority != code) & (draws < rate * np.minimum(1.0, np.abs(votes) / quorum))
    return np.where(change, majority, code).astype(np.int8)


def act(beliefs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Actions: the belief where it is non-zero, a fair coin where it is 0 (March 1991)."""
    coin = np.where(rng.random(beliefs.shape) < 0.5, -1, 1).astype(np.int8)
    return np.where(beliefs != 0, beliefs, coin)


def learn_from_reality(actions, code, reality, rate, rng, teachers):
    """March (1991): the code adopts the superior group's majority action with prob. 1 − (1 − p2)^k."""
    superior = (actions.astype(np.int64) @ reality > int(code.astype(np.int64) @ reality)) & teachers
    draws = rng.random(code.size)  # drawn every week so the random stream does not depend on the group
    if not superior.any():
        return code
    margin = actions[superior].sum(axis=0, dtype=np.int64)
    majority = np.sign(margin).astype(np.int8)
    change = (majority != 0) & (majority != code) & (draws < 1.0 - (1.0 - rate) ** np.abs(margin))
    return np.where(change, majority, code).astype(np.int8)


def step(world: World, p: ParameterValues, rng: np.random.Generator) -> Effects:
    w, f = world.workforce, world.firm
    # The market drifts on its own counter-based random stream (seed, week): the same for every
    # configuration run with this seed, and nothing in the world is advanced by drawing it.
    needs_rng = np.random.default_rng([f.needs_seed, world.week.number])
    core, segment_needs = turbulence(f.core_needs, f.segment_needs, p.market_turbulence, needs_rng)
    beliefs, first_hand, _ = contact_learning(world, p, rng, segment_needs)
    stale = rng.random(w.insight.shape) < p.insight_forgetting
    learned = first_hand & ~w.first_hand
    first_hand = (first_hand & ~stale) | learned  # what was learned this week is fresh
    insight = (w.insight & ~stale) | first_hand
    if p.knowledge_diffusion_rate > 0:
        trust = expected_trust(f.trust_positive, f.trust_negative)
        sender_weight = w.engagement * w.alignment
        weights = diffusion_weights(w.network, w.department, trust, sender_weight)
        beliefs, insight, adopted = diffusion(beliefs, insight, first_hand, w.is_knowledge_carrier, weights,
                                              p.knowledge_diffusion_rate, rng)
        first_hand = first_hand & ~adopted  # a belief changed by others is not one's own evidence
    teachers = (np.ones(w.size, dtype=bool) if p.code_learns_from == "everyone"
                else IS_OFFER_DEPARTMENT[w.department])
    # Socialisation and code learning are simultaneous (March's period): both read this week's beliefs.
    actions = act(beliefs, rng) if p.code_evidence == "reality" else None
    new_beliefs, socialised = socialisation(beliefs, f.code, p.socialisation_rate, rng)
    if actions is not None:
        code = learn_from_reality(actions, f.code, core, p.code_learning_rate, rng, teachers)
    else:
        code = learn_from_insight(beliefs, insight, f.code, p.code_learning_rate, p.code_evidence_quorum, rng, teachers)
    return Effects(
        workforce={"beliefs": new_beliefs, "insight": insight & ~socialised, "first_hand": first_hand & ~socialised},
        firm={"core_needs": core, "segment_needs": segment_needs, "code": code},
    )


def segment_fit(code: np.ndarray, segment_needs: np.ndarray) -> np.ndarray:
    """Offer fit per segment: share of dimensions where the code equals the segment's needs (S4.5)."""
    return np.mean(code[None, :] == segment_needs, axis=1)


def knowledge_share(beliefs: np.ndarray, needs: np.ndarray) -> np.ndarray:
    """Per employee: share of dimensions believed correctly."""
    return np.mean(beliefs == needs[None, :], axis=1)
