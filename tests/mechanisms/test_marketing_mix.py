import numpy as np

from orgsim.mechanisms import marketing_mix


def test_intensities_split_the_budget():
    assert marketing_mix.intensities(20_000.0, 0.75) == (1.5, 0.5)


def test_fatigue_grows_with_ads_and_recovers():
    f = np.zeros(1)
    for _ in range(300):
        f = marketing_mix.fatigue_step(f, 2.0, 0.05, 0.05)
    assert np.isclose(f[0], 0.1 / 0.15, atol=1e-6)  # g I (1 - f) = eps f
    for _ in range(300):
        f = marketing_mix.fatigue_step(f, 0.0, 0.05, 0.05)
    assert f[0] < 1e-5


def test_shielded_customers_ignore_ads_and_promises():
    fatigue = np.array([0.0, 0.5, 0.9])
    shielded = fatigue > 0.6
    pressure = marketing_mix.ad_pressure(fatigue, shielded, 0.01, 2.0)
    assert np.allclose(pressure, [0.02, 0.01, 0.0])
    expectation = marketing_mix.expectation(shielded, 0.5, 0.2, 2.0, 0.25)
    assert np.allclose(expectation, [0.8, 0.8, 0.5])


def test_clear_purpose_keeps_promises_honest():
    shielded = np.zeros(1, bool)
    assert marketing_mix.expectation(shielded, 0.5, 0.2, 3.0, 1.0)[0] == 0.5


def test_touchpoints_reach(rng):
    touched = marketing_mix.touched(100_000, 2.0, 0.1, rng)
    assert abs(touched.mean() - 0.2) < 0.01
