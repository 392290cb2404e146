"""Statistics for replicated runs: the building blocks of :mod:`orgsim.analysis` (SciPy, statsmodels).

* :func:`mean_ci`: the mean of independent replications with its Student-t confidence interval;
* :func:`paired_comparison`: scenario B against scenario A when replication r of both used the same
  seed (common random numbers): paired t test, Wilcoxon signed-rank test and Hedges' g_z;
* :func:`welch_comparison`: the same without pairing (Welch t test, Mann–Whitney U test, Hedges'
  g_s), for when pairing is impossible;
* :func:`holm`: Holm–Bonferroni adjusted p-values for a family of tests;
* :func:`ci_half_width` and :func:`replications_needed`: how precise a mean is with n
  replications, and how many replications a target precision needs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize, special, stats


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


# ------------------------------------------------------------- effect sizes
def hedges_correction(df: float) -> float:
    """Hedges' small-sample bias correction J(df) = Γ(df/2) / (√(df/2) · Γ((df − 1)/2)).

    A standardised mean difference d estimated with ``df`` degrees of freedom overestimates |δ|;
    g = J(df) · d is (nearly) unbiased. J(2) = 0.56, J(9) = 0.91, J(29) = 0.97, J → 1.
    """
    return float(np.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / np.sqrt(df / 2))


def noncentral_t_ci(t: float, df: float, confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval of the noncentrality λ of a t statistic (Steiger & Fouladi 1997).

    The bounds solve P(T ≤ t | λ_low) = 1 − α/2 and P(T ≤ t | λ_high) = α/2 for the noncentral
    t distribution with ``df`` degrees of freedom (SciPy's ``nct``). Dividing them by the factor
    that turns δ into λ gives the exact confidence interval of a standardised mean difference δ
    for normal data. Where SciPy's ``nct`` cannot be inverted (|t| in the thousands) the normal
    approximation λ ± z·√(1 + t²/(2·df)) is used.
    """
    if not np.isfinite(t):
        return math.nan, math.nan
    if t < 0:
        low, high = noncentral_t_ci(-t, df, confidence)
        return -high, -low
    alpha = 1 - confidence
    spread = math.sqrt(1 + t * t / (2 * df))
    width = 10 * spread + 10

    def excess(nc: float, q: float) -> float:
        return float(stats.nct.cdf(t, df, nc)) - q

    try:
        low = optimize.brentq(excess, t - width, t + width, args=(1 - alpha / 2,))
        high = optimize.brentq(excess, t - width, t + width, args=(alpha / 2,))
    except ValueError:  # nct.cdf is NaN or not bracketed: far in the tails
        z = float(stats.norm.ppf(1 - alpha / 2))
        return t - z * spread, t + z * spread
    return float(low), float(high)


# -------------------------------------------------------------- comparisons
@dataclass(frozen=True)
class Comparison:
    """Scenario B against the reference scenario A, on one output: B − A.

    ``paired`` tells which tests were used: paired t test, Wilcoxon signed-rank test and Hedges'
    g_z (paired), or Welch t test, Mann–Whitney U test and Hedges' g_s (unpaired). ``low``/``high``
    bound the confidence interval of the mean difference, ``g_low``/``g_high`` that of the
    population effect size δ. ``note`` explains a degenerate case (tests undefined).
    """

    paired: bool
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    difference: float
    low: float
    high: float
    p_t: float
    p_rank: float
    g: float
    g_low: float
    g_high: float
    note: str = ""


def paired_comparison(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> Comparison:
    """B − A for paired replications (``a[i]`` and ``b[i]`` share a seed).

    * mean difference with its Student-t confidence interval and the paired t test (one-sample t
      test of the differences, SciPy ``ttest_1samp``);
    * Wilcoxon signed-rank test of the differences (SciPy ``wilcoxon``: exact for small n without
      ties; zero differences dropped), which does not assume normal differences. With n ≤ 5 pairs
      it cannot reach p < 0.05;
    * Hedges' g_z: the mean difference over the SD of the differences, times Hedges' J(n − 1)
      (Lakens 2013's d_z, bias-corrected). This is the repeated-measures effect size the paired
      test sees; with common random numbers the SD of the differences is small, so g_z is larger
      than the between-scenario g_s of an unpaired design. Its confidence interval is exact for
      normal differences (noncentral t, :func:`noncentral_t_ci`).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.size < 2:
        raise ValueError(f"paired comparison needs two equal-length arrays of at least 2 values, got {a.size} and {b.size}")
    d = b - a
    n = d.size
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    base = Comparison(paired=True, n_a=n, n_b=n, mean_a=float(a.mean()), mean_b=float(b.mean()), difference=mean,
                      low=mean, high=mean, p_t=math.nan, p_rank=math.nan, g=math.nan, g_low=math.nan, g_high=math.nan)
    if sd == 0 or not np.isfinite(sd):
        if mean == 0:
            # 0/0: no test and no effect size is defined (and none joins a Holm family)
            return replace(base, note="identical in every pair: tests undefined")
        return replace(base, note="the same difference in every pair: tests undefined")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "precision loss" for nearly equal differences
        t_test = stats.ttest_1samp(d, 0.0)
        ci = t_test.confidence_interval(confidence)
        p_rank = float(stats.wilcoxon(d).pvalue) if np.any(d != 0) else 1.0
    t = float(t_test.statistic)
    lam_low, lam_high = noncentral_t_ci(t, n - 1, confidence)
    root = math.sqrt(n)
    return replace(base, low=float(ci.low), high=float(ci.high), p_t=float(t_test.pvalue), p_rank=p_rank,
                   g=hedges_correction(n - 1) * mean / sd, g_low=lam_low / root, g_high=lam_high / root)


def welch_comparison(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> Comparison:
    """B − A for independent replications: the fallback when runs cannot be paired.

    Welch's t test and its confidence interval of the difference (unequal variances, SciPy
    ``ttest_ind``), the Mann–Whitney U test, and Hedges' g_s (difference over the pooled SD, times
    J(n_a + n_b − 2)) with its exact noncentral-t confidence interval.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 2 or b.size < 2:
        raise ValueError(f"an unpaired comparison needs at least 2 values per group, got {a.size} and {b.size}")
    diff = float(b.mean() - a.mean())
    base = Comparison(paired=False, n_a=a.size, n_b=b.size, mean_a=float(a.mean()), mean_b=float(b.mean()),
                      difference=diff, low=diff, high=diff, p_t=math.nan, p_rank=math.nan, g=math.nan, g_low=math.nan,
                      g_high=math.nan)
    df = a.size + b.size - 2
    pooled = math.sqrt(((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / df)
    if pooled == 0:
        if diff == 0:
            return replace(base, p_t=1.0, p_rank=1.0, g=0.0, g_low=0.0, g_high=0.0,
                           note="no variation within either scenario")
        return replace(base, note="no variation within either scenario: tests undefined")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t_test = stats.ttest_ind(b, a, equal_var=False)
        ci = t_test.confidence_interval(confidence)
        p_rank = float(stats.mannwhitneyu(b, a, alternative="two-sided").pvalue)
    d = diff / pooled
    scale = math.sqrt(a.size * b.size / (a.size + b.size))  # λ = δ · scale
    lam_low, lam_high = noncentral_t_ci(d * scale, df, confidence)
    return replace(base, low=float(ci.low), high=float(ci.high), p_t=float(t_test.pvalue), p_rank=p_rank,
                   g=hedges_correction(df) * d, g_low=lam_low / scale, g_high=lam_high / scale)


def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values: the k-th smallest of m p-values times (m − k + 1), made
    non-decreasing in that order and capped at 1.

    Controls the family-wise error rate over all the tests given, without assuming them
    independent. NaN (an undefined test) stays NaN and does not count toward the family's size.
    The same numbers as statsmodels' ``multipletests(p, method="holm")`` (tests/test_stats.py
    checks it), computed here because statsmodels runs a full ``gc.collect()`` on every call
    (0.1–0.3 s in a process holding a results frame).
    """
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    defined = np.flatnonzero(np.isfinite(p))
    if defined.size:
        order = defined[np.argsort(p[defined], kind="stable")]
        steps = p[order] * np.arange(order.size, 0, -1)
        adjusted[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    return adjusted


# ---------------------------------------------------- replication adequacy
def ci_half_width(sd: float, n: int, confidence: float = 0.95) -> float:
    """Half-width t(1 − α/2, n − 1) · sd / √n of the Student-t confidence interval of a mean."""
    if n < 2:
        return math.inf
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n))


def replications_needed(sd: float, target: float, confidence: float = 0.95, n_max: int = 1_000_000) -> int:
    """The smallest n ≥ 2 whose confidence interval half-width :func:`ci_half_width` is ≤ ``target``.

    Uses the observed SD as if it were the true one (a planning estimate, not a guarantee).
    Starts from the normal approximation (z · sd / target)², a lower bound since t > z, and
    counts up. Returns ``n_max`` when even that is not enough.
    """
    if not np.isfinite(sd) or not np.isfinite(target) or target <= 0:
        raise ValueError(f"need a finite SD and a positive target, got sd={sd}, target={target}")
    if sd == 0:
        return 2
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    n = max(2, math.ceil((z * sd / target) ** 2))
    while n < n_max and ci_half_width(sd, n, confidence) > target:
        n += 1
    return min(n, n_max)
