"""``orgsim report DIR``: a Markdown report with PNG figures for an experiment.

* KPI trajectories per group (scenario, or scenario × design point for small
  grids): mean with a 95 % Student-t confidence band over replications;
* end-of-run table: mean and 95 % CI per group; for two or more scenarios,
  each scenario against the first: difference, Welch t test, Mann–Whitney U
  test and Cohen's d (SciPy);
* grids with two varied parameters: a heat map of each KPI's final mean;
* sampled designs: Morris μ*/σ or Sobol S1/ST per KPI (SALib), on the final
  value averaged over replications of each design point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats as sps

from orgsim.experiment import (
    GRID_FIGURE,
    REPORT,
    SENSITIVITY_FIGURE,
    TRAJECTORIES_FIGURE,
    read_results,
)
from orgsim.io import atomic_write
from orgsim.stats import cohens_d, mean_ci, welch

MAX_TRAJECTORY_GROUPS = 8
#: Shown first when an experiment keeps them; at most nine KPIs are reported.
HEADLINE_KPIS = ("mean_attitude", "offer_fit", "trust_sales_in_marketing", "service_quality",
                 "net_promoter_score", "active_customers", "revenue", "referrals", "negative_reviews")


def _groups(manifest: dict[str, Any], frame: pd.DataFrame) -> pd.Series:
    n_points = len(manifest["points"])
    small_grid = "grid" in manifest["design"] and n_points > 1 and n_points * len(manifest["scenarios"]) <= MAX_TRAJECTORY_GROUPS
    if small_grid:
        labels = frame[manifest["varied"]].astype(str).agg(", ".join, axis=1)
        return frame["scenario"] + " (" + labels + ")"
    return frame["scenario"]


def _trajectories(frame: pd.DataFrame, kpis: list[str], figures: Path) -> str:
    cols = min(3, len(kpis))
    rows = int(np.ceil(len(kpis) / cols))
    fig = Figure(figsize=(5.5 * cols, 3.6 * rows))  # drawn without pyplot: the user's backend is left alone
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, kpi in zip(axes.ravel(), kpis, strict=False):
        for group, part in frame.groupby("group", sort=False):
            by_step = part.groupby("step")[kpi]
            summary = by_step.agg(["mean", "sem", "count"])
            half = sps.t.ppf(0.975, np.maximum(summary["count"] - 1, 1)) * summary["sem"].fillna(0)
            ax.plot(summary.index, summary["mean"], label=group)
            ax.fill_between(summary.index, summary["mean"] - half, summary["mean"] + half, alpha=0.25)
        ax.set(title=kpi, xlabel="week")
    for ax in axes.ravel()[len(kpis):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    path = figures / TRAJECTORIES_FIGURE
    fig.savefig(path, dpi=100)
    return f"![KPI trajectories, mean and 95 % CI]({path.parent.name}/{path.name})\n"


def _end_table(final: pd.DataFrame, kpis: list[str]) -> str:
    groups = list(dict.fromkeys(final["group"]))
    lines = ["| KPI | " + " | ".join(f"{g} mean [95 % CI]" for g in groups) + " |",
             "|---|" + "---|" * len(groups)]
    for kpi in kpis:
        cells = []
        for g in groups:
            ci = mean_ci(final.loc[final["group"] == g, kpi].to_numpy())
            cells.append(f"{ci.mean:,.3f} [{ci.low:,.3f}, {ci.high:,.3f}]")
        lines.append(f"| {kpi} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"

    scenarios = list(dict.fromkeys(final["scenario"]))
    if len(scenarios) >= 2:
        base = scenarios[0]
        text += (f"\n**Each scenario against `{base}`** (n per scenario in parentheses; Welch t test, "
                 "Mann–Whitney U test, Cohen's d = difference / pooled SD):\n\n"
                 "| KPI | scenario | difference | 95 % CI of difference | Welch p | Mann–Whitney p | Cohen's d |\n"
                 "|---|---|---|---|---|---|---|\n")
        for kpi in kpis:
            a = final.loc[final["scenario"] == base, kpi].to_numpy()
            for other in scenarios[1:]:
                b = final.loc[final["scenario"] == other, kpi].to_numpy()
                _, p_welch = welch(a, b)
                p_mw = float(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue)
                diff = b.mean() - a.mean()
                se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
                df = se**4 / ((a.var(ddof=1) / a.size) ** 2 / (a.size - 1) + (b.var(ddof=1) / b.size) ** 2 / (b.size - 1)) if se > 0 else 1
                half = float(sps.t.ppf(0.975, df) * se)
                text += (f"| {kpi} | {other} (n={b.size}) vs {base} (n={a.size}) | {diff:,.3f} | "
                         f"[{diff - half:,.3f}, {diff + half:,.3f}] | {p_welch:.2g} | {p_mw:.2g} | {cohens_d(a, b):.2f} |\n")
    return text


def _heatmaps(final: pd.DataFrame, varied: list[str], kpis: list[str], figures: Path) -> str:
    x, y = varied
    cols = min(4, len(kpis))
    rows = int(np.ceil(len(kpis) / cols))
    fig = Figure(figsize=(4.2 * cols, 3.6 * rows))  # drawn without pyplot: the user's backend is left alone
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel()[len(kpis):]:
        ax.axis("off")
    for ax, kpi in zip(axes.ravel(), kpis, strict=False):
        table = final.groupby([y, x])[kpi].mean().unstack(x)
        image = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(table.shape[1]), [f"{v:g}" for v in table.columns])
        ax.set_yticks(range(table.shape[0]), [f"{v:g}" for v in table.index])
        ax.set(xlabel=x, ylabel=y, title=kpi)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    path = figures / GRID_FIGURE
    fig.savefig(path, dpi=100)
    return f"![final mean of each KPI over the grid]({path.parent.name}/{path.name})\n"


def _sensitivity(manifest: dict[str, Any], final: pd.DataFrame, kpis: list[str], figures: Path) -> str:
    design = manifest["design"]
    problem = design["problem"]
    per_point = final.groupby("point")[kpis].mean().reindex(range(len(manifest["points"])))
    if per_point.isna().any().any():
        return "_Sensitivity indices need every design point; some runs are missing._\n"
    x = np.array([[p[name] for name in problem["names"]] for p in manifest["points"]], dtype=float)
    cols = min(3, len(kpis))
    rows = int(np.ceil(len(kpis) / cols))
    fig = Figure(figsize=(4.8 * cols, 4.2 * rows))  # drawn without pyplot: the user's backend is left alone
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel()[len(kpis):]:
        ax.axis("off")
    lines = []
    for ax, kpi in zip(axes.ravel(), kpis, strict=False):
        y = per_point[kpi].to_numpy()
        if design["method"] == "morris":
            from SALib.analyze import morris

            result = morris.analyze(problem, x, y, num_levels=design.get("num_levels", 4), seed=0)
            ax.scatter(result["mu_star"], result["sigma"])
            for name, mu, sigma in zip(problem["names"], result["mu_star"], result["sigma"], strict=True):
                ax.annotate(name, (mu, sigma), fontsize=7)
            ax.set(xlabel="μ*", ylabel="σ", title=kpi)
            top = sorted(zip(result["mu_star"], problem["names"], strict=True), reverse=True)[:3]
            lines.append(f"- **{kpi}**: largest μ*: " + ", ".join(f"`{n}` ({m:.3g})" for m, n in top))
        elif design["method"] == "sobol":
            from SALib.analyze import sobol

            result = sobol.analyze(problem, y, calc_second_order=False, seed=0)
            positions = np.arange(len(problem["names"]))
            ax.barh(positions - 0.2, result["S1"], 0.4, label="S1")
            ax.barh(positions + 0.2, result["ST"], 0.4, label="ST")
            ax.set_yticks(positions, problem["names"], fontsize=7)
            ax.set(title=kpi)
            ax.legend(fontsize=7)
            top = sorted(zip(result["ST"], problem["names"], strict=True), reverse=True)[:3]
            lines.append(f"- **{kpi}**: largest ST: " + ", ".join(f"`{n}` ({s:.2f})" for s, n in top))
        else:
            rho = [sps.spearmanr(x[:, i], y).statistic for i in range(x.shape[1])]
            ax.barh(problem["names"], rho)
            ax.set(title=f"{kpi}: Spearman ρ", xlim=(-1, 1))
            lines.append(f"- **{kpi}**: strongest rank correlation: `{problem['names'][int(np.nanargmax(np.abs(rho)))]}`")
    fig.tight_layout()
    path = figures / SENSITIVITY_FIGURE
    fig.savefig(path, dpi=100)
    return f"![sensitivity]({path.parent.name}/{path.name})\n\n" + "\n".join(lines) + "\n"


def write_report(out: Path) -> Path:
    manifest, frame = read_results(out)
    kept = [k for k in manifest["outputs"] if k in frame.columns]
    kpis = ([k for k in HEADLINE_KPIS if k in kept] + [k for k in kept if k not in HEADLINE_KPIS])[:9]
    # keep the experiment's order of scenarios (the first is the reference)
    order = {name: i for i, name in enumerate(manifest["scenarios"])}
    frame = frame.sort_values(["scenario", "point", "replication", "step"], key=lambda c: c.map(order) if c.name == "scenario" else c, kind="stable")
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    frame["group"] = _groups(manifest, frame)
    last_step = frame["step"].max()
    final = frame[frame["step"] == last_step]
    done = frame["run_id"].nunique()

    parts = [
        f"# Report: {manifest['experiment']}\n",
        f"{done} of {manifest['n_runs']} runs finished; scenarios {', '.join(manifest['scenarios'])}; "
        f"{manifest['replications']} replications (seeds from master seed {manifest['master_seed']}); "
        f"{manifest['steps']} weeks; orgsim {manifest['orgsim_version']}.\n",
        "## Trajectories (mean, 95 % CI)\n", _trajectories(frame, kpis, figures),
        f"## End of run (week {last_step})\n", _end_table(final, kpis),
    ]
    if "grid" in manifest["design"] and len(manifest["varied"]) == 2:
        parts += ["\n## Grid\n", _heatmaps(final, manifest["varied"], kpis, figures)]
    if "method" in manifest["design"]:
        parts += [f"\n## Sensitivity ({manifest['design']['method']})\n",
                  _sensitivity(manifest, final, kpis, figures)]
    path = out / REPORT
    atomic_write(path, lambda tmp: tmp.write_text("\n".join(parts)))
    return path
