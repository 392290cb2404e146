"""The state of the firm and its market, held in numpy arrays.

Three containers, one per population:

* :class:`Workforce` — one row per employee (attitude, engagement, beliefs …)
  and the internal communication network;
* :class:`Market` — one row per customer (status, satisfaction, expectation,
  ad fatigue) and the customer network;
* :class:`Firm` — firm-level state: the true customer needs, the firm's code
  (purpose and official offer), the trust evidence between departments.

Mechanisms read these arrays and return new values; the model writes them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from orgsim import departments as dep
from orgsim import networks

PROSPECT, ACTIVE, LOST = 0, 1, 2


@dataclass
class Workforce:
    department: np.ndarray  # int, sorted: each department a contiguous block
    is_leader: np.ndarray  # bool
    is_head: np.ndarray  # bool
    is_customer_contact: np.ndarray  # bool
    is_multiplier: np.ndarray  # bool
    is_knowledge_carrier: np.ndarray  # bool
    responsibility: np.ndarray  # 0-1, fixed trait (S0.2)
    capability: np.ndarray  # 0-1, fixed trait: performance without overload
    performance: np.ndarray  # 0-1, capability minus capacity lost to duplicate work
    attitude: np.ndarray  # -1 resistance .. +1 support of marketing
    attitude_anchor: np.ndarray  # prior view the employee is anchored to (Friedkin-Johnsen x0)
    engagement: np.ndarray  # 0-1
    alignment: np.ndarray  # 0-1, customer orientation (S1.2)
    beliefs: np.ndarray  # int8 (n, m) in {-1, 0, +1} about the customers' needs
    insight: np.ndarray  # bool (n, m): the belief came from customers, directly or passed on
    network: sp.csr_matrix  # symmetric 0/1 communication ties

    @property
    def size(self) -> int:
        return self.department.size


@dataclass
class Market:
    status: np.ndarray  # int8: PROSPECT, ACTIVE or LOST
    satisfaction: np.ndarray  # experience units, perception is derived from it (S1.5)
    expectation: np.ndarray  # experience units, raised by advertising promises
    ad_fatigue: np.ndarray  # 0-1
    strong_ties: sp.csr_matrix | None  # None: complete (mean-field) network
    weak_ties: sp.csr_matrix | None
    shitstorm_weeks_left: int = 0

    @property
    def size(self) -> int:
        return self.status.size


@dataclass
class Firm:
    true_needs: np.ndarray  # int8 (m,) in {-1, +1}
    code: np.ndarray  # int8 (m,) in {-1, 0, +1}: purpose and official offer (S4.3)
    trust_positive: np.ndarray  # (D, D) evidence: row trusts column
    trust_negative: np.ndarray  # (D, D)
    capacity_load: float = 0.0  # share of capacity lost to duplicate work last week
    net_promoter_score: float = 0.0  # last week's, in [-100, 100]
    ad_blitz: dict = field(default_factory=dict)  # parameters to restore after an ad blitz


def initial_workforce(params, rng: np.random.Generator) -> Workforce:
    """Employees, their roles and traits at week 0 (S0.1, S0.2, S0.3, S1.9)."""
    sizes = dep.department_sizes(params.n_employees)
    department = np.repeat(np.arange(dep.N_DEPARTMENTS), sizes)
    n = department.size
    first_of_department = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    is_head = np.zeros(n, dtype=bool)
    is_head[first_of_department] = True
    is_leader = np.zeros(n, dtype=bool)
    is_leader[first_of_department[dep.INDEX["management"]]] = True

    contact_share = np.array([d.customer_contact_share for d in dep.DEPARTMENTS])
    is_customer_contact = rng.random(n) < contact_share[department]

    offsets = np.array(
        [d.attitude_offset - (params.left_brain_scepticism if d.left_brained else 0.0)
         for d in dep.DEPARTMENTS]
    )
    attitude = np.clip(
        params.initial_attitude_mean + offsets[department]
        + params.initial_attitude_spread * rng.standard_normal(n),
        -1.0, 1.0,
    )
    attitude[is_leader] = params.leader_attitude

    capability = rng.beta(8 * params.performance_mean, 8 * (1 - params.performance_mean), n)
    engagement = np.clip(0.5 + 0.15 * rng.standard_normal(n), 0.0, 1.0)
    beliefs = rng.integers(-1, 2, size=(n, params.need_dimensions), dtype=np.int8)

    workforce = Workforce(
        department=department,
        is_leader=is_leader,
        is_head=is_head,
        is_customer_contact=is_customer_contact,
        is_multiplier=is_leader.copy(),  # the leader is the strongest multiplier (S0.2)
        is_knowledge_carrier=np.zeros(n, dtype=bool),
        responsibility=rng.beta(2, 2, n),
        capability=capability,
        performance=capability.copy(),
        attitude=attitude,
        attitude_anchor=attitude.copy(),
        engagement=engagement,
        alignment=(1 + attitude) / 2,
        beliefs=beliefs,
        insight=np.zeros(beliefs.shape, dtype=bool),
        network=networks.internal_network(
            rng, department, params.within_department_degree,
            params.cross_department_degree, params.silo_strength,
        ),
    )
    return workforce


def initial_market(params, rng: np.random.Generator) -> Market:
    """Customers at week 0: a share active, the rest prospects; their networks."""
    n = params.n_customers
    status = np.where(rng.random(n) < params.initial_active_share, ACTIVE, PROSPECT).astype(np.int8)
    if params.customer_network == "complete":
        strong = weak = None
    else:
        strong = networks.clustered_strong_ties(rng, n, params.strong_ties)
        weak = networks.random_weak_ties(rng, n, params.weak_ties)
    return Market(
        status=status,
        satisfaction=np.full(n, params.new_customer_satisfaction),
        expectation=np.full(n, params.expectation_base),
        ad_fatigue=np.zeros(n),
        strong_ties=strong,
        weak_ties=weak,
    )


def initial_firm(params, rng: np.random.Generator) -> Firm:
    """True needs (random +-1), a partly defined code, and the initial trust evidence."""
    m = params.need_dimensions
    true_needs = rng.choice(np.array([-1, 1], dtype=np.int8), size=m)
    defined = rng.random(m) < params.initial_code_defined
    code = np.where(defined, rng.choice(np.array([-1, 1], dtype=np.int8), size=m), 0).astype(np.int8)
    # Split the pseudo-observations so that (positive + 1) / (evidence + 2) equals
    # the initial trust (exactly when evidence >= 1 / initial_trust - 2).
    evidence = params.initial_trust_evidence
    positive = np.clip(params.initial_trust * (evidence + 2) - 1, 0.0, evidence)
    d = dep.N_DEPARTMENTS
    return Firm(
        true_needs=true_needs,
        code=code,
        trust_positive=np.full((d, d), positive),
        trust_negative=np.full((d, d), evidence - positive),
    )
