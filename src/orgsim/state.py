"""The state of the firm and its market, held in numpy arrays.

Four containers make up the :class:`World` the mechanisms read:

* :class:`Workforce` — one row per employee (attitude, engagement, beliefs …),
  the internal communication network and the attitude influence matrix;
* :class:`Market` — one row per customer (segment, status, satisfaction,
  expectation, ad exposure and fatigue) and the customer network;
* :class:`Firm` — firm-level state: the customers' true needs per segment,
  the firm's code (purpose and official offer), the trust evidence between
  departments, the capacity lost to duplicate work, last week's visible success;
* :class:`Week` — what happened this week (orders, hand-offs, leads, new
  customers, reviews): written by the mechanisms, read by later ones and by
  the outputs, cleared at the start of every week.

Week 0 is a state the model would hold: engagement, customer orientation,
capacity load, trust evidence, ad fatigue, promises and customer
satisfaction start at the stationary values of their own dynamics under the
week-0 parameters, attitudes at the Friedkin–Johnsen equilibrium of the
employees' prior views, so nothing jumps in the first weeks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np
import scipy.sparse as sp

from orgsim import departments as dep
from orgsim import networks
from orgsim.parameter_types import ParameterValues

# The compiled passes (numba) take these as constants into their machine code, and numba's cache
# notices changes of their own modules only: after changing them, delete the __pycache__ folders.
PROSPECT, ACTIVE, LOST = 0, 1, 2


@numba.njit(cache=True, nogil=True)
def count_active(status: np.ndarray) -> int:  # pragma: no cover - compiled
    """How many customers are active (one pass over the int8 status, no mask)."""
    count = 0
    for s in status:
        count += s == ACTIVE
    return count


@numba.njit(cache=True, nogil=True)
def status_counts(status: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """How many customers are prospects, active and lost (indexed by PROSPECT, ACTIVE, LOST)."""
    prospects = active = lost = 0
    for s in status:  # three sums the compiler vectorises (one count per value would wait on the last)
        prospects += s == PROSPECT
        active += s == ACTIVE
        lost += s == LOST
    counts = np.zeros(3, np.int64)
    counts[PROSPECT], counts[ACTIVE], counts[LOST] = prospects, active, lost
    return counts


@numba.njit(cache=True, nogil=True)
def active_with_draw_below(status: np.ndarray, draws: np.ndarray, chance: float) -> np.ndarray:  # pragma: no cover - compiled
    """The active customers, in customer order, whose draw (one per active customer) is below ``chance``:
    ``flatnonzero(status == ACTIVE)[draws < chance]`` in one pass."""
    chosen = np.empty(draws.size + 1, np.int64)
    if draws.size != count_active(status):  # unchecked indices below: a wrong size would write past the end
        raise ValueError("active_with_draw_below needs one draw per active customer")
    if draws.size == 0:
        return chosen[:0]
    count = k = 0
    last = draws.size - 1
    for i in range(status.size):  # without a branch: active customers and draws fall at random
        is_active = status[i] == ACTIVE
        chosen[count] = i
        count += is_active & (draws[min(k, last)] < chance)
        k += is_active
    return chosen[:count]


#: Teams drawn at week 0 to estimate the expected order quality.
QUALITY_SAMPLE_TEAMS = 512


@dataclass
class Workforce:
    department: np.ndarray  # int, sorted: each department a contiguous block
    is_leader: np.ndarray  # bool
    is_head: np.ndarray  # bool: first member of each department
    is_customer_contact: np.ndarray  # bool
    is_multiplier: np.ndarray  # bool
    is_knowledge_carrier: np.ndarray  # bool
    responsibility: np.ndarray  # 0-1, fixed trait (S0.2)
    capability: np.ndarray  # 0-1, fixed trait: performance without overload
    performance: np.ndarray  # 0-1, capability minus capacity lost to duplicate work
    attitude: np.ndarray  # -1 resistance .. +1 support of marketing
    attitude_anchor: np.ndarray  # own view the employee is anchored to (Friedkin-Johnsen x0)
    engagement: np.ndarray  # 0-1
    alignment: np.ndarray  # 0-1, customer orientation (S1.2)
    recognised: np.ndarray  # bool: recognised this week (S1.7)
    overlooked_pressure: np.ndarray  # drop of the attitude target of the overlooked (S1.7)
    beliefs: np.ndarray  # int8 (n, m) in {-1, 0, +1} about the customers' needs
    insight: np.ndarray  # bool (n, m): the belief is backed by customer evidence (heard or first-hand)
    first_hand: np.ndarray  # bool (n, m): learned from a customer oneself
    network: sp.csr_matrix  # symmetric 0/1 communication ties
    influence: sp.csr_matrix  # row-stochastic attitude influence W (mechanism 1)

    @property
    def size(self) -> int:
        return self.department.size


@dataclass(frozen=True)
class PromoterTies:
    """How many promoters each customer is tied to, and the promoter mask those counts are of."""

    promoters: np.ndarray  # bool: who was a promoter when the counts were made
    weak: np.ndarray  # weak ties to those promoters, per customer
    strong: np.ndarray  # strong ties to those promoters, per customer


@dataclass
class Market:
    segment: np.ndarray  # int: the customer's segment (its own true needs)
    status: np.ndarray  # int8: PROSPECT, ACTIVE or LOST
    satisfaction: np.ndarray  # experience units relative to the customer's expectation
    expectation_base: np.ndarray  # individual expectation before promises
    promise: np.ndarray  # remembered advertising promise above the real offer
    ad_exposure: np.ndarray  # individual exposure to advertising, mean 1
    shield_threshold: np.ndarray  # individual fatigue above which the customer shields
    ad_fatigue: np.ndarray  # 0-1
    strong_ties: sp.csr_matrix | None  # None: complete (mean-field) network
    weak_ties: sp.csr_matrix | None
    shitstorm_weeks_left: int = 0
    promoter_ties: PromoterTies | None = None  # kept from week to week and updated, not recounted (mechanism 7)

    @property
    def size(self) -> int:
        return self.status.size

    @property
    def expectation(self) -> np.ndarray:
        return self.expectation_of(slice(None))

    def expectation_of(self, customers: np.ndarray | slice) -> np.ndarray:
        """The expectation of ``customers`` only: its base plus what the ads promised."""
        return self.expectation_base[customers] + self.promise[customers]

    @property
    def shielded(self) -> np.ndarray:
        return self.shielded_of(slice(None))

    def shielded_of(self, customers: np.ndarray | slice) -> np.ndarray:
        """Whether ``customers`` have shut out advertising (fatigue above their threshold)."""
        return self.ad_fatigue[customers] > self.shield_threshold[customers]


@dataclass
class Firm:
    core_needs: np.ndarray  # int8 (m,) in {-1, +1}: the market's core needs
    segment_needs: np.ndarray  # int8 (S, m): each segment's true needs
    code: np.ndarray  # int8 (m,) in {-1, 0, +1}: purpose and official offer (S4.3)
    trust_positive: np.ndarray  # (D, D) evidence: row trusts column
    trust_negative: np.ndarray  # (D, D)
    capacity_load: np.ndarray  # (D,) share of capacity lost to duplicate work last week
    success: float = 0.0  # last week's visible success: net promoter score / 100
    needs_seed: int = 0  # the market's own random stream: turbulence of week t draws from (needs_seed, t)


@dataclass
class Week:
    """This week's flows; mechanisms add to them, outputs read them."""

    handoff_attempts: np.ndarray  # (H,) per entry of ORDER_HANDOFFS (index 0: leads)
    handoff_failures: np.ndarray  # (H,)
    handoff_sender_failures: np.ndarray  # (H,) the failures that were the sender's fault
    duplicates: np.ndarray  # (H,)
    touch_intensity: float = 0.0
    spend: float = 0.0
    ordering: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    order_failed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    order_quality: np.ndarray = field(default_factory=lambda: np.zeros(0))
    leads: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # prospects handed to sales
    lost_leads: int = 0
    new_customers: int = 0
    referrals: int = 0
    negative_reviews: int = 0
    churned: int = 0
    perception_counts: np.ndarray | None = None  # (negative, neutral, positive) active customers after the week
    number: int = 0  # which week this is (weeks of the knowledge history before week 0 count from 2**32)

    @classmethod
    def empty(cls) -> Week:
        h = len(dep.ORDER_HANDOFFS)
        return cls(np.zeros(h), np.zeros(h), np.zeros(h), np.zeros(h))


@dataclass
class World:
    workforce: Workforce
    market: Market
    firm: Firm
    week: Week


# ----------------------------------------------------------------- week 0
def influence_matrix(w: Workforce, p: ParameterValues) -> sp.csr_matrix:
    """Row-stochastic W with w_ij ∝ (a_ij + δ_ij) · influence_j (mechanism 1).

    influence_j is ``1 + (multiplier_weight − 1) · responsibility_j`` for a
    multiplier (responsible people take risks and carry others, S0.2), 1 else;
    the leader, who is a multiplier, has the larger of that and ``leader_weight``.
    """
    n = w.size
    weight = np.ones(n)
    weight = np.where(w.is_multiplier, 1.0 + (p.multiplier_weight - 1.0) * w.responsibility, weight)
    weight = np.where(w.is_leader, np.maximum(weight, p.leader_weight), weight)
    weighted = (w.network + sp.identity(n, format="csr")) @ sp.diags(weight)
    row_sums = np.asarray(weighted.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(1.0 / row_sums) @ weighted)


def friedkin_johnsen_equilibrium(anchor: np.ndarray, influence: sp.csr_matrix, anchoring: float,
                                 tolerance: float = 1e-13) -> np.ndarray:
    """x* = (I − ΛW)⁻¹ (I − Λ) x0 with Λ = (1 − anchoring) I.

    Solved by the fixed-point iteration x ← ΛWx + (I − Λ)x0, a contraction
    with factor 1 − anchoring (W is row-stochastic): sparse mat-vecs only,
    where a direct sparse solve fills in and takes seconds for thousands of
    employees.
    """
    if anchoring == 0.0:  # no anchor: DeGroot consensus, no unique fixed point; keep the views
        return anchor.copy()
    susceptibility = 1.0 - anchoring
    x = anchor.copy()
    for _ in range(100_000):
        updated = susceptibility * (influence @ x) + anchoring * anchor
        if np.max(np.abs(updated - x)) <= tolerance:
            return np.clip(updated, -1.0, 1.0)
        x = updated
    raise RuntimeError("Friedkin-Johnsen iteration did not converge")


def engagement_target_mean(p: ParameterValues) -> float:
    """Mean engagement target (intrinsic + freedom + recognition rate) / 3 (mechanism 8; no recognition when off)."""
    recognition = p.recognition_rate if p.enable_recognition else 0.0
    return (p.intrinsic_motivation + p.freedom + recognition) / 3.0


def initial_workforce(p: ParameterValues, rng: np.random.Generator) -> Workforce:
    """Employees, their roles and traits at week 0 (S0.1, S0.2, S0.3, S1.9)."""
    sizes = dep.department_sizes(p.n_employees)
    department = np.repeat(np.arange(dep.N_DEPARTMENTS), sizes)
    n = department.size
    first_of_department = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    is_head = np.zeros(n, dtype=bool)
    is_head[first_of_department] = True
    is_leader = np.zeros(n, dtype=bool)
    is_leader[first_of_department[dep.INDEX["management"]]] = True

    # Exactly round(share x size) customer-contact staff per department (at least one where the share > 0).
    contact_share = np.array([d.customer_contact_share for d in dep.DEPARTMENTS])
    n_contact = np.where(contact_share > 0, np.maximum(np.rint(contact_share * sizes), 1), 0).astype(int)
    rank_in_department = np.argsort(np.argsort(rng.random(n) + department))  # random order within blocks
    is_customer_contact = (rank_in_department - first_of_department[department]) < n_contact[department]

    offsets = np.array([
        (p.marketing_staff_support if d.name == "marketing" else 0.0)
        - (p.left_brain_scepticism if d.left_brained else 0.0)
        for d in dep.DEPARTMENTS
    ])
    anchor = np.clip(
        p.initial_attitude_mean + offsets[department] + p.initial_attitude_spread * rng.standard_normal(n),
        -1.0, 1.0,
    )
    anchor[is_leader] = p.leader_attitude

    k = p.capability_concentration
    capability = rng.beta(k * p.performance_mean, k * (1 - p.performance_mean), n)
    # Engagement at the stationary mean and spread of its weekly AR(1) dynamics.
    rate = p.recognition_rate if p.enable_recognition else 0.0
    recognition_sd = np.sqrt(rate * (1 - rate)) / 3.0
    stationary_sd = recognition_sd * np.sqrt(p.engagement_rate / max(2.0 - p.engagement_rate, 1e-9))
    engagement = np.clip(engagement_target_mean(p) + stationary_sd * rng.standard_normal(n), 0.0, 1.0)
    network = networks.internal_network(
        rng, department, p.within_department_degree, p.cross_department_degree, p.silo_strength,
    )
    # The management team: the leader meets every department head (heads report to the leader).
    leader = first_of_department[dep.INDEX["management"]]
    network = networks.with_ties(network, np.full(dep.N_DEPARTMENTS, leader), first_of_department)
    w = Workforce(
        department=department,
        is_leader=is_leader,
        is_head=is_head,
        is_customer_contact=is_customer_contact,
        is_multiplier=is_leader.copy(),  # the leader is the strongest multiplier (S0.2)
        is_knowledge_carrier=np.zeros(n, dtype=bool),
        responsibility=rng.beta(2, 2, n),
        capability=capability,
        performance=capability.copy(),
        attitude=anchor.copy(),
        attitude_anchor=anchor,
        engagement=engagement,
        alignment=(1 + anchor) / 2,
        recognised=np.zeros(n, dtype=bool),
        overlooked_pressure=np.zeros(n),
        beliefs=rng.integers(-1, 2, size=(n, p.need_dimensions), dtype=np.int8),
        insight=np.zeros((n, p.need_dimensions), dtype=bool),
        first_hand=np.zeros((n, p.need_dimensions), dtype=bool),
        network=network,
        influence=sp.csr_matrix((n, n)),
    )
    return w


def settle_attitudes(w: Workforce, p: ParameterValues) -> None:
    """Recompute W after roles changed; at week 0 also start at the FJ equilibrium."""
    w.influence = influence_matrix(w, p)
    if p.enable_attitude:
        w.attitude = friedkin_johnsen_equilibrium(w.attitude_anchor, w.influence, p.attitude_anchoring)
    w.alignment = (1 + w.attitude) / 2


def initial_firm(p: ParameterValues, rng: np.random.Generator) -> Firm:
    """Core and segment needs, a partly defined code; trust and load are settled later."""
    m = p.need_dimensions
    core = rng.choice(np.array([-1, 1], dtype=np.int8), size=m)
    flips = rng.random((p.n_segments, m)) < p.segment_divergence
    segment_needs = np.where(flips, -core[None, :], core[None, :]).astype(np.int8)
    defined = rng.random(m) < p.initial_code_defined
    right = rng.random(m) < p.initial_code_accuracy
    code = np.where(defined, np.where(right, core, -core), 0).astype(np.int8)
    d = dep.N_DEPARTMENTS
    return Firm(
        core_needs=core,
        segment_needs=segment_needs,
        code=code,
        trust_positive=np.zeros((d, d)),
        trust_negative=np.zeros((d, d)),
        capacity_load=np.zeros(d),
        needs_seed=int(rng.integers(2**63)),
    )


def initial_market(p: ParameterValues, rng: np.random.Generator) -> Market:
    """Customers at week 0: segments, individual traits, a share active; their networks."""
    n = p.n_customers
    segment = rng.integers(0, p.n_segments, n)
    status = np.where(rng.random(n) < p.initial_active_share, ACTIVE, PROSPECT).astype(np.int8)
    expectation_base = p.expectation_base + p.expectation_spread * rng.standard_normal(n)
    if p.ad_exposure_spread > 0:
        shape = 1.0 / p.ad_exposure_spread**2
        ad_exposure = rng.gamma(shape, 1.0 / shape, n)
    else:
        ad_exposure = np.ones(n)
    shield_threshold = np.clip(p.shield_threshold + p.shield_threshold_spread * rng.standard_normal(n), 0.0, 1.0)
    if p.customer_network == "complete":
        strong = weak = None
    else:
        strong = networks.clustered_strong_ties(rng, n, p.strong_ties)
        weak = networks.random_weak_ties(rng, n, p.weak_ties)
    return Market(
        segment=segment,
        status=status,
        satisfaction=np.zeros(n),
        expectation_base=expectation_base,
        promise=np.zeros(n),
        ad_exposure=ad_exposure,
        shield_threshold=shield_threshold,
        ad_fatigue=np.zeros(n),
        strong_ties=strong,
        weak_ties=weak,
    )
