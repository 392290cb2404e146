"""The seven departments of the simulated firm and how orders cross them.

The table is structural, not a tunable parameter: it fixes which departments
exist (docs/model.md, section 2, "Departments"; claims in docs/claims.md), their share of staff, how many of their members have
customer contact (S0.3), and their prior view of marketing (S0.1, S1.9).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Department:
    name: str
    staff_share: float
    customer_contact_share: float
    left_brained: bool  # S1.9: R&D and controlling are the most critical of marketing


DEPARTMENTS: tuple[Department, ...] = (
    Department("management", 0.04, 0.05, False),
    Department("marketing", 0.08, 0.10, False),
    Department("sales", 0.18, 1.00, False),
    Department("service", 0.15, 1.00, False),
    Department("rnd", 0.15, 0.00, True),
    Department("controlling", 0.06, 0.00, True),
    Department("operations", 0.34, 0.20, False),
)
NAMES: tuple[str, ...] = tuple(d.name for d in DEPARTMENTS)
INDEX: dict[str, int] = {name: i for i, name in enumerate(NAMES)}
N_DEPARTMENTS = len(DEPARTMENTS)
MARKETING, SALES, RND = INDEX["marketing"], INDEX["sales"], INDEX["rnd"]

#: Departments that build the offer and so shape the code (S4.2, S4.3).
OFFER_DEPARTMENTS: tuple[int, ...] = (INDEX["management"], MARKETING, RND)

#: Hand-offs an order crosses (sender -> receiver), S2.5 and S4.2: a lead from
#: marketing to sales, the order to operations, delivery to service, billing to
#: controlling, and service's field feedback to R&D.
ORDER_HANDOFFS: tuple[tuple[int, int], ...] = tuple(
    (INDEX[a], INDEX[b])
    for a, b in (
        ("marketing", "sales"),
        ("sales", "operations"),
        ("operations", "service"),
        ("sales", "controlling"),
        ("service", "rnd"),
    )
)


HANDOFF_SENDERS, HANDOFF_RECEIVERS = (np.array(side) for side in zip(*ORDER_HANDOFFS, strict=True))
#: Order hand-offs a customer sees fail: not the lead hand-off (index 0, leads are not orders)
#: and not service's field feedback to R&D (internal).
CUSTOMER_FACING = np.array([index > 0 and receiver != RND for index, (_, receiver) in enumerate(ORDER_HANDOFFS)])


def department_sizes(n_employees: int) -> np.ndarray:
    """Staff per department by largest remainder, at least two per department."""
    shares = np.array([d.staff_share for d in DEPARTMENTS])
    spare = n_employees - 2 * N_DEPARTMENTS
    raw = shares / shares.sum() * spare
    sizes = np.floor(raw).astype(np.int64)
    remainder_order = np.argsort(-(raw - sizes), kind="stable")
    sizes[remainder_order[: spare - sizes.sum()]] += 1
    return sizes + 2
