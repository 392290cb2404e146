"""``orgsim report DIR``: a Markdown report with PNG figures for an experiment's results.

The statistics come from :mod:`orgsim.analysis` (pure functions returning tables); this module
only lays them out. The report, in order:

1. **Headline**: one line per key output and finding, then the size of the experiment;
2. **Trajectories**: mean and 95 % CI band per scenario, never pooled over design points;
3. **End of run** (one design point): means per scenario and each scenario against the first,
   paired by replication (paired t, Wilcoxon signed-rank, Hedges' g_z, Holm-adjusted p-values);
4. **Grid** (several grid points): per-cell means, an ANOVA of each output on the factors
   (partial η²), heat maps for two factors, and per-point paired comparisons;
5. **Sensitivity** (Morris / Sobol / Latin): indices with their CIs, a seed-noise floor and
   warnings where the indices cannot be read;
6. **Time to event**: the week an output first crosses a threshold (Kaplan–Meier);
7. **Replication adequacy**: CI half-widths at the replications run and the n a target needs;
8. **Methods**: a paragraph to paste into a paper;
9. **Appendix**: the same tables for every other recorded output.

Key outputs (:data:`HEADLINE_KPIS`) are in the body, every other recorded output in the appendix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from orgsim import analysis as an
from orgsim.analysis import short_value
from orgsim.experiment import (
    DISCOVERY,
    GRID_FIGURE,
    REPLICATIONS_FIGURE,
    REPORT,
    SENSITIVITY_FIGURE,
    TIME_TO_EVENT_FIGURE,
    TRAJECTORIES_FIGURE,
    read_results,
)
from orgsim.io import atomic_write
from orgsim.stats import ci_half_width, holm

#: Every figure the report may write into DIR/figures/.
FIGURES = (TRAJECTORIES_FIGURE, GRID_FIGURE, SENSITIVITY_FIGURE, TIME_TO_EVENT_FIGURE, REPLICATIONS_FIGURE)
#: Shown in the body when an experiment keeps them; every other output goes to the appendix.
HEADLINE_KPIS = ("mean_attitude", "offer_fit", "trust_sales_in_marketing", "service_quality",
                 "net_promoter_score", "active_customers", "revenue", "referrals", "negative_reviews")
#: When an experiment keeps none of HEADLINE_KPIS, its first outputs are the key ones.
MAX_KEY_OUTPUTS = 9
ALPHA = 0.05


# ------------------------------------------------------------------ format
def _num(x: float) -> str:
    """Four significant digits, thousands separated: 123,108 · 0.2315 · −3.775 · 1.2e-07."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    if magnitude < -4:
        return f"{x:.2e}"
    decimals = max(0, 3 - magnitude)
    return f"{x:,.{decimals}f}"


def _p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "–"
    return "< 0.0001" if p < 1e-4 else f"{p:.2g}"


def _p_is(p: float) -> str:
    """``p = 0.013`` or ``p < 0.0001``."""
    text = _p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _week(x: float) -> str:
    return f"{x:g}" if np.isfinite(x) else ("∞" if x > 0 else "–")


def _percent(share: float) -> str:
    return f"{100 * share:.0f} %" if np.isfinite(share) else "–"


def _ci(low: float, high: float) -> str:
    return f"[{_num(low)}, {_num(high)}]"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _save(fig: Figure, figures: Path, name: str, alt: str) -> str:
    fig.tight_layout()
    path = figures / name
    fig.savefig(path, dpi=100)
    return f"![{alt}]({path.parent.name}/{path.name})\n"


def _grid_of_axes(n: int, cols: int, width: float, height: float) -> tuple[Figure, list[Any]]:
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    from matplotlib.figure import (
        Figure,  # here: importing the report's statistics needs no matplotlib
    )

    fig = Figure(figsize=(width * cols, height * rows))  # drawn without pyplot: the user's backend is left alone
    axes = list(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.axis("off")
    return fig, axes[:n]


# ------------------------------------------------------------- trajectories
def _trajectories(groups: an.Groups, outputs: list[str], figures: Path) -> str:
    fig, axes = _grid_of_axes(len(outputs), 3, 5.5, 3.6)
    counts = groups.frame.groupby("group", sort=False)["run_id"].nunique()
    for ax, output in zip(axes, outputs, strict=True):
        for group, part in groups.frame.groupby("group", sort=False):
            summary = part.groupby("step")[output].agg(["mean", "std", "count"])
            half = np.array([ci_half_width(s, int(c)) if c > 1 else 0.0
                             for s, c in zip(summary["std"].fillna(0), summary["count"], strict=True)])
            ax.plot(summary.index, summary["mean"], label=f"{group} (n={counts[group]})")
            ax.fill_between(summary.index, summary["mean"] - half, summary["mean"] + half, alpha=0.25)
        ax.set(title=output, xlabel="week")
    axes[0].legend(fontsize=7)
    n = sorted(set(counts))
    text = (f"Mean over replications with its 95 % Student-t confidence band; {groups.description}. "
            f"n = {', '.join(map(str, n))} runs per band.\n\n")
    return text + _save(fig, figures, TRAJECTORIES_FIGURE, "output trajectories, mean and 95 % CI")


# ---------------------------------------------------------------- end of run
def _means_table(cells: pd.DataFrame, outputs: list[str], scenarios: list[str]) -> str:
    cells = cells[cells["output"].isin(outputs)]
    headers = ["output"] + [f"{s} mean [95 % CI] (n={_n_of(cells, s)})" for s in scenarios]
    rows = []
    for output in outputs:
        part = cells[cells["output"] == output].set_index("scenario")
        rows.append([f"`{output}`"] + [f"{_num(part.loc[s, 'mean'])} {_ci(part.loc[s, 'ci_low'], part.loc[s, 'ci_high'])}"
                                         if s in part.index else "–" for s in scenarios])
    return _table(headers, rows)


def _n_of(cells: pd.DataFrame, scenario: str) -> str:
    ns = sorted(set(cells.loc[cells["scenario"] == scenario, "n"]))
    return "–".join(map(str, [ns[0], ns[-1]] if len(ns) > 1 else ns)) if ns else "0"


def _comparisons_text(table: pd.DataFrame, family: int) -> str:
    """The paragraph that says which tests a comparison table holds."""
    methods = set(table["method"])
    text = ("Each scenario against the reference, B − A on the final value. ")
    if "paired" in methods:
        text += ("Paired rows: runs paired by replication (common random numbers: the same seed in both scenarios); "
                 "mean difference with its 95 % Student-t CI, paired t test, Wilcoxon signed-rank test, and Hedges' "
                 "g_z — the repeated-measures effect size, mean difference over the SD of the paired differences, "
                 "bias-corrected, with its exact 95 % CI (noncentral t). With common random numbers g_z can be much larger "
                 "than the unpaired effect size of the same difference. ")
    if "Welch" in methods:
        text += ("Rows marked † could not be paired (the note says why): Welch t test, Mann–Whitney U test, Hedges' "
                 "g_s (difference over the pooled SD). ")
    text += (f"p-values are Holm-adjusted over the family of {family} comparisons with a defined test, of the "
             f"{len(table)} made (every recorded output × comparison × design point; t and rank tests adjusted "
             "separately); body and appendix share the family.")
    paired = table[table["method"] == "paired"]
    if len(paired):
        n = int(paired["n"].min())
        smallest = float(sps.wilcoxon(np.arange(1.0, n + 1)).pvalue)  # every difference of one sign
        if min(1.0, smallest * family) > ALPHA:
            text += (f" With {n} pairs the signed-rank test cannot go below p = {smallest:.2g} (exact), so after Holm's "
                     f"adjustment over {family} tests it cannot reach {ALPHA}: read the t tests, and the rank tests only "
                     "as a check of direction.")
    return text + "\n\n"


def _comparisons_table(table: pd.DataFrame) -> str:
    if table.empty:
        return "_No comparison could be made._\n"
    paired_only = set(table["method"]) <= {"paired"}
    several_places = table["where"].nunique() > 1
    t_name, rank_name, g_name = (("paired t p (Holm)", "Wilcoxon p (Holm)", "Hedges' g_z [95 % CI]") if paired_only
                                 else ("t test p (Holm)", "rank test p (Holm)", "Hedges' g [95 % CI]"))
    headers = ["output", *(["design point"] if several_places else []), "comparison", "n",
               "difference [95 % CI]", t_name, rank_name, g_name]
    rows, notes = [], []
    for r in table.itertuples():
        if r.method == "none":
            n = f"{r.n} vs {r.n_ref}"
        elif r.method == "paired":
            n = f"{r.n} pairs"
        else:
            n = f"{r.n} vs {r.n_ref} †"
        diff = f"{_num(r.difference)} {_ci(r.ci_low, r.ci_high)}" if r.method != "none" else "–"
        g = f"{_num(r.g)} {_ci(r.g_low, r.g_high)}" if r.method != "none" and np.isfinite(r.g) else "–"
        rows.append([f"`{r.output}`", *([r.where] if several_places else []), f"{r.scenario} − {r.reference}", n, diff,
                     _p(r.p_t_holm), _p(r.p_rank_holm), g])
        if isinstance(r.note, str) and r.note:
            notes.append(f"`{r.output}`, {r.scenario}{' at ' + r.where if several_places else ''}: {r.note}")
    text = _table(headers, rows)
    if notes:
        text += "\nNotes: " + "; ".join(dict.fromkeys(notes)) + ".\n"
    return text


# ----------------------------------------------------------------------- grid
def _cells_tables(cells: pd.DataFrame, manifest: dict[str, Any], outputs: list[str], factors: list[str]) -> str:
    """Per output: a two-way table (two varied factors, per scenario) or one row per design point."""
    scenarios = list(dict.fromkeys(cells["scenario"]))
    varied = [f for f in factors if f != "scenario"]
    replications = manifest["replications"]
    text = (f"Final value per cell: mean [95 % Student-t CI] over the replications, n = {replications} runs per cell "
            "unless marked (n=…).\n\n")

    def cell(row: pd.Series) -> str:
        extra = f" (n={row['n']})" if row["n"] != replications else ""
        return f"{_num(row['mean'])} {_ci(row['ci_low'], row['ci_high'])}{extra}"

    for output in outputs:
        part = cells[cells["output"] == output]
        if len(varied) == 2:
            x, y = varied
            for scenario in scenarios:
                own = part[part["scenario"] == scenario]
                xs, ys = list(dict.fromkeys(own[x])), list(dict.fromkeys(own[y]))
                title = f"**`{output}`**" + (f", {scenario}" if len(scenarios) > 1 else "")
                rows = []
                for yv in ys:
                    line = [short_value(yv)]
                    for xv in xs:
                        match = own[(own[x] == xv) & (own[y] == yv)]
                        line.append(cell(match.iloc[0]) if len(match) else "–")
                    rows.append(line)
                text += f"{title} (rows {y}, columns {x}):\n\n" + _table([f"{y} \\ {x}"] + [short_value(v) for v in xs], rows) + "\n"
        else:
            rows = []
            for point in sorted(set(part["point"])):
                at = part[part["point"] == point].set_index("scenario")
                rows.append([an.point_label(manifest, point)] + [cell(at.loc[s]) if s in at.index else "–" for s in scenarios])
            text += f"**`{output}`**:\n\n" + _table(["design point"] + [f"{s} mean [95 % CI]" for s in scenarios], rows) + "\n"
    return text


def _anova_text(anovas: pd.DataFrame, outputs: list[str]) -> str:
    if anovas.empty:
        return "_No ANOVA: no factor has two or more levels._\n"
    part = anovas[anovas["output"].isin(outputs)]
    rows = []
    for output in outputs:
        own = part[part["output"] == output]
        if own.empty:
            continue
        if "term" not in own or own["term"].isna().all():
            rows.append([f"`{output}`", "–", "–", "–", "–", "–", str(own["note"].iloc[0])])
            continue
        first = True
        for r in own.itertuples():
            label = f"`{output}` (n={int(r.n)}, R²={r.r_squared:.2f})" if first else ""
            first = False
            if r.term == "Residual":
                rows.append([label, "residual", f"{r.df:g}", "", "", "", ""])
                continue
            block = r.term == "replication (block)"
            rows.append([label, r.term, f"{r.df:g}", _num(r.F), _p(r.p) + (" (not adjusted)" if block else ""),
                         "" if block else _p(r.p_holm), _num(r.partial_eta_sq)])
    models = list(dict.fromkeys(m for m in part.get("model", pd.Series(dtype=str)).dropna()))
    family = int(anovas["p_holm"].notna().sum()) if "p_holm" in anovas else 0
    text = ("Ordinary least squares of each output's final value on the factors as categories, with their two-way "
            "interactions and the replication as a block (common random numbers make each seed a block), type II sums "
            "of squares (statsmodels `anova_lm`). Effect size: partial η² = SS_term / (SS_term + SS_residual). "
            f"p-values Holm-adjusted over all {family} factor and interaction tests of every recorded output "
            f"(the block is not tested). Model: {'; '.join(models[:1]) if models else '–'}"
            f"{' (and likewise for each output)' if len(models) == 1 and len(outputs) > 1 else ''}.\n\n")
    return text + _table(["output", "term", "df", "F", "p", "p (Holm)", "partial η²"], rows)


def _heatmaps(cells: pd.DataFrame, varied: list[str], outputs: list[str], figures: Path) -> str:
    x, y = varied
    scenarios = list(dict.fromkeys(cells["scenario"]))
    panels = [(o, s) for o in outputs for s in scenarios]
    fig, axes = _grid_of_axes(len(panels), 4, 4.2, 3.6)
    for ax, (output, scenario) in zip(axes, panels, strict=True):
        part = cells[(cells["output"] == output) & (cells["scenario"] == scenario)]
        table = part.pivot_table(index=y, columns=x, values="mean", sort=False)
        image = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(table.shape[1]), [short_value(v) for v in table.columns])
        ax.set_yticks(range(table.shape[0]), [short_value(v) for v in table.index])
        ax.set(xlabel=x, ylabel=y, title=output + (f" ({scenario})" if len(scenarios) > 1 else ""))
        fig.colorbar(image, ax=ax, shrink=0.8)
    return ("Mean final value per cell (each cell its own replications; the tables above give the CIs).\n\n"
            + _save(fig, figures, GRID_FIGURE, "mean final value of each key output per grid cell"))


# ----------------------------------------------------------------- sensitivity
def _sensitivity_text(results: list[an.Sensitivity]) -> str:
    text = ""
    for s in results:
        text += f"**`{s.output}`**" + (f" ({s.scenario})" if len({r.scenario for r in results}) > 1 else "") + ": "
        noise = (f"seed noise = {100 * s.noise_share:.1f} % of the variance of the point means" if np.isfinite(s.noise_share)
                 else "seed noise not estimable (one replication per point)")
        floor = f"; noise floor {_num(s.noise_floor)}" if np.isfinite(s.noise_floor) else ""
        text += f"{s.n_points} design points × {s.replications} replications, averaged per point; {noise}{floor}.\n\n"
        for warning in s.warnings:
            text += f"> ⚠ {warning}\n"
        if s.warnings:
            text += "\n"
        table = s.table
        flag = table.get("below_floor", pd.Series(False, index=table.index))
        if s.method == "sobol" and "S1" in table:
            order = table.sort_values("ST", ascending=False)
            rows = [[f"`{r.parameter}`", f"{_num(r.S1)} ± {_num(r.S1_conf)}", f"{_num(r.ST)} ± {_num(r.ST_conf)}",
                     "below noise floor" if flag[r.Index] else ""] for r in order.itertuples()]
            text += _table(["parameter", "S1 ± 95 % CI", "ST ± 95 % CI", ""], rows) + "\n"
        elif s.method == "morris" and "mu_star" in table:
            order = table.sort_values("mu_star", ascending=False)
            rows = [[f"`{r.parameter}`", f"{_num(r.mu_star)} ± {_num(r.mu_star_conf)}", _num(r.sigma), _num(r.mu),
                     "below noise floor" if flag[r.Index] else ""] for r in order.itertuples()]
            text += _table(["parameter", "μ* ± 95 % CI", "σ", "μ", ""], rows) + "\n"
        elif "rho" in table:
            order = table.reindex(table["rho"].abs().sort_values(ascending=False).index)
            rows = [[f"`{r.parameter}`", _num(r.rho), _p(r.p_holm)] for r in order.itertuples()]
            text += _table(["parameter", "Spearman ρ", "p (Holm over the parameters)"], rows) + "\n"
    return text


def _sensitivity_intro(method: str, manifest: dict[str, Any]) -> str:
    design = manifest["design"]
    common = ("The replications of each design point are averaged first; the indices are of the expected output. "
              "The noise floor is the largest index that pure seed noise of the observed size reaches in 95 % of "
              f"{an.NOISE_SIMULATIONS} simulations on the same design (noise independent between points: conservative "
              "under common random numbers). ")
    if method == "sobol":
        return (f"Sobol indices (SALib, Saltelli sampling, n = {design['n']} base samples): S1 (first order) and ST "
                "(total), each ± the half-width of its 95 % bootstrap CI. " + common
                + "Seed noise adds about its share of the variance to every ST.\n\n")
    if method == "morris":
        return (f"Morris elementary effects (SALib, {design['n']} trajectories, {design.get('num_levels', 4)} levels): "
                "μ* (mean absolute effect, in the output's units) ± the half-width of its 95 % bootstrap CI, σ (spread: "
                "interactions or non-linearity), μ. " + common + "\n\n")
    return ("Latin hypercube sample: Spearman rank correlation of each parameter with the point means (SciPy), "
            "p-values Holm-adjusted over the parameters of each output.\n\n")


def _sensitivity_figure(results: list[an.Sensitivity], figures: Path) -> str:
    fig, axes = _grid_of_axes(len(results), 3, 4.8, 4.2)
    for ax, s in zip(axes, results, strict=True):
        t = s.table
        if s.method == "sobol" and "S1" in t:
            pos = np.arange(len(t))
            ax.barh(pos - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="S1")
            ax.barh(pos + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="ST")
            if np.isfinite(s.noise_floor):
                ax.axvline(s.noise_floor, color="grey", linestyle="--", label="noise floor (ST)")
            ax.set_yticks(pos, t["parameter"], fontsize=7)
            ax.legend(fontsize=7)
        elif s.method == "morris" and "mu_star" in t:
            ax.errorbar(t["mu_star"], t["sigma"], xerr=t["mu_star_conf"], fmt="o", ms=4)
            for r in t.itertuples():
                ax.annotate(r.parameter, (r.mu_star, r.sigma), fontsize=7)
            if np.isfinite(s.noise_floor):
                ax.axvline(s.noise_floor, color="grey", linestyle="--", label="noise floor (μ*)")
                ax.legend(fontsize=7)
            ax.set(xlabel="μ* (± 95 % CI)", ylabel="σ")
        elif "rho" in t:
            ax.barh(t["parameter"], t["rho"])
            ax.set(xlim=(-1, 1), xlabel="Spearman ρ")
        ax.set_title(s.output, fontsize=9)
    return _save(fig, figures, SENSITIVITY_FIGURE, "sensitivity indices of each key output")


# -------------------------------------------------------------- time to event
def _events_section(groups: an.Groups, events: list[an.Event], defaults: bool, figures: Path) -> tuple[str, list[str]]:
    if not events:
        return ("_No event: the default events need `active_customers` or `trust_sales_in_marketing`, which this "
                "experiment did not record; give one with `orgsim report DIR --event \"OUTPUT<VALUE\"`._\n", [])
    origin = ("Default events (give others with `--event \"OUTPUT<VALUE\"`, `>` or a percentage of the week-0 value "
              "such as `active_customers<90%`)" if defaults else "Events given with `--event`")
    text = (f"{origin}: " + "; ".join(f"`{e.text}`: {e.describe()}" for e in events) + ". "
            "For each run, the first recorded week at which the event holds; a run where it never holds is censored "
            "at its last week. Per group: the share of runs that never crossed (Wilson 95 % CI) and the Kaplan–Meier "
            "median week with its 95 % CI (statsmodels; ∞: the CI is open, –: fewer than half crossed). Log-rank test "
            "against the first group, Holm-adjusted over the table; it treats the groups as independent, which is "
            f"conservative under common random numbers. Groups: {groups.description}.\n\n")
    rows, headline = [], []
    summaries = []
    fig, axes = _grid_of_axes(len(events), 3, 5.0, 3.4)
    for ax, event in zip(axes, events, strict=True):
        times = an.event_times(groups.frame, event)
        group = groups.frame.drop_duplicates("run_id").set_index("run_id")["group"]
        times.index = times["run_id"]
        summary = an.event_summary(times, group)
        summary.insert(0, "event", event.text)
        summaries.append(summary)
        for name, part in times.groupby(group.reindex(times.index).to_numpy(), sort=False):
            x, y = an.survival_curve(part)
            ax.step(x, y, where="post", label=f"{name} (n={len(part)})")
        ax.set(title=event.text, xlabel="week", ylabel="share not yet crossed", ylim=(-0.03, 1.03))
        ax.legend(fontsize=7)
        dropped = groups.frame["run_id"].nunique() - len(times)
        if dropped:
            text += f"`{event.text}`: {dropped} run(s) left out, their week-0 value is not positive.\n\n"
    table = pd.concat(summaries, ignore_index=True)
    table["p_holm"] = holm(table["p_logrank"].to_numpy(dtype=float))
    for r in table.itertuples():
        median = (f"{_week(r.median)} [{_week(r.median_low)}, {_week(r.median_high)}]" if np.isfinite(r.median)
                  else "– (not reached)")
        rows.append([f"`{r.event}`", r.group, str(r.n), str(r.events),
                     f"{_percent(r.never)} [{_percent(r.never_low)}, {_percent(r.never_high)}]", median, _p(r.p_holm)])
    at = f" (at the reference design point {groups.reference})" if groups.reference is not None else ""
    for event, part in table.groupby("event", sort=False):
        headline.append(f"`{event}`{at} crossed in " + "; ".join(
            f"{r.events} of {r.n} runs of {r.group}" + (f" (median week {_week(r.median)})" if np.isfinite(r.median) else "")
            for r in part.itertuples()))
    text += _table(["event", "group", "runs", "crossed", "never crossed [95 % CI]", "median week [95 % CI]",
                    "log-rank p (Holm)"], rows)
    text += "\n" + _save(fig, figures, TIME_TO_EVENT_FIGURE, "share of runs that have not yet crossed, Kaplan-Meier")
    return text, headline


# ------------------------------------------------------------ replications
def _adequacy_table(adequacy: pd.DataFrame, outputs: list[str]) -> str:
    part = adequacy[adequacy["output"].isin(outputs)]
    several = part["where"].nunique() > 1 or (len(part) and part["where"].iloc[0] != "-")
    rows = []
    for r in part.itertuples():
        rows.append([f"`{r.output}`", r.scenario, *([r.where] if several else []), str(r.n), _num(r.mean), _num(r.sd),
                     _num(r.half_width), f"{_num(r.half_width_pct)} %" if np.isfinite(r.half_width_pct) else "–",
                     (f"{_num(r.target)} ({r.rule})" if np.isfinite(r.target) else r.rule or "–"),
                     f"{int(r.n_needed):,}" if np.isfinite(r.n_needed) else "–"])
    headers = ["output", "scenario", *(["cell"] if several else []), "n", "mean", "SD", "95 % CI half-width",
               "half-width / mean", "target half-width", "n needed"]
    return _table(headers, rows)


def _adequacy_intro(manifest: dict[str, Any]) -> str:
    where = ("the SD is pooled over the design points (each has too few replications for its own)"
             if an.is_sampled(manifest) and len(manifest["points"]) > 1
             else "each cell is computed separately and the one needing the most replications is shown" if len(manifest["points"]) > 1
             else "one cell per scenario")
    return ("Precision of each final mean at the replications run: the half-width of its 95 % Student-t CI, absolute "
            f"and as a share of the mean. Target: ±{100 * an.RELATIVE_TARGET:g} % of the mean, or ±{an.SD_TARGET:g} SD when "
            "that is wider (a mean near 0). n needed: the smallest n whose t-based half-width meets the target with the "
            f"observed SD (a planning estimate: the SD is itself estimated). For grids and sampled designs {where}.\n\n")


def _adequacy_figure(adequacy: pd.DataFrame, outputs: list[str], figures: Path) -> str:
    scenarios = list(dict.fromkeys(adequacy["scenario"]))
    fig, axes = _grid_of_axes(len(scenarios), 3, 5.0, 3.6)
    ns = np.unique(np.geomspace(2, 1000, 60).astype(int))
    for ax, scenario in zip(axes, scenarios, strict=True):
        part = adequacy[(adequacy["scenario"] == scenario) & adequacy["output"].isin(outputs)]
        for r in part.itertuples():
            if not (np.isfinite(r.sd) and np.isfinite(r.target) and r.target > 0):
                continue
            ratio = [ci_half_width(r.sd, int(n)) / r.target for n in ns]
            (line,) = ax.plot(ns, ratio, label=r.output, lw=1)
            ax.plot([r.n], [ci_half_width(r.sd, r.n) / r.target], "o", color=line.get_color(), ms=4)
        ax.axhline(1, color="grey", linestyle="--", lw=1)
        ax.set(xscale="log", yscale="log", xlabel="replications n", ylabel="CI half-width / target", title=scenario)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
        else:
            ax.text(0.5, 0.5, "no SD: one replication", transform=ax.transAxes, ha="center")
    return _save(fig, figures, REPLICATIONS_FIGURE,
                 "95 % CI half-width relative to the target against the number of replications")


# -------------------------------------------------------------------- methods
def _versions(manifest: dict[str, Any]) -> str:
    provenance = manifest.get("provenance") or {}
    names = (("python", "Python"), ("mesa", "Mesa"), ("numpy", "NumPy"), ("scipy", "SciPy"), ("pandas", "pandas"),
             ("salib", "SALib"), ("pyarrow", "pyarrow"))
    simulated = ", ".join(f"{label} {provenance[key]}" for key, label in names if provenance.get(key))
    analysed = []
    for package, label in (("scipy", "SciPy"), ("statsmodels", "statsmodels"), ("SALib", "SALib"), ("pandas", "pandas")):
        try:
            analysed.append(f"{label} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    text = f"Runs were simulated with {simulated}. " if simulated else (
        "The software versions of the simulation are not recorded in this results folder (an older format). ")
    return text + f"This report was computed with {', '.join(analysed)}."


def _scenario_differences(manifest: dict[str, Any]) -> str:
    names = manifest["scenarios"]
    parameters = manifest.get("scenario_parameters")
    if len(names) < 2:
        return ""
    if not parameters:
        return ("Which parameters differ between the scenarios is not recorded in this results folder (an older "
                "format); see the scenario files. ")
    varied = set(manifest["varied"])
    keys = sorted(set().union(*(parameters.get(n, {}) for n in names)) - varied)
    differ = [k for k in keys if len({repr(parameters.get(n, {}).get(k)) for n in names}) > 1]
    if not differ:
        text = "The scenarios have the same parameters. "
    else:
        shown = [f"{k} ({' vs '.join(_value(parameters.get(n, {}).get(k)) for n in names)})" for k in differ[:30]]
        more = f" and {len(differ) - 30} more" if len(differ) > 30 else ""
        text = (f"The scenarios ({' vs '.join(names)}) differ in {len(differ)} parameter(s): {', '.join(shown)}{more}; "
                "all other parameters are equal. ")
    interventions = manifest.get("scenario_interventions")
    if interventions is not None:
        described = {n: "; ".join(_intervention(i) for i in interventions.get(n, [])) or "none" for n in names}
        if len(set(described.values())) > 1:
            text += "Interventions: " + "; ".join(f"`{n}`: {d}" for n, d in described.items()) + ". "
        elif described[names[0]] == "none":
            text += "No scenario has interventions. "
        else:
            text += f"All scenarios have the same interventions ({described[names[0]]}). "
    return text


def _intervention(item: Any) -> str:
    if isinstance(item, dict) and "action" in item:
        arguments = ", ".join(f"{k}={short_value(v)}" for k, v in (item.get("arguments") or {}).items())
        return f"{item['action']}({arguments}) at week {item.get('week', '?')}"
    return str(item)


def _value(v: Any) -> str:
    return short_value(v) if v is not None else "unset"


def _design_sentence(manifest: dict[str, Any]) -> str:
    design = manifest["design"]
    n_points = len(manifest["points"])
    if "grid" in design:
        grid = {k: design["grid"][k] for k in manifest["varied"] if k in design["grid"]}  # the file's order
        varied = {k: v for k, v in grid.items() if len(v) > 1}
        fixed = {k: v[0] for k, v in grid.items() if len(v) == 1}
        text = ("A full-factorial grid over " + ", ".join(f"{k} ∈ {{{', '.join(map(short_value, v))}}}" for k, v in varied.items())
                + f" ({n_points} design points)") if varied else "A single design point"
        if fixed:
            text += " with " + ", ".join(f"{k} = {short_value(v)}" for k, v in fixed.items())
        return text + ". "
    ranges = ", ".join(f"{k} ∈ [{short_value(lo)}, {short_value(hi)}]" for k, (lo, hi) in
                       ((k, design["ranges"][k]) for k in manifest["varied"] if k in design["ranges"]))
    method = {"morris": f"Morris elementary-effects design ({design['n']} trajectories, {design.get('num_levels', 4)} levels)",
              "sobol": f"Saltelli sample for Sobol indices ({design['n']} base samples, first-order and total indices)",
              "latin": f"Latin hypercube sample of {design['n']} points"}[design["method"]]
    return f"A {method} over {ranges}, {n_points} design points, generated by SALib from the master seed. "


def _record_every(manifest: dict[str, Any], frame: pd.DataFrame) -> str:
    if "record_every" in manifest:
        k = int(manifest["record_every"])
        return "every week" if k == 1 else f"every {k} weeks"
    steps = np.sort(frame["step"].unique())
    k = int(np.min(np.diff(steps))) if len(steps) > 1 else 1
    return f"every {'week' if k == 1 else f'{k} weeks'} (inferred from the data; not in this results folder's manifest)"


def _methods(manifest: dict[str, Any], frame: pd.DataFrame, done: int, outputs: int, analyses: list[str]) -> str:
    provenance = manifest.get("provenance") or {}
    commit = provenance.get("git_commit")
    model = f"orgsim {manifest['orgsim_version']}"
    ident = []
    model_hash = manifest.get("model_hash") or (manifest.get("model") or {}).get("model_hash")
    ident.append(f"model hash {model_hash}" if model_hash else "model hash not recorded")
    ident.append(f"git commit {commit}" if commit else "git commit not recorded")
    names = manifest["scenarios"]
    crn = an.common_random_numbers(frame)
    text = (f"We simulated the agent-based model {model} ({', '.join(ident)}), built on Mesa. "
            f"Experiment `{manifest['experiment']}` compared {len(names)} scenario(s): {', '.join(f'`{n}`' for n in names)}"
            + (", the first being the reference. " if len(names) > 1 else ". ")
            + _scenario_differences(manifest) + _design_sentence(manifest)
            + f"Each scenario and design point was replicated {manifest['replications']} times "
            f"({done} of {manifest['n_runs']} runs finished); each run simulated {manifest['steps']} weeks and recorded "
            f"{outputs} outputs {_record_every(manifest, frame)}. Replication r used the seed derived from "
            f"numpy's SeedSequence([{manifest['master_seed']}, r]) in every scenario and design point "
            + ("(common random numbers), so runs are paired by replication. " if crn else
               "(intended as common random numbers, but the recorded seeds differ, so runs were analysed as independent). ")
            + "Outcomes are the outputs' values at the last recorded week. " + " ".join(analyses) + " "
            + "All confidence intervals are 95 %. " + _versions(manifest))
    if provenance.get("command"):
        text += f" Command: `{provenance['command']}`"
        if provenance.get("started"):
            text += f", run from {provenance['started']} to {provenance.get('finished', '?')}"
        text += "."
    return text + "\n"


# ------------------------------------------------------------------ report
def _key_outputs(outputs: list[str]) -> tuple[list[str], list[str]]:
    key = [k for k in HEADLINE_KPIS if k in outputs] or outputs[:MAX_KEY_OUTPUTS]
    return key, [k for k in outputs if k not in key]


@dataclass(frozen=True)
class _Context:
    """What every section reads: the results, the key outputs (body) and the rest (appendix)."""

    manifest: dict[str, Any]
    frame: pd.DataFrame
    final: pd.DataFrame
    key: list[str]
    rest: list[str]
    scenarios: list[str]
    last: int
    figures: Path


@dataclass
class _Parts:
    """What the sections add: Markdown for the body and the appendix, headline lines, methods sentences."""

    body: list[str] = field(default_factory=list)
    appendix: list[str] = field(default_factory=list)
    headline: list[str] = field(default_factory=list)
    analyses: list[str] = field(default_factory=list)
    warnings: int = 0


def _end_of_run_section(c: _Context, cells: pd.DataFrame, parts: _Parts) -> None:
    parts.body += [f"## End of run (week {c.last})\n",
                   "Final value per scenario: mean [95 % Student-t CI] over the replications (n runs).\n\n",
                   _means_table(cells, c.key, c.scenarios)]
    if c.rest:
        parts.appendix += [f"### End of run (week {c.last})\n", _means_table(cells, c.rest, c.scenarios)]


def _comparison_section(c: _Context, parts: _Parts) -> None:
    comparisons = an.compare_scenarios(c.final, c.manifest, c.key + c.rest)
    if comparisons.empty:
        return
    title = f"Each scenario against `{c.scenarios[0]}`"
    explained = _comparisons_text(comparisons, int(comparisons["p_t_holm"].notna().sum()))
    parts.body += [f"## {title}\n", explained, _comparisons_table(comparisons[comparisons["output"].isin(c.key)])]
    if c.rest:
        parts.appendix += [f"### {title}\n", _comparisons_table(comparisons[comparisons["output"].isin(c.rest)])]
    parts.analyses.append(_comparison_methods(comparisons))
    if comparisons["where"].nunique() > 1:
        significant = int((comparisons["p_t_holm"] < ALPHA).sum())
        parts.headline.append(f"Scenario comparisons: {significant} of {len(comparisons)} (outputs × comparisons × "
                              f"design points) differ at Holm-adjusted p < {ALPHA} (t tests).")
        return
    for r in comparisons[comparisons["output"].isin(c.key)].itertuples():
        if r.method == "none":
            continue
        paired = r.method == "paired"
        parts.headline.append(
            f"`{r.output}`: {r.scenario} − {r.reference} = {_num(r.difference)} [95 % CI {_num(r.ci_low)}, "
            f"{_num(r.ci_high)}] ({f'{r.n} pairs' if paired else f'{r.n} vs {r.n_ref} runs, unpaired'}; Holm-adjusted "
            f"{'paired t' if paired else 'Welch'} {_p_is(r.p_t_holm)}; Hedges' {'g_z' if paired else 'g_s'} = "
            f"{_num(r.g)} [{_num(r.g_low)}, {_num(r.g_high)}])")


def _grid_section(c: _Context, cells: pd.DataFrame, parts: _Parts) -> None:
    factors = an.grid_factors(c.final, c.manifest)
    anovas = an.factor_anovas(c.final, c.manifest, c.key + c.rest)
    parts.body += [f"## Grid: cells and factors (week {c.last})\n", "### Per cell\n",
                   _cells_tables(cells, c.manifest, c.key, factors),
                   "### ANOVA of each output on the factors\n", _anova_text(anovas, c.key)]
    varied = [f for f in factors if f != "scenario"]
    if len(varied) == 2:
        parts.body += ["\n### Heat maps\n", _heatmaps(cells, varied, c.key, c.figures)]
    if c.rest:
        parts.appendix += [f"### Per cell (week {c.last})\n", _cells_tables(cells, c.manifest, c.rest, factors),
                           "### ANOVA\n", _anova_text(anovas, c.rest)]
    if "term" not in anovas:
        return
    for output in c.key:
        own = anovas[(anovas["output"] == output) & ~anovas["term"].isin(["Residual", "replication (block)"])
                     & anovas["partial_eta_sq"].notna()]
        if len(own):
            significant = own[own["p_holm"] < 0.05]
            if significant.empty:  # a headline names an effect only when it survives the correction
                parts.headline.append(f"`{output}`: no factor or interaction significant after Holm (smallest "
                                      f"adjusted {_p_is(own['p_holm'].min())}; model R² = "
                                      f"{own['r_squared'].iloc[0]:.2f}, n = {int(own['n'].iloc[0])} runs)")
                continue
            top = significant.sort_values("partial_eta_sq", ascending=False).iloc[0]
            parts.headline.append(f"`{output}`: largest significant effect {top['term']} (partial η² = "
                                  f"{_num(top['partial_eta_sq'])}, Holm-adjusted {_p_is(top['p_holm'])}; model R² = "
                                  f"{top['r_squared']:.2f}, n = {int(top['n'])} runs)")
    parts.analyses.append("For the grid, each output's final value was regressed on the factors (categorical, with "
                          "two-way interactions and the replication as a block) by ordinary least squares; type II "
                          "ANOVA F tests with partial η² as effect size, Holm-adjusted over all factor tests (statsmodels).")


_TOP_INDEX = {"sobol": ("ST", "largest ST above the noise floor"), "morris": ("mu_star", "largest μ* above the noise floor"),
              "latin": ("rho", "strongest rank correlations")}
_SENSITIVITY_METHODS = {
    "sobol": "Sobol first-order and total indices (SALib) were computed on the replication means of each design point, "
             "with bootstrap CIs and a seed-noise floor from simulated pure noise.",
    "morris": "Morris μ*, σ and μ (SALib) were computed on the replication means of each design point, with bootstrap "
              "CIs and a seed-noise floor from simulated pure noise.",
    "latin": "Spearman rank correlations of each parameter with the replication means of each design point were "
             "Holm-adjusted over the parameters.",
}


def _sensitivity_section(c: _Context, parts: _Parts) -> None:
    method = c.manifest["design"]["method"]
    results = {o: [an.sensitivity(c.final, c.manifest, o, s) for s in c.scenarios] for o in c.key + c.rest}
    shown = [r for o in c.key for r in results[o]]
    parts.warnings += sum(len(r.warnings) for rs in results.values() for r in rs)
    figure = _sensitivity_figure([r for r in shown if r.scenario == c.scenarios[0]], c.figures)
    parts.body += [f"## Sensitivity ({method}, week {c.last})\n", _sensitivity_intro(method, c.manifest),
                   figure + (f"\n(The figure shows `{c.scenarios[0]}`.)\n" if len(c.scenarios) > 1 else ""),
                   "\n" + _sensitivity_text(shown)]
    if c.rest:
        parts.appendix += [f"### Sensitivity ({method})\n", _sensitivity_text([r for o in c.rest for r in results[o]])]
    column, label = _TOP_INDEX[method]
    for r in shown:
        if column not in r.table:
            parts.headline.append(f"`{r.output}`: no indices ({'; '.join(r.warnings)})")
            continue
        table = r.table.reindex(r.table[column].abs().sort_values(ascending=False).index)
        if "below_floor" in table:
            table = table[~table["below_floor"]]
        top = ", ".join(f"`{p}` ({_num(v)})" for p, v in zip(table["parameter"][:3], table[column][:3], strict=False))
        parts.headline.append(f"`{r.output}`{f' ({r.scenario})' if len(c.scenarios) > 1 else ''}: {label}: "
                              f"{top or 'none'}" + (f" — ⚠ {len(r.warnings)} warning(s)" if r.warnings else ""))
    parts.analyses.append(_SENSITIVITY_METHODS[method])


def _adequacy_section(c: _Context, parts: _Parts) -> None:
    adequacy = an.replication_adequacy(c.final, c.manifest, c.key + c.rest)
    parts.body += ["## Replication adequacy\n", _adequacy_intro(c.manifest), _adequacy_table(adequacy, c.key), "\n",
                   _adequacy_figure(adequacy, c.key, c.figures)]
    if c.rest:
        parts.appendix += ["### Replication adequacy\n", _adequacy_table(adequacy, c.rest)]
    met = adequacy[adequacy["output"].isin(c.key) & adequacy["n_needed"].notna()]
    if len(met):
        enough = int((met["n_needed"] <= met["n"]).sum())
        text = (f"Replications: {enough} of {len(met)} key output × scenario means meet the target precision "
                f"(±{100 * an.RELATIVE_TARGET:g} % of the mean or ±{an.SD_TARGET:g} SD)")
        # The ±SD rule needs the same n for every output (about (t/0.1)²): only the rule relative to
        # the mean says which output is hard to pin down.
        relative = met[met["rule"].str.contains("of the mean")]
        if len(relative):
            worst = relative.sort_values("n_needed", ascending=False).iloc[0]
            text += (f"; the most demanding relative to its mean, `{worst['output']}` in {worst['scenario']}, needs "
                     f"n ≈ {int(worst['n_needed']):,} (run: {int(worst['n'])})")
        near_zero = met[met["rule"].str.contains("SD")]
        if len(near_zero):
            text += (f"; {len(near_zero)} mean(s) near 0 are held to ±{an.SD_TARGET:g} SD, which takes n ≈ "
                     f"{int(near_zero['n_needed'].max()):,} whatever the output")
        parts.headline.append(text + ".")


def write_report(out: Path, events: Sequence[str] | None = None) -> Path:
    """Write ``out/report.md`` and its figures in ``out/figures/``; return the report's path.

    ``events``: time-to-event definitions such as ``"active_customers<450"`` or
    ``"active_customers<90%"`` (:func:`orgsim.analysis.parse_event`); they replace
    :data:`orgsim.analysis.DEFAULT_EVENTS`. A malformed event or one on an output the experiment
    did not record raises :class:`orgsim.errors.UserError` before anything is written.
    """
    out = Path(out)
    chosen = [an.parse_event(text) for text in events] if events else None
    manifest, frame = read_results(out)
    outputs = [k for k in manifest["outputs"] if k in frame.columns]
    if chosen is not None:
        an.check_events(chosen, outputs)
    else:
        chosen = [e for e in map(an.parse_event, an.DEFAULT_EVENTS) if e.output in outputs]
    key, rest = _key_outputs(outputs)
    order = {name: i for i, name in enumerate(manifest["scenarios"])}
    frame = frame.sort_values(["scenario", "point", "replication", "step"],
                              key=lambda col: col.map(order) if col.name == "scenario" else col, kind="stable")
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    final = an.final_values(frame)
    scenarios = [s for s in manifest["scenarios"] if s in set(frame["scenario"])]
    c = _Context(manifest, frame, final, key, rest, scenarios, int(final["step"].max()), figures)
    n_points = len(manifest["points"])
    grid = "grid" in manifest["design"] and n_points > 1
    sampled = an.is_sampled(manifest) and n_points > 1

    parts = _Parts()
    groups = an.trajectory_groups(manifest, frame)
    parts.body += ["## Trajectories\n", _trajectories(groups, key, figures)]
    cells = an.cell_summary(final, manifest, outputs)
    if not grid and not sampled:
        _end_of_run_section(c, cells, parts)
    _comparison_section(c, parts)
    if grid:
        _grid_section(c, cells, parts)
    if sampled:
        _sensitivity_section(c, parts)
    event_text, event_headline = _events_section(groups, chosen, events is None, figures)
    parts.body += ["## Time to event\n", event_text]
    parts.headline += event_headline
    if chosen:
        parts.analyses.append("Times to events were summarised by Kaplan–Meier estimates censored at the last recorded "
                              "week (statsmodels), with Wilson intervals for the share that never crossed.")
    _adequacy_section(c, parts)

    done = frame["run_id"].nunique()
    intro = [f"# Report: {manifest['experiment']}\n"]
    if manifest.get("description"):
        intro.append(f"{manifest['description']}\n")
    intro.append(f"{done} of {manifest['n_runs']} runs finished: {len(scenarios)} scenario(s) ({', '.join(scenarios)}), "
                 f"{n_points} design point(s), {manifest['replications']} replications, {manifest['steps']} weeks. "
                 f"The experiment recorded {len(outputs)} outputs: the {len(key)} key ones are in the body, "
                 + (f"the other {len(rest)} in the appendix." if rest else "and there are no others.") + "\n")
    if parts.warnings:
        intro.append(f"> ⚠ The sensitivity analysis raised {parts.warnings} warning(s): read them before the indices.\n")
    intro += ["## Headline\n", "\n".join(f"- {line}" for line in parts.headline) + "\n"]
    if (out / DISCOVERY).is_file():
        intro.append(f"Scenario discovery (PRIM, `orgsim discover`): see [{DISCOVERY}]({DISCOVERY}).\n")
    methods = ["## Methods\n", _methods(manifest, frame, done, len(outputs), parts.analyses)]
    tail = ([f"## Appendix: the other {len(rest)} outputs\n",
             "The same analyses for every recorded output not in the body: " + ", ".join(f"`{o}`" for o in rest) + ".\n"]
            + parts.appendix) if rest else []
    path = out / REPORT
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(intro + parts.body + methods + tail))
    atomic_write(path, lambda tmp: tmp.write_text(text))
    return path


def _comparison_methods(comparisons: pd.DataFrame) -> str:
    methods = set(comparisons["method"])
    text = "Each scenario was compared with the reference on every output"
    if (comparisons["point"] == -1).any():
        text += " after averaging each run's outputs over the design points"
    if "paired" in methods:
        text += (": paired by replication, mean difference with a Student-t confidence interval, paired t test, Wilcoxon "
                 "signed-rank test and Hedges' g_z (the mean paired difference over the SD of the differences, bias-"
                 "corrected) with an exact noncentral-t confidence interval")
    if "Welch" in methods:
        text += ("; where pairing was impossible, Welch's t test, the Mann–Whitney U test and Hedges' g_s (pooled SD)")
    family = int(comparisons["p_t_holm"].notna().sum())
    return text + (f". p-values were Holm-adjusted over all {family} comparisons (outputs × comparisons"
                   f"{' × design points' if comparisons['where'].nunique() > 1 else ''}), separately for each test.")
