"""Mechanism 3 — evidence-based trust between departments (S3.1–S3.4, S2.4).

Beta reputation (Jøsang & Ismail 2002). Department ``i`` keeps positive and
negative evidence ``(P_ij, N_ij)`` about department ``j``; its expected trust is

    T_ij = (P_ij + 1) / (P_ij + N_ij + 2).

Each week the evidence is discounted by the forgetting factor ``φ`` and new
observations are added; a let-down — a hand-off the sender dropped, a
trust-building behaviour marketing neglected — counts ``ω`` times
(``trust_loss_weight``), so trust is lost faster than it is rebuilt
(S2.4; Slovic 1993); a meeting that goes badly is an ordinary negative
observation:

    P_ij ← (1 − φ) P_ij + r_ij,     N_ij ← (1 − φ) N_ij + ω s_ij + m_ij.

Observations each week (row observes column):

* sales observes marketing's three trust-building behaviours of Malshe &
  Al-Khatib (2017), S3.2 (a) advocacy, (b) support, (c) buffering: one
  observation each, positive with the probability that marketing shows it,
  negative (neglect) otherwise;
* the receiver of each kind of hand-off that happened this week observes
  the sender once, negative with the share of those hand-offs the *sender*
  dropped (S3.1, S2.5; failures that were the receiver's doing — distrust,
  its own lack of cooperation — are not evidence about the sender); leads
  count like orders, so leads marketing lost are evidence against it;
* every other pair meets with probability ``1 − silo_strength`` (S2.1) and
  the meeting goes well with the observed department's mean engagement.

Trust acts through mechanisms 2 (knowledge channels) and 4 (hand-off
failures, lost leads, duplicate work). With ``φ = 0`` and ``ω = 1``, ``r``
positive and ``s`` negative observations give exactly (r + 1)/(r + s + 2)
(docking test). Week 0 starts at the stationary evidence ``P = E[r]/φ``,
``N = ω E[s]/φ`` of the week-0 behaviour (no evidence when ``φ = 0``).
"""

from __future__ import annotations

import numba
import numpy as np

from orgsim import departments as dep
from orgsim.mechanisms import Effects
from orgsim.parameter_types import ParameterValues
from orgsim.state import World

SENDERS, RECEIVERS = dep.HANDOFF_SENDERS, dep.HANDOFF_RECEIVERS


def expected_trust(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """T = (P + 1) / (P + N + 2), elementwise."""
    return (positive + 1.0) / (positive + negative + 2.0)


def update(positive, negative, positive_observations, negative_observations, forgetting, loss_weight,
           mild_negative_observations=0.0):
    """Discount old evidence and add this week's observations (let-downs weigh ``loss_weight``)."""
    keep = 1.0 - forgetting
    return (keep * positive + positive_observations,
            keep * negative + loss_weight * negative_observations + mild_negative_observations)


def department_engagement(world: World) -> np.ndarray:
    w = world.workforce
    return (np.bincount(w.department, weights=w.engagement, minlength=dep.N_DEPARTMENTS)
            / np.bincount(w.department, minlength=dep.N_DEPARTMENTS))


def observation_chances(world: World, p: ParameterValues) -> tuple[np.ndarray, np.ndarray]:
    """(chance of an observation, chance it is positive) per ordered pair, (D, D).

    Meetings, hand-offs and marketing's behaviours are counted separately by
    :func:`weekly_observations`; this gives their expectations for week 0.
    """
    d = dep.N_DEPARTMENTS
    meet = np.full((d, d), 1.0 - p.silo_strength)
    np.fill_diagonal(meet, 0.0)
    good = np.broadcast_to(department_engagement(world)[None, :], (d, d))
    return meet, good


def weekly_observations(world: World, p: ParameterValues, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positive, let-down, bad-meeting) observation counts (D, D) for one week; row observes column.

    The draws, in this order: whether each pair meets, whether the meeting goes well (D × D each),
    whether each hand-off worked, whether marketing shows each of its three behaviours.
    """
    week = world.week
    meet_chance, good_chance = observation_chances(world, p)
    meet_draws, good_draws = rng.random(meet_chance.shape), rng.random(meet_chance.shape)
    worked_draws = rng.random(week.handoff_attempts.size)
    shown_draws = rng.random(3)
    behaviours = np.array([p.marketing_advocacy, p.marketing_support, p.marketing_buffering])
    return _observations(meet_draws < meet_chance, good_draws < good_chance, week.handoff_attempts,
                         week.handoff_sender_failures, worked_draws, RECEIVERS, SENDERS, shown_draws < behaviours,
                         dep.SALES, dep.MARKETING)


# The department constants are arguments, not globals: numba's cache would keep stale copies of them.
@numba.njit(cache=True, nogil=True)
def _observations(meets, good, attempts, sender_failures, worked_draws, receivers, senders, shown, sales,
                  marketing):  # pragma: no cover - compiled
    """The week's observations (the rules of the module docstring), pair by pair and hand-off by hand-off."""
    d = meets.shape[0]
    positive, negative, bad_meetings = np.zeros((d, d)), np.zeros((d, d)), np.zeros((d, d))
    for row in range(d):  # meetings: a good one is a positive observation, a bad one a mild negative
        for column in range(d):
            if meets[row, column]:
                if good[row, column]:
                    positive[row, column] = 1.0
                else:
                    bad_meetings[row, column] = 1.0
    for h in range(attempts.size):  # hand-offs that happened: the receiver observes the sender once
        if attempts[h] > 0:
            if worked_draws[h] < 1.0 - sender_failures[h] / max(attempts[h], 1.0):
                positive[receivers[h], senders[h]] += 1.0
            else:
                negative[receivers[h], senders[h]] += 1.0
    n_shown = 0  # sales observes marketing's trust-building behaviours
    for behaviour_shown in shown:
        n_shown += behaviour_shown
    positive[sales, marketing] += n_shown
    negative[sales, marketing] += shown.size - n_shown
    return positive, negative, bad_meetings


def step(world: World, p: ParameterValues, rng: np.random.Generator) -> Effects:
    f = world.firm
    positive, negative, bad_meetings = weekly_observations(world, p, rng)
    new_positive, new_negative = update(f.trust_positive, f.trust_negative, positive, negative,
                                        p.trust_forgetting, p.trust_loss_weight, bad_meetings)
    return Effects(firm={"trust_positive": new_positive, "trust_negative": new_negative})


def stationary_evidence(world: World, p: ParameterValues, handoff_success: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P, N) that this week's expected observations would hold steady: E[r]/φ, (ω E[s] + E[m])/φ.

    ``handoff_success`` is, per hand-off, the probability that the sender did not drop it.
    """
    meet, good = observation_chances(world, p)
    positive, bad_meetings = meet * good, meet * (1.0 - good)
    negative = np.zeros_like(positive)
    if p.enable_coordination:  # hand-offs are observed only when coordination is on
        np.add.at(positive, (RECEIVERS, SENDERS), handoff_success)
        np.add.at(negative, (RECEIVERS, SENDERS), 1.0 - handoff_success)
    behaviours = np.array([p.marketing_advocacy, p.marketing_support, p.marketing_buffering])
    positive[dep.SALES, dep.MARKETING] += behaviours.sum()
    negative[dep.SALES, dep.MARKETING] += (1.0 - behaviours).sum()
    if p.trust_forgetting == 0.0:
        return np.zeros_like(positive), np.zeros_like(negative)
    memory = min(1.0 / p.trust_forgetting, 1e12)  # a tiny forgetting must not overflow to inf
    return positive * memory, (p.trust_loss_weight * negative + bad_meetings) * memory
