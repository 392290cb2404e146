"""Mechanism 2 — the internal knowledge chain and organisational learning.

Built on March (1991). The market has true needs ``r ∈ {−1, +1}^m``; every
employee holds beliefs ``b_i ∈ {−1, 0, +1}^m``; the firm's code ``c`` (its
purpose and official offer, S4.3) has the same form. One week:

1. **Turbulence** (S0.4): each need flips with probability ``p4``.
2. **Customer contact** (S0.3): a customer-contact employee learns the true
   value of each dimension with probability ``κ · e_i · o_i`` (contact
   learning rate times engagement times customer orientation, S1.2).
3. **Knowledge chain** (S0.3, S4.2): customer insights travel along ties.
   An insight is a belief that came from customer contact or was passed on
   from one (``u_jk = 1``); opinions from socialisation or hearsay are not
   passed on as insights. Employee ``i`` hears ``s_ik = Σ_j w_ij u_jk b_jk`` with
   ``w_ij = a_ij · g_ij · h_j``: ``g_ij`` is 1 inside a department and
   ``2 · trust(d_i → d_j)`` across (trusting pairs talk more, silos are
   already sparse ties), ``h_j = e_j · o_j`` is the sender's engagement times
   customer orientation, times ``carrier_weight`` for knowledge carriers. With probability
   ``ρ (1 − e^{−|s_ik|})`` the employee adopts ``sign(s_ik)``. Only knowledge
   carriers pass on what they heard (it becomes their insight); everyone
   else passes on only what they learned from customers themselves, so
   without carriers customer knowledge travels one tie from the front line.
4. **March learning** (as re-created from March's original program by
   Rodan 2005 and Christensen 2015):
   employees act on their beliefs (a coin flip where the belief is 0); an
   employee whose actions match reality on more dimensions than the code
   (``Σ_k a_ik r_k > Σ_k c_k r_k``) belongs to the superior group.
   *Socialisation* (top-down, S1.8): where the code is non-zero and differs,
   a belief moves one step toward the code with probability ``p1``.
   *Code learning* (bottom-up, S1.6): where the superior group's majority
   action differs from the code by a margin ``k``, the code adopts it with
   probability ``1 − (1 − p2)^k``. By default only the departments that build
   the offer (management, marketing, R&D) can teach the code, so customer
   knowledge must travel there through the chain (S4.2); with
   ``code_learns_from = "everyone"`` every employee is compared with the code,
   as in March (1991) and "everything is marketing" (S1.6).

Offer fit (S4.5) is the share of dimensions where the code equals the needs.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def turbulence(true_needs: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Each need flips with probability ``rate`` (market drift)."""
    flips = rng.random(true_needs.size) < rate
    return np.where(flips, -true_needs, true_needs).astype(np.int8)


def contact_learning(
    beliefs: np.ndarray,
    insight: np.ndarray,
    true_needs: np.ndarray,
    learn_probability: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Employee i learns each true need with probability ``learn_probability[i]``; it is an insight."""
    learns = rng.random(beliefs.shape) < learn_probability[:, None]
    return np.where(learns, true_needs[None, :], beliefs).astype(np.int8), insight | learns


def diffusion_weights(
    network: sp.csr_matrix,
    department: np.ndarray,
    trust: np.ndarray,
    sender_weight: np.ndarray,
) -> sp.csr_matrix:
    """w_ij = a_ij · g_ij · h_j with g = 1 inside a department, 2·trust across."""
    coo = network.tocoo()
    receiver_dept, sender_dept = department[coo.row], department[coo.col]
    channel = np.where(receiver_dept == sender_dept, 1.0, 2.0 * trust[receiver_dept, sender_dept])
    data = coo.data * channel * sender_weight[coo.col]
    return sp.csr_matrix((data, (coo.row, coo.col)), shape=network.shape)


def diffusion(
    beliefs: np.ndarray,
    insight: np.ndarray,
    weights: sp.csr_matrix,
    rate: float,
    is_carrier: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Adopt s = sign(Σ_j w_ij u_jk b_jk) with probability rate · (1 − exp(−|s|));
    for knowledge carriers the adopted belief becomes an insight they pass on."""
    signal = weights @ (beliefs * insight).astype(np.float64)
    adopt = rng.random(beliefs.shape) < rate * (1.0 - np.exp(-np.abs(signal)))
    adopt &= signal != 0
    relayed = adopt & is_carrier[:, None]
    return np.where(adopt, np.sign(signal), beliefs).astype(np.int8), insight | relayed


def act(beliefs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Actions: the belief where it is non-zero, a fair coin where it is 0."""
    coin = np.where(rng.random(beliefs.shape) < 0.5, -1, 1).astype(np.int8)
    return np.where(beliefs != 0, beliefs, coin)


def socialisation(
    beliefs: np.ndarray, code: np.ndarray, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Where the code is non-zero and differs, move a belief one step toward it (prob. p1).

    Returns the new beliefs and the mask of beliefs that moved (no longer insights).
    """
    differs = (code[None, :] != 0) & (beliefs != code[None, :])
    moves = differs & (rng.random(beliefs.shape) < rate)
    step_toward_code = np.sign(code[None, :] - beliefs)
    return (beliefs + moves * step_toward_code).astype(np.int8), moves


def code_learning(
    actions: np.ndarray,
    code: np.ndarray,
    true_needs: np.ndarray,
    rate: float,
    rng: np.random.Generator,
    teachers: np.ndarray | None = None,
) -> np.ndarray:
    """The code adopts the superior group's majority action with prob. 1 − (1 − p2)^k.

    ``teachers`` (bool per employee) limits who the code can learn from; None: everyone.
    """
    superior = actions.astype(np.int64) @ true_needs > int(code.astype(np.int64) @ true_needs)
    if teachers is not None:
        superior &= teachers
    draws = rng.random(code.size)  # drawn every week so the random stream does not depend on the group
    if not superior.any():
        return code
    margin = actions[superior].sum(axis=0, dtype=np.int64)  # (#+1) − (#−1) per dimension
    majority = np.sign(margin).astype(np.int8)
    change = (majority != 0) & (majority != code) & (draws < 1.0 - (1.0 - rate) ** np.abs(margin))
    return np.where(change, majority, code).astype(np.int8)


def march_step(
    beliefs: np.ndarray,
    insight: np.ndarray,
    code: np.ndarray,
    true_needs: np.ndarray,
    socialisation_rate: float,
    code_learning_rate: float,
    rng: np.random.Generator,
    teachers: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One period of March (1991): act, socialise, then the code learns from the actions.

    Returns (beliefs, insight, code).
    """
    actions = act(beliefs, rng)
    new_beliefs, socialised = socialisation(beliefs, code, socialisation_rate, rng)
    new_code = code_learning(actions, code, true_needs, code_learning_rate, rng, teachers)
    return new_beliefs, insight & ~socialised, new_code


def offer_fit(code: np.ndarray, true_needs: np.ndarray) -> float:
    """Share of need dimensions where the official offer matches the true need (S4.5)."""
    return float(np.mean(code == true_needs))


def knowledge_share(beliefs: np.ndarray, true_needs: np.ndarray) -> np.ndarray:
    """Per employee: share of dimensions believed correctly."""
    return np.mean(beliefs == true_needs[None, :], axis=1)
