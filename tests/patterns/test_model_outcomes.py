"""Outcomes Model 2 must reach (issue "Model 2"), each measured over many seeds.

* no oracle: without contact learning and without the chain, the offer does
  not improve;
* the siloed firm's full turnaround at week 26 has at week 156 at least
  twice the siloed firm's active customers, still rising, and its mean
  attitude gets half-way to its new level in 8-40 weeks (Kotter 1995);
* more ad fatigue never raises the net promoter score (S2.2);
* one run is not noise: the seed-to-seed SD of base NPS at week 104 is small;
* a healthy firm fails few orders (single-digit percent).
"""

from __future__ import annotations

import numpy as np
import pytest

from orgsim.patterns import run_once
from orgsim.stats import mean_ci

pytestmark = pytest.mark.slow


def finals(name: str, seeds: range, weeks: int, **overrides) -> list:
    """Weekly outputs per seed; runs are cached and shared (the base firm serves several tests)."""
    return [run_once(name, tuple(sorted(overrides.items())), s, weeks)[0] for s in seeds]


def test_without_contact_learning_and_chain_the_offer_does_not_improve():
    runs = finals("base", range(20), 104, contact_learning_rate=0.0, knowledge_diffusion_rate=0.0)
    gain = mean_ci(np.array([r.offer_fit.iloc[-4:].mean() - r.offer_fit.iloc[0] for r in runs]))
    # Needs drift (turbulence) may cost fit; nothing may add it.
    assert gain.high < 0.02, gain
    with_chain = finals("base", range(20), 104)
    assert np.mean([r.offer_fit.iloc[1:].mean() for r in with_chain]) > np.mean(
        [r.offer_fit.iloc[1:].mean() for r in runs]) + 0.1


@pytest.fixture(scope="module")
def turnaround():
    return finals("siloed_turnaround", range(12), 156), finals("siloed", range(12), 156)


def test_turnaround_doubles_the_siloed_firms_customers_and_still_grows(turnaround):
    turned, siloed = turnaround
    ratio = mean_ci(np.array([t.active_customers.iloc[-1] / s.active_customers.iloc[-1]
                              for t, s in zip(turned, siloed, strict=True)]))
    assert ratio.mean >= 2.0 and ratio.low > 1.7, ratio
    growth = mean_ci(np.array([t.active_customers.iloc[-1] - t.active_customers.iloc[-27] for t in turned]))
    assert growth.low > 0, growth


def test_turnaround_attitude_gets_half_way_in_8_to_40_weeks(turnaround):
    turned, _ = turnaround
    weeks = []
    for run in turned:
        attitude = run.mean_attitude.to_numpy()
        start, new_level = attitude[26], attitude[140:].mean()
        weeks.append(int(np.argmax(attitude >= (start + new_level) / 2)) - 26)
    assert 8 <= np.median(weeks) <= 40, weeks
    assert attitude[27] - attitude[26] < 0.25 * (new_level - start)  # no jump in the first week


@pytest.mark.parametrize("scenario", ["base", "ad_spam"])
def test_more_ad_fatigue_never_raises_nps(scenario):
    gains = (0.01, 0.04, 0.16)
    nps = [np.array([r.net_promoter_score.iloc[-4:].mean() for r in finals(scenario, range(20), 104, ad_fatigue_gain=g)])
           for g in gains]
    for lower, higher in zip(nps, nps[1:], strict=False):
        # paired (same seeds); +6 points is 3 standard errors of a flat response
        assert mean_ci(higher - lower).mean < 6.0
    assert mean_ci(nps[-1] - nps[0]).high < 0


def test_one_run_is_not_noise():
    # Measured with 40 seeds: SD 6.9 points (docs/calibration.md). With 20 seeds the
    # estimate itself varies; 10 points keeps a correct model from failing by chance.
    nps = [r.net_promoter_score.iloc[104] for r in finals("base", range(20), 104)]
    assert np.std(nps, ddof=1) <= 10.0


@pytest.mark.parametrize(("scenario", "limit"), [("base", 0.10), ("multiplier_led", 0.09)])
def test_healthy_firms_fail_few_orders(scenario, limit):
    rates = [r.order_failure_rate.iloc[1:].mean() for r in finals(scenario, range(10), 52)]
    assert mean_ci(np.array(rates)).high < limit
