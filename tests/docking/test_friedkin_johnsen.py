"""Docking with Friedkin & Johnsen (1990).

With attitude diffusion alone, no success term and fixed anchors, the
model's attitudes must converge to x* = (I − ΛW)⁻¹ (I − Λ) x₀, computed here
with numpy from the model's own W (``model.influence``),
Λ = (1 − attitude_anchoring)·I and x₀ (``workforce.attitude_anchor``).
The model starts at this equilibrium (week 0 is a state it would hold), so
the test first scatters the attitudes at random and checks that they return.
Tolerance 1e-6 (max absolute difference): after 200 weeks with the classic
synchronous update (attitude_rate = 1), and after 600 weeks at the default
rate, which changes the speed but not the equilibrium.
"""

import numpy as np
import pytest

from orgsim import load_scenario
from orgsim.parameters import PARAMS_BY_NAME

pytestmark = pytest.mark.slow  # every test here takes seconds


def expected_equilibrium(model, anchoring: float) -> np.ndarray:
    x0 = model.workforce.attitude_anchor.copy()
    w = model.influence.toarray()
    lam = (1 - anchoring) * np.eye(x0.size)
    return np.linalg.solve(np.eye(x0.size) - lam @ w, (np.eye(x0.size) - lam) @ x0)


@pytest.mark.parametrize(("rate", "weeks"), [(1.0, 200), (PARAMS_BY_NAME["attitude_rate"].default, 600)])
def test_attitudes_converge_to_the_fj_equilibrium(rate, weeks):
    scenario = load_scenario("scenarios/docking/friedkin_johnsen.toml").with_overrides({"attitude_rate": rate})
    model = scenario.model(customer_views=False)
    expected = expected_equilibrium(model, scenario.params.attitude_anchoring)
    assert np.max(np.abs(model.workforce.attitude - expected)) <= 1e-9  # week 0 is the equilibrium
    model.workforce.attitude = np.random.default_rng(7).uniform(-1, 1, model.workforce.size)
    model.run(weeks)
    assert np.max(np.abs(model.workforce.attitude - expected)) <= 1e-6
    assert np.ptp(expected) > 0.1  # a non-trivial equilibrium: views did not all merge


def test_multipliers_shift_the_equilibrium_toward_their_view():
    base = load_scenario("scenarios/docking/friedkin_johnsen.toml")
    without = base.with_overrides({"multiplier_share": 0.0}).model(customer_views=False).run(200)
    with_multipliers = base.model(customer_views=False).run(200)
    assert with_multipliers["mean_attitude"].iloc[-1] > without["mean_attitude"].iloc[-1]
