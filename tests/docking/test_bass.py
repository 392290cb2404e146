"""Docking with Bass (1969), as in Rand & Rust (2011).

Discrete-time convention: one step is one week; within a week the hazard is
held constant, so with annual p and q a prospect converts with probability
1 − exp(−(p + q·F)/52), F being the adopter share at the start of the week.
The model realises this with a = 1 − exp(−p/52) from advertising and
b = 1 − exp(−q/(52·N)) per promoter on the complete network:
1 − (1 − a)(1 − b)^{N·F} = 1 − exp(−(p + qF)/52).

Because the hazard of week t uses the share at the start of the week, the
discrete curve lags the continuous one by half a step; week t is therefore
compared with the closed form at t − ½ week.

Tolerance, week by week: the mean adopter share over 30 seeds (10,000
customers) must lie within 0.01 + 4 standard errors (of that week's mean
over the seeds) of the continuous closed form. The 0.01 allows for the
averaging of stochastic take-off times, which the mean-field closed form
does not have (up to about 0.01 at q = 1.5); 4 standard errors keep a
correct model from failing by chance (measured with other seed blocks:
errors up to 0.023 where the standard error is 0.006), while a q off by
10 % misses by more than 0.05 on the steep part.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from orgsim import load_scenario

N = 10_000
SEEDS = 30


def bass_closed_form(t_years: np.ndarray, p: float, q: float) -> np.ndarray:
    e = np.exp(-(p + q) * t_years)
    return (1 - e) / (1 + (q / p) * e)


def weekly_parameters(p: float, q: float, n: int) -> dict[str, float]:
    return {"ad_conversion": 1 - math.exp(-p / 52), "referral_prob_weak": 1 - math.exp(-q / 52 / n)}


def adopter_shares(p: float, q: float, weeks: int) -> np.ndarray:
    """(SEEDS, weeks + 1) adopter shares."""
    scenario = load_scenario("scenarios/docking/bass.toml").with_overrides(
        {**weekly_parameters(p, q, N), "steps": weeks}
    )
    return np.array([
        scenario.model(seed=seed, customer_views=False).run(weeks)["active_customers"].to_numpy() / N
        for seed in range(SEEDS)
    ])


def mean_adopter_share(p: float, q: float, weeks: int) -> np.ndarray:
    return adopter_shares(p, q, weeks).mean(axis=0)


def test_scenario_file_holds_the_first_pair():
    params = load_scenario("scenarios/docking/bass.toml").params
    expected = weekly_parameters(0.03, 0.38, params.n_customers)
    assert params.ad_conversion == pytest.approx(expected["ad_conversion"], rel=1e-6)
    assert params.referral_prob_weak == pytest.approx(expected["referral_prob_weak"], rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize(("p", "q", "years"), [(0.03, 0.38, 10), (0.011, 1.5, 6)])
def test_adopters_follow_the_bass_curve(p, q, years):
    weeks = 52 * years
    shares = adopter_shares(p, q, weeks)
    simulated = shares.mean(axis=0)
    standard_error = shares.std(axis=0, ddof=1) / np.sqrt(SEEDS)
    expected = bass_closed_form(np.clip(np.arange(weeks + 1) - 0.5, 0, None) / 52, p, q)
    assert np.all(np.abs(simulated - expected) <= 0.01 + 4 * standard_error)
    assert simulated[-1] > 0.75  # the whole curve was traversed, not only its flat start
