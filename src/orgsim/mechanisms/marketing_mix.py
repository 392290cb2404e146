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

import numba
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
    lead_draws = rng.random(np.count_nonzero(m.status == PROSPECT))  # one per prospect, in customer order
    fatigue, promise, leads = _advertise(
        m.status, m.ad_exposure, m.ad_fatigue, m.promise, m.shield_threshold, lead_draws,
        p.ad_fatigue_gain * ad_intensity, p.ad_fatigue_recovery, p.ad_hype * ad_intensity, 1.0 - p.purpose_clarity,
        p.promise_memory, p.ad_conversion * ad_intensity,
    )
    return Effects(
        market={"ad_fatigue": fatigue, "promise": promise},
        week={"touch_intensity": touch_intensity,
              "spend": p.marketing_budget, "leads": leads},
    )


@numba.njit(cache=True, nogil=True)
def _advertise(status, exposure, fatigue, promise, shield_threshold, lead_draws, push, recovery, hype,
               unclear, promise_memory, conversion):  # pragma: no cover - compiled
    """One week of advertising for every customer in one pass (the equations of the module docstring).

    ``push`` = g I, ``hype`` = h I, ``unclear`` = 1 − clarity, ``conversion`` = p_ad I.
    Returns the new fatigue, the remembered promises and the prospects who became leads.
    """
    n = status.size
    new_fatigue = np.empty(n)
    new_promise = np.empty(n)
    leads = np.empty(lead_draws.size, np.int64)
    n_leads = 0
    prospect = 0
    for i in range(n):
        f = fatigue[i] + push * exposure[i] * (1.0 - fatigue[i]) - recovery * fatigue[i]
        f = min(max(f, 0.0), 1.0)
        new_fatigue[i] = f
        shielded = f > shield_threshold[i]
        # The shielded hear nothing new; the others remember the larger of the faded and the new promise.
        new_promise[i] = promise[i] if shielded else max(promise_memory * promise[i], hype * exposure[i] * unclear)
        if status[i] == PROSPECT:
            pressure = 0.0 if shielded else min(1.0, conversion * exposure[i] * (1.0 - f))
            if lead_draws[prospect] < pressure:
                leads[n_leads] = i
                n_leads += 1
            prospect += 1
    return new_fatigue, new_promise, leads[:n_leads]


def settle(m: Market, p: ParameterValues) -> None:
    """Week 0: fatigue and promises at their stationary values under the week-0 mix."""
    if not p.enable_marketing_mix:
        return
    ad_intensity, _ = intensities(p.marketing_budget, p.ad_share)
    m.ad_fatigue = stationary_fatigue(m.ad_exposure, ad_intensity, p.ad_fatigue_gain, p.ad_fatigue_recovery)
    heard = p.ad_hype * ad_intensity * m.ad_exposure * (1.0 - p.purpose_clarity)
    m.promise = heard  # the shielded heard it too, before they shielded
