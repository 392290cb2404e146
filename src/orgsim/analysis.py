"""The statistics of ``orgsim report``: pure functions from an experiment's results to tables.

Every function takes the manifest and the frame of :func:`orgsim.experiment.read_results` (or the
frame's final rows, :func:`final_values`) and returns a pandas DataFrame or a small dataclass;
:mod:`orgsim.report` turns them into Markdown and figures. Vocabulary:

* a **cell** is one (scenario, design point); a **run** is one (cell, replication);
* the **final** value of an output is its value at the run's last recorded week;
* replication r uses the same seed in every cell (**common random numbers**), so the runs of two
  cells are **paired** by replication: comparing paired runs removes the seed's share of the
  noise. When the seeds of a replication differ between cells (which orgsim never does), the
  comparisons fall back to unpaired tests and say so.

The sections of the report and the function behind each:

=====================================  ============================================================
scenario against the reference          :func:`compare_scenarios` (paired t, Wilcoxon, Hedges' g_z,
                                        Holm over every output × comparison)
cells of a grid                         :func:`cell_summary`, :func:`factor_anovas` (OLS, type II
                                        ANOVA, partial η², Holm)
Sobol / Morris / Latin designs          :func:`sensitivity` (indices with CIs, seed-noise floor,
                                        warnings)
time to an event                        :func:`parse_event`, :func:`event_times`,
                                        :func:`event_summary` (Kaplan–Meier)
replication adequacy                    :func:`replication_adequacy`
=====================================  ============================================================
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from orgsim.errors import UserError, did_you_mean
from orgsim.stats import (
    Comparison,
    ci_half_width,
    holm,
    mean_ci,
    paired_comparison,
    replications_needed,
    welch_comparison,
)

CONFIDENCE = 0.95
#: Trajectory bands and time-to-event curves are drawn per cell when there are at most this many
#: cells; otherwise per scenario at the reference design point (:func:`reference_point`).
MAX_CELL_GROUPS = 8


# ------------------------------------------------------------------ the data
def final_values(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its last recorded week (the order of ``frame`` is kept)."""
    last = frame.groupby("run_id", sort=False)["step"].transform("max")
    return frame[frame["step"] == last]


def common_random_numbers(frame: pd.DataFrame) -> bool:
    """True when every replication has a single seed in every cell (so runs pair by replication)."""
    return bool(frame.groupby("replication")["seed"].nunique().le(1).all())


def is_sampled(manifest: dict[str, Any]) -> bool:
    """A SALib design (Morris, Sobol, Latin hypercube) rather than a grid."""
    return "method" in manifest["design"]


def design_factors(manifest: dict[str, Any]) -> list[str]:
    """The varied parameters that take two or more values (a grid list of one value is a setting)."""
    design = manifest["design"]
    if "grid" in design:  # in the experiment file's order (the manifest's design may be sorted)
        return [name for name in manifest["varied"] if len(design["grid"].get(name, [])) > 1]
    return list(manifest["varied"])


def point_label(manifest: dict[str, Any], point: int) -> str:
    """``silo_strength=0.4, multiplier_share=0.05`` (the parameters that vary); ``-`` if none do."""
    values = manifest["points"][point]
    names = [name for name in design_factors(manifest) if name in values]
    if not names:
        return "-"
    return ", ".join(f"{name}={short_value(values[name])}" for name in names)


def short_value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def reference_point(manifest: dict[str, Any]) -> int:
    """The design point nearest the centre of the design: the one shown when cells are too many.

    Each varied parameter is placed on [0, 1]: a grid's levels by their position in the grid's
    list (the middle level is 0.5; with an even number of levels the lower middle one wins the
    tie), a sampled parameter by its range. The point with the smallest squared distance to the
    centre is returned, the first one on ties.
    """
    points = manifest["points"]
    if len(points) <= 1:
        return 0
    design = manifest["design"]

    def position(name: str, value: Any) -> float:
        if "grid" in design:
            levels = list(design["grid"][name])
            return levels.index(value) / (len(levels) - 1) if len(levels) > 1 and value in levels else 0.5
        low, high = design["ranges"][name]
        return (float(value) - low) / (high - low) if high > low else 0.5

    # rounded: 1/3 and 2/3 are equally far from 0.5, and the first of them should win
    distance = [round(sum((position(n, p[n]) - 0.5) ** 2 for n in design_factors(manifest)), 9) for p in points]
    return int(np.argmin(distance))


@dataclass(frozen=True)
class Groups:
    """How runs are grouped for trajectory bands and time-to-event curves.

    ``frame`` is the part of the results shown (all of it, or the ``reference`` design point), with a
    ``group`` column; ``description`` says which in one sentence.
    """

    frame: pd.DataFrame
    description: str
    per_cell: bool
    reference: int | None = None  # the design point shown, when only one of several is


def trajectory_groups(manifest: dict[str, Any], frame: pd.DataFrame) -> Groups:
    """Groups that never pool design points: per cell when few, else per scenario at one point.

    A single design point: one group per scenario. Up to :data:`MAX_CELL_GROUPS` cells: one group
    per cell. More: one group per scenario at :func:`reference_point`.
    """
    n_points = len(manifest["points"])
    scenarios = list(dict.fromkeys(frame["scenario"]))
    if n_points <= 1:
        out = frame.assign(group=frame["scenario"])
        return Groups(out, "one band per scenario (the experiment has a single design point)", False)
    if n_points * len(scenarios) <= MAX_CELL_GROUPS:
        labels = frame["point"].map(lambda p: point_label(manifest, int(p)))
        out = frame.assign(group=frame["scenario"] + " (" + labels + ")")
        return Groups(out, f"one band per cell (scenario × design point, {n_points * len(scenarios)} cells)", True)
    ref = reference_point(manifest)
    out = frame[frame["point"] == ref]
    out = out.assign(group=out["scenario"])
    return Groups(out, f"one band per scenario at the reference design point {ref} ({point_label(manifest, ref)}), "
                       f"the point nearest the centre of the design; the design has {n_points} points, "
                       "too many to draw each, and bands never pool design points", False, ref)


# ----------------------------------------------------- scenario comparisons
def compare_scenarios(final: pd.DataFrame, manifest: dict[str, Any], outputs: Sequence[str]) -> pd.DataFrame:
    """Each scenario against the first (the reference): B − A on every output's final value.

    Where: at each design point (single point or grid). For a sampled design (Morris, Sobol,
    Latin) with several points, at the replication level after averaging each run's output over
    the design's points ("design average"): replication r's design average is a function of its
    seed only, so the design averages pair by replication too.

    Pairing: by replication, over the replications both scenarios finished, when the seeds are
    shared (:func:`common_random_numbers`) and at least two pairs exist; then
    :func:`orgsim.stats.paired_comparison`. Otherwise :func:`orgsim.stats.welch_comparison` and
    the ``note`` says why. Holm's correction runs over every row of the table (all outputs ×
    comparisons × design points), separately for the t tests (``p_t_holm``) and the rank tests
    (``p_rank_holm``).

    Columns: output, point (−1 for the design average), where, scenario, reference, method,
    n_ref, n, mean_ref, mean, difference, ci_low, ci_high, p_t, p_rank, g, g_low, g_high, note,
    p_t_holm, p_rank_holm.
    """
    scenarios = [s for s in manifest["scenarios"] if s in set(final["scenario"])]
    columns = ["output", "point", "where", "scenario", "reference", "method", "n_ref", "n", "mean_ref", "mean",
               "difference", "ci_low", "ci_high", "p_t", "p_rank", "g", "g_low", "g_high", "note"]
    if len(scenarios) < 2:
        return pd.DataFrame(columns=[*columns, "p_t_holm", "p_rank_holm"])
    reference = scenarios[0]
    crn = common_random_numbers(final)
    if is_sampled(manifest) and len(manifest["points"]) > 1:
        n_points = len(manifest["points"])
        complete = final.groupby(["scenario", "replication"])["point"].transform("nunique") == n_points
        units = final[complete].groupby(["scenario", "replication"], sort=False)[list(outputs)].mean().reset_index()
        units["point"] = -1
        wheres = {-1: f"design average ({n_points} points)"}
    else:
        units = final
        wheres = {p: point_label(manifest, p) for p in sorted(set(final["point"]))}
    rows = []
    for point, where in wheres.items():
        at = units[units["point"] == point]
        ref = at[at["scenario"] == reference].set_index("replication")
        for scenario in scenarios[1:]:
            other = at[at["scenario"] == scenario].set_index("replication")
            common = ref.index.intersection(other.index)
            paired = crn and len(common) >= 2
            for output in outputs:
                a = (ref.loc[common, output] if paired else ref[output]).to_numpy(dtype=float)
                b = (other.loc[common, output] if paired else other[output]).to_numpy(dtype=float)
                row = {"output": output, "point": point, "where": where, "scenario": scenario, "reference": reference}
                if paired:
                    c = paired_comparison(a, b, CONFIDENCE)
                elif a.size >= 2 and b.size >= 2:
                    c = welch_comparison(a, b, CONFIDENCE)
                    why = ("the seeds of a replication differ between the scenarios" if not crn
                           else "fewer than two replications finished in both scenarios")
                    c = _with_note(c, f"unpaired: {why}")
                else:
                    rows.append({**row, "method": "none", "n_ref": a.size, "n": b.size,
                                 "note": "fewer than two runs in a scenario: no test"})
                    continue
                rows.append({**row, "method": "paired" if c.paired else "Welch", "n_ref": c.n_a, "n": c.n_b,
                             "mean_ref": c.mean_a, "mean": c.mean_b, "difference": c.difference,
                             "ci_low": c.low, "ci_high": c.high, "p_t": c.p_t, "p_rank": c.p_rank, "g": c.g,
                             "g_low": c.g_low, "g_high": c.g_high, "note": c.note})
    table = pd.DataFrame(rows, columns=columns)
    table["p_t_holm"] = holm(table["p_t"].to_numpy(dtype=float))
    table["p_rank_holm"] = holm(table["p_rank"].to_numpy(dtype=float))
    return table


def _with_note(c: Comparison, note: str) -> Comparison:
    return replace(c, note="; ".join(x for x in (note, c.note) if x))


# ------------------------------------------------------------ grid analyses
def cell_summary(final: pd.DataFrame, manifest: dict[str, Any], outputs: Sequence[str]) -> pd.DataFrame:
    """Per output and cell (scenario × design point): n, mean, SD and the 95 % Student-t CI of the mean.

    Never pools design points. Columns: output, scenario, point, where, the varied parameters,
    n, mean, sd, ci_low, ci_high.
    """
    rows = []
    for (scenario, point), cell in final.groupby(["scenario", "point"], sort=False):
        values = manifest["points"][int(point)]
        for output in outputs:
            x = cell[output].to_numpy(dtype=float)
            ci = mean_ci(x, CONFIDENCE)
            rows.append({"output": output, "scenario": scenario, "point": int(point),
                         "where": point_label(manifest, int(point)), **values, "n": x.size, "mean": ci.mean,
                         "sd": float(x.std(ddof=1)) if x.size > 1 else math.nan,
                         "ci_low": ci.low if x.size > 1 else math.nan, "ci_high": ci.high if x.size > 1 else math.nan})
    return pd.DataFrame(rows)


def grid_factors(final: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """The factors of a grid's ANOVA: varied parameters with two or more levels, and ``scenario``
    when there are two or more scenarios."""
    factors = [name for name in manifest["varied"] if final[name].nunique() > 1]
    if final["scenario"].nunique() > 1:
        factors.insert(0, "scenario")
    return factors


def factor_anova(final: pd.DataFrame, manifest: dict[str, Any], output: str) -> tuple[pd.DataFrame, str]:
    """Type II ANOVA of one output's final value on the grid's factors (statsmodels OLS, ``anova_lm``).

    Model: every factor (:func:`grid_factors`) as categorical, all their two-way interactions, and
    the replication as a block (an additive term) when seeds are shared — common random numbers
    make replication r a block of runs with the same seed, and the block takes the seed's share
    of the noise out of the residual. Interactions are dropped when they would leave no residual
    degrees of freedom, then the block. Type II sums of squares (each term adjusted for the others
    that do not contain it; equal to type I and III for a balanced grid).

    Effect size: partial η² = SS_term / (SS_term + SS_residual), the share of the variance not
    explained by the other terms that this term explains.

    Returns (table, formula text); the table has columns term, df, sum_sq, F, p, partial_eta_sq and
    a Residual row, and is empty (with the reason as the second value) when no model can be fit.
    """
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    factors = grid_factors(final, manifest)
    if not factors:
        return pd.DataFrame(), "no factor has two or more levels"
    y = final[output].to_numpy(dtype=float)
    if np.nanstd(y) == 0:
        return pd.DataFrame(), "the output is the same in every run"
    data = pd.DataFrame({"y": y})
    names = {}
    for i, factor in enumerate(factors):
        data[f"f{i}"] = final[factor].astype(str).to_numpy()
        names[f"C(f{i})"] = factor
    levels = [data[f"f{i}"].nunique() for i in range(len(factors))]
    block = final["replication"].nunique() > 1 and common_random_numbers(final)
    if block:
        data["block"] = final["replication"].to_numpy()
        names["C(block)"] = "replication (block)"
    mains = [f"C(f{i})" for i in range(len(factors))]
    pairs = [(i, j) for i in range(len(factors)) for j in range(i + 1, len(factors))]
    n = len(data)

    def residual_df(with_pairs: bool, with_block: bool) -> int:
        used = 1 + sum(k - 1 for k in levels)
        used += sum((levels[i] - 1) * (levels[j] - 1) for i, j in pairs) if with_pairs else 0
        used += data["block"].nunique() - 1 if with_block else 0
        return n - used

    choice = next(((p, b) for p, b in ((True, block), (False, block), (False, False)) if residual_df(p, b) > 0), None)
    if choice is None:
        return pd.DataFrame(), "too few runs for any residual degrees of freedom"
    with_pairs, with_block = choice
    terms = mains + ([f"C(f{i}):C(f{j})" for i, j in pairs] if with_pairs else []) + (["C(block)"] if with_block else [])
    model = smf.ols("y ~ " + " + ".join(terms), data=data).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        table = anova_lm(model, typ=2)
    residual_ss = float(table.loc["Residual", "sum_sq"])

    def rename(term: str) -> str:
        return " × ".join(names.get(part, part) for part in term.split(":")) if term != "Residual" else term

    out = pd.DataFrame({
        "term": [rename(t) for t in table.index], "df": table["df"].to_numpy(),
        "sum_sq": table["sum_sq"].to_numpy(), "F": table["F"].to_numpy(), "p": table["PR(>F)"].to_numpy(),
    })
    out["partial_eta_sq"] = np.where(out["term"] == "Residual", np.nan, out["sum_sq"] / (out["sum_sq"] + residual_ss))
    out.attrs.update(r_squared=float(model.rsquared), n=n, df_resid=float(model.df_resid))
    readable = " + ".join(rename(t) for t in terms)
    return out, f"{output} ~ {readable}"


def factor_anovas(final: pd.DataFrame, manifest: dict[str, Any], outputs: Sequence[str]) -> pd.DataFrame:
    """:func:`factor_anova` for every output in one long table, with Holm-adjusted p-values (``p_holm``)
    over every term of every output (the block and residual rows excluded from the family).

    Extra columns: output, model (the formula), n, r_squared, note (why an output has no model).
    """
    parts = []
    for output in outputs:
        table, formula = factor_anova(final, manifest, output)
        if table.empty:
            parts.append(pd.DataFrame([{"output": output, "note": formula}]))
            continue
        table.insert(0, "output", output)
        table["model"] = formula
        table["n"] = table.attrs["n"]
        table["r_squared"] = table.attrs["r_squared"]
        table["note"] = ""
        parts.append(table)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if out.empty or "term" not in out:
        return out
    tested = out["term"].notna() & ~out["term"].isin(["Residual", "replication (block)"])
    out["p_holm"] = np.nan
    out.loc[tested, "p_holm"] = holm(out.loc[tested, "p"].to_numpy(dtype=float))
    return out


# ------------------------------------------------------ sensitivity indices
@dataclass(frozen=True)
class Sensitivity:
    """One output's sensitivity indices for a sampled design, with what limits their reading.

    ``table``: one row per parameter. Sobol: S1, S1_conf, ST, ST_conf; Morris: mu_star,
    mu_star_conf, sigma, mu; Latin: rho, p, p_holm (Spearman). ``_conf`` columns are SALib's
    half-widths of 95 % bootstrap confidence intervals. ``below_floor`` marks indices not
    distinguishable from seed noise.

    ``noise_share``: the share of the variance of the design-point means that seed noise accounts
    for (NaN with one replication per point). ``noise_floor``: the largest index (ST for Sobol,
    μ* for Morris) that pure seed noise of the observed size produces in 95 % of simulations.
    ``warnings``: why some or all indices should not be read as parameter effects.
    """

    output: str
    scenario: str
    method: str
    table: pd.DataFrame
    n_points: int
    replications: int
    noise_share: float
    noise_floor: float
    warnings: tuple[str, ...]


#: Simulations of pure seed noise behind each noise floor.
NOISE_SIMULATIONS = 100


def _point_means(final: pd.DataFrame, output: str, n_points: int) -> tuple[np.ndarray, float, int]:
    """Point means (NaN for a missing point), the seed-noise variance of a point mean, replications."""
    grouped = final.groupby("point")[output]
    means = grouped.mean().reindex(range(n_points)).to_numpy(dtype=float)
    counts = grouped.count().reindex(range(n_points)).fillna(0).to_numpy()
    replications = int(counts.min()) if counts.size else 0
    if counts.size and counts.min() >= 2:
        noise_var = float(np.mean(grouped.var(ddof=1).reindex(range(n_points)).to_numpy() / counts))
    else:
        noise_var = math.nan
    return means, noise_var, replications


def sensitivity(final: pd.DataFrame, manifest: dict[str, Any], output: str, scenario: str) -> Sensitivity:
    """Sensitivity indices of one output in one scenario, on the replication means of each point.

    The replications of each design point are averaged first (the indices are of the expected
    output, not of one seed's). Then, with SALib and the design's own ``problem``:

    * Sobol (Saltelli sampling, first-order and total indices S1, ST with bootstrap CIs);
    * Morris (elementary effects: μ*, its bootstrap CI, σ, μ);
    * Latin hypercube: Spearman's ρ of each parameter with the output (SciPy), Holm-adjusted over
      the parameters.

    Seed noise. The within-point variance of the replications, divided by their number, is the
    noise variance σ²_n of a point mean; ``noise_share`` = σ²_n / variance of the point means.
    Pure noise of variance σ²_n adds about ``noise_share`` to every Sobol ST (Jansen's estimator)
    and gives Morris μ* ≈ E|ε₁ − ε₂| / Δ. The noise floor is the 95th percentile of the index over
    :data:`NOISE_SIMULATIONS` designs whose output is pure Gaussian noise of that size (SALib on
    the same design; for Sobol the noise-only indices are scaled by ``noise_share``, since SALib
    normalises by the output's own variance). The noise is simulated independent between points,
    which is conservative: with common random numbers the noise of two points is positively
    correlated and cancels partly in their differences.

    Warnings (each one sentence, in ``warnings``): one replication per point (no noise
    estimate); seed noise above half the variance; ΣS1 above 1 or negative indices beyond their
    CI (too few base samples); ΣST above 2 (far above 1: strong interactions or estimation error);
    CIs wider than the index; indices below the noise floor.
    """
    design = manifest["design"]
    method = design["method"]
    problem = design["problem"]
    n_points = len(manifest["points"])
    cell = final[final["scenario"] == scenario]
    y, noise_var, replications = _point_means(cell, output, n_points)
    names = list(problem["names"])
    empty = Sensitivity(output, scenario, method, pd.DataFrame({"parameter": names}), n_points, replications,
                        math.nan, math.nan, ())
    if np.isnan(y).any():
        return replace(empty, warnings=("Some design points have no finished run: no indices.",))
    total_var = float(np.var(y, ddof=1))
    if total_var == 0:
        return replace(empty, warnings=("The output is the same at every design point: no indices.",))
    noise_share = noise_var / total_var if np.isfinite(noise_var) else math.nan
    x = np.array([[p[name] for name in names] for p in manifest["points"]], dtype=float)
    notes: list[str] = []
    if replications < 2:
        notes.append("One replication per design point: seed noise cannot be estimated or averaged out, so the "
                     "indices mix parameter effects with seed noise and are not interpretable on their own.")
    elif noise_share >= 1:
        notes.append(f"The point means vary no more than seed noise alone would make them vary (noise estimate "
                     f"{100 * noise_share:.0f} % of their variance): the indices measure noise; run more replications "
                     "per point.")
    elif noise_share > 0.5:
        notes.append(f"Seed noise accounts for {100 * noise_share:.0f} % of the variance of the point means: most of "
                     "what the indices measure is noise; run more replications per point.")
    floor = math.nan
    if method == "sobol":
        from SALib.analyze import sobol

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = sobol.analyze(problem, y, calc_second_order=False, seed=0)
        table = pd.DataFrame({"parameter": names, **{key: _plain(result[key]) for key in ("S1", "S1_conf", "ST", "ST_conf")}})
        if np.isfinite(noise_share):
            floor = _unit_noise_floor("sobol", problem, x, 0) * noise_share
            table["below_floor"] = table["ST"] < floor
        s1_sum, st_sum = float(table["S1"].sum()), float(table["ST"].sum())
        if s1_sum > 1.1:
            notes.append(f"ΣS1 = {s1_sum:.2f} exceeds 1, which first-order indices cannot: estimation error; more base "
                         "samples (n) are needed.")
        if st_sum > 2:
            notes.append(f"ΣST = {st_sum:.2f}, far above 1: strong interactions or (more likely with few base samples) "
                         "estimation error.")
        negative = table[(table["S1"] < -table["S1_conf"]) | (table["ST"] < -table["ST_conf"])]
        if len(negative):
            notes.append(f"{len(negative)} parameter(s) have an index below zero beyond its CI: estimation error.")
        wide = int((table["S1_conf"] > table["S1"].abs()).sum() + (table["ST_conf"] > table["ST"].abs()).sum())
        if wide:
            notes.append(f"{wide} of {2 * len(names)} indices have a 95 % CI half-width wider than the index itself.")
    elif method == "morris":
        from SALib.analyze import morris

        levels = int(design.get("num_levels", 4))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = morris.analyze(problem, x, y, num_levels=levels, seed=0)
        table = pd.DataFrame({"parameter": names, **{key: _plain(result[key]) for key in ("mu_star", "mu_star_conf", "sigma", "mu")}})
        if np.isfinite(noise_var):
            floor = _unit_noise_floor("morris", problem, x, levels) * math.sqrt(noise_var)  # μ* scales with the SD
            table["below_floor"] = table["mu_star"] < floor
        wide = int((table["mu_star_conf"] > table["mu_star"]).sum())
        if wide:
            notes.append(f"{wide} of {len(names)} μ* have a 95 % CI half-width wider than μ* itself.")
    else:
        rho = [sps.spearmanr(x[:, i], y) for i in range(x.shape[1])]
        table = pd.DataFrame({"parameter": names, "rho": [float(r.statistic) for r in rho],
                              "p": [float(r.pvalue) for r in rho]})
        table["p_holm"] = holm(table["p"].to_numpy(dtype=float))
    if "below_floor" in table:
        below = table.loc[table["below_floor"], "parameter"].tolist()
        if below:
            index = "ST" if method == "sobol" else "μ*"
            notes.append(f"{len(below)} of {len(names)} parameters have {index} below the seed-noise floor "
                         f"({floor:.3g}): not distinguishable from noise ({', '.join(below[:6])}"
                         f"{', …' if len(below) > 6 else ''}).")
    return Sensitivity(output, scenario, method, table, n_points, replications, noise_share, floor, tuple(notes))


_NOISE_FLOORS: dict[tuple[str, str, bytes, int], float] = {}


def _unit_noise_floor(method: str, problem: dict[str, Any], x: np.ndarray, levels: int) -> float:
    """The 95th percentile of ST (Sobol) or μ* (Morris) over every parameter and
    :data:`NOISE_SIMULATIONS` outputs of pure standard-normal noise on this design (SALib).

    It depends on the design only, so it is computed once per design and kept: Sobol's ST of
    noise is scale-free, Morris' μ* of noise of SD σ is σ times this value.
    """
    key = (method, repr(problem), np.ascontiguousarray(x).tobytes(), levels)
    if key not in _NOISE_FLOORS:
        from SALib.analyze import morris, sobol

        if len(_NOISE_FLOORS) > 32:  # a long-lived process reporting on many designs
            _NOISE_FLOORS.clear()

        rng = np.random.default_rng(0)
        nulls = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k in range(NOISE_SIMULATIONS):
                z = rng.standard_normal(len(x))
                if method == "sobol":
                    nulls.append(_plain(sobol.analyze(problem, z, calc_second_order=False, num_resamples=2, seed=k)["ST"]))
                else:
                    nulls.append(_plain(morris.analyze(problem, x, z, num_levels=levels, num_resamples=2, seed=k)["mu_star"]))
        _NOISE_FLOORS[key] = float(np.nanquantile(np.concatenate(nulls), 0.95))
    return _NOISE_FLOORS[key]


def _plain(values: Any) -> np.ndarray:
    """SALib's results (sometimes masked arrays) as plain float arrays, NaN where masked."""
    return np.asarray(np.ma.filled(np.ma.asarray(values, dtype=float), np.nan))


# ---------------------------------------------------------- time to event
@dataclass(frozen=True)
class Event:
    """``output`` first goes below (``<``) or above (``>``) ``value``; with ``relative`` the value is
    a percentage of the run's own value at its first recorded week (week 0)."""

    output: str
    op: str
    value: float
    relative: bool
    text: str

    def describe(self) -> str:
        direction = "below" if self.op == "<" else "above"
        if self.relative:
            change = abs(100 - self.value)
            if (self.op == "<") == (self.value < 100):
                movement = "falls" if self.op == "<" else "rises"
                return f"`{self.output}` first {movement} {change:g} % {direction} its week-0 level"
            return f"`{self.output}` first goes {direction} {self.value:g} % of its week-0 level"
        return f"`{self.output}` first goes {direction} {self.value:g}"


#: The events analysed when ``--event`` is not given (those whose output was recorded).
DEFAULT_EVENTS = ("active_customers<90%", "active_customers>110%", "trust_sales_in_marketing<90%")
EVENT_HELP = ('OUTPUT<VALUE or OUTPUT>VALUE, e.g. "active_customers<450", or a percentage of the run\'s '
              'week-0 value, e.g. "active_customers<90%"')
_EVENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*([<>])\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(%?)\s*$")


def parse_event(text: str) -> Event:
    """``"active_customers<450"`` or ``"active_customers<90%"`` → :class:`Event`; UserError otherwise."""
    match = _EVENT.match(text)
    if not match:
        raise UserError(f"--event {text!r}: expected {EVENT_HELP}")
    output, op, value, percent = match.groups()
    number = float(value)
    if percent and number < 0:
        raise UserError(f"--event {text!r}: a percentage of the week-0 value must not be negative; expected {EVENT_HELP}")
    return Event(output, op, number, bool(percent), text.strip())


def check_events(events: Iterable[Event], outputs: Sequence[str]) -> None:
    """UserError for an event on an output the experiment did not record, naming those it did."""
    for event in events:
        if event.output not in outputs:
            raise UserError(f"--event {event.text!r}: unknown output {event.output!r}{did_you_mean(event.output, outputs)}; "
                            f"allowed: the outputs this experiment recorded: {', '.join(outputs)}")


def event_times(frame: pd.DataFrame, event: Event) -> pd.DataFrame:
    """Per run: the first recorded week at which the event holds, or its last week if it never does.

    Columns: run_id, scenario, point, replication, baseline (the week-0 value), threshold, week,
    crossed (False: censored at ``week``, the run's last recorded week). With a relative event a
    run whose week-0 value is not positive has no threshold and is left out. Resolution: the
    recorded weeks (``record_every``); an event at week 0 means the condition held from the start.
    """
    rows = []
    for run_id, run in frame.groupby("run_id", sort=False):
        run = run.sort_values("step")
        values = run[event.output].to_numpy(dtype=float)
        steps = run["step"].to_numpy()
        baseline = float(values[0])
        if event.relative:
            if baseline <= 0:
                continue
            threshold = event.value / 100 * baseline
        else:
            threshold = event.value
        hit = values < threshold if event.op == "<" else values > threshold
        crossed = bool(hit.any())
        first = run.iloc[0]
        rows.append({"run_id": run_id, "scenario": first["scenario"], "point": int(first["point"]),
                     "replication": int(first["replication"]), "baseline": baseline, "threshold": threshold,
                     "week": int(steps[int(np.argmax(hit))] if crossed else steps[-1]), "crossed": crossed})
    return pd.DataFrame(rows, columns=["run_id", "scenario", "point", "replication", "baseline", "threshold",
                                       "week", "crossed"])


def survival_curve(times: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier curve of "not yet crossed" (statsmodels ``SurvfuncRight``) as step coordinates
    (weeks, share), starting at (0, 1) and ending at the last week observed."""
    from statsmodels.duration.survfunc import SurvfuncRight

    weeks = times["week"].to_numpy(dtype=float)
    fit = SurvfuncRight(weeks, times["crossed"].to_numpy(dtype=int))
    x = np.concatenate([[0.0], fit.surv_times, [weeks.max()]])
    y = np.concatenate([[1.0], fit.surv_prob, [fit.surv_prob[-1] if len(fit.surv_prob) else 1.0]])
    if len(fit.surv_times) and fit.surv_times[0] == 0:  # crossed at week 0: the curve starts below 1
        x, y = x[1:], y[1:]
    return x, y


def event_summary(times: pd.DataFrame, group: pd.Series) -> pd.DataFrame:
    """Per group: runs, events, share never crossed (Wilson 95 % CI), Kaplan–Meier median week with
    its 95 % CI (statsmodels ``SurvfuncRight``; censored at each run's last week), and the log-rank
    test (statsmodels ``survdiff``) against the first group.

    The log-rank test treats the groups as independent; with common random numbers they are
    positively correlated, which makes the test conservative. ``median`` is NaN when fewer than
    half the runs crossed ("not reached"); ``median_high`` is infinite when the CI is open.
    """
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff
    from statsmodels.stats.proportion import proportion_confint

    times = times.assign(group=group.reindex(times.index).to_numpy())
    order = list(dict.fromkeys(times["group"]))
    rows = []
    first = times[times["group"] == order[0]] if order else times
    for name in order:
        part = times[times["group"] == name]
        n, events = len(part), int(part["crossed"].sum())
        never_low, never_high = proportion_confint(n - events, n, alpha=1 - CONFIDENCE, method="wilson")
        median, low, high = math.nan, math.nan, math.nan
        if events:
            fit = SurvfuncRight(part["week"].to_numpy(dtype=float), part["crossed"].to_numpy(dtype=int))
            median = float(fit.quantile(0.5))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                low, high = (float(v) for v in fit.quantile_ci(0.5, alpha=1 - CONFIDENCE))
        p = math.nan
        if name != order[0] and (events or first["crossed"].any()):
            both = pd.concat([first, part])
            try:
                p = float(survdiff(both["week"].to_numpy(dtype=float), both["crossed"].to_numpy(dtype=int),
                                   (both["group"] == name).to_numpy(dtype=int))[1])
            except np.linalg.LinAlgError:
                p = math.nan
        rows.append({"group": name, "n": n, "events": events, "never": (n - events) / n if n else math.nan,
                     "never_low": never_low, "never_high": never_high, "median": median, "median_low": low,
                     "median_high": high, "p_logrank": p})
    return pd.DataFrame(rows)


# ----------------------------------------------------- replication adequacy
#: Target precision of a mean: ±5 % of it, or ±0.1 SD when that is wider (a mean near 0).
RELATIVE_TARGET, SD_TARGET = 0.05, 0.1


def replication_adequacy(final: pd.DataFrame, manifest: dict[str, Any], outputs: Sequence[str],
                         relative_target: float = RELATIVE_TARGET, sd_target: float = SD_TARGET) -> pd.DataFrame:
    """How precise each output's final mean is at the replications run, and how many would reach a target.

    Target half-width of the 95 % CI: ``relative_target`` × |mean|, or ``sd_target`` × SD when that
    is wider — a relative target is meaningless for a mean near 0 (when |mean| < 2 SD with the
    defaults). n needed: :func:`orgsim.stats.replications_needed` with the observed SD (Student t).

    Per output and scenario: for a single design point or a grid, each cell separately and the
    cell needing the most replications reported (``where``); for a sampled design, the SD pooled
    over the design points (a point's own SD from its few replications is too unstable) and the
    mean of the point means. Columns: output, scenario, where, n, mean, sd, half_width,
    half_width_pct, target, rule, n_needed.
    """
    rows = []
    pooled = is_sampled(manifest) and len(manifest["points"]) > 1
    for scenario in [s for s in manifest["scenarios"] if s in set(final["scenario"])]:
        runs = final[final["scenario"] == scenario]
        for output in outputs:
            candidates = []
            if pooled:
                grouped = runs.groupby("point")[output]
                counts = grouped.count()
                dof = int((counts - 1).clip(lower=0).sum())
                sd = float(np.sqrt(((counts - 1) * grouped.var(ddof=1).fillna(0)).sum() / dof)) if dof else math.nan
                candidates.append((f"pooled over {len(counts)} design points", int(counts.min()),
                                   float(grouped.mean().mean()), sd))
            else:
                for point, cell in runs.groupby("point", sort=False):
                    x = cell[output].to_numpy(dtype=float)
                    sd = float(x.std(ddof=1)) if x.size > 1 else math.nan
                    candidates.append((point_label(manifest, int(point)), x.size, float(x.mean()), sd))
            best: dict[str, Any] | None = None
            for where, n, mean, sd in candidates:
                row = _adequacy_row(output, scenario, where, n, mean, sd, relative_target, sd_target)
                if best is None or (row["n_needed"] > best["n_needed"]) or math.isnan(best["n_needed"]):
                    best = row
            if best is not None:
                rows.append(best)
    return pd.DataFrame(rows)


def _adequacy_row(output: str, scenario: str, where: str, n: int, mean: float, sd: float,
                  relative_target: float, sd_target: float) -> dict[str, Any]:
    row: dict[str, Any] = {"output": output, "scenario": scenario, "where": where, "n": n, "mean": mean, "sd": sd,
                           "half_width": math.nan, "half_width_pct": math.nan, "target": math.nan, "rule": "",
                           "n_needed": math.nan}
    if n < 2 or not np.isfinite(sd):
        return row
    half = ci_half_width(sd, n, CONFIDENCE)
    if sd == 0:
        row.update(half_width=0.0, half_width_pct=0.0 if mean else math.nan, rule="no variation between replications",
                   n_needed=2)
        return row
    relative, absolute = relative_target * abs(mean), sd_target * sd
    target, rule = (relative, f"±{100 * relative_target:g} % of the mean") if relative >= absolute else (absolute, f"±{sd_target:g} SD")
    row.update(half_width=half, half_width_pct=100 * half / abs(mean) if mean else math.nan, target=target, rule=rule,
               n_needed=replications_needed(sd, target, CONFIDENCE))
    return row
