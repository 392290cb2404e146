"""Mechanism 5, customer orientation and weakest-link quality: known answers.

    o_i ← o_i + α ((1 + x_i)/2 − o_i)
    perf_i = cap_i (1 − load_{d(i)})            (the employee's own department)
    q_i = (perf_i e_i o_i)^{1/3}                 (with the new orientation)
    Q_order = λ min_team q + (1 − λ) mean_team q, one random member per department
"""

import numpy as np
import pytest

from orgsim import departments as dep
from orgsim.mechanisms import quality
from tests.conftest import CyclingRng, ThresholdRng, assert_same_world, small_world, snapshot

D = dep.N_DEPARTMENTS


@pytest.fixture
def world_and_params():
    world, p = small_world(seed=12, alignment_rate=0.2, weakest_link_weight=0.3)
    w = world.workforce
    draw = np.random.default_rng(3)
    w.attitude = draw.uniform(-1, 1, w.size)
    w.alignment = draw.uniform(0, 1, w.size)
    w.engagement = draw.uniform(0.1, 1, w.size)
    w.capability = draw.uniform(0.1, 1, w.size)
    world.firm.capacity_load = np.linspace(0.0, 0.6, D)  # a different load in every department
    world.week.ordering = np.arange(25)
    return world, p


def by_hand(world):
    """(alignment, performance, contribution) written out from the docstring."""
    w = world.workforce
    alignment = w.alignment + 0.2 * ((1 + w.attitude) / 2 - w.alignment)
    performance = np.array([w.capability[i] * (1 - world.firm.capacity_load[w.department[i]])
                            for i in range(w.size)])
    return alignment, performance, (performance * w.engagement * alignment) ** (1 / 3)


def test_orientation_follows_attitude_and_performance_pays_for_the_own_departments_load(world_and_params):
    world, p = world_and_params
    alignment, performance, _ = by_hand(world)
    effects = quality.step(world, p, ThresholdRng(0.0))["workforce"]
    np.testing.assert_allclose(effects["alignment"], alignment, atol=1e-15)
    np.testing.assert_allclose(effects["performance"], performance, atol=1e-15)


def test_contribution_is_the_geometric_mean():
    assert quality.contribution(np.array([0.5]), np.array([0.5]), np.array([0.864]))[0] == pytest.approx(0.6)
    assert quality.contribution(np.array([0.0]), np.array([1.0]), np.array([1.0]))[0] == 0.0


@pytest.mark.parametrize("u", [0.0, 1 - 1e-12])
def test_order_quality_is_the_weakest_link_formula(world_and_params, u):
    """ThresholdRng(0) serves every order with the first member of each department, u → 1 with the last."""
    world, p = world_and_params
    w = world.workforce
    _, _, contribution = by_hand(world)
    members = [np.flatnonzero(w.department == d) for d in range(D)]
    team = contribution[[m[0] if u == 0 else m[-1] for m in members]]
    expected = 0.3 * team.min() + 0.7 * team.mean()
    order_quality = quality.step(world, p, ThresholdRng(u))["week"]["order_quality"]
    assert order_quality.shape == (25,)
    np.testing.assert_allclose(order_quality, expected, atol=1e-15)


def test_one_under_performer_drags_down_every_order_it_serves(world_and_params):
    world, p = world_and_params
    w = world.workforce
    w.capability[:], w.engagement[:], w.alignment[:], w.attitude[:] = 0.8, 1.0, 1.0, 1.0
    world.firm.capacity_load[:] = 0.0
    lazy = np.flatnonzero(w.department == dep.SALES)[0]
    w.engagement[lazy] = 0.0
    world.week.ordering = np.zeros(20_000, dtype=np.int64)
    q = quality.step(world, p.replace(weakest_link_weight=1.0), np.random.default_rng(0))["week"]["order_quality"]
    good = 0.8 ** (1 / 3)
    assert set(np.round(np.unique(q), 12)) == {0.0, round(good, 12)}
    share = 1 / np.sum(w.department == dep.SALES)  # the lazy one serves this share of orders
    assert abs(np.mean(q == 0.0) - share) < 4 * np.sqrt(share * (1 - share) / q.size)


def test_every_member_of_a_department_serves_orders_equally_often():
    world, p = small_world(seed=12)
    w = world.workforce
    contribution = np.arange(w.size, dtype=float)  # identifies who served
    rng = np.random.default_rng(1)
    q = quality.order_quality(contribution, w.department, 14_000, 1.0, rng)  # min = the management member
    management = np.flatnonzero(w.department == dep.INDEX["management"])
    counts = np.array([np.sum(q == i) for i in management])
    assert counts.sum() == 14_000
    expected = 14_000 / management.size
    assert np.all(np.abs(counts - expected) < 4 * np.sqrt(expected))


def test_no_orders_no_quality(world_and_params):
    world, p = world_and_params
    world.week.ordering = np.zeros(0, dtype=np.int64)
    assert quality.step(world, p, np.random.default_rng(0))["week"]["order_quality"].size == 0


def test_switched_off_every_order_is_perfect(world_and_params):
    world, p = world_and_params
    effects = quality.off(world, p, np.random.default_rng(0))
    assert list(effects) == ["week"] and list(effects["week"]) == ["order_quality"]
    assert np.array_equal(effects["week"]["order_quality"], np.ones(25))


def test_week_zero_expected_quality_uses_the_week_zero_state(world_and_params):
    world, p = world_and_params
    w = world.workforce
    w.performance[:], w.engagement[:], w.alignment[:] = 0.343, 1.0, 1.0
    assert quality.expected_quality(w, p, np.random.default_rng(0)) == pytest.approx(0.7)


def test_week_zero_expected_quality_is_the_mean_over_sampled_teams(world_and_params):
    """Department 0 has members of contribution 0.5 (share s) and 1, everyone else 1: a team's minimum is
    0.5 with chance s, its mean (6 + c0) / 7. Expected quality λ E[min] + (1 − λ) E[mean], within 4 SE."""
    world, p = world_and_params
    w = world.workforce
    w.engagement[:], w.alignment[:], w.performance[:] = 1.0, 1.0, 1.0
    first = np.flatnonzero(w.department == 0)
    low = first[::2]
    w.performance[low] = 0.125  # contribution cbrt(0.125) = 0.5
    s = low.size / first.size
    team_quality = np.array([0.3 * 0.5 + 0.7 * (6 + 0.5) / 7, 1.0])  # a weak member in the team, or not
    expected = s * team_quality[0] + (1 - s) * team_quality[1]
    se = np.sqrt(s * (1 - s)) * (team_quality[1] - team_quality[0]) / np.sqrt(quality.QUALITY_SAMPLE_TEAMS)
    assert 0 < s < 1
    assert abs(quality.expected_quality(w, p, np.random.default_rng(3)) - expected) < 4 * se


def test_writes_only_its_fields_and_does_not_mutate_the_world(world_and_params):
    world, p = world_and_params
    before = snapshot(world)
    effects = quality.step(world, p, np.random.default_rng(0))
    assert_same_world(world, before)
    assert {k: set(v) for k, v in effects.items()} == {"workforce": {"alignment", "performance"},
                                                       "week": {"order_quality"}}


def test_each_order_is_rated_by_its_own_team(world_and_params):
    """Draws 0, 0.999, 0, ... (7 departments a row): order 1 gets the first, 2 the last member alternately."""
    world, p = world_and_params
    w = world.workforce
    _, _, contribution = by_hand(world)
    members = [np.flatnonzero(w.department == d) for d in range(D)]
    draws = np.resize([0.0, 0.999], (25, D))
    expected = []
    for row in draws:
        team = contribution[[m[0] if u == 0 else m[-1] for m, u in zip(members, row, strict=True)]]
        expected.append(0.3 * team.min() + 0.7 * team.mean())
    order_quality = quality.step(world, p, CyclingRng([0.0, 0.999]))["week"]["order_quality"]
    np.testing.assert_allclose(order_quality, expected, atol=1e-15)
    assert abs(expected[0] - expected[1]) > 1e-3


def test_the_compiled_team_quality_gives_the_rule_bit_for_bit():
    """Q = λ min + (1 − λ) mean as numpy states it; numpy's mean of fewer than eight numbers is their
    sequential sum over their count, as the compiled pass takes it (from eight, numpy sums pairwise)."""
    assert dep.N_DEPARTMENTS < 8
    rng = np.random.default_rng(11)
    department = np.repeat(np.arange(dep.N_DEPARTMENTS), rng.integers(1, 9, dep.N_DEPARTMENTS))
    contrib = rng.random(department.size)
    for weight in (0.0, 0.3, 1.0):
        draws_rng, rules_rng = np.random.default_rng(12), np.random.default_rng(12)
        start, size = quality.department_blocks(department)
        team = contrib[start[None, :] + (rules_rng.random((5_000, size.size)) * size).astype(np.int64)]
        expected = weight * team.min(axis=1) + (1 - weight) * team.mean(axis=1)
        assert np.array_equal(quality.order_quality(contrib, department, 5_000, weight, draws_rng), expected)
