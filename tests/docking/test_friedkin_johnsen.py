"""Docking with Friedkin & Johnsen (1990).

With attitude diffusion alone and no success term, the model's attitudes
must converge to x* = (I − ΛW)⁻¹ (I − Λ) x₀, computed here with numpy from
the model's own W (``model.influence``), Λ = (1 − attitude_anchoring)·I and
x₀ (``workforce.attitude_anchor``). Synchronous updates, one per week;
tolerance 1e-6 (max absolute difference) after 200 weeks.
"""

import numpy as np

from orgsim import load_scenario


def test_attitudes_converge_to_the_fj_equilibrium():
    scenario = load_scenario("scenarios/docking/friedkin_johnsen.toml")
    model = scenario.model(customer_views=False)
    x0 = model.workforce.attitude_anchor.copy()
    w = model.influence.toarray()
    lam = (1 - scenario.params.attitude_anchoring) * np.eye(x0.size)
    expected = np.linalg.solve(np.eye(x0.size) - lam @ w, (np.eye(x0.size) - lam) @ x0)

    model.run(scenario.steps)
    assert np.max(np.abs(model.workforce.attitude - expected)) <= 1e-6
    assert np.ptp(expected) > 0.1  # a non-trivial equilibrium: views did not all merge


def test_multipliers_shift_the_equilibrium_toward_their_view():
    base = load_scenario("scenarios/docking/friedkin_johnsen.toml")
    without = base.with_overrides({"multiplier_share": 0.0}).model(customer_views=False).run(200)
    with_multipliers = base.model(customer_views=False).run(200)
    assert with_multipliers["mean_attitude"].iloc[-1] > without["mean_attitude"].iloc[-1]
