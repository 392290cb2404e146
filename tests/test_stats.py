import math

import numpy as np
import pytest
from scipy import stats

from orgsim.stats import (
    ci_half_width,
    hedges_correction,
    holm,
    mean_ci,
    noncentral_t_ci,
    paired_comparison,
    replications_needed,
    welch_comparison,
)


def test_mean_ci_matches_textbook():
    ci = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    # mean 2.5, sd 1.291, se 0.6455, t(0.975, 3) = 3.1824
    assert ci.mean == 2.5
    assert ci.high - ci.mean == pytest.approx(3.1824 * 0.6455, rel=1e-3)


@pytest.mark.slow
def test_ci_covers_true_mean_about_95_percent():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        ci = mean_ci(rng.normal(1.0, 2.0, 20))
        hits += ci.low <= 1.0 <= ci.high
    assert 0.93 < hits / 2000 < 0.97


def test_welch_and_effect_size():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = a + 10
    unpaired = welch_comparison(a, b)
    assert unpaired.difference == 10 and unpaired.p_t < 1e-4
    assert unpaired.g == pytest.approx(hedges_correction(6) * 10 / np.std(a, ddof=1))


def test_hedges_correction_known_values():
    # J(df) = Γ(df/2) / (√(df/2) Γ((df-1)/2)): J(3) = Γ(1.5)/√1.5 = 0.72360, J(9) = 0.91387
    assert hedges_correction(3) == pytest.approx(0.72360, abs=1e-5)
    assert hedges_correction(9) == pytest.approx(0.91387, abs=1e-5)
    assert hedges_correction(1000) == pytest.approx(1 - 3 / (4 * 1000 - 1), abs=1e-6)


def test_paired_comparison_matches_hand_computation():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([2.0, 4.0, 5.0, 5.0])
    c = paired_comparison(a, b)
    # differences 1, 2, 2, 1: mean 1.5, sd 0.57735, se 0.288675, t = 5.19615 on 3 df
    assert c.paired and c.n_a == c.n_b == 4 and c.difference == 1.5
    assert (c.low, c.high) == pytest.approx((1.5 - 3.18245 * 0.288675, 1.5 + 3.18245 * 0.288675), rel=1e-5)
    assert c.p_t == pytest.approx(2 * stats.t.sf(5.19615, 3), rel=1e-4)
    assert c.p_rank == pytest.approx(0.125)  # exact signed-rank: all 4 differences positive, 2/2^4
    assert c.g == pytest.approx(0.72360 * 1.5 / 0.57735, rel=1e-4)  # Hedges' g_z = J(3) d_z
    assert c.g_low < c.g < c.g_high


def test_pairing_detects_a_difference_the_unpaired_test_misses():
    """Common random numbers: a large seed effect shared by both scenarios hides a small difference
    from an unpaired test; pairing by seed removes it."""
    rng = np.random.default_rng(1)
    seed_effect = rng.normal(0, 10, 10)
    a = seed_effect + rng.normal(0, 0.1, 10)
    b = seed_effect + 0.5 + rng.normal(0, 0.1, 10)
    paired, unpaired = paired_comparison(a, b), welch_comparison(a, b)
    assert paired.p_t < 1e-5 and paired.p_rank < 0.01
    assert unpaired.p_t > 0.5 and unpaired.p_rank > 0.05
    assert paired.low > 0 and unpaired.low < 0 < unpaired.high
    assert not unpaired.paired and unpaired.g_low < 0 < unpaired.g_high


def test_degenerate_pairs_are_said_not_tested():
    same = paired_comparison(np.ones(5), np.ones(5))
    assert np.isnan(same.p_t) and np.isnan(same.p_rank) and np.isnan(same.g)
    assert same.note == "identical in every pair: tests undefined"
    shifted = paired_comparison(np.ones(5), np.ones(5) + 2)
    assert math.isnan(shifted.p_t) and "tests undefined" in shifted.note and shifted.difference == 2


def test_noncentral_t_ci_inverts_the_cdf_and_is_symmetric():
    low, high = noncentral_t_ci(2.5, 9)
    assert stats.nct.cdf(2.5, 9, low) == pytest.approx(0.975, abs=1e-6)
    assert stats.nct.cdf(2.5, 9, high) == pytest.approx(0.025, abs=1e-6)
    assert noncentral_t_ci(-2.5, 9) == pytest.approx((-high, -low))
    zero = noncentral_t_ci(0.0, 1000)
    assert zero == pytest.approx((-1.96, 1.96), abs=0.01)  # large df: the normal limit
    huge_low, huge_high = noncentral_t_ci(1500.0, 29)  # common random numbers can make t this large
    assert huge_low < 1500 < huge_high and np.isfinite(huge_low) and np.isfinite(huge_high)


@pytest.mark.slow
@pytest.mark.parametrize("paired", [True, False])
def test_hedges_g_ci_covers_the_true_effect_about_95_percent(paired):
    """δ_z = 0.8 for paired differences (SD of differences 1), δ_s = 0.8 between groups (SD 1)."""
    rng = np.random.default_rng(7 if paired else 8)
    trials, hits = 400, 0
    for _ in range(trials):
        a = rng.normal(0, 1, 10)
        b = a + rng.normal(0.8, 1, 10) if paired else rng.normal(0.8, 1, 12)
        c = paired_comparison(a, b) if paired else welch_comparison(a, b)
        hits += c.g_low <= 0.8 <= c.g_high
    # binomial(400, 0.95): SD 0.011; the band is ±2.75 SD (fails < 0.6 % for a correct interval)
    assert 0.92 <= hits / trials <= 0.98


def test_holm_against_a_hand_checked_case():
    # sorted 0.005, 0.01, 0.03, 0.04 × 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # an undefined test stays undefined and does not enlarge the family
    adjusted = holm([0.01, math.nan, 0.04])
    assert adjusted[0] == pytest.approx(0.02) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.04)
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_replications_needed_is_the_smallest_n_meeting_the_target():
    # t(0.975, 17) / √18 = 0.4973 <= 0.5 < t(0.975, 16) / √17 = 0.5142
    assert replications_needed(1.0, 0.5) == 18
    assert ci_half_width(1.0, 18) <= 0.5 < ci_half_width(1.0, 17)
    assert replications_needed(2.0, 1.0) == 18  # scale-free
    assert replications_needed(0.0, 0.1) == 2
    n = replications_needed(1.0, 0.1)  # ±0.1 SD: about (1.96 / 0.1)² = 385
    assert ci_half_width(1.0, n) <= 0.1 < ci_half_width(1.0, n - 1) and 384 <= n <= 390
    with pytest.raises(ValueError):
        replications_needed(1.0, 0.0)


@pytest.mark.slow
def test_holm_equals_statsmodels_multipletests():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 40):
        p = rng.uniform(0, 0.2, size) ** 2
        p[rng.integers(size)] = p.min()  # a tie
        assert holm(p) == pytest.approx(multipletests(p, method="holm")[1], abs=1e-15)
