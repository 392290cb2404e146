"""Mechanism 7 — customer experience and the external chain (S0.4, S1.5, S2.2, S2.5).

* **Experience** of a customer who ordered this week:
  ``x = Q_order + offer_fit − E − φ · failed + β · touched``; a customer who
  was only met personally gets ``x = S + β`` (S0.6: taken seriously).
* **Satisfaction** ``S ← (1 − κ) S + κ x`` for customers with an experience;
  the brand is stored positive if ``S > θ``, negative if ``S < −θ``, neutral
  otherwise (S1.5).
* **Acquisition** (Goldenberg, Libai & Muller 2001; Bass 1969 in the mean-field
  limit): a prospect with ``j`` weak and ``k`` strong ties to promoters
  (active customers with a positive perception) converts with probability

      1 − (1 − a)(1 − b_weak)^j (1 − b_strong)^k,

  times ``(1 − deterrence)`` if it read a negative review this week, times
  ``(1 − shitstorm_penalty)`` during a shitstorm, and only if the lead
  survives the marketing → sales hand-off (mechanism 4).
* **Reviews** (S2.2): each active customer with a negative perception posts a
  public review with probability ``review_prob``; each review reaches
  ``review_reach`` random prospects. Reviews from more than a share ``σ`` of
  active customers in one week start a shitstorm lasting ``shitstorm_weeks``.
* **Churn** (S2.5): active customers leave with probability ``churn_negative``
  if negative, ``churn_base`` otherwise. Lost customers stay lost.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

POSITIVE, NEUTRAL, NEGATIVE = 1, 0, -1


def experience(
    order_quality: np.ndarray,
    offer_fit: float,
    expectation: np.ndarray,
    failed: np.ndarray,
    touched: np.ndarray,
    failure_penalty: float,
    touchpoint_bonus: float,
) -> np.ndarray:
    """Experience of the customers who ordered (arrays aligned per order)."""
    return order_quality + offer_fit - expectation - failure_penalty * failed + touchpoint_bonus * touched


def satisfaction_step(satisfaction: np.ndarray, experienced: np.ndarray, memory: float) -> np.ndarray:
    """Exponential smoothing toward this week's experience."""
    return (1.0 - memory) * satisfaction + memory * experienced


def perception(satisfaction: np.ndarray, threshold: float) -> np.ndarray:
    """+1 positive, 0 neutral, −1 negative (S1.5)."""
    return (satisfaction > threshold).astype(np.int8) - (satisfaction < -threshold).astype(np.int8)


def promoter_ties(
    is_promoter: np.ndarray,
    strong_ties: sp.csr_matrix | None,
    weak_ties: sp.csr_matrix | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(weak, strong) number of promoter ties per customer.

    ``None`` networks mean a complete network in which every tie is weak (the
    mean-field limit in which the model reduces to Bass).
    """
    if weak_ties is None:
        n_promoters = np.count_nonzero(is_promoter)
        weak = np.full(is_promoter.size, n_promoters, dtype=np.float64) - is_promoter
        return weak, np.zeros(is_promoter.size)
    promoters = is_promoter.astype(np.float64)
    return weak_ties @ promoters, strong_ties @ promoters


def conversion_probability(
    ad_pressure: np.ndarray,
    weak_count: np.ndarray,
    strong_count: np.ndarray,
    referral_prob_weak: float,
    referral_prob_strong: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(probability from advertising, probability from referrals) per prospect."""
    # (1 - b_w)^j (1 - b_s)^k as one exponential: a single transcendental per prospect
    log_no_referral = weak_count * np.log1p(-min(referral_prob_weak, 1 - 1e-15)) + strong_count * np.log1p(
        -min(referral_prob_strong, 1 - 1e-15)
    )
    return ad_pressure, -np.expm1(log_no_referral)


def review_exposure(n_reviews: int, review_reach: float, n_prospects: int) -> float:
    """Probability that a given prospect reads at least one of this week's reviews."""
    if n_prospects == 0:
        return 0.0
    return float(1.0 - np.exp(-n_reviews * review_reach / n_prospects))


def shitstorm_weeks_left(
    weeks_left: int, n_reviews: int, n_active: int, threshold: float, duration: int
) -> int:
    """Weeks the shitstorm still lasts: reset to ``duration`` by a wave of reviews."""
    if n_active > 0 and n_reviews > threshold * n_active:
        return duration
    return max(weeks_left - 1, 0)


def churn_probability(perceived: np.ndarray, churn_base: float, churn_negative: float) -> np.ndarray:
    return np.where(perceived == NEGATIVE, churn_negative, churn_base)
