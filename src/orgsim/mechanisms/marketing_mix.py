"""Mechanism 6 — the marketing mix (S2.2–S2.4, S4.3, S4.5).

The weekly budget ``B`` is split into mass advertising (share ``α``) and
personal touchpoints. With the spend unit ``U`` = 10,000 EUR per week:

* ad intensity ``I = α B / U``, touchpoint intensity ``J = (1 − α) B / U``;
* ad fatigue (S2.2): ``f ← clip(f + g I (1 − f) − ε f, 0, 1)``; a customer
  with ``f > θ`` shields and ignores advertising;
* ad pressure on a prospect: ``a = min(1, p_ad I (1 − f))``, zero if shielded;
* expectation (S2.2, S4.3, S4.5): promises exceed the real offer as far as the
  purpose is unclear, ``E = E0 + h I (1 − purpose_clarity)`` for an unshielded
  customer and ``E0`` for a shielded one;
* touchpoints (S2.3, S2.4): each active customer is met personally with
  probability ``min(1, τ J)``.
"""

from __future__ import annotations

import numpy as np

from orgsim.parameters import SPEND_UNIT_EUR


def intensities(budget: float, ad_share: float) -> tuple[float, float]:
    """(ad intensity I, touchpoint intensity J) in units of 10,000 EUR per week."""
    return budget * ad_share / SPEND_UNIT_EUR, budget * (1.0 - ad_share) / SPEND_UNIT_EUR


def fatigue_step(fatigue: np.ndarray, ad_intensity: float, gain: float, recovery: float) -> np.ndarray:
    return np.clip(fatigue + gain * ad_intensity * (1.0 - fatigue) - recovery * fatigue, 0.0, 1.0)


def ad_pressure(fatigue: np.ndarray, shielded: np.ndarray, ad_conversion: float, ad_intensity: float) -> np.ndarray:
    pressure = np.minimum(1.0, ad_conversion * ad_intensity * (1.0 - fatigue))
    return np.where(shielded, 0.0, pressure)


def expectation(shielded: np.ndarray, base: float, hype: float, ad_intensity: float, purpose_clarity: float) -> np.ndarray:
    promise = hype * ad_intensity * (1.0 - purpose_clarity)
    return np.where(shielded, base, base + promise)


def touched(n: int, touchpoint_intensity: float, reach: float, rng: np.random.Generator) -> np.ndarray:
    return rng.random(n) < min(1.0, reach * touchpoint_intensity)
