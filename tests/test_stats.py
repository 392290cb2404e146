import numpy as np
import pytest

from orgsim.stats import cohens_d, mean_ci, welch


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
    t, p = welch(a, b)
    assert t < 0 and p < 1e-4
    assert cohens_d(a, b) == pytest.approx(10 / np.std(a, ddof=1))
