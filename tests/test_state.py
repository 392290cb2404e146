"""The market's compiled status helpers against the numpy expressions they replace."""

import numpy as np
import pytest

from orgsim.state import ACTIVE, LOST, PROSPECT, active_with_draw_below, count_active, status_counts


def statuses(n: int, active_share: float, seed: int = 1) -> np.ndarray:
    draws = np.random.default_rng(seed).random(n)
    return np.where(draws < active_share, ACTIVE, np.where(draws < (1 + active_share) / 2, PROSPECT, LOST)).astype(np.int8)


@pytest.mark.parametrize("n, active_share", [(0, 0.5), (1, 1.0), (500, 0.0), (500, 0.3), (500, 1.0)])
def test_count_active_counts_the_active_customers(n, active_share):
    status = statuses(n, active_share)
    assert count_active(status) == np.count_nonzero(status == ACTIVE)


@pytest.mark.parametrize("n, active_share, chance", [(0, 0.5, 0.5), (500, 0.0, 0.5), (500, 0.3, 0.25),
                                                     (500, 1.0, 0.0), (500, 0.6, 1.0)])
def test_active_with_draw_below_is_the_active_customers_whose_draw_is_below_the_chance(n, active_share, chance):
    status = statuses(n, active_share)
    draws = np.random.default_rng(2).random(count_active(status))
    draws[: draws.size // 2] = chance  # a draw equal to the chance is not below it
    chosen = active_with_draw_below(status, draws, chance)
    assert chosen.dtype == np.int64
    assert np.array_equal(chosen, np.flatnonzero(status == ACTIVE)[draws < chance])


def test_status_counts_are_the_prospects_active_and_lost():
    status = np.random.default_rng(6).choice(np.array([PROSPECT, ACTIVE, LOST], dtype=np.int8), 1_001, p=[0.5, 0.3, 0.2])
    counts = status_counts(status)
    assert [counts[PROSPECT], counts[ACTIVE], counts[LOST]] == [np.count_nonzero(status == s) for s in (PROSPECT, ACTIVE, LOST)]
    assert status_counts(status[:0]).tolist() == [0, 0, 0]
