"""Mechanism 7 — customer experience and the external chain (S0.4, S0.6, S1.5, S2.2–S2.5, S4.5).

* **Value and experience** of customer ``i`` of segment ``g`` who ordered:

      x_i = ω Q_order + (1 − ω) fit_g − E_i − φ · failed − η f_i

  (``quality_share`` ω; offer fit of the customer's own segment, S4.5;
  expectation ``E_i`` with remembered promises, S2.2; ``failure_penalty`` φ,
  S2.5; ``ad_annoyance`` η times ad fatigue: spam annoys, S2.2).
* **Satisfaction** (relative to expectation): ``S_i ← (1 − κ) S_i + κ x_i``
  after an order; a personal touchpoint adds ``κ β`` (S0.6: being taken
  seriously, S2.4).
* **Score and brand** (S1.5): the likelihood to recommend on the standard
  0–10 scale is ``clip(round(s0 + k S_i), 0, 10)``; customers store the brand
  as positive (promoters, 9–10), standard (passives, 7–8) or negative
  (detractors, 0–6). Net promoter score = 100 × (promoters − detractors) /
  active customers.
* **Reviews** (S2.2, S2.5): each detractor posts a public review with
  probability ``review_prob``; each review reaches ``review_reach`` random
  prospects. Reviews from more than a share ``σ`` of active customers in one
  week start a shitstorm lasting ``shitstorm_weeks``.
* **Acquisition** (Goldenberg, Libai & Muller 2001; Bass 1969 in the
  mean-field limit): a prospect with ``j`` weak and ``k`` strong ties to
  promoters is referred with probability ``1 − (1 − b_weak)^j (1 − b_strong)^k``;
  a prospect is *interested* if referred or if its lead from advertising
  reached sales (mechanisms 6, 4). An interested prospect who read a
  negative review this week does not convert (an assumption: the review
  wins this week); the others convert, with probability
  ``1 − shitstorm_penalty`` during a shitstorm.
* **Churn** (S2.5, S2.2): active customers leave with probability
  ``churn_negative`` if detractors, ``churn_base`` otherwise, plus
  ``shielded_churn`` if they shield against advertising. Lost customers stay lost.
* **Visible success**: this week's net promoter score / 100 is what staff
  see next week (mechanism 1).
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from orgsim.mechanisms import Effects
from orgsim.mechanisms.knowledge import segment_fit
from orgsim.mechanisms.marketing_mix import intensities
from orgsim.mechanisms.quality import contribution, order_quality
from orgsim.parameter_types import ParameterValues
from orgsim.state import ACTIVE, LOST, PROSPECT, Market, PromoterTies, World, count_active

POSITIVE, NEUTRAL, NEGATIVE = 1, 0, -1
PROMOTER_SCORE, DETRACTOR_SCORE = 9, 6  # the standard NPS cut-offs


def score(satisfaction: np.ndarray, p: ParameterValues) -> np.ndarray:
    """Likelihood to recommend, 0-10."""
    return _score(satisfaction, p.score_at_expectation, p.score_per_unit)


def perception(satisfaction: np.ndarray, p: ParameterValues) -> np.ndarray:
    """+1 positive (promoter), 0 standard (passive), −1 negative (detractor) (S1.5)."""
    return _perception(satisfaction, p.score_at_expectation, p.score_per_unit)


# The rules per customer, compiled: numpy ufuncs for whole arrays, and called one customer at a time
# by the week's compiled passes below.
@numba.vectorize(cache=True)
def _score(satisfaction, score_at_expectation, score_per_unit):  # pragma: no cover - compiled
    return min(max(np.rint(score_at_expectation + score_per_unit * satisfaction), 0.0), 10.0)


@numba.vectorize(cache=True)
def _perception(satisfaction, score_at_expectation, score_per_unit):  # pragma: no cover - compiled
    s = _score(satisfaction, score_at_expectation, score_per_unit)
    return np.int8((s >= PROMOTER_SCORE) - (s <= DETRACTOR_SCORE))


def perception_counts(perceived: np.ndarray) -> np.ndarray:
    """(negative, neutral, positive): how many customers store the brand each way."""
    return np.bincount(perceived + 1, minlength=3)


def net_promoter_score(perceived: np.ndarray) -> float:
    """100 × (promoters − detractors) / customers; 0 without customers."""
    return net_promoter_score_of_counts(*perception_counts(perceived))


def net_promoter_score_of_counts(detractors: int, passives: int, promoters: int) -> float:
    """The net promoter score from the numbers of detractors, passives and promoters."""
    total = int(detractors + passives + promoters)
    if total == 0:
        return 0.0
    return 100.0 * float(promoters - detractors) / total


def order_value(world: World, p: ParameterValues, customers: np.ndarray, quality: np.ndarray) -> np.ndarray:
    fit = segment_fit(world.firm.code, world.firm.segment_needs)
    return p.quality_share * quality + (1.0 - p.quality_share) * fit[world.market.segment[customers]]


def experience(world: World, p: ParameterValues, customers: np.ndarray, quality: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """x of each order (the rule on whole arrays; :func:`step` runs it compiled, ``_order_experience``)."""
    m = world.market
    return (order_value(world, p, customers, quality) - m.expectation_of(customers)
            - p.failure_penalty * failed - p.ad_annoyance * m.ad_fatigue[customers])


def promoter_ties(is_promoter: np.ndarray, strong_ties: sp.csr_matrix | None,
                  weak_ties: sp.csr_matrix | None) -> tuple[np.ndarray, np.ndarray]:
    """(weak, strong) number of promoter ties per customer.

    ``None`` networks mean a complete network in which every tie is weak (the
    mean-field limit in which the model reduces to Bass).
    """
    if weak_ties is None or strong_ties is None:  # both None together: a complete network (state.initial_market)
        n_promoters = np.count_nonzero(is_promoter)
        return np.full(is_promoter.size, n_promoters, dtype=np.float64) - is_promoter, np.zeros(is_promoter.size)
    promoters = is_promoter.astype(np.float64)
    return weak_ties @ promoters, strong_ties @ promoters


#: Above this share of customers whose promoter status changed, a full product is cheaper than an update.
FULL_RECOUNT_SHARE = 0.05


def updated_promoter_ties(is_promoter: np.ndarray, known: PromoterTies | None, strong_ties: sp.csr_matrix | None,
                          weak_ties: sp.csr_matrix | None) -> PromoterTies:
    """The promoter-tie counts for ``is_promoter``, updated from ``known`` (the counts of an earlier mask).

    Networks are symmetric, so a customer who became a promoter adds its tie
    weights to its neighbours' counts and one who stopped subtracts them:
    ``count ← count + A[:, changed] (new − old)``. Only the neighbours of the
    few customers whose status changed are touched, where a full product
    ``A · promoters`` reads every tie each week; both give the same numbers
    (sums of the same 0/1 weights, exact in floating point).
    """
    if known is not None and weak_ties is not None and strong_ties is not None:
        changed = _changed(is_promoter, known.promoters)
        if changed.size <= FULL_RECOUNT_SHARE * is_promoter.size:
            weak, strong = known.weak.copy(), known.strong.copy()
            _add_columns(weak, weak_ties.indptr, weak_ties.indices, weak_ties.data, changed, is_promoter)
            _add_columns(strong, strong_ties.indptr, strong_ties.indices, strong_ties.data, changed, is_promoter)
            return PromoterTies(is_promoter, weak, strong)
    return PromoterTies(is_promoter, *promoter_ties(is_promoter, strong_ties, weak_ties))


@numba.njit(cache=True, nogil=True)
def _changed(now, before):  # pragma: no cover - compiled
    """The indices where two masks differ."""
    changed = np.empty(now.size, np.int64)
    count = 0
    for i in range(now.size):
        if now[i] != before[i]:
            changed[count] = i
            count += 1
    return changed[:count]


@numba.njit(cache=True, nogil=True)
def _add_columns(counts, indptr, indices, data, columns, is_promoter):  # pragma: no cover - compiled
    """counts += ties[:, columns] @ (±1: +1 for a new promoter, −1 for a former one), in place.

    For a symmetric CSR ``ties`` a column's ties are its row's. The weights
    are small integers, so the sums are exact in any order.
    """
    for c in columns:
        sign = 1.0 if is_promoter[c] else -1.0
        for t in range(indptr[c], indptr[c + 1]):
            counts[indices[t]] += data[t] * sign


def referral_probability(weak_count, strong_count, p: ParameterValues) -> np.ndarray:
    """1 − (1 − b_w)^j (1 − b_s)^k, as one exponential per prospect."""
    return -np.expm1(_log_no_referral_of(weak_count, strong_count, *_log_no_referral(p)))


def _log_no_referral(p: ParameterValues) -> tuple[float, float]:
    """log(1 − b_w), log(1 − b_s): the log chance that one weak or strong promoter tie does not refer."""
    return (float(np.log1p(-min(p.referral_prob_weak, 1 - 1e-15))),
            float(np.log1p(-min(p.referral_prob_strong, 1 - 1e-15))))


@numba.njit(cache=True, nogil=True)
def _log_no_referral_of(weak_count, strong_count, log_no_weak, log_no_strong):  # pragma: no cover - compiled
    """log((1 − b_w)^j (1 − b_s)^k): the log chance that none of a prospect's promoter ties refers it."""
    return weak_count * log_no_weak + strong_count * log_no_strong


def review_exposure(n_reviews: int, review_reach: float, n_prospects: int) -> float:
    """Probability that a given prospect reads at least one of this week's reviews."""
    if n_prospects == 0:
        return 0.0
    return float(1.0 - np.exp(-n_reviews * review_reach / n_prospects))


def shitstorm_weeks_left(weeks_left: int, n_reviews: int, n_active: int, threshold: float, duration: int) -> int:
    """Weeks the shitstorm still lasts: reset to ``duration`` by a wave of reviews."""
    if n_active > 0 and n_reviews > threshold * n_active:
        return duration
    return max(weeks_left - 1, 0)


def churn_hazard(perceived: np.ndarray, shielded: np.ndarray, p: ParameterValues) -> np.ndarray:
    """Weekly probability of leaving: by brand perception, plus for the shielded."""
    return _churn_hazard(perceived, shielded, p.churn_negative, p.churn_base, p.shielded_churn)


@numba.vectorize(cache=True)
def _churn_hazard(perceived, shielded, churn_negative, churn_base, shielded_churn):  # pragma: no cover - compiled
    return (churn_negative if perceived == NEGATIVE else churn_base) + shielded_churn * shielded


#: ``perceived`` of a customer who was not active at the start of the week (no perception).
NOT_ACTIVE = 2


def step(world: World, p: ParameterValues, rng: np.random.Generator) -> Effects:
    m, week = world.market, world.week
    status, satisfaction = m.status.copy(), m.satisfaction.copy()
    # The week runs in compiled passes over the customers. The random draws, in this order:
    # touchpoints (one per customer), reviews, referrals (one per prospect), reading reviews and
    # converting (one each per interested prospect), churn (one per customer). Touchpoints and
    # churn draw for every customer so that the stream does not depend on who is active.
    touch_draws, touch_chance = np.zeros(0), 0.0
    if p.enable_experience:
        _order_experience(satisfaction, week.ordering, week.order_quality, week.order_failed,
                          segment_fit(world.firm.code, world.firm.segment_needs), m.segment, m.expectation_base,
                          m.promise, m.ad_fatigue, p.quality_share, p.failure_penalty, p.ad_annoyance,
                          p.satisfaction_memory)
        touch_draws = rng.random(m.size)
        touch_chance = min(1.0, p.touchpoint_reach * week.touch_intensity)
    # Everything below reads the active customers only: prospects and the lost have no perception.
    perceived, is_promoter, n_active, n_negative, n_prospects = _touch_and_perceive(
        status, satisfaction, touch_draws, touch_chance, p.satisfaction_memory * p.touchpoint_bonus,
        p.score_at_expectation, p.score_per_unit)

    n_reviews, weeks_left = 0, m.shitstorm_weeks_left
    if p.enable_reviews:
        n_reviews = int(rng.binomial(n_negative, p.review_prob))
        weeks_left = shitstorm_weeks_left(weeks_left, n_reviews, n_active, p.shitstorm_threshold, p.shitstorm_weeks)

    new_customers = referrals = 0
    ties = m.promoter_ties
    converted = np.zeros(0, dtype=np.int64)
    if n_prospects:
        is_lead = np.zeros(m.size, dtype=bool)
        is_lead[week.leads] = True
        referral_draws, weak, strong = np.zeros(0), np.zeros(0), np.zeros(0)
        if p.enable_referrals:
            ties = updated_promoter_ties(is_promoter, m.promoter_ties, m.strong_ties, m.weak_ties)
            referral_draws, weak, strong = rng.random(n_prospects), ties.weak, ties.strong
        candidates, referred = _interested_prospects(status, is_lead, referral_draws, weak, strong,
                                                     *_log_no_referral(p))
        read_draws, convert_draws = rng.random(candidates.size), rng.random(candidates.size)
        converted, referrals = _convert(status, satisfaction, candidates, referred, read_draws, convert_draws,
                                        review_exposure(n_reviews, p.review_reach, n_prospects), weeks_left > 0,
                                        1.0 - p.shitstorm_penalty)
        new_customers = converted.size

    if p.enable_churn:
        churned, counts = _churn(status, perceived, m.ad_fatigue, m.shield_threshold, rng.random(m.size),
                                 p.churn_negative, p.churn_base, p.shielded_churn)
    else:
        churned, counts = 0, perception_counts(perceived[perceived != NOT_ACTIVE])
    # This week's customers: those who stayed, with the perception computed above, and the new ones
    # (no experience yet: all at expectation, one perception).
    counts = counts + perception_counts(np.full(converted.size, _perception(0.0, p.score_at_expectation,
                                                                           p.score_per_unit)))
    return Effects(
        market={"status": status, "satisfaction": satisfaction, "shitstorm_weeks_left": weeks_left,
                "promoter_ties": ties},
        firm={"success": net_promoter_score_of_counts(*counts) / 100.0},
        week={"new_customers": new_customers, "referrals": referrals, "negative_reviews": n_reviews,
              "churned": churned, "perception_counts": counts},
    )


@numba.njit(cache=True, nogil=True)
def _order_experience(satisfaction, ordering, quality, failed, fit, segment, expectation_base, promise, ad_fatigue,
                      quality_share, failure_penalty, ad_annoyance, memory):  # pragma: no cover - compiled
    """Each order's experience x (:func:`experience`) into its customer's satisfaction, in place:
    ``s ← (1 − memory) s + memory x``, in numpy's order of operations."""
    for j in range(ordering.size):
        c = ordering[j]
        value = quality_share * quality[j] + (1.0 - quality_share) * fit[segment[c]]
        x = (value - (expectation_base[c] + promise[c]) - failure_penalty * (1.0 if failed[j] else 0.0)
             - ad_annoyance * ad_fatigue[c])
        satisfaction[c] = (1.0 - memory) * satisfaction[c] + memory * x


@numba.njit(cache=True, nogil=True)
def _convert(status, satisfaction, candidates, referred, read_draws, convert_draws, exposure, shitstorm,
             shitstorm_keep):  # pragma: no cover - compiled
    """Interested prospects who read none of the week's reviews convert (during a shitstorm at the
    chance ``shitstorm_keep``): active, at expectation (``status`` and ``satisfaction`` in place).

    Returns the converted customers and how many of them a promoter referred.
    """
    converted = np.empty(candidates.size, np.int64)
    count = referrals = 0
    for j in range(candidates.size):
        keep = 0.0 if read_draws[j] < exposure else 1.0
        if shitstorm:
            keep = keep * shitstorm_keep
        if convert_draws[j] < keep:
            c = candidates[j]
            status[c] = ACTIVE
            satisfaction[c] = 0.0  # no experience yet: exactly at expectation
            converted[count] = c
            count += 1
            referrals += referred[j]
    return converted[:count], referrals


@numba.njit(cache=True, nogil=True)
def _touch_and_perceive(status, satisfaction, touch_draws, touch_chance, touch_gain, score_at_expectation,
                        score_per_unit):  # pragma: no cover - compiled
    """Touchpoints (into ``satisfaction``, in place) and the perception of every active customer.

    Returns the perception per customer (``NOT_ACTIVE`` for the others), the
    promoter mask, and the numbers of active customers, detractors and prospects.
    """
    n = status.size
    perceived = np.full(n, NOT_ACTIVE, np.int8)
    is_promoter = np.zeros(n, np.bool_)
    n_active = n_negative = n_prospects = 0
    for i in range(n):
        if status[i] == PROSPECT:
            n_prospects += 1
        if status[i] != ACTIVE:
            continue
        n_active += 1
        if touch_draws.size and touch_draws[i] < touch_chance:
            satisfaction[i] += touch_gain
        brand = _perception(satisfaction[i], score_at_expectation, score_per_unit)
        perceived[i] = brand
        is_promoter[i] = brand == POSITIVE
        n_negative += brand == NEGATIVE
    return perceived, is_promoter, n_active, n_negative, n_prospects


@numba.njit(cache=True, nogil=True)
def _interested_prospects(status, is_lead, referral_draws, weak, strong, log_no_weak,
                          log_no_strong):  # pragma: no cover - compiled
    """The prospects who are interested (a lead, or referred: one draw per prospect, in order).

    Returns them and, for each, whether a promoter referred them.
    """
    n = status.size
    candidates = np.empty(n, np.int64)
    referred = np.empty(n, np.bool_)
    count = prospect = 0
    for i in range(n):
        if status[i] != PROSPECT:
            continue
        by_referral = False
        if referral_draws.size:
            draw = referral_draws[prospect]
            log_none = _log_no_referral_of(weak[i], strong[i], log_no_weak, log_no_strong)
            # 1 − e^x ≤ −x, and expm1 is exact to an ulp: a draw above −x (with room to spare) needs no
            # exponential. Most prospects have few promoter ties, so this spares most of them.
            by_referral = draw < -log_none * (1.0 + 1e-12) and draw < -np.expm1(log_none)
        prospect += 1
        if by_referral or is_lead[i]:
            candidates[count] = i
            referred[count] = by_referral
            count += 1
    return candidates[:count], referred[:count]


@numba.njit(cache=True, nogil=True)
def _churn(status, perceived, ad_fatigue, shield_threshold, churn_draws, churn_negative, churn_base,
           shielded_churn):  # pragma: no cover - compiled
    """Active customers leave (``status`` in place) at their hazard, one draw per customer.

    Returns how many left and the perception counts (negative, neutral, positive) of those who stayed.
    """
    churned = 0
    counts = np.zeros(3, np.int64)
    for i in range(status.size):
        brand = perceived[i]
        if brand == NOT_ACTIVE:
            continue
        shielded = ad_fatigue[i] > shield_threshold[i]
        if churn_draws[i] >= _churn_hazard(brand, shielded, churn_negative, churn_base, shielded_churn):
            counts[brand + 1] += 1
        else:
            status[i] = LOST
            churned += 1
    return churned, counts


#: Weeks of customer history simulated before week 0 (several satisfaction memories and churn times).
CUSTOMER_HISTORY_WEEKS = 104


def settle(world: World, p: ParameterValues, p_order_failed: float, rng: np.random.Generator) -> None:
    """Week 0: who is a customer, and how satisfied, as the model's own dynamics would hold it.

    The customer base's own history under the week-0 firm is simulated for
    ``CUSTOMER_HISTORY_WEEKS`` weeks, starting from the customers drawn at
    random: orders with weakest-link quality and failures, touchpoints, churn
    by perception, each leaver replaced by a random prospect who starts at
    expectation. Week 0 so has the stationary mix of long-standing and new
    customers and the stationary spread of satisfaction, tails included.
    Nobody is lost at week 0.
    """

    m: Market = world.market
    if not p.enable_experience:
        m.satisfaction = np.zeros(m.size)
        world.firm.success = net_promoter_score(perception(m.satisfaction[m.status == ACTIVE], p)) / 100.0
        return
    fit = segment_fit(world.firm.code, world.firm.segment_needs)[m.segment]
    fixed = (1.0 - p.quality_share) * fit - m.expectation - p.ad_annoyance * m.ad_fatigue
    _, touch = intensities(p.marketing_budget, p.ad_share) if p.enable_marketing_mix else (0.0, 0.0)
    touch_rate = min(1.0, p.touchpoint_reach * touch)
    w = world.workforce
    contrib = contribution(w.performance, w.engagement, w.alignment)
    status = m.status.copy()
    satisfaction = np.zeros(m.size)
    for _ in range(CUSTOMER_HISTORY_WEEKS):
        active, others = _active_and_others(status)
        ordering = active[rng.random(active.size) < p.order_rate]
        quality = (order_quality(contrib, w.department, ordering.size, p.weakest_link_weight, rng)
                   if p.enable_quality else np.ones(ordering.size))
        failure_draws, touch_draws = rng.random(ordering.size), rng.random(active.size)
        leave_draws = rng.random(active.size) if p.enable_churn else np.zeros(0)
        leavers = _history_week(
            satisfaction, active, ordering, quality, failure_draws, p_order_failed, fixed, p.quality_share,
            p.failure_penalty, p.satisfaction_memory, touch_draws, touch_rate,
            p.satisfaction_memory * p.touchpoint_bonus, leave_draws, m.ad_fatigue, m.shield_threshold,
            p.score_at_expectation, p.score_per_unit, p.churn_negative, p.churn_base, p.shielded_churn)
        if p.enable_churn:
            joiners = rng.choice(others, size=min(leavers.size, others.size), replace=False)
            status[leavers] = PROSPECT
            status[joiners] = ACTIVE
            satisfaction[joiners] = 0.0
    m.status = status
    m.satisfaction = np.where(status == ACTIVE, satisfaction, 0.0)
    world.firm.success = net_promoter_score(perception(m.satisfaction[m.status == ACTIVE], p)) / 100.0


@numba.njit(cache=True, nogil=True)
def _active_and_others(status):  # pragma: no cover - compiled
    """flatnonzero(status == ACTIVE) and flatnonzero(status != ACTIVE), from one count and one pass."""
    n, n_active = status.size, count_active(status)
    active, others = np.empty(n_active + 1, np.int64), np.empty(n - n_active + 1, np.int64)
    a = o = 0
    for i in range(n):  # without a branch: active and others interleave at random
        is_active = status[i] == ACTIVE
        active[a] = others[o] = i
        a += is_active
        o += 1 - is_active
    return active[:n_active], others[:n - n_active]


@numba.njit(cache=True, nogil=True)
def _history_week(satisfaction, active, ordering, quality, failure_draws, p_order_failed, fixed, quality_share,
                  failure_penalty, memory, touch_draws, touch_rate, touch_gain, leave_draws, ad_fatigue,
                  shield_threshold, score_at_expectation, score_per_unit, churn_negative, churn_base,
                  shielded_churn):  # pragma: no cover - compiled
    """One week of the customers' history (into ``satisfaction``, in place): orders, touchpoints, and
    who leaves (one draw per active customer in ``leave_draws``; none drawn: nobody leaves)."""
    for j in range(ordering.size):
        customer = ordering[j]
        x = quality_share * quality[j] + fixed[customer] - failure_penalty * (failure_draws[j] < p_order_failed)
        satisfaction[customer] += memory * (x - satisfaction[customer])
    for k in range(active.size):
        if touch_draws[k] < touch_rate:
            satisfaction[active[k]] += touch_gain
    leavers = np.empty(leave_draws.size, np.int64)
    n_leavers = 0
    for k in range(leave_draws.size):
        customer = active[k]
        brand = _perception(satisfaction[customer], score_at_expectation, score_per_unit)
        shielded = ad_fatigue[customer] > shield_threshold[customer]
        if leave_draws[k] < _churn_hazard(brand, shielded, churn_negative, churn_base, shielded_churn):
            leavers[n_leavers] = customer
            n_leavers += 1
    return leavers[:n_leavers]
