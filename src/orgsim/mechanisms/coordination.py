"""Mechanism 4 — coordination across departments (S2.5, S3.1, S1.3, S1.8).

Each order crosses the order hand-offs of ``departments.ORDER_HANDOFFS``
(sales → operations → service, sales → controlling, service → R&D); each of
marketing's leads crosses the marketing → sales hand-off. A hand-off from
department ``s`` to ``r`` fails through the sender or through the receiver:

    p_sender   = f0 + f_silo · silo + f_coop · (1 − c_s) / 2
    p_receiver = f_trust · (1 − T_rs) + f_coop · (1 − c_r) / 2
    p_fail     = clip( p_sender + p_receiver, 0, 1 )

— for marketing's leads the receiver part has ``ℓ (1 − T_sales,marketing)``
more: sales ignores leads from a marketing it does not trust
(``lead_distrust_loss`` ℓ, S3.1, S3.4) — and is done twice with probability

    p_dup = clip( u · (silo + 1 − T_rs) / 2, 0, 1 ),

where ``T_rs`` is the receiver's trust in the sender (S3.1: distrust causes
duplicate work and dropped tasks; sales ignores leads from a marketing it
does not trust, S3.4), and ``c_d`` the cooperation of department ``d``: the
mean of engagement × customer orientation of its staff (attitude matters at
every hand-off, S1.3, S1.8). A lost lead is a failed hand-off.

Duplicated hand-offs consume the receiver's capacity: department ``r`` loses
``duplicate_capacity_cost`` times the hand-offs it received twice, as a share
of all hand-offs it takes part in (sent or received); its staff's
performance is capability × (1 − load) (mechanism 5).

One uniform draw v per hand-off decides both whether it fails (v < p_fail)
and whose fault it is (the sender's if v < p_sender): only the sender's
failures are evidence for the receiver's trust in the sender (mechanism 3),
so a department that drops work because it distrusts the sender does not
blame the sender for it. An order fails for its customer when one of its
customer-facing hand-offs fails (service's feedback to R&D is internal).
"""

from __future__ import annotations

import numba
import numpy as np

from orgsim import departments as dep
from orgsim.mechanisms import Effects
from orgsim.mechanisms.trust import expected_trust
from orgsim.parameter_types import ParameterValues
from orgsim.state import World, active_with_draw_below, count_active

#: Index of the marketing -> sales hand-off (leads) in ORDER_HANDOFFS; the rest carry orders.
LEAD_HANDOFF = 0
SENDERS, RECEIVERS = dep.HANDOFF_SENDERS, dep.HANDOFF_RECEIVERS


def cooperation(world: World) -> np.ndarray:
    """c_d: mean engagement × customer orientation per department."""
    w = world.workforce
    sums = np.bincount(w.department, weights=w.engagement * w.alignment, minlength=dep.N_DEPARTMENTS)
    return sums / np.bincount(w.department, minlength=dep.N_DEPARTMENTS)


def handoff_probabilities(trust: np.ndarray, coop: np.ndarray, p: ParameterValues) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p_fail, p_dup, p_sender), one entry per hand-off in ORDER_HANDOFFS; p_sender ≤ p_fail is the sender's part."""
    distrust = 1.0 - trust[RECEIVERS, SENDERS]
    p_sender = (p.handoff_base_failure + p.handoff_silo_failure * p.silo_strength
                + p.handoff_cooperation_failure * (1.0 - coop[SENDERS]) / 2.0)
    p_receiver = p.handoff_distrust_failure * distrust + p.handoff_cooperation_failure * (1.0 - coop[RECEIVERS]) / 2.0
    p_receiver[LEAD_HANDOFF] += p.lead_distrust_loss * distrust[LEAD_HANDOFF]
    p_fail = np.clip(p_sender + p_receiver, 0.0, 1.0)
    p_dup = np.clip(p.duplicate_work_rate * (p.silo_strength + distrust) / 2.0, 0.0, 1.0)
    return p_fail, p_dup, np.minimum(np.clip(p_sender, 0.0, 1.0), p_fail)


def capacity_load(attempts: np.ndarray, duplicates: np.ndarray, cost: float) -> np.ndarray:
    """Share of each department's capacity lost to work done twice: the hand-offs it received
    twice over all hand-offs it takes part in (sent or received)."""
    workload = (np.bincount(RECEIVERS, weights=attempts, minlength=dep.N_DEPARTMENTS)
                + np.bincount(SENDERS, weights=attempts, minlength=dep.N_DEPARTMENTS))
    doubled = np.bincount(RECEIVERS, weights=duplicates, minlength=dep.N_DEPARTMENTS)
    return np.minimum(cost * doubled / np.maximum(workload, 1.0), 1.0)


def step(world: World, p: ParameterValues, rng: np.random.Generator) -> Effects:
    return _orders(world, p, rng, handoffs_matter=True)


def off(world: World, p: ParameterValues, rng: np.random.Generator) -> Effects:
    """Coordination switched off: customers still order, but no hand-off fails, is done twice or is observed."""
    return _orders(world, p, rng, handoffs_matter=False)


def _orders(world: World, p: ParameterValues, rng: np.random.Generator, handoffs_matter: bool) -> Effects:
    m, f, week = world.market, world.firm, world.week
    trust = expected_trust(f.trust_positive, f.trust_negative)
    p_fail, p_dup, p_sender = handoff_probabilities(trust, cooperation(world), p)
    if not handoffs_matter:
        p_fail, p_dup, p_sender = np.zeros_like(p_fail), np.zeros_like(p_dup), np.zeros_like(p_sender)
    ordering = active_with_draw_below(m.status, rng.random(count_active(m.status)), p.order_rate)
    n_orders, n_leads = ordering.size, week.leads.size
    attempts = np.full(p_fail.size, float(n_orders))
    attempts[LEAD_HANDOFF] = n_leads
    failures, sender_failures, order_failed = _order_handoffs(rng.random((n_orders, p_fail.size)), p_fail, p_sender,
                                                              dep.CUSTOMER_FACING)
    lead_draws = rng.random(n_leads)
    lead_lost, lead_sender_fault = lead_draws < p_fail[LEAD_HANDOFF], lead_draws < p_sender[LEAD_HANDOFF]
    failures[LEAD_HANDOFF], sender_failures[LEAD_HANDOFF] = lead_lost.sum(), lead_sender_fault.sum()
    duplicates = rng.binomial(attempts.astype(np.int64), p_dup).astype(float)
    if not handoffs_matter:
        attempts[:] = 0.0
    return Effects(
        week={"ordering": ordering, "order_failed": order_failed, "handoff_attempts": attempts,
              "handoff_failures": failures, "handoff_sender_failures": sender_failures, "duplicates": duplicates,
              "leads": week.leads[~lead_lost], "lost_leads": int(lead_lost.sum())},
        firm={"capacity_load": capacity_load(attempts, duplicates, p.duplicate_capacity_cost)},
    )


@numba.njit(cache=True, nogil=True)
def _order_handoffs(draws, p_fail, p_sender, customer_facing):  # pragma: no cover - compiled
    """The orders' hand-offs, one draw each (orders × hand-offs): failures and the sender's failures per
    hand-off, and which orders failed at a customer-facing hand-off (``customer_facing``: an argument,
    not the global, which numba's cache would keep a stale copy of)."""
    n_orders, n_handoffs = draws.shape
    failures, sender_failures = np.zeros(n_handoffs), np.zeros(n_handoffs)
    order_failed = np.zeros(n_orders, np.bool_)
    for order in range(n_orders):
        for h in range(n_handoffs):
            if draws[order, h] < p_fail[h]:
                failures[h] += 1.0
                if customer_facing[h]:
                    order_failed[order] = True
            if draws[order, h] < p_sender[h]:
                sender_failures[h] += 1.0
    return failures, sender_failures, order_failed


def expected_load(trust: np.ndarray, coop: np.ndarray, p: ParameterValues) -> np.ndarray:
    """Capacity load when every order hand-off carries one unit at the expected duplicate rate (leads are few)."""
    _, p_dup, _ = handoff_probabilities(trust, coop, p)
    attempts = np.ones(p_dup.size)
    attempts[LEAD_HANDOFF] = 0.0
    return capacity_load(attempts, attempts * p_dup, p.duplicate_capacity_cost)
