"""Docking with the beta reputation system (Jøsang & Ismail 2002).

Trust alone, no forgetting, losses weighted like gains: after r positive and
s negative observations expected trust is exactly (r + 1)/(r + s + 2). In
beta_trust.toml marketing advocates and buffers every week but never
supports sales, so after t weeks r = 2t and s = t. Tolerance: 1e-12.
"""

import pytest

from orgsim import departments as dep
from orgsim import load_scenario


def test_trust_is_the_beta_mean_week_by_week():
    scenario = load_scenario("scenarios/docking/beta_trust.toml")
    frame = scenario.model(customer_views=False).run(scenario.steps)
    for week, trust in zip(frame["step"], frame["trust_sales_in_marketing"], strict=True):
        r, s = 2 * week, week
        assert trust == pytest.approx((r + 1) / (r + s + 2), abs=1e-12)


def test_random_behaviour_counts_add_up():
    scenario = load_scenario("scenarios/docking/beta_trust.toml").with_overrides(
        {"marketing_advocacy": 0.5, "marketing_support": 0.5, "marketing_buffering": 0.5}
    )
    model = scenario.model(customer_views=False)
    model.run(40)
    r = model.firm.trust_positive[dep.SALES, dep.MARKETING]
    s = model.firm.trust_negative[dep.SALES, dep.MARKETING]
    assert r + s == 3 * 40 and 0 < r < 120
    assert model.trust_matrix[dep.SALES, dep.MARKETING] == pytest.approx((r + 1) / (r + s + 2), abs=1e-12)
