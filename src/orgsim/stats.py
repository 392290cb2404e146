"""Statistics for replicated runs: means with confidence intervals (SciPy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class MeanCI:
    mean: float
    low: float
    high: float
    n: int

    def overlaps(self, other: MeanCI) -> bool:
        return self.low <= other.high and other.low <= self.high


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> MeanCI:
    """Student-t confidence interval of the mean of independent replications."""
    values = np.asarray(values, dtype=float)
    n = values.size
    mean = float(values.mean())
    if n < 2:
        return MeanCI(mean, mean, mean, n)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * stats.sem(values))
    return MeanCI(mean, mean - half, mean + half, n)


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Welch's t statistic and two-sided p-value (unequal variances)."""
    result = stats.ttest_ind(a, b, equal_var=False)
    return float(result.statistic), float(result.pvalue)


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    """Standardised mean difference (b − a) / pooled SD."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    pooled = np.sqrt(((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2))
    return float((b.mean() - a.mean()) / pooled) if pooled > 0 else float("inf") * np.sign(b.mean() - a.mean())
