"""Mechanism 4 — coordination across departments (S2.5, S3.1).

Each order crosses the hand-offs in ``departments.ORDER_HANDOFFS``; a new
customer's lead crosses the marketing → sales hand-off. A hand-off from
department ``s`` to ``r`` fails with probability

    p_fail = clip( f0 + f_silo · silo + f_trust · (1 − T_rs), 0, 1 )

and is done twice with probability

    p_dup = clip( u · (silo + 1 − T_rs) / 2, 0, 1 ),

where ``T_rs`` is the receiver's trust in the sender (S3.1: distrust causes
duplicate work and wasted resources; S2.5: silos leave tasks undone or done
twice). Duplicated hand-offs consume capacity: the share of capacity lost is
``duplicate_capacity_cost`` times the share of hand-offs duplicated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orgsim import departments as dep


def handoff_probabilities(
    trust: np.ndarray,
    silo_strength: float,
    base_failure: float,
    silo_failure: float,
    distrust_failure: float,
    duplicate_rate: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(p_fail, p_dup), one entry per hand-off in ORDER_HANDOFFS."""
    senders, receivers = np.array(dep.ORDER_HANDOFFS).T
    distrust = 1.0 - trust[receivers, senders]
    p_fail = np.clip(base_failure + silo_failure * silo_strength + distrust_failure * distrust, 0, 1)
    p_dup = np.clip(duplicate_rate * (silo_strength + distrust) / 2.0, 0, 1)
    return p_fail, p_dup


@dataclass(frozen=True)
class OrderOutcome:
    order_failed: np.ndarray  # bool per order: at least one of its hand-offs failed
    failures: np.ndarray  # failed hand-offs per entry of ORDER_HANDOFFS
    duplicates: np.ndarray  # duplicated hand-offs per entry of ORDER_HANDOFFS
    capacity_load: float  # share of capacity lost to duplicated work

    @property
    def handoff_success(self) -> np.ndarray | None:
        n_orders = self.order_failed.size
        return None if n_orders == 0 else 1.0 - self.failures / n_orders


#: The order hand-offs proper; marketing -> sales (index 0) carries leads, not orders.
LEAD_HANDOFF = 0


def process_orders(
    n_orders: int,
    p_fail: np.ndarray,
    p_dup: np.ndarray,
    duplicate_capacity_cost: float,
    rng: np.random.Generator,
) -> OrderOutcome:
    """Send ``n_orders`` orders through the order hand-offs (all but the lead hand-off)."""
    failed = rng.random((n_orders, p_fail.size)) < p_fail[None, :]
    failed[:, LEAD_HANDOFF] = False
    duplicates = rng.binomial(n_orders, p_dup)
    duplicates[LEAD_HANDOFF] = 0
    order_handoffs = p_fail.size - 1
    load = duplicate_capacity_cost * duplicates.sum() / max(n_orders * order_handoffs, 1)
    return OrderOutcome(
        order_failed=failed.any(axis=1),
        failures=failed.sum(axis=0),
        duplicates=duplicates,
        capacity_load=float(min(load, 1.0)),
    )
