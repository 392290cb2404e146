"""Mechanism 6, the marketing mix: known answers of the docstring's equations.

    I = α B / U,  J = (1 − α) B / U                     (U = 10,000 EUR per week)
    f_i ← clip(f_i + g I x_i (1 − f_i) − ε f_i, 0, 1);  shielded iff f_i > θ_i
    P_i ← max(μ P_i, h I x_i (1 − clarity)) unshielded; a shielded customer keeps P_i
    lead (prospects only, never shielded) with probability min(1, p_ad I x_i (1 − f_i))
"""

import numpy as np
import pytest

from orgsim.mechanisms import marketing_mix
from orgsim.state import ACTIVE, LOST, PROSPECT
from tests.conftest import ThresholdRng, assert_same_world, small_model, small_world, snapshot

MIX = {"marketing_budget": 20_000.0, "ad_share": 0.75, "ad_fatigue_gain": 0.1, "ad_fatigue_recovery": 0.05,
       "ad_hype": 0.2, "purpose_clarity": 0.25, "promise_memory": 0.9, "ad_conversion": 0.3}
AD, TOUCH = 1.5, 0.5  # intensities I and J


@pytest.fixture
def world_and_params():
    world, p = small_world(seed=9, **MIX)
    m = world.market
    draw = np.random.default_rng(1)
    m.ad_exposure = draw.gamma(2.0, 0.5, m.size)
    m.ad_fatigue = draw.uniform(0, 1, m.size)
    m.shield_threshold = draw.uniform(0.2, 0.8, m.size)
    m.promise = draw.uniform(0, 0.4, m.size)
    m.status = draw.choice(np.array([PROSPECT, ACTIVE, LOST], dtype=np.int8), m.size)
    return world, p


def new_fatigue(m):
    return np.clip(m.ad_fatigue + 0.1 * AD * m.ad_exposure * (1 - m.ad_fatigue) - 0.05 * m.ad_fatigue, 0, 1)


def test_intensities_split_the_budget_in_spend_units():
    assert marketing_mix.intensities(20_000.0, 0.75) == (1.5, 0.5)
    assert marketing_mix.intensities(0.0, 0.3) == (0.0, 0.0)


def test_fatigue_update(world_and_params):
    world, p = world_and_params
    m = world.market
    m.ad_exposure[:3] = [30.0, 0.0, 1.0]  # far above 1 before the clip; no exposure; ...
    m.ad_fatigue[:3] = [0.0, 0.5, 1.0]
    fatigue = marketing_mix.step(world, p, ThresholdRng(0.5))["market"]["ad_fatigue"]
    np.testing.assert_allclose(fatigue, new_fatigue(m), atol=1e-15)
    assert fatigue[0] == 1.0  # clipped
    assert fatigue[1] == pytest.approx(0.5 * 0.95)  # only recovery
    assert fatigue[2] == pytest.approx(0.95)


def test_shielding_uses_the_new_fatigue_and_individual_thresholds(world_and_params):
    world, p = world_and_params
    m = world.market
    old_shielded, shielded = m.ad_fatigue > m.shield_threshold, new_fatigue(m) > m.shield_threshold
    assert (old_shielded & ~shielded).any() and (~old_shielded & shielded).any()  # the cases differ
    u = 0.3
    effects = marketing_mix.step(world, p, ThresholdRng(u))
    heard = 0.2 * AD * m.ad_exposure * (1 - 0.25)
    expected_promise = np.where(shielded, m.promise, np.maximum(0.9 * m.promise, heard))
    np.testing.assert_allclose(effects["market"]["promise"], expected_promise, atol=1e-15)
    chance = np.minimum(1.0, 0.3 * AD * m.ad_exposure * (1 - new_fatigue(m)))
    expected_leads = np.flatnonzero((m.status == PROSPECT) & ~shielded & (chance > u))
    assert expected_leads.size > 0
    assert np.array_equal(effects["week"]["leads"], expected_leads)


def test_promises_are_remembered_and_a_clear_purpose_promises_nothing_new(world_and_params):
    world, p = world_and_params
    m = world.market
    m.ad_exposure[:2] = 1.0
    m.ad_fatigue[:2] = 0.0
    m.shield_threshold[:2] = 1.0
    m.promise[:2] = [0.1, 1.0]
    promise = marketing_mix.step(world, p, ThresholdRng(0.5))["market"]["promise"]
    heard = 0.2 * 1.5 * 0.75  # 0.225
    assert promise[:2] == pytest.approx([heard, 0.9])  # the new promise; the broken one is remembered
    honest = marketing_mix.step(world, p.replace(purpose_clarity=1.0), ThresholdRng(0.5))["market"]["promise"]
    shielded = new_fatigue(m) > m.shield_threshold
    assert shielded.any() and (~shielded).any()
    np.testing.assert_allclose(honest, np.where(shielded, m.promise, 0.9 * m.promise), atol=1e-15)


def test_shielded_prospects_get_no_ad_leads_and_only_prospects_are_leads(world_and_params):
    world, p = world_and_params
    p = p.replace(ad_conversion=1.0, marketing_budget=1e6, ad_fatigue_gain=0.0)  # chance 1 if unshielded
    m = world.market
    m.ad_exposure = np.ones(m.size)
    m.ad_fatigue = np.full(m.size, 0.3)  # 0.285 after recovery
    m.shield_threshold = np.where(np.arange(m.size) % 2 == 0, 0.28, 0.29)
    leads = marketing_mix.step(world, p, ThresholdRng(1 - 1e-12))["week"]["leads"]
    expected = np.flatnonzero((m.status == PROSPECT) & (np.arange(m.size) % 2 == 1))
    assert expected.size > 10
    assert np.array_equal(leads, expected)


def test_leads_come_at_the_expected_rate():
    """50 weeks of 300 unshielded prospects: the lead count is within 4 SE of Σ chance."""
    world, p = small_world(seed=9, **MIX)
    m = world.market
    m.status[:] = PROSPECT
    m.ad_fatigue[:] = 0.0
    m.shield_threshold[:] = 1.0
    chance = np.minimum(1.0, 0.3 * AD * m.ad_exposure * (1 - new_fatigue(m)))
    rng = np.random.default_rng(3)
    counts = [marketing_mix.step(world, p, rng)["week"]["leads"].size for _ in range(50)]
    se = np.sqrt(50 * np.sum(chance * (1 - chance)))
    assert abs(np.sum(counts) - 50 * chance.sum()) < 4 * se


def test_week_records_touch_intensity_and_spend(world_and_params):
    """Touchpoints (mechanism 6) read J from the week; ads act here and leave only fatigue, promises and leads."""
    world, p = world_and_params
    week = marketing_mix.step(world, p, ThresholdRng(0.5))["week"]
    assert (week["touch_intensity"], week["spend"]) == (TOUCH, 20_000.0)


def test_week_zero_fatigue_and_promises_are_a_fixed_point(world_and_params):
    world, p = world_and_params
    m = world.market
    marketing_mix.settle(m, p)
    push = 0.1 * AD * m.ad_exposure
    np.testing.assert_allclose(m.ad_fatigue, push / (push + 0.05), atol=1e-15)
    effects = marketing_mix.step(world, p, ThresholdRng(0.5))["market"]
    np.testing.assert_allclose(effects["ad_fatigue"], m.ad_fatigue, atol=1e-12)
    np.testing.assert_allclose(effects["promise"], m.promise, atol=1e-15)


def test_writes_only_its_fields_and_does_not_mutate_the_world(world_and_params):
    world, p = world_and_params
    before = snapshot(world)
    effects = marketing_mix.step(world, p, np.random.default_rng(0))
    assert_same_world(world, before)
    assert {k: set(v) for k, v in effects.items()} == {
        "market": {"ad_fatigue", "promise"}, "week": {"touch_intensity", "spend", "leads"}}


def test_a_customer_exactly_at_the_threshold_is_not_shielded(world_and_params):
    """Shielded iff f > θ: at f = θ the customer still hears the promise and can become a lead."""
    world, p = world_and_params
    p = p.replace(ad_fatigue_gain=0.0, ad_fatigue_recovery=0.0, ad_conversion=1.0)  # fatigue stays put
    m = world.market
    m.status[:] = PROSPECT
    m.ad_exposure = np.ones(m.size)
    m.ad_fatigue = np.full(m.size, 0.4)
    m.shield_threshold = np.where(np.arange(m.size) % 2 == 0, 0.4, 0.39)  # even: at it; odd: above it
    m.promise = np.zeros(m.size)
    effects = marketing_mix.step(world, p, ThresholdRng(0.5))  # chance min(1, 1.5 · 0.6) = 0.9 > 0.5
    even = np.arange(m.size) % 2 == 0
    assert np.array_equal(effects["week"]["leads"], np.flatnonzero(even))
    assert (effects["market"]["promise"][even] == 0.2 * 1.5 * 0.75).all()
    assert (effects["market"]["promise"][~even] == 0.0).all()


def test_no_leads_of_chance_zero_even_on_a_draw_of_zero(world_and_params):
    world, p = world_and_params
    world.market.status[:] = PROSPECT
    assert marketing_mix.step(world, p.replace(ad_conversion=0.0), ThresholdRng(0.0))["week"]["leads"].size == 0
    m = world.market
    m.ad_fatigue = np.ones(m.size)  # everyone shielded (thresholds below 0.8): chance 0
    assert marketing_mix.step(world, p, ThresholdRng(0.0))["week"]["leads"].size == 0


def test_week_zero_fatigue_without_advertising_is_zero():
    exposure = np.array([0.0, 1.0, 2.0])
    assert marketing_mix.stationary_fatigue(exposure, 0.0, 0.1, 0.05).tolist() == [0.0, 0.0, 0.0]
    assert marketing_mix.stationary_fatigue(exposure, 1.5, 0.1, 0.0).tolist() == [0.0, 1.0, 1.0]
    np.testing.assert_allclose(marketing_mix.stationary_fatigue(exposure, 1.5, 0.1, 0.05),
                               [0.0, 0.15 / 0.2, 0.3 / 0.35], rtol=1e-15)


# ------------------------------------------------------------------ the compiled pass is the rules, bit for bit
def week_by_the_rules(world, p, rng):
    """The week's advertising as whole-array rules (the module docstring's equations, in numpy's order)."""
    m = world.market
    ad_intensity, _ = marketing_mix.intensities(p.marketing_budget, p.ad_share)
    fatigue = np.clip(m.ad_fatigue + p.ad_fatigue_gain * ad_intensity * m.ad_exposure * (1.0 - m.ad_fatigue)
                      - p.ad_fatigue_recovery * m.ad_fatigue, 0.0, 1.0)
    shielded = fatigue > m.shield_threshold
    heard = p.ad_hype * ad_intensity * m.ad_exposure * (1.0 - p.purpose_clarity)
    promise = np.where(shielded, m.promise, np.maximum(p.promise_memory * m.promise, heard))
    prospects = np.flatnonzero(m.status == PROSPECT)
    pressure = p.ad_conversion * ad_intensity * m.ad_exposure[prospects] * (1.0 - fatigue[prospects])
    pressure = np.where(shielded[prospects], 0.0, np.minimum(1.0, pressure))
    return fatigue, promise, prospects[rng.random(prospects.size) < pressure]


@pytest.mark.parametrize("overrides", [
    {},
    {"marketing_budget": 80_000.0, "ad_share": 0.9, "ad_conversion": 1.0},  # shielding, and leads capped at 1
    {"initial_active_share": 1.0},  # no prospects
])
def test_the_compiled_pass_gives_the_rules_bit_for_bit(overrides):
    model = small_model(seed=6, **overrides)
    for week in range(5):
        model.step()
        rules_rng, rng = np.random.default_rng(week), np.random.default_rng(week)
        fatigue, promise, leads = week_by_the_rules(model.world, model.params, rules_rng)
        effects = marketing_mix.step(model.world, model.params, rng)
        assert rng.random() == rules_rng.random()
        assert np.array_equal(effects["market"]["ad_fatigue"], fatigue)
        assert np.array_equal(effects["market"]["promise"], promise)
        assert np.array_equal(effects["week"]["leads"], leads) and effects["week"]["leads"].dtype == np.int64
