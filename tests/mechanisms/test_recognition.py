"""Mechanism 8, recognition: known answers of the docstring's equations.

    e_i ← e_i + η ((μ + F + R_i)/3 − e_i),   R_i = 1 with probability r
    pressure_i = π · max(s, 0) · (1 − R_i) · (1 + x_i)/2
"""

import numpy as np
import pytest

from orgsim.mechanisms import recognition
from tests.conftest import (
    ThresholdRng,
    assert_same_world,
    just_above,
    just_below,
    small_world,
    snapshot,
)

SETTINGS = {"intrinsic_motivation": 0.9, "freedom": 0.3, "engagement_rate": 0.25, "recognition_rate": 0.4,
            "overlooked_penalty": 0.2}


@pytest.fixture
def world_and_params():
    world, p = small_world(seed=4, **SETTINGS)
    draw = np.random.default_rng(0)
    world.workforce.engagement = draw.uniform(0, 1, world.workforce.size)
    world.workforce.attitude = draw.uniform(-1, 1, world.workforce.size)
    world.firm.success = 0.4
    return world, p


def test_engagement_moves_eta_of_the_way_to_the_mean_of_motivation_freedom_and_recognition(world_and_params):
    world, p = world_and_params
    e = world.workforce.engagement.copy()
    effects = recognition.step(world, p, np.random.default_rng(1))
    recognised = effects["workforce"]["recognised"]
    assert recognised.dtype == bool and 0 < recognised.sum() < recognised.size  # both cases occur
    target = (0.9 + 0.3 + recognised.astype(float)) / 3  # averaged, not summed
    np.testing.assert_allclose(effects["workforce"]["engagement"], e + 0.25 * (target - e), rtol=0, atol=1e-15)


def test_everyone_or_nobody_is_recognised_at_the_rate_threshold(world_and_params):
    world, p = world_and_params
    assert recognition.step(world, p, just_below(0.4))["workforce"]["recognised"].all()
    assert not recognition.step(world, p, just_above(0.4))["workforce"]["recognised"].any()
    nobody = recognition.step(world, p.replace(recognition_rate=0.0), ThresholdRng(0.0))
    e = world.workforce.engagement
    np.testing.assert_allclose(nobody["workforce"]["engagement"], e + 0.25 * ((0.9 + 0.3) / 3 - e), atol=1e-15)


def test_share_recognised_is_the_rate(world_and_params):
    """4,000 draws at r = 0.4: SE = 0.0077; tolerance 4 SE."""
    world, p = world_and_params
    rng = np.random.default_rng(2)
    shares = [recognition.step(world, p, rng)["workforce"]["recognised"].mean() for _ in range(100)]
    assert abs(np.mean(shares) - 0.4) < 4 * np.sqrt(0.4 * 0.6 / 4000)


def test_overlooked_pressure_formula(world_and_params):
    world, p = world_and_params
    x = world.workforce.attitude
    effects = recognition.step(world, p, np.random.default_rng(3))["workforce"]
    recognised = effects["recognised"]
    expected = 0.2 * 0.4 * (1 - recognised) * (1 + x) / 2
    np.testing.assert_allclose(effects["overlooked_pressure"], expected, atol=1e-15)
    assert (effects["overlooked_pressure"][recognised] == 0).all()
    assert (effects["overlooked_pressure"][~recognised] > 0).all()


@pytest.mark.parametrize("success", [0.0, -0.5])
def test_no_pressure_without_success(world_and_params, success):
    world, p = world_and_params
    world.firm.success = success
    effects = recognition.step(world, p, just_above(0.4))["workforce"]  # nobody recognised
    assert (effects["overlooked_pressure"] == 0).all()


def test_writes_only_its_fields_and_does_not_mutate_the_world(world_and_params):
    world, p = world_and_params
    before = snapshot(world)
    effects = recognition.step(world, p, np.random.default_rng(4))
    assert_same_world(world, before)
    assert {k: set(v) for k, v in effects.items()} == {
        "workforce": {"engagement", "recognised", "overlooked_pressure"}}
