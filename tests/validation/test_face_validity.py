"""Face validity: the preset scenarios behave as the source texts claim.

20 seeds per scenario, values at week 104, 95 % Student-t confidence
intervals of the mean (orgsim.stats.mean_ci, SciPy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orgsim import load_scenario
from orgsim.stats import mean_ci

SEEDS = range(20)
FLAGSHIP_KPIS = ("mean_attitude", "offer_fit", "trust_sales_in_marketing", "net_promoter_score", "active_customers")


def runs(name: str) -> list[pd.DataFrame]:
    scenario = load_scenario(name)
    return [scenario.model(seed=seed, customer_views=False).run(scenario.steps) for seed in SEEDS]


@pytest.fixture(scope="module")
def finals() -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame([r.iloc[-1] for r in runs(name)])
            for name in ("siloed", "multiplier_led", "siloed_turnaround")}


@pytest.mark.parametrize("kpi", FLAGSHIP_KPIS)
def test_multiplier_led_beats_siloed_with_separate_cis(finals, kpi):
    siloed = mean_ci(finals["siloed"][kpi])
    led = mean_ci(finals["multiplier_led"][kpi])
    assert led.mean > siloed.mean
    assert not led.overlaps(siloed), f"{kpi}: {siloed} vs {led}"


@pytest.mark.parametrize("kpi", ["mean_attitude", "offer_fit", "net_promoter_score", "active_customers", "service_quality"])
def test_turnaround_ends_between(finals, kpi):
    # Trust of sales in marketing is not listed: the turnaround does not change
    # how marketing treats sales (S3.2), so it stays at the siloed level.
    low, mid, high = (finals[n][kpi].mean() for n in ("siloed", "siloed_turnaround", "multiplier_led"))
    assert low < mid < high


def test_ad_spam_tires_and_angers_more_than_trust_marketing():
    spam, trust = runs("ad_spam"), runs("trust_marketing")
    fatigue = [mean_ci(np.array([r["ad_fatigue"].iloc[-1] for r in rs])) for rs in (spam, trust)]
    reviews = [mean_ci(np.array([r["negative_reviews"].sum() for r in rs])) for rs in (spam, trust)]
    assert fatigue[0].mean > fatigue[1].mean and not fatigue[0].overlaps(fatigue[1])
    assert reviews[0].mean > reviews[1].mean and not reviews[0].overlaps(reviews[1])
