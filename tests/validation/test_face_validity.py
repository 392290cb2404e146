"""Face validity: the preset scenarios behave as the source texts claim.

20 seeds per scenario, 95 % Student-t confidence intervals of the mean
(orgsim.stats.mean_ci, SciPy): the flagship at week 104, the turnaround at
week 156 (the end of its run). The pattern catalogue (tests/patterns) tests
each claim with its knockout; these tests check the presets trainers show.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from orgsim import load_scenario
from orgsim.stats import mean_ci

pytestmark = pytest.mark.slow

SEEDS = range(20)
FLAGSHIP_KPIS = ("mean_attitude", "offer_fit", "trust_sales_in_marketing", "service_quality",
                 "net_promoter_score", "active_customers")


@functools.cache
def runs(name: str, weeks: int | None = None) -> list[pd.DataFrame]:
    scenario = load_scenario(name)
    return [scenario.model(seed=seed, customer_views=False).run(weeks or scenario.steps) for seed in SEEDS]


@pytest.fixture(scope="module")
def finals() -> dict[str, pd.DataFrame]:
    """Week 104; the siloed firm's first 104 weeks are those of its 156-week runs (same seeds)."""
    return {"siloed": pd.DataFrame([r.iloc[104] for r in runs("siloed", 156)]),
            "multiplier_led": pd.DataFrame([r.iloc[104] for r in runs("multiplier_led", 104)])}


@pytest.mark.parametrize("kpi", FLAGSHIP_KPIS)
def test_multiplier_led_beats_siloed_with_separate_cis(finals, kpi):
    siloed = mean_ci(finals["siloed"][kpi])
    led = mean_ci(finals["multiplier_led"][kpi])
    assert led.mean > siloed.mean
    assert not led.overlaps(siloed), f"{kpi}: {siloed} vs {led}"


def test_multiplier_led_fails_fewer_orders(finals):
    siloed = mean_ci(finals["siloed"]["order_failure_rate"])
    led = mean_ci(finals["multiplier_led"]["order_failure_rate"])
    assert led.high < siloed.low


@pytest.fixture(scope="module")
def last_weeks() -> dict[str, pd.DataFrame]:
    """Mean of the last four of 156 weeks, one row per seed."""
    return {name: pd.DataFrame([r.iloc[-4:].mean() for r in runs(name, 156)])
            for name in ("siloed", "siloed_turnaround")}


@pytest.mark.parametrize("kpi", FLAGSHIP_KPIS)
def test_turnaround_ends_above_the_siloed_firm(last_weeks, kpi):
    turned = mean_ci(last_weeks["siloed_turnaround"][kpi])
    siloed = mean_ci(last_weeks["siloed"][kpi])
    assert turned.low > siloed.high, f"{kpi}: {siloed} vs {turned}"


def test_ad_spam_tires_and_angers_more_than_trust_marketing():
    spam, trust = runs("ad_spam"), runs("trust_marketing")
    fatigue = [mean_ci(np.array([r["ad_fatigue"].iloc[-1] for r in rs])) for rs in (spam, trust)]
    reviews = [mean_ci(np.array([r["negative_reviews"].sum() for r in rs])) for rs in (spam, trust)]
    nps = [mean_ci(np.array([r["net_promoter_score"].iloc[-4:].mean() for r in rs])) for rs in (spam, trust)]
    assert fatigue[0].low > fatigue[1].high
    assert reviews[0].low > reviews[1].high
    assert nps[0].high < nps[1].low
