"""Mechanism 6 — the marketing mix (S2.2–S2.4, S4.3, S4.5).

The weekly budget ``B`` is split into mass advertising (share ``α``) and
personal touchpoints. With the spend unit ``U`` = 10,000 EUR per week the ad
intensity is ``I = α B / U`` and the touchpoint intensity ``J = (1 − α) B / U``.
Customers differ in their exposure ``x_i`` to advertising (gamma, mean 1)
and in the fatigue ``θ_i`` at which they shield themselves (S2.2):

* ad fatigue ``f_i ← clip(f_i + g I x_i (1 − f_i) − ε f_i, 0, 1)``; a
  customer with ``f_i > θ_i`` is *shielded* and ignores advertising;
* promises (S2.2, S4.3, S4.5): an unshielded customer hears a promise above
  the real offer as far as the purpose is unclear, ``h I x_i (1 − clarity)``;
  broken promises are remembered: ``P_i ← max(μ P_i, h I x_i (1 − clarity))``
  while unshielded (``promise_memory`` μ: old promises fade only as smaller
  new ones replace them); a shielded customer hears nothing new and keeps
  what was promised. The customer's expectation is ``E_i = E0_i + P_i``;
* leads (Bass p): an unshielded prospect becomes a lead from advertising with
  probability ``min(1, p_ad I x_i (1 − f_i))``; leads go to sales through
  the marketing → sales hand-off (mechanism 4);
* touchpoints (S2.3, S2.4): each active customer is met personally with
  probability ``min(1, τ J)`` (mechanism 7 scores the meeting).

Annoyance by fatigue and churn of the shielded belong to mechanism 7.
"""

from __future__ import annotations

import numpy as np

from orgsim.mechanisms import Effects
from orgsim.parameter_types import ParameterValues
from orgsim.parameters import SPEND_UNIT_EUR
from orgsim.state import PROSPECT, Market, World


def intensities(budget: float, ad_share: float) -> tuple[float, float]:
    """(ad intensity I, touchpoint intensity J) in units of 10,000 EUR per week."""
    return budget * ad_share / SPEND_UNIT_EUR, budget * (1.0 - ad_share) / SPEND_UNIT_EUR


def stationary_fatigue(exposure: np.ndarray, ad_intensity: float, gain: float, recovery: float) -> np.ndarray:
    """Fixed point of the fatigue update: f = gIx / (gIx + ε)."""
    push = gain * ad_intensity * exposure
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(push > 0, push / (push + recovery), 0.0)


def step(world: World, p: ParameterValues, rng: np.random.Generator) -> Effects:
    m = world.market
    ad_intensity, touch_intensity = intensities(p.marketing_budget, p.ad_share)
    # f + g I x (1 − f) − ε f, clipped, and the promises: evaluated partly in place, so that fewer
    # customer-length temporaries are made (a million customers: 8 MB each), in the same order of operations.
    fatigue = np.multiply(p.ad_fatigue_gain * ad_intensity, m.ad_exposure)
    fatigue *= 1.0 - m.ad_fatigue
    np.add(m.ad_fatigue, fatigue, out=fatigue)
    fatigue -= p.ad_fatigue_recovery * m.ad_fatigue
    np.clip(fatigue, 0.0, 1.0, out=fatigue)
    shielded = fatigue > m.shield_threshold
    heard = np.multiply(p.ad_hype * ad_intensity, m.ad_exposure)
    heard *= 1.0 - p.purpose_clarity
    promise = np.multiply(p.promise_memory, m.promise)
    np.maximum(promise, heard, out=promise)
    promise = np.where(shielded, m.promise, promise)  # the shielded hear nothing new
    prospects = np.flatnonzero(m.status == PROSPECT)
    pressure = p.ad_conversion * ad_intensity * m.ad_exposure[prospects]
    pressure *= 1.0 - fatigue[prospects]
    pressure = np.where(shielded[prospects], 0.0, np.minimum(1.0, pressure, out=pressure))
    leads = prospects[rng.random(prospects.size) < pressure]
    return Effects(
        market={"ad_fatigue": fatigue, "promise": promise},
        week={"touch_intensity": touch_intensity,
              "spend": p.marketing_budget, "leads": leads},
    )


def settle(m: Market, p: ParameterValues) -> None:
    """Week 0: fatigue and promises at their stationary values under the week-0 mix."""
    if not p.enable_marketing_mix:
        return
    ad_intensity, _ = intensities(p.marketing_budget, p.ad_share)
    m.ad_fatigue = stationary_fatigue(m.ad_exposure, ad_intensity, p.ad_fatigue_gain, p.ad_fatigue_recovery)
    heard = p.ad_hype * ad_intensity * m.ad_exposure * (1.0 - p.purpose_clarity)
    m.promise = heard  # the shielded heard it too, before they shielded
