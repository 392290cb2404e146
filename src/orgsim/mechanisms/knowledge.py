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

The functions below state each rule on whole arrays. :func:`step` does not
call the functions of rules 2–5: it draws the week's random numbers in the
same order and runs those rules in one compiled pass (:func:`_chain_week`),
which gives the same numbers bit for bit at a fraction of the time (the
rules touch every employee × need some 20 times a week).
tests/mechanisms/test_knowledge.py composes the functions and checks the
pass against them, so a change of a rule goes into both.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from orgsim import departments as dep
from orgsim.mechanisms import Effects
from orgsim.mechanisms.trust import expected_trust
from orgsim.parameter_types import ParameterValues
from orgsim.state import ACTIVE, Workforce, World

#: The beta-reputation prior mean: cross-department channels at this trust carry as much as inside ones.
UNINFORMED_TRUST = 0.5
IS_OFFER_DEPARTMENT = np.isin(np.arange(dep.N_DEPARTMENTS), dep.OFFER_DEPARTMENTS)


def turbulence(core: np.ndarray, segment_needs: np.ndarray, rate: float, rng: np.random.Generator):
    """Each core need flips with probability ``rate``, in every segment."""
    flips = rng.random(core.size) < rate
    if not flips.any():  # most weeks at the usual rates: nothing flips
        return core.copy(), segment_needs.copy()
    sign = np.where(flips, -1, 1).astype(np.int8)
    return core * sign, segment_needs * sign[None, :]


def met_segments(world: World, rng: np.random.Generator) -> np.ndarray:
    """The segment of the customer each employee meets: drawn from the active customers (any if none).

    Employee i meets the r_i-th active customer (in customer order), r_i uniform: the same draws as
    indexing the active customers' segments, without copying them (a million customers, 5,000 staff).
    """
    m = world.market
    active_before = _active_before_blocks(m.status)
    n_active = active_before[-1]
    if n_active == 0:
        return m.segment[rng.integers(0, m.segment.size, world.workforce.size)]
    return _segments_of_active(m.status, m.segment, active_before, rng.integers(0, n_active, world.workforce.size))


#: Customers per block of the active-customer index: a rank is found by its block, then within it.
BLOCK = 64


@numba.njit(cache=True, nogil=True)
def _active_before_blocks(status):  # pragma: no cover - compiled
    """How many customers are active before each block of BLOCK customers (and in all, last)."""
    n_blocks = (status.size + BLOCK - 1) // BLOCK
    before = np.zeros(n_blocks + 1, np.int64)
    for b in range(n_blocks):
        count = 0
        for i in range(b * BLOCK, min((b + 1) * BLOCK, status.size)):
            count += status[i] == ACTIVE
        before[b + 1] = before[b] + count
    return before


@numba.njit(cache=True, nogil=True)
def _segments_of_active(status, segment, active_before, ranks):  # pragma: no cover - compiled
    """The segment of the ranks[j]-th active customer, for each j: found in its block of BLOCK customers."""
    met = np.empty(ranks.size, segment.dtype)
    for j in range(ranks.size):
        low, high = 0, active_before.size  # the block holding it: the last with active_before <= rank
        while low < high:  # (np.searchsorted, side="right"; by hand, it compiles in a fifth of the time)
            middle = (low + high) // 2
            if active_before[middle] <= ranks[j]:
                low = middle + 1
            else:
                high = middle
        block = low - 1
        seen = active_before[block]
        for i in range(block * BLOCK, status.size):
            seen += status[i] == ACTIVE
            if seen > ranks[j]:  # customer i is the ranks[j]-th active one (counting from 0)
                met[j] = segment[i]
                break
    return met


def learning_chance(w: Workforce, p: ParameterValues) -> np.ndarray:
    """κ · e_i · o_i for customer-contact staff, 0 for the others: the chance to learn each need met."""
    return p.contact_learning_rate * w.engagement * w.alignment * w.is_customer_contact


def contact_learning(world: World, p: ParameterValues, rng: np.random.Generator, segment_needs: np.ndarray):
    """(beliefs, first_hand, learns): what contact staff learn from the customers they meet."""
    w = world.workforce
    met_segment = met_segments(world, rng)
    learns = rng.random(w.beliefs.shape) < learning_chance(w, p)[:, None]
    heard = segment_needs[met_segment]
    return np.where(learns, heard, w.beliefs).astype(np.int8), w.first_hand | learns, learns


def channel_gain(trust: np.ndarray) -> np.ndarray:
    """g between every pair of departments: 1 inside a department, √(T_ij T_ji)/½ across."""
    between = np.sqrt(trust * trust.T) / UNINFORMED_TRUST
    np.fill_diagonal(between, 1.0)
    return between


def diffusion_weights(network: sp.csr_matrix, department: np.ndarray, trust: np.ndarray,
                      sender_weight: np.ndarray) -> sp.csr_matrix:
    """w_ij = a_ij · g_ij · h_j, g = 1 inside a department, √(T_ij T_ji)/½ across."""
    # g for every pair of departments first, then per tie: one lookup instead of a computation per tie.
    between = channel_gain(trust)
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


def evidence_votes(beliefs: np.ndarray, insight: np.ndarray, teachers: np.ndarray) -> np.ndarray:
    """v_k = Σ_i u_ik b_ik over the teachers: their evidence on each need."""
    return ((beliefs * insight)[teachers]).sum(axis=0, dtype=np.int64)


def learn_from_insight(beliefs, insight, code, rate, quorum, rng, teachers):
    """The code adopts the sign of the teachers' evidence vote v with prob. p2 · min(1, |v| / quorum)."""
    return learn_from_votes(evidence_votes(beliefs, insight, teachers), code, rate, quorum, rng)


def learn_from_votes(votes: np.ndarray, code: np.ndarray, rate: float, quorum: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Rule 5 on the votes: where sign(v) differs from the code, adopt it with prob. p2 · min(1, |v| / q)."""
    return _adopt_votes(votes, code, rng.random(code.size), rate, quorum)


@numba.njit(cache=True, nogil=True)
def _adopt_votes(votes, code, draws, rate, quorum):  # pragma: no cover - compiled
    """learn_from_votes on its draws, need by need (one week's few dozen needs: no array passes)."""
    new_code = code.copy()
    for k in range(code.size):
        majority = np.sign(votes[k])
        if majority != 0 and majority != code[k] and draws[k] < rate * min(1.0, abs(votes[k]) / quorum):
            new_code[k] = majority
    return new_code


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
    reality = p.code_evidence == "reality"
    # The week's draws, in the order the rules make them (contact_learning, staleness, diffusion, act,
    # socialisation; learn_from_* draws its own last).
    met_segment = met_segments(world, rng)
    learn_draws = rng.random(w.beliefs.shape)
    stale_draws = rng.random(w.insight.shape)
    diffuses = p.knowledge_diffusion_rate > 0
    adopt_draws = rng.random(w.beliefs.shape) if diffuses else np.zeros((0, 0))
    coin_draws = rng.random(w.beliefs.shape) if reality else np.zeros((0, 0))
    social_draws = rng.random(w.beliefs.shape)
    teachers = (np.ones(w.size, dtype=bool) if p.code_learns_from == "everyone"
                else IS_OFFER_DEPARTMENT[w.department])
    beliefs, insight, first_hand, votes, actions = _chain_week(
        w.beliefs, w.insight, w.first_hand, segment_needs, met_segment,
        learning_chance(w, p), learn_draws,
        p.insight_forgetting, stale_draws,
        p.knowledge_diffusion_rate, adopt_draws, w.network.indptr, w.network.indices,
        w.network.data.astype(np.float64, copy=False), w.department,
        channel_gain(expected_trust(f.trust_positive, f.trust_negative)), w.engagement * w.alignment,
        w.is_knowledge_carrier, f.code, p.socialisation_rate, social_draws, coin_draws, teachers,
    )
    if reality:
        code = learn_from_reality(actions, f.code, core, p.code_learning_rate, rng, teachers)
    else:
        code = learn_from_votes(votes, f.code, p.code_learning_rate, p.code_evidence_quorum, rng)
    return Effects(
        workforce={"beliefs": beliefs, "insight": insight, "first_hand": first_hand},
        firm={"core_needs": core, "segment_needs": segment_needs, "code": code},
    )


@numba.njit(cache=True, nogil=True)
def _chain_week(beliefs, insight, first_hand, segment_needs, met_segment, learn, learn_draws,
                forgetting, stale_draws, diffusion_rate, adopt_draws, indptr, indices, tie, department,
                between, sender_weight, is_carrier, code, socialisation_rate, social_draws, coin_draws,
                teachers):  # pragma: no cover - compiled; test_knowledge checks it against the functions
    """Rules 2–5 of one week in one pass (rule 5 up to the votes): the functions above, fused.

    Returns the new beliefs, insight and first-hand masks, the teachers' votes
    and, where ``coin_draws`` is given (March's rule), the actions.
    """
    n, m = beliefs.shape
    # Rule 2: contact learning, then staleness (fresh first-hand evidence does not go stale).
    heard = np.empty((n, m), np.int8)
    fresh = np.empty((n, m), np.bool_)
    evidence = np.empty((n, m), np.bool_)
    for i in range(n):
        needs = segment_needs[met_segment[i]]
        for k in range(m):
            # Bitwise & | on the masks, not `and`/`or`: random outcomes would make the branches mispredict.
            learns = learn_draws[i, k] < learn[i]
            kept = stale_draws[i, k] >= forgetting
            had = first_hand[i, k]
            heard[i, k] = needs[k] if learns else beliefs[i, k]
            fresh[i, k] = ((had | learns) & kept) | (learns & (had ^ True))
            evidence[i, k] = (insight[i, k] & kept) | fresh[i, k]
    new_beliefs = heard.copy()
    new_insight = evidence.copy()
    new_first_hand = fresh.copy()
    if diffusion_rate > 0:
        # Rule 3. What each employee passes on, as lists of (need, ±1) per sender: first-hand
        # evidence, and what a carrier heard. Most of it is 0, and adding 0 changes no sum.
        front_start, front_need, front_sign = _nonzero_rows(heard, fresh, evidence, is_carrier, False)
        relay_start, relay_need, relay_sign = _nonzero_rows(heard, fresh, evidence, is_carrier, True)
        from_front_line = np.empty(m)
        from_carriers = np.empty(m)
        for i in range(n):
            from_front_line[:] = 0.0
            from_carriers[:] = 0.0
            for t in range(indptr[i], indptr[i + 1]):  # in the order of the ties, as W @ x sums them
                j = indices[t]
                weight = tie[t] * between[department[i], department[j]] * sender_weight[j]
                for e in range(front_start[j], front_start[j + 1]):
                    from_front_line[front_need[e]] += weight * front_sign[e]
                for e in range(relay_start[j], relay_start[j + 1]):
                    from_carriers[relay_need[e]] += weight * relay_sign[e]
            for k in range(m):
                signal = from_front_line[k] if is_carrier[i] else from_front_line[k] + from_carriers[k]
                draw = adopt_draws[i, k]
                # ρ (1 − e^{−|s|}) ≤ ρ also in floating point: a draw of ρ or more needs no exponential.
                # `not draw < …` rather than `draw >= …`: as in numpy's rule, a NaN is no adoption.
                if signal == 0.0 or draw >= diffusion_rate or not draw < diffusion_rate * (1.0 - np.exp(-abs(signal))):
                    continue
                sign = 1 if signal > 0 else -1
                changed = sign != heard[i, k]
                new_beliefs[i, k] = sign
                if is_carrier[i] or np.sign(from_carriers[k]) == sign:
                    new_insight[i, k] = True
                elif changed:
                    new_insight[i, k] = False
                if changed:
                    new_first_hand[i, k] = False
    # Rules 4 and 5 read the same beliefs (March's period): the votes and actions before socialisation.
    votes = np.zeros(m, np.int64)
    actions = np.empty(coin_draws.shape, np.int8)
    for i in range(n):
        for k in range(m):
            belief = new_beliefs[i, k]
            if teachers[i] and new_insight[i, k]:
                votes[k] += belief
            if coin_draws.size:
                actions[i, k] = belief if belief != 0 else (-1 if coin_draws[i, k] < 0.5 else 1)
            if code[k] != 0 and belief != code[k] and social_draws[i, k] < socialisation_rate:
                new_beliefs[i, k] = belief + (1 if code[k] > belief else -1)
                new_insight[i, k] = False
                new_first_hand[i, k] = False
    return new_beliefs, new_insight, new_first_hand, votes, actions


@numba.njit(cache=True, nogil=True)
def _nonzero_rows(beliefs, first_hand, insight, is_carrier, relayed):  # pragma: no cover - compiled
    """Per employee, the needs (and signs) of the evidence they pass on, as compressed rows.

    ``relayed=False``: first-hand beliefs; ``True``: a carrier's evidence that is not first-hand.
    """
    n, m = beliefs.shape
    start = np.zeros(n + 1, np.int64)
    need = np.empty(n * m, np.int64)
    sign = np.empty(n * m, np.float64)
    count = 0
    for j in range(n):
        for k in range(m):
            passes = (is_carrier[j] and insight[j, k] and not first_hand[j, k]) if relayed else first_hand[j, k]
            if passes and beliefs[j, k] != 0:
                need[count] = k
                sign[count] = beliefs[j, k]
                count += 1
        start[j + 1] = count
    return start, need[:count], sign[:count]


def segment_fit(code: np.ndarray, segment_needs: np.ndarray) -> np.ndarray:
    """Offer fit per segment: share of dimensions where the code equals the segment's needs (S4.5)."""
    return (code[None, :] == segment_needs).sum(axis=1) / code.size  # counts over m: the mean, exactly


def knowledge_share(beliefs: np.ndarray, needs: np.ndarray) -> np.ndarray:
    """Per employee: share of dimensions believed correctly."""
    return (beliefs == needs[None, :]).sum(axis=1) / needs.size
