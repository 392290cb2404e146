"""Mechanism 1, attitude diffusion: known answers of the docstring's equations.

    y  = Λ W x + (I − Λ) x0 + σ v f (s⁺ (1 − x) − s⁻ (1 + x)) − π,   Λ = (1 − anchoring) I
    x  ← clip(x + ρ (y − x), −1, 1)
    x0 ← x0 + δ (x − x0)            (x: the new attitude)

W is the row-stochastic influence matrix w_ij ∝ (a_ij + δ_ij) · influence_j
(orgsim.state.influence_matrix).
"""

import numpy as np
import pytest
import scipy.sparse as sp

from orgsim.mechanisms import attitude
from orgsim.state import friedkin_johnsen_equilibrium, influence_matrix
from tests.conftest import assert_same_world, small_model, small_world, snapshot

QUIET = {"success_weight": 0.0, "anchor_drift": 0.0, "attitude_rate": 0.3, "attitude_anchoring": 0.25}


def scattered(seed=5, **overrides):
    """A world whose attitudes and anchors are scattered, away from any equilibrium."""
    world, p = small_world(seed=seed, multiplier_share=0.2, **{**QUIET, **overrides})
    w = world.workforce
    draw = np.random.default_rng(seed)
    w.attitude = draw.uniform(-0.6, 0.6, w.size)
    w.attitude_anchor = draw.uniform(-0.6, 0.6, w.size)
    w.overlooked_pressure = np.zeros(w.size)
    world.firm.success = 0.0
    return world, p


def fj_target(world, anchoring):
    w = world.workforce
    return (1 - anchoring) * (w.influence.toarray() @ w.attitude) + anchoring * w.attitude_anchor


def test_step_moves_exactly_rho_of_the_way_to_the_friedkin_johnsen_target():
    world, p = scattered()
    x = world.workforce.attitude.copy()
    y = fj_target(world, 0.25)
    new = attitude.step(world, p, np.random.default_rng(0))["workforce"]["attitude"]
    np.testing.assert_allclose(new - x, 0.3 * (y - x), atol=1e-13)
    assert np.abs(y - x).max() > 0.1  # the case is not trivial


def test_rate_one_is_the_classic_synchronous_update():
    world, p = scattered(attitude_rate=1.0)
    new = attitude.step(world, p, np.random.default_rng(0))["workforce"]["attitude"]
    np.testing.assert_allclose(new, fj_target(world, 0.25), atol=1e-13)


def test_the_equilibrium_is_a_fixed_point_for_any_rate():
    world, p = scattered(attitude_rate=0.05)
    w = world.workforce
    w.attitude = friedkin_johnsen_equilibrium(w.attitude_anchor, w.influence, 0.25)
    new = attitude.step(world, p, np.random.default_rng(0))["workforce"]["attitude"]
    np.testing.assert_allclose(new, w.attitude, atol=1e-12)


@pytest.mark.parametrize(("s", "x", "push"), [(0.4, 0.5, 0.4 * 0.5), (-0.4, 0.5, -0.4 * 1.5),
                                            (0.4, -0.5, 0.4 * 1.5), (-0.4, -0.5, -0.4 * 0.5)])
def test_success_push_is_s_plus_times_room_up_minus_s_minus_times_room_down(s, x, push):
    """Anchoring 1 and x = x0: the target is x0 + σ v f push, the step ρ σ v f push; the fan factor f
    acts on success only (carriers become fans of delight, S0.3; failure reaches everyone alike)."""
    world, p = scattered(attitude_anchoring=1.0, success_weight=0.5, results_visibility=0.6,
                         carrier_fan_factor=3.0, carriers_per_department=1)
    w = world.workforce
    w.attitude = np.full(w.size, x)
    w.attitude_anchor = w.attitude.copy()
    world.firm.success = s
    fan = np.where(w.is_knowledge_carrier, 3.0, 1.0) if s > 0 else np.ones(w.size)
    assert w.is_knowledge_carrier.sum() == 7
    new = attitude.step(world, p, np.random.default_rng(0))["workforce"]["attitude"]
    np.testing.assert_allclose(new - x, 0.3 * 0.5 * 0.6 * fan * push, atol=1e-14)


def test_overlooked_pressure_lowers_the_target():
    world, p = scattered(attitude_anchoring=1.0)
    w = world.workforce
    w.attitude_anchor = w.attitude.copy()
    w.overlooked_pressure = np.linspace(0.0, 0.2, w.size)
    new = attitude.step(world, p, np.random.default_rng(0))["workforce"]["attitude"]
    np.testing.assert_allclose(new - w.attitude, -0.3 * w.overlooked_pressure, atol=1e-15)


def test_attitudes_are_clipped_to_minus_one_one():
    world, p = scattered(attitude_anchoring=1.0, attitude_rate=1.0)
    w = world.workforce
    w.attitude[:] = -0.9
    w.attitude_anchor[:] = -0.9
    w.overlooked_pressure = np.full(w.size, 0.5)
    assert (attitude.step(world, p, np.random.default_rng(0))["workforce"]["attitude"] == -1.0).all()


def test_anchor_drifts_toward_the_new_attitude():
    world, p = scattered(anchor_drift=0.1)
    x0 = world.workforce.attitude_anchor.copy()
    effects = attitude.step(world, p, np.random.default_rng(0))["workforce"]
    np.testing.assert_allclose(effects["attitude_anchor"], x0 + 0.1 * (effects["attitude"] - x0), atol=1e-15)
    fixed = attitude.step(world, p.replace(anchor_drift=0.0), np.random.default_rng(0))["workforce"]
    assert np.array_equal(fixed["attitude_anchor"], x0)


def test_writes_only_its_fields_and_does_not_mutate_the_world():
    world, p = scattered(success_weight=0.3, anchor_drift=0.05)
    world.firm.success = 0.3
    before = snapshot(world)
    effects = attitude.step(world, p, np.random.default_rng(0))
    assert_same_world(world, before)
    assert {k: set(v) for k, v in effects.items()} == {"workforce": {"attitude", "attitude_anchor"}}


# --------------------------------------------------------------- influence matrix
def test_influence_matrix_weights_colleagues_by_role():
    """w_ij ∝ (a_ij + δ_ij) influence_j: the leader's weight, a multiplier's 1 + (m − 1) r_j, else 1."""
    world, p = small_world(seed=6, leader_weight=20.0, multiplier_weight=6.0)
    w = world.workforce
    draw = np.random.default_rng(1)
    w.is_multiplier = draw.random(w.size) < 0.3
    w.is_multiplier[w.is_leader] = True
    influence = np.ones(w.size)
    influence[w.is_multiplier] = 1 + 5.0 * w.responsibility[w.is_multiplier]
    influence[w.is_leader] = 20.0
    weighted = (w.network.toarray() + np.eye(w.size)) * influence[None, :]
    expected = weighted / weighted.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(influence_matrix(w, p).toarray(), expected, atol=1e-15)


def test_influence_matrix_on_a_hand_built_ring():
    world, p = small_world(seed=6, leader_weight=1.0, multiplier_weight=5.0)
    w = world.workforce
    n = w.size
    ring = sp.csr_matrix((np.ones(n), (np.arange(n), (np.arange(n) + 1) % n)), shape=(n, n))
    w.network = (ring + ring.T).tocsr()
    w.is_multiplier = np.zeros(n, dtype=bool)
    w.is_multiplier[1] = True
    w.responsibility = np.full(n, 0.5)
    row = influence_matrix(w, p).toarray()[0]
    # employee 0 hears n-1, itself and the multiplier 1 (weight 1 + 4 * 0.5 = 3)
    assert row[[n - 1, 0, 1]] == pytest.approx([1 / 5, 1 / 5, 3 / 5])
    assert row.sum() == pytest.approx(1.0)


# --------------------------------------------------------------- multiplier selection
def test_multipliers_are_the_most_responsible_of_the_willing():
    att = np.array([0.5, 0.9, -0.2, 0.3, 0.1, 0.0, 0.4, 0.8, -0.9, 0.2])
    responsibility = np.array([0.1, 0.9, 0.99, 0.8, 0.3, 0.95, 0.5, 0.7, 0.98, 0.6])
    already = np.zeros(10, dtype=bool)
    already[1] = True
    chosen = attitude.select_multipliers(att, responsibility, already, 0.3, "responsibility", None)
    # willing and not yet appointed: 0, 3, 4, 6, 7, 9; most responsible: 3 (0.8), 7 (0.7), 9 (0.6)
    assert np.flatnonzero(chosen).tolist() == [3, 7, 9]


def test_fewer_multipliers_when_fewer_are_willing():
    att = np.array([0.5, -0.9, -0.2, 0.0])
    chosen = attitude.select_multipliers(att, np.full(4, 0.5), np.zeros(4, bool), 0.5, "responsibility", None)
    assert np.flatnonzero(chosen).tolist() == [0]


def test_random_selection_picks_only_willing_and_all_of_them_sometimes():
    att = np.array([0.5, -0.1, 0.2, 0.3, -0.5, 0.7])
    rng = np.random.default_rng(3)
    picked = np.zeros(6)
    for _ in range(200):
        chosen = attitude.select_multipliers(att, np.linspace(0, 1, 6), np.zeros(6, bool), 1 / 3, "random", rng)
        assert chosen.sum() == 2 and (att[chosen] > 0).all()
        picked += chosen
    assert (picked[att > 0] > 0).all()


# --------------------------------------------------------------- week 0
SETTLE = {"success_weight": 0.3, "results_visibility": 0.5, "overlooked_penalty": 0.5, "recognition_rate": 0.2,
          "attitude_anchoring": 0.25}


def settled(world, p):
    attitude.settle(world, p)
    return world.workforce.attitude.copy()


def assert_fixed_point(world, p, x, atol):
    """x = clip(y(x)) with this week's success and the expected pressure on the overlooked."""
    check = snapshot(world)
    check.workforce.attitude = x
    overlooked = (1.0 - p.recognition_rate) if p.enable_recognition else 0.0
    check.workforce.overlooked_pressure = p.overlooked_penalty * max(world.firm.success, 0.0) * overlooked * (1 + x) / 2
    np.testing.assert_allclose(x, np.clip(attitude.target(check, p), -1, 1), atol=atol)


@pytest.mark.parametrize("success", [0.4, -0.4])
def test_week_zero_attitudes_are_the_fixed_point_with_the_expected_pressure_on_the_overlooked(success):
    """x = clip(y(x)) with π = π0 · max(s, 0) · (1 − r) · (1 + x)/2 (r: the share recognised); the pressure
    itself is not kept (week 0 has no one overlooked yet)."""
    world, p = scattered(**SETTLE)
    world.firm.success = success
    x = settled(world, p)
    assert (world.workforce.overlooked_pressure == 0).all()
    assert_fixed_point(world, p, x, atol=1e-11)
    assert np.ptp(x) > 0.05


def test_week_zero_pressure_on_the_overlooked_only_with_recognition():
    world, p = scattered(**SETTLE)
    world.firm.success = 0.4
    with_pressure = settled(snapshot(world), p)
    without = settled(world, p.replace(enable_recognition=False))
    np.testing.assert_allclose(without, np.clip(attitude.target(world, p), -1, 1), atol=1e-11)
    assert (with_pressure < without - 1e-3).all()  # everyone is pushed down by the expected pressure


def test_week_zero_pressure_falls_with_the_share_recognised():
    world, p = scattered(**SETTLE)
    world.firm.success = 0.4
    everyone = settled(snapshot(world), p.replace(recognition_rate=1.0))
    nobody_overlooked = settled(world, p.replace(enable_recognition=False))
    np.testing.assert_allclose(everyone, nobody_overlooked, atol=1e-11)


@pytest.mark.slow
def test_week_zero_settles_with_strong_success_feedback():
    world, p = scattered(**{**SETTLE, "overlooked_penalty": 1.0, "success_weight": 0.6, "results_visibility": 1.0})
    world.firm.success = 0.9
    assert_fixed_point(world, p, settled(world, p), atol=1e-11)


@pytest.mark.slow
@pytest.mark.parametrize("fans", [1.0, 10.0])
def test_a_firm_with_the_strongest_success_feedback_settles(fans):
    """Regression: the plain iteration oscillated, and OrgModel() raised for these legal parameters."""
    model = small_model(success_weight=1.0, results_visibility=1.0, overlooked_penalty=2.0, expectation_base=0.0,
                        carrier_fan_factor=fans, carriers_per_department=1)
    model.world.firm.success = 1.0  # the most visible success there is: the steepest feedback
    assert_fixed_point(model.world, model.params, settled(model.world, model.params), atol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("anchoring", [5e-4, 3e-4])
def test_a_slow_steady_iteration_stays_plain_and_settles(anchoring):
    """Regression: halving the step whenever the residual shrank slowly made this iteration too slow to finish."""
    world, p = scattered(**{**SETTLE, "attitude_anchoring": anchoring})
    assert_fixed_point(world, p, settled(world, p), atol=1e-9)


def test_week_zero_without_anchoring_keeps_the_views():
    world, p = scattered(**{**SETTLE, "attitude_anchoring": 0.0})
    world.firm.success = 0.4
    world.workforce.overlooked_pressure = np.full(world.workforce.size, 0.01)
    before = snapshot(world)
    attitude.settle(world, p)
    assert_same_world(world, before)


def test_attitudes_are_clipped_at_plus_one():
    """Fans (carrier factor 10) of full visible success overshoot: x + ρ (y − x) > 1 is clipped to 1."""
    world, p = scattered(attitude_anchoring=1.0, carriers_per_department=1)
    p = p.replace(attitude_rate=1.0, success_weight=1.0, results_visibility=1.0, carrier_fan_factor=10.0)
    w = world.workforce
    w.attitude[:] = 0.5
    w.attitude_anchor[:] = 0.5
    world.firm.success = 1.0
    new = attitude.step(world, p, np.random.default_rng(0))["workforce"]["attitude"]
    assert (new[w.is_knowledge_carrier] == 1.0).all()  # 0.5 + 10 · 0.5 = 5.5 → 1
    np.testing.assert_allclose(new[~w.is_knowledge_carrier], 1.0)  # 0.5 + 0.5 = 1.0 exactly


def test_multipliers_among_equally_responsible_are_taken_in_order():
    """Ties keep the employees' order (a stable sort), also for more than a handful of candidates."""
    n = 200
    responsibility = np.resize([0.2, 0.8, 0.5, 0.8, 0.2], n)  # 80 tied at the top
    chosen = attitude.select_multipliers(np.full(n, 0.5), responsibility, np.zeros(n, bool), 0.1,
                                         "responsibility", None)
    assert np.flatnonzero(chosen).tolist() == sorted(range(n), key=lambda i: (-responsibility[i], i))[:20]
    assert np.flatnonzero(chosen).tolist() == [1, 3, 6, 8, 11, 13, 16, 18, 21, 23, 26, 28, 31, 33, 36, 38, 41,
                                               43, 46, 48]
