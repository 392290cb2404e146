"""``orgsim discover DIR``: scenario discovery with PRIM.

Which ranges of the varied parameters lead to an outcome, such as "more than 300 active customers
at the end"? *Scenario discovery* (Bryant & Lempert 2010) answers with a **box**: a few ranges, one
per parameter that matters, inside which the outcome is common and outside which it is rare. The
box is found by **PRIM**, the Patient Rule Induction Method of Friedman & Fisher (1999): starting
from the box that holds every case, it repeatedly *peels* off the thin slice (a share
``peel_alpha`` = 5 % of the box's cases, at the low or high end of one parameter, or one category) whose
removal raises the share of cases of interest inside the box the most per case removed; it stops
when the box would hold less than ``min_mass`` of the cases, then *pastes* back slices that raise
that share again. Each step is one box of the **peeling trajectory**, a trade-off between

* **coverage**: the share of all cases of interest that lie inside the box,
* **density**: the share of the cases inside the box that are of interest, and
* **mass**: the share of all cases that lie inside the box.

Early boxes cover almost everything but are not dense; late ones are dense but cover little. The
**quasi-p-value** of a restricted bound (Bryant & Lempert 2010) is a one-sided binomial test of
whether the box is denser than the same box without that bound: a large value says the bound
could be dropped without losing density.

PRIM itself is the EMA Workbench's (``ema_workbench.analysis.prim``, Kwakkel 2017), binary mode
with its default lenient objective (gain in density per case removed).

**Cases.** PRIM works on cases, each a point in the input space with a yes/no outcome. The inputs
are the experiment's varied parameters, plus the scenario as a categorical input when there are
several. By default (``cases="points"``) a case is a design point (of one scenario): its KPI is the
mean over the point's replications, and the outcome is that mean meeting the cut-off. The
replications of a point have the same inputs and differ only by the seed, so PRIM cannot tell them
apart: they add no resolution in the inputs, only noise in the outcome, and noisy labels make
PRIM's greedy peeling stall early or trim irrelevant parameters. Averaging first asks "where is the
*expected* KPI above the cut-off", which is what the parameters determine, and keeps the number of
cases (which sets ``min_mass`` and the quasi-p-values) equal to the number of distinct inputs.
The result also reports the *run-level* density (the share of single runs inside the box that
meet the cut-off), so the seed noise that averaging hides stays visible. ``cases="runs"`` makes
every run a case instead (density is then the probability that a single run inside the box has
the outcome, and quasi-p-values count runs; note that with common random numbers the runs of one
replication share a seed across design points, so they are not fully independent).

**The chosen box.** Bryant & Lempert leave the choice on the trajectory to the analyst; the default
here is a rule, stated in the output. Every box with density at least ``threshold`` (0.8) is a
candidate; from each, the bounds whose quasi-p-value exceeds 0.05 are dropped one at a time, the
least significant first (the quasi-p-values are recomputed after each drop), as long as the box
keeps density >= ``threshold`` (a bound that PRIM has only begun to peel can look insignificant and
still carry the density); the box's last bound is never dropped. The candidate with the highest
coverage after this wins (ties: the denser, then the one with fewer restrictions). When no box
reaches the threshold, the densest box is taken, and bounds are dropped only if that costs no
density. ``box=i`` (``--box``) takes box *i* of the trajectory instead, and drops its insignificant
bounds while it keeps the lower of its density and ``threshold``. ``drop_insignificant=False``
(``--keep-insignificant``) makes no drops.

Measured on synthetic data with a known box (the generator of tests/test_discover.py: seed noise
puts 5 % of single runs on the wrong side of the cut-off; a miss is a bound off by more than 0.1 on
silo_strength in [0, 1] or 0.05 on multiplier_share in [0, 0.3], or any restriction of the
irrelevant ad_share): with 300 design points × 3 replications, design points as cases missed in
0.5 % of 600 samples and never restricted ad_share; runs as cases missed in 2.0 % of 300 (0.7 %
restricting ad_share). With 200 points × 3: 1.0 % against 6.0 % (2 % restricting ad_share).

References: J. H. Friedman and N. I. Fisher (1999), "Bump hunting in high-dimensional data",
*Statistics and Computing* 9(2):123–143. B. P. Bryant and R. J. Lempert (2010), "Thinking inside
the box: a participatory, computer-assisted approach to scenario discovery", *Technological
Forecasting and Social Change* 77(1):34–49. J. H. Kwakkel (2017), "The Exploratory Modeling
Workbench", *Environmental Modelling & Software* 96:239–250.
"""

from __future__ import annotations

import copy
import math
import shlex
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from orgsim.errors import UserError, did_you_mean
from orgsim.experiment import DISCOVERY, DISCOVERY_FIGURE  # what it writes: named there for --fresh
from orgsim.io import atomic_write, atomic_write_text

#: The default minimum density of the chosen box.
DEFAULT_THRESHOLD = 0.8
#: The default smallest share of the cases a box may hold (PRIM's ``mass_min``).
DEFAULT_MIN_MASS = 0.05
#: A bound of the chosen box whose quasi-p-value exceeds this is dropped if the box keeps its density.
SIGNIFICANCE = 0.05
#: Fewer cases than this is refused: a 5 % peel then removes single cases, and boxes are anecdotes.
MIN_CASES = 20
CASES = ("points", "runs")
#: A numeric input with at most this many distinct values is shown with its levels inside the box.
MAX_LEVELS = 12
#: The name of the scenario input inside PRIM. (The EMA Workbench silently drops an input called
#: "scenario", its own name for a row of an experiment.)
SCENARIO_INPUT = "(scenario)"
#: How the scenario input is shown.
SCENARIO_LABEL = "scenario"

Cases = Literal["points", "runs"]


@dataclass(frozen=True)
class Restriction:
    """One input of the chosen box: its range in the data and, if restricted, the box's range.

    Numeric inputs have ``low``/``high`` (None on a side the box leaves open) and a quasi-p-value
    per restricted side; categorical ones have ``categories`` (the box's) and one quasi-p-value.
    """

    name: str
    categorical: bool
    data_low: float | None = None
    data_high: float | None = None
    low: float | None = None
    high: float | None = None
    all_categories: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    qp_low: float | None = None
    qp_high: float | None = None
    #: A numeric input with at most MAX_LEVELS distinct values in the cases (a grid, Morris levels):
    #: the values inside the box. A bound then lies anywhere between two levels.
    levels_inside: tuple[float, ...] = ()

    @property
    def restricted(self) -> bool:
        if self.categorical:
            return set(self.categories) != set(self.all_categories)
        return self.low is not None or self.high is not None

    @property
    def label(self) -> str:
        return SCENARIO_LABEL if self.name == SCENARIO_INPUT else self.name

    def describe(self) -> str:
        """The box's range as text: ``<= 0.3``, ``>= 0.1``, ``0.1 to 0.3`` or ``one of a, b``."""
        if self.categorical:
            return ("is " if len(self.categories) == 1 else "one of ") + ", ".join(self.categories)
        if self.levels_inside and self.restricted:
            return f"{self._bounds()} (design levels inside: {', '.join(map(_num, self.levels_inside))})"
        return self._bounds()

    def _bounds(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{_num(self.low)} to {_num(self.high)}"
        if self.low is not None:
            return f">= {_num(self.low)}"
        if self.high is not None:
            return f"<= {_num(self.high)}"
        return "any"

    def data_range(self) -> str:
        if self.categorical:
            return ", ".join(self.all_categories)
        return f"[{_num(self.data_low)}, {_num(self.data_high)}]"


@dataclass(frozen=True)
class Discovery:
    """The result of :func:`discover`: the question, the cases, the trajectory and the chosen box.

    ``trajectory`` has one row per box of the peeling (and pasting) trajectory with the columns
    box, coverage, density, mass, restricted (number of restricted inputs), n (cases inside) and k
    (cases of interest inside), followed by one row per dropped bound (``dropped``). ``chosen`` is
    the box of the trajectory that the rule (or ``--box``) picked; ``chosen_stats`` (coverage,
    density, mass, n, k) and ``restrictions`` describe the reported box: ``chosen`` after the drops,
    the trajectory's last row when there were any.
    """

    experiment: str
    kpi: str
    direction: Literal["above", "below"]
    cutoff: float
    week: int
    last_week: int
    cases: Cases
    n_cases: int
    n_interest: int
    n_runs: int
    n_runs_planned: int | None
    replications: int
    inputs: tuple[str, ...]
    kpi_range: tuple[float, float]
    trajectory: pd.DataFrame
    chosen: int
    rule: str
    chosen_stats: dict[str, float]
    restrictions: tuple[Restriction, ...]
    dropped: tuple[str, ...]
    run_density: float
    runs_in_box: int
    disagreeing_points: int | None
    threshold: float
    min_mass: float
    by_box: bool
    drop_insignificant: bool
    notes: tuple[str, ...]

    @property
    def outcome(self) -> str:
        return f"{self.kpi} {self.direction} {_num(self.cutoff)}"

    @property
    def restricted(self) -> tuple[Restriction, ...]:
        return tuple(r for r in self.restrictions if r.restricted)

    @property
    def unrestricted(self) -> tuple[Restriction, ...]:
        return tuple(r for r in self.restrictions if not r.restricted)

    @property
    def case_noun(self) -> str:
        return "design points" if self.cases == "points" else "runs"

    def command(self, folder: str | Path) -> str:
        """The ``orgsim discover`` command that gives this result for the results in ``folder``."""
        words = ["orgsim", "discover", str(folder), "--kpi", self.kpi, f"--{self.direction}", _num(self.cutoff)]
        if self.week != self.last_week:
            words += ["--week", str(self.week)]
        if self.cases != "points":
            words += ["--cases", self.cases]
        if self.by_box:
            words += ["--box", str(self.chosen)]
        elif self.threshold != DEFAULT_THRESHOLD:
            words += ["--threshold", f"{self.threshold:g}"]
        if self.min_mass != DEFAULT_MIN_MASS:
            words += ["--min-mass", f"{self.min_mass:g}"]
        if not self.drop_insignificant:
            words.append("--keep-insignificant")
        return " ".join(shlex.quote(word) for word in words)


def _num(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value)}"
    return f"{value:.4g}"


def _qp(value: float | None) -> str:
    return "–" if value is None else f"{value:.2g}"


# ------------------------------------------------------------------ the cases
def _outcome_mask(values: pd.Series, direction: str, cutoff: float) -> np.ndarray:
    return (values > cutoff).to_numpy() if direction == "above" else (values < cutoff).to_numpy()


def _check_question(manifest: dict[str, Any], frame: pd.DataFrame, kpi: str, above: float | None,
                    below: float | None, week: int | None, cases: str, threshold: float,
                    min_mass: float) -> tuple[Literal["above", "below"], float, int]:
    """Validate what the user asked; return (direction, cutoff, week)."""
    if (above is None) == (below is None):
        raise UserError("give exactly one of --above X or --below X (the outcome of interest is the "
                        "KPI above or below X)")
    direction: Literal["above", "below"] = "above" if above is not None else "below"
    cutoff = above if above is not None else below
    assert cutoff is not None
    if not math.isfinite(cutoff):
        raise UserError(f"--{direction} {cutoff} is not allowed; allowed: a finite number")
    if cases not in CASES:
        raise UserError(f"--cases {cases!r} is not allowed; allowed: one of {', '.join(CASES)}")
    if not 0 < threshold <= 1:
        raise UserError(f"--threshold {threshold:g} is not allowed; allowed: a density in (0, 1]")
    if not 0 < min_mass < 1:
        raise UserError(f"--min-mass {min_mass:g} is not allowed; allowed: a share of the cases in (0, 1)")
    outputs = [name for name in manifest.get("outputs", []) if name in frame.columns]
    if kpi not in outputs:
        raise UserError(f"--kpi {kpi!r} is not an output of this experiment{did_you_mean(kpi, outputs)}; "
                        f"allowed: {', '.join(outputs)}")
    if not manifest.get("varied"):
        raise UserError(f"experiment {manifest.get('experiment', '?')!r} varies no parameter (it compares "
                        "scenarios only): there is nothing to discover; PRIM needs a [grid] or [sample] "
                        "design over parameters")
    weeks = sorted(int(w) for w in frame["step"].unique())
    if week is None:
        week = weeks[-1]
    elif week not in weeks:
        shown = ", ".join(map(str, weeks)) if len(weeks) <= 12 else \
            f"{', '.join(map(str, weeks[:3]))}, ..., {', '.join(map(str, weeks[-3:]))}"
        raise UserError(f"--week {week} was not recorded; allowed: a recorded week ({shown})")
    return direction, float(cutoff), week


def _inputs(manifest: dict[str, Any], rows: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """PRIM's inputs for ``rows``: numeric varied parameters as numbers, others as text categories,
    and the scenario as a category when there are several. Inputs with one value are left out."""
    columns: dict[str, pd.Series] = {}
    for name in manifest["varied"]:
        if name not in rows.columns:
            continue
        values = rows[name]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            columns[name] = values.astype(str).astype(object)
        elif pd.api.types.is_integer_dtype(values):
            columns[name] = values.astype(np.int64)
        else:
            columns[name] = values.astype(np.float64)
    if len(manifest.get("scenarios", [])) > 1:
        columns[SCENARIO_INPUT] = rows["scenario"].astype(str).astype(object)
    x = pd.DataFrame(columns, index=rows.index)
    constant = [name for name in x.columns if x[name].nunique(dropna=False) < 2]
    if constant:
        labels = [SCENARIO_LABEL if c == SCENARIO_INPUT else c for c in constant]
        notes.append(f"Left out as inputs, since they take one value in the finished runs: {', '.join(labels)}.")
    x = x.drop(columns=constant)
    if x.empty or x.shape[1] == 0:
        raise UserError(f"experiment {manifest.get('experiment', '?')!r}: no varied parameter takes more than "
                        "one value in the finished runs, so there is nothing to discover")
    return x


def _cases(manifest: dict[str, Any], frame: pd.DataFrame, kpi: str, week: int, cases: str,
           notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """(runs, x, kpi per case, case of each run): the runs at ``week``, the cases' inputs, their KPI,
    and for each run the index of its case."""
    runs = frame.loc[frame["step"] == week].copy()
    runs["scenario"] = runs["scenario"].astype(str)
    missing = runs[kpi].isna()
    if missing.any():
        notes.append(f"{int(missing.sum())} runs have no value of {kpi} at week {week} and are left out.")
        runs = runs.loc[~missing]
    runs = runs.sort_values(["scenario", "point", "replication"], kind="stable").reset_index(drop=True)
    if cases == "runs":
        x = _inputs(manifest, runs, notes)
        return runs, x, runs[kpi].astype(float), pd.Series(np.arange(len(runs)), index=runs.index)
    keys = ["scenario", "point"]
    case_of_run = runs.groupby(keys, sort=False).ngroup()
    first = runs.groupby(keys, sort=False).head(1).reset_index(drop=True)
    x = _inputs(manifest, first, notes)
    y = runs.groupby(keys, sort=False)[kpi].mean().reset_index(drop=True).astype(float)
    return runs, x, y, case_of_run


def _check_cases(x: pd.DataFrame, y_values: pd.Series, interest: np.ndarray, cases: str,
                 n_runs: int, kpi: str, direction: str, cutoff: float) -> None:
    n = len(x)
    if n < MIN_CASES:
        hint = (f"; sample more design points, or make each of the {n_runs} runs a case with --cases runs"
                if cases == "points" and n_runs >= MIN_CASES else "; sample more design points")
        noun = "design points" if cases == "points" else "finished runs"
        raise UserError(f"too few cases for PRIM: {n} {noun}, at least {MIN_CASES} needed{hint}")
    what = "no run has" if cases == "runs" else "no design point has a mean"
    every = "every run has" if cases == "runs" else "every design point has a mean"
    span = f"range of the KPI: [{_num(float(y_values.min()))}, {_num(float(y_values.max()))}]"
    if cases == "points":
        span = f"range of the design points' means: [{_num(float(y_values.min()))}, {_num(float(y_values.max()))}]"
    if not interest.any():
        raise UserError(f"{what} {kpi} {direction} {_num(cutoff)}: the outcome never happens ({span})")
    if interest.all():
        raise UserError(f"{every} {kpi} {direction} {_num(cutoff)}: the outcome always happens, so there is "
                        f"nothing to tell apart ({span})")


# ------------------------------------------------------------------- PRIM
def _prim_module() -> Any:
    """``ema_workbench.analysis.prim``, imported quietly and without side effects on matplotlib.

    The workbench warns at import about optional packages it does not need here (ipyparallel) and
    styles plots through seaborn; both are kept out of orgsim's output and figures.
    """
    import matplotlib as mpl

    with warnings.catch_warnings(), mpl.rc_context():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def _inside(x: pd.DataFrame, lims: pd.DataFrame) -> np.ndarray:
    """Which rows of ``x`` lie in the box ``lims`` (row 0 lower, row 1 upper; categories as sets)."""
    mask = np.ones(len(x), dtype=bool)
    for name in x.columns:
        low, high = lims.loc[0, name], lims.loc[1, name]
        if isinstance(low, set):
            mask &= x[name].astype(object).isin(low).to_numpy()
        else:
            values = x[name].to_numpy(dtype=float)
            mask &= (values >= low) & (values <= high)
    return mask


def _trajectory(box: Any) -> pd.DataFrame:
    t = box.peeling_trajectory
    return pd.DataFrame({
        "box": np.arange(len(t)), "coverage": t["coverage"].to_numpy(float),
        "density": t["density"].to_numpy(float), "mass": t["mass"].to_numpy(float),
        "restricted": t["res_dim"].to_numpy(int), "n": t["n"].to_numpy(int), "k": t["k"].to_numpy(int),
    })


def _bounds(box: Any, i: int) -> list[tuple[float, str, int, bool]]:
    """The restricted bounds of box ``i``: (quasi-p, input, side 0 lower / 1 upper, categorical)."""
    init = box.box_lims[0]
    bounds = []
    for name, values in box.p_values[i].items():
        categorical = isinstance(init.loc[0, name], set)
        for side, q in enumerate(values[:1] if categorical else values):
            if q >= 0:  # the workbench's -1: this side is not restricted
                bounds.append((float(q), str(name), side, categorical))
    return bounds


def _drop_insignificant(box: Any, x: pd.DataFrame, i: int, floor: float) -> tuple[int, list[str]]:
    """Drop box ``i``'s insignificant bounds (quasi-p > SIGNIFICANCE) one at a time, the least
    significant first, recomputing the others' quasi-p-values after each drop.

    A drop is made only if the box keeps a density of at least ``floor`` (a bound that PRIM had only
    begun to peel can look insignificant and still carry the density), and the last bound is never
    dropped. Each drop adds a box to ``box``'s trajectory (the workbench's ``update``). Returns the
    final box's index and a description of each drop.
    """
    init = box.box_lims[0]
    remaining = box.prim.yi_remaining
    y = np.asarray(box.prim.y)
    dropped: list[str] = []
    while True:
        bounds = _bounds(box, i)
        if len(bounds) < 2:
            return i, dropped
        for q, name, side, categorical in sorted(bounds, reverse=True):
            if q <= SIGNIFICANCE:
                return i, dropped
            lims = box.box_lims[i]
            new = lims.copy()
            if categorical:
                new[name] = init[name]
            else:
                new.loc[side, name] = init.loc[side, name]
            indices = remaining[_inside(x.loc[remaining], new)]
            if y[indices].mean() >= floor:
                box.update(new, indices)
                i = len(box.peeling_trajectory) - 1
                dropped.append(f"{_bound_text(lims, name, side, categorical)} (quasi-p {q:.2g})")
                break
        else:
            return i, dropped


def _rank(box: Any, i: int) -> tuple[float, float, int, int]:
    """Sort key of box ``i``: the highest coverage first, then density, then fewer restrictions."""
    row = box.peeling_trajectory.iloc[i]
    return (-float(row["coverage"]), -float(row["density"]), int(row["res_dim"]), i)


def _select(found: Any, x: pd.DataFrame, threshold: float, box: int | None,
            drop: bool) -> tuple[int, int, str, list[str], float]:
    """Choose the box: (box of the peeling trajectory, final box after drops, the rule in words,
    the drops, the density floor of the drops). See the module's docstring for the rule."""
    trajectory = _trajectory(found)
    density = trajectory["density"]
    if box is not None:
        if not 0 <= box < len(trajectory):
            raise UserError(f"--box {box} is not allowed; allowed: an integer in [0, {len(trajectory) - 1}] "
                            "(the boxes of the peeling trajectory)")
        floor = min(threshold, float(density[box]))
        final, dropped = _drop_insignificant(found, x, box, floor) if drop else (box, [])
        return box, final, "chosen with --box", dropped, floor
    dense = [int(i) for i in trajectory.loc[density >= threshold, "box"]]
    if not dense:
        chosen = min(range(len(trajectory)), key=lambda i: (-float(density[i]), _rank(found, i)))
        floor = float(density[chosen])
        final, dropped = _drop_insignificant(found, x, chosen, floor) if drop else (chosen, [])
        return chosen, final, (f"no box reaches density {threshold:g}, so the densest box (lower "
                               "--threshold, or pick a box with --box)"), dropped, floor
    if not drop:
        chosen = min(dense, key=lambda i: _rank(found, i))
        return chosen, chosen, f"the box with the highest coverage among those with density >= {threshold:g}", \
            [], threshold
    # every candidate is judged after dropping its insignificant bounds (on a copy of the box, so
    # that only the chosen box's drops enter the trajectory)
    simplified = {}
    for i in dense:
        trial = copy.deepcopy(found)
        simplified[i] = _rank(trial, _drop_insignificant(trial, x, i, threshold)[0])
    chosen = min(dense, key=lambda i: simplified[i])
    final, dropped = _drop_insignificant(found, x, chosen, threshold)
    return chosen, final, (f"of the boxes with density >= {threshold:g}, each without the bounds whose "
                           f"quasi-p-value exceeds {SIGNIFICANCE:g} (dropped while its density stays >= "
                           f"{threshold:g}), the one with the highest coverage"), dropped, threshold


def _bound_text(lims: pd.DataFrame, name: str, side: int, categorical: bool) -> str:
    """One bound of a box as text: ``silo_strength <= 0.3`` or ``scenario in {a, b}``."""
    if categorical:
        return f"{_label(name)} in {{{', '.join(sorted(map(str, lims.loc[0, name])))}}}"
    return f"{_label(name)} {'>=' if side == 0 else '<='} {_num(lims.loc[side, name])}"


def _label(name: str) -> str:
    return SCENARIO_LABEL if name == SCENARIO_INPUT else name


def _restrictions(box: Any, x: pd.DataFrame, i: int) -> tuple[Restriction, ...]:
    init, lims, qps = box.box_lims[0], box.box_lims[i], box.p_values[i]
    out = []
    for name in x.columns:
        qp = qps.get(name, [-1, -1])
        if isinstance(init.loc[0, name], set):
            everything = tuple(sorted(map(str, init.loc[0, name])))
            kept = tuple(sorted(map(str, lims.loc[0, name])))
            out.append(Restriction(name=name, categorical=True, all_categories=everything, categories=kept,
                                   qp_low=float(qp[0]) if qp[0] >= 0 else None))
            continue
        lo0, hi0, lo, hi = (float(v) for v in (init.loc[0, name], init.loc[1, name],
                                               lims.loc[0, name], lims.loc[1, name]))
        values = np.unique(x[name].to_numpy(dtype=float))
        inside = tuple(float(v) for v in values if lo <= v <= hi) if len(values) <= MAX_LEVELS else ()
        out.append(Restriction(
            name=name, categorical=False, data_low=lo0, data_high=hi0,
            low=lo if lo != lo0 else None, high=hi if hi != hi0 else None,
            qp_low=float(qp[0]) if qp[0] >= 0 else None, qp_high=float(qp[1]) if qp[1] >= 0 else None,
            levels_inside=inside))
    return tuple(out)


def discover(manifest: dict[str, Any], frame: pd.DataFrame, kpi: str, *, above: float | None = None,
             below: float | None = None, week: int | None = None, cases: str = "points",
             threshold: float = DEFAULT_THRESHOLD, min_mass: float = DEFAULT_MIN_MASS,
             box: int | None = None, drop_insignificant: bool = True) -> Discovery:
    """Find the ranges of the varied parameters in which ``kpi`` is above (or below) a cut-off.

    ``manifest`` and ``frame`` are what :func:`orgsim.experiment.read_results` returns. The outcome
    of a run is its ``kpi`` at ``week`` (default: the last recorded week) compared with the cut-off
    (strictly: ``> above`` or ``< below``; give exactly one). See the module's docstring for the
    cases (``"points"``, the default, or ``"runs"``), the PRIM run and the rule that chooses the
    box (``threshold``, ``box``, ``drop_insignificant``). Raises :class:`UserError` for a question
    that cannot be answered: an unknown KPI or week, a design without varied parameters, too few
    cases, an outcome that never or always happens.
    """
    direction, cutoff, week = _check_question(manifest, frame, kpi, above, below, week, cases,
                                              threshold, min_mass)
    notes: list[str] = []
    runs, x, y_values, case_of_run = _cases(manifest, frame, kpi, week, cases, notes)
    interest = _outcome_mask(y_values, direction, cutoff)
    _check_cases(x, y_values, interest, cases, len(runs), kpi, direction, cutoff)

    prim = _prim_module()
    cases_x = x.reset_index(drop=True)
    search = prim.Prim(cases_x, interest.astype(int), mass_min=min_mass)
    found = search.find_box()
    chosen, final, rule, dropped, floor = _select(found, cases_x, threshold, box, drop_insignificant)
    trajectory = _trajectory(found)  # with the boxes of the drops, if any
    weak = [f"{_bound_text(found.box_lims[final], name, side, categorical)} (quasi-p {q:.2g})"
            for q, name, side, categorical in _bounds(found, final) if q > SIGNIFICANCE]
    if weak:
        if not drop_insignificant:
            why = "--keep-insignificant kept them"
        elif len(_bounds(found, final)) == 1:
            why = "kept, since it is the box's only restriction (the box may be chance)"
        else:
            why = f"kept, since dropping any of them would take the box's density below {floor:.3g}"
        notes.append(f"Not significant at {SIGNIFICANCE:g} (quasi-p): {', '.join(weak)}; {why}.")
    stats_row = found.peeling_trajectory.iloc[final]
    chosen_stats = {"coverage": float(stats_row["coverage"]), "density": float(stats_row["density"]),
                    "mass": float(stats_row["mass"]), "n": int(stats_row["n"]), "k": int(stats_row["k"])}
    restrictions = _restrictions(found, cases_x, final)

    inside_cases = np.flatnonzero(_inside(cases_x, found.box_lims[final]))
    runs_inside = runs.loc[case_of_run.isin(inside_cases).to_numpy()]
    run_interest = _outcome_mask(runs_inside[kpi], direction, cutoff)
    disagreeing = None
    if cases == "points":
        per_run = pd.Series(_outcome_mask(runs[kpi], direction, cutoff), index=runs.index)
        disagreeing = int((per_run.groupby(case_of_run).nunique() > 1).sum())
    if interest.sum() < 10:
        notes.append(f"Only {int(interest.sum())} cases have the outcome: treat the box as a hint.")
    return Discovery(
        experiment=str(manifest.get("experiment", "")), kpi=kpi, direction=direction,
        cutoff=cutoff, week=week, last_week=int(frame["step"].max()), cases=cast(Cases, cases),
        n_cases=len(x), n_interest=int(interest.sum()), n_runs=len(runs),
        n_runs_planned=manifest.get("n_runs"), replications=int(manifest.get("replications", 1)),
        inputs=tuple(x.columns), kpi_range=(float(y_values.min()), float(y_values.max())),
        trajectory=trajectory, chosen=chosen, rule=rule, chosen_stats=chosen_stats,
        restrictions=restrictions, dropped=tuple(dropped),
        run_density=float(run_interest.mean()) if len(runs_inside) else float("nan"),
        runs_in_box=len(runs_inside), disagreeing_points=disagreeing, threshold=threshold,
        min_mass=min_mass, by_box=box is not None, drop_insignificant=drop_insignificant, notes=tuple(notes),
    )


# ------------------------------------------------------------------ output
def summary(result: Discovery) -> str:
    """A few lines for the terminal: the question, the chosen box and its restrictions."""
    s = result.chosen_stats
    which = f"box {result.chosen}" + (" with insignificant bounds dropped" if result.dropped else "")
    lines = [
        f"{result.outcome} at week {result.week}: {result.n_interest} of {result.n_cases} "
        f"{result.case_noun} have it",
        f"chosen {which}: coverage {s['coverage']:.2f}, density {s['density']:.2f}, mass {s['mass']:.2f}",
    ]
    for r in result.restricted:
        qps = ", ".join(_qp(q) for q in (r.qp_low, r.qp_high) if q is not None)
        lines.append(f"  {r.label} {r.describe()} (quasi-p {qps})")
    if not result.restricted:
        lines.append("  no restriction")
    if result.unrestricted:
        lines.append(f"  unrestricted: {', '.join(r.label for r in result.unrestricted)}")
    return "\n".join(lines)


def _figure(result: Discovery, path: Path) -> None:
    """Coverage against density of every box of the trajectory; the chosen box marked."""
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm
    from matplotlib.figure import Figure

    t = result.trajectory
    peeled = t.iloc[: _peeling_length(result)]
    fig = Figure(figsize=(7.2, 5.0))  # drawn without pyplot: the user's backend is left alone
    ax = fig.subplots()
    ax.plot(peeled["coverage"], peeled["density"], color="0.75", linewidth=1, zorder=1)
    levels = int(t["restricted"].max()) + 1
    norm = BoundaryNorm(np.arange(levels + 1) - 0.5, levels)
    points = ax.scatter(peeled["coverage"], peeled["density"], c=peeled["restricted"],
                        cmap=colormaps["viridis"].resampled(levels), norm=norm, s=22, zorder=2)
    colorbar = fig.colorbar(points, ax=ax, ticks=range(levels))
    colorbar.set_label("restricted parameters")
    ax.axhline(result.threshold, color="0.5", linestyle="--", linewidth=0.8, zorder=0,
               label=f"density threshold {result.threshold:g}")
    s = result.chosen_stats
    if result.dropped:
        first = t.iloc[result.chosen]
        ax.scatter([first["coverage"]], [first["density"]], s=150, facecolors="none", edgecolors="tab:red",
                   linewidths=1.2, zorder=3, label=f"box {result.chosen} as peeled")
        label = f"chosen: box {result.chosen} without its insignificant bounds"
    else:
        label = f"chosen: box {result.chosen}"
    ax.scatter([s["coverage"]], [s["density"]], marker="*", s=260, color="tab:red", edgecolors="black",
               linewidths=0.6, zorder=4, label=label)
    ax.legend(loc="lower left", fontsize=8)
    ax.set(xlabel="coverage (share of the cases of interest inside the box)",
           ylabel="density (share of the box's cases that are of interest)",
           xlim=(-0.02, 1.04), ylim=(-0.02, 1.04))
    ax.set_title(f"PRIM peeling trajectory: {result.outcome} ({result.n_cases} {result.case_noun})", fontsize=10)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def _peeling_length(result: Discovery) -> int:
    """The boxes PRIM found; the boxes after them are the chosen box's drops of insignificant bounds."""
    return len(result.trajectory) - len(result.dropped)


def markdown(result: Discovery, figure: str | None = None, command: str | None = None) -> str:
    """The Markdown of ``discovery.md``; ``figure`` is the figure's path relative to it."""
    s = result.chosen_stats
    week = (f"week {result.week} (the last recorded week)" if result.week == result.last_week
            else f"week {result.week}")
    planned = f" of {result.n_runs_planned}" if result.n_runs_planned else ""
    if result.cases == "points":
        cases = (f"**{result.n_cases} design points**, each a case with the mean of {result.kpi} over its "
                 f"replications ({result.n_runs}{planned} finished runs, {result.replications} replications "
                 "planned per point)")
    else:
        cases = f"**{result.n_runs}{planned} runs**, each a case"
    inputs = ", ".join(f"`{_label(name)}`" for name in result.inputs)
    lo, hi = result.kpi_range
    spread = (f"the design points' means of {result.kpi} range over" if result.cases == "points"
              else f"{result.kpi} ranges over")
    parts = [
        f"# Scenario discovery: {result.experiment}\n",
        f"Outcome of interest: **{result.outcome}** at {week}. Cases: {cases}; "
        f"**{result.n_interest} of {result.n_cases}** have the outcome "
        f"({result.n_interest / result.n_cases:.0%}; {spread} [{_num(lo)}, {_num(hi)}]). "
        f"Inputs: {inputs}.\n",
    ]
    if command:
        parts.append(f"Made by `{command}`.\n")

    parts.append("## The chosen box\n")
    how = f"Box {result.chosen} of the peeling trajectory: {result.rule}."
    if result.dropped:
        how += (f" Dropped from box {result.chosen} as not significant (quasi-p > {SIGNIFICANCE:g}), "
                f"in this order: {'; '.join(result.dropped)}.")
    parts.append(how + "\n")
    parts.append("| coverage | density | mass | cases in the box | of interest | restricted parameters |\n"
                 "|---|---|---|---|---|---|\n"
                 f"| {s['coverage']:.3f} | {s['density']:.3f} | {s['mass']:.3f} | {s['n']} | {s['k']} | "
                 f"{len(result.restricted)} |\n")
    if result.restricted:
        rows = ["| parameter | range in the data | box | quasi-p (lower bound) | quasi-p (upper bound) |",
                "|---|---|---|---|---|"]
        for r in result.restricted:
            rows.append(f"| `{r.label}` | {r.data_range()} | **{r.describe()}** | {_qp(r.qp_low)} | "
                        f"{_qp(r.qp_high)} |")
        parts.append("\n".join(rows) + "\n")
    else:
        parts.append("The box restricts no parameter.\n")
    if result.unrestricted:
        parts.append("Unrestricted (any value in the design will do): "
                     + ", ".join(f"`{r.label}`" for r in result.unrestricted) + ".\n")
    if result.cases == "points" and result.runs_in_box:
        parts.append(f"Single runs: {result.run_density:.0%} of the {result.runs_in_box} runs inside the box "
                     f"have {result.outcome} on their own (the box's density over runs rather than design "
                     f"points); the replications of {result.disagreeing_points} of the {result.n_cases} "
                     "design points disagree about the outcome.\n")
    for note in result.notes:
        parts.append(f"_Note:_ {note}\n")

    parts.append("## Peeling trajectory\n")
    if figure:
        parts.append(f"![coverage against density of every box, the chosen box marked]({figure})\n")
    rows = ["| box | coverage | density | mass | restricted parameters | cases | of interest |",
            "|---|---|---|---|---|---|---|"]
    for row in result.trajectory.itertuples(index=False):
        mark = ""
        if row.box == result.chosen:
            mark = " (chosen)" if not result.dropped else " (chosen by the rule)"
        if result.dropped and row.box == len(result.trajectory) - 1:
            mark = " (chosen, insignificant bounds dropped)"
        elif row.box >= _peeling_length(result):
            mark = " (a bound dropped)"
        rows.append(f"| {row.box}{mark} | {row.coverage:.3f} | {row.density:.3f} | {row.mass:.3f} | "
                    f"{row.restricted} | {row.n} | {row.k} |")
    parts.append("\n".join(rows) + "\n")

    parts.append("## How to read this\n")
    parts.append(
        "PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999), here the EMA Workbench's, "
        "starts from the box holding every case and repeatedly peels off the thin slice (5 % of the "
        "box's cases at one end of one parameter, or one category) whose removal makes the box densest per "
        "case removed, until the box would hold less than "
        f"{result.min_mass:g} of the cases; each step is a box of the trajectory above. "
        "**Coverage** is the share of all cases of interest inside the box, **density** the share of "
        "the box's cases that are of interest, **mass** the share of all cases inside the box. "
        "Coverage falls and density rises along the trajectory: choose the trade-off that suits the "
        "question (`--box N`, `--threshold D`). The **quasi-p-value** of a bound (Bryant & Lempert "
        "2010) is a one-sided binomial test of whether the box is denser than the same box without "
        "that bound; a large value says the bound does not matter. Boxes are descriptions of this "
        "design's cases, not causal claims: a parameter the design did not vary cannot appear, and "
        "bounds are only as fine as the design's points.\n")
    if result.cases == "points":
        parts.append(
            "Each design point is one case, its KPI the mean over its replications: replications share "
            "their inputs and differ only by the seed, so as separate cases they would add noise to the "
            "outcome without adding information about the inputs (`--cases runs` makes every run a "
            "case).\n")
    parts.append(
        "References: J. H. Friedman and N. I. Fisher (1999), Bump hunting in high-dimensional data, "
        "*Statistics and Computing* 9:123–143. B. P. Bryant and R. J. Lempert (2010), Thinking inside "
        "the box, *Technological Forecasting and Social Change* 77:34–49. J. H. Kwakkel (2017), The "
        "Exploratory Modeling Workbench, *Environmental Modelling & Software* 96:239–250.\n")
    return "\n".join(parts)


def write_discovery(out: Path, result: Discovery) -> tuple[Path, Path]:
    """Write ``out/discovery.md`` and ``out/figures/discovery.png`` (each atomically); return both."""
    figure = out / "figures" / DISCOVERY_FIGURE
    _figure(result, figure)
    path = out / DISCOVERY
    atomic_write_text(path, markdown(result, f"{figure.parent.name}/{figure.name}", result.command(out)))
    return path, figure
