"""The shared test helpers hand out what they promise: a copy of a model or world built once is
bit for bit a new build, and copies are independent (the fast tests rely on it)."""

from __future__ import annotations

import copy

from tests.conftest import assert_same_world, small_model, small_world


def test_small_world_gives_independent_copies_of_a_new_build():
    first, p = small_world(seed=21, n_customers=250)
    first.workforce.attitude[:] = 0.5
    first.firm.success = 0.7
    second, q = small_world(seed=21, n_customers=250)
    fresh = small_model(seed=21, n_customers=250)
    assert second is not first and q == p == fresh.params
    assert_same_world(second, fresh.world)


def test_a_copied_model_steps_like_a_new_build():
    built = small_model(seed=22)
    copied, fresh = copy.deepcopy(built), small_model(seed=22)
    copied.step()
    fresh.step()
    assert_same_world(copied.world, fresh.world)
    assert copied.rng.random() == fresh.rng.random() and copied.random.random() == fresh.random.random()
