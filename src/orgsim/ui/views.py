"""Matplotlib views of running models, drawn server-side (no front-end chart assets).

Every function takes one or two models and returns a ``matplotlib.figure.Figure``
(no pyplot, so importing this module leaves the user's backend alone); the
Solara app shows them as PNGs. The organisation layout is computed once per model
(:func:`org_layout`) and reused every frame.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from orgsim import departments as dep
from orgsim.mechanisms import customers
from orgsim.model import OrgModel
from orgsim.state import ACTIVE, LOST, PROSPECT

KPI_PANELS = (
    ("mean_attitude", "attitude toward marketing"),
    ("offer_fit", "offer fit"),
    ("trust_sales_in_marketing", "trust of sales in marketing"),
    ("net_promoter_score", "net promoter score"),
    ("active_customers", "active customers"),
    ("revenue", "revenue (EUR / week)"),
    (("referrals", "negative_reviews"), "referrals vs negative reviews"),
    ("service_quality", "service quality"),
)
FIRM_COLOURS = ("tab:blue", "tab:orange")
MARKET_SAMPLE = 2500


DPI = 72  # server-side PNGs: small and fast to draw at ten frames a second


def _close(fig: Figure) -> Figure:
    fig.set_dpi(DPI)
    return fig


def kpi_figure(models: list[OrgModel], labels: list[str]) -> Figure:
    """KPI charts over time; two models are overlaid (A solid, B dashed)."""
    fig = Figure(figsize=(14, 5.6))
    axes = fig.subplots(2, 4).ravel()
    fig.subplots_adjust(left=0.04, right=0.99, top=0.94, bottom=0.1, wspace=0.25, hspace=0.3)
    for i, (model, label) in enumerate(zip(models, labels, strict=True)):
        frame = model.timeseries()
        colour, style = FIRM_COLOURS[i], "-" if i == 0 else "--"
        storm = (frame["shitstorm"] > 0).to_numpy()
        for ax, (column, title) in zip(axes, KPI_PANELS, strict=True):
            if isinstance(column, tuple):
                ax.plot(frame["step"], frame[column[0]], style, color="tab:green", label=f"{label}: referrals")
                ax.plot(frame["step"], frame[column[1]], style, color="tab:red", label=f"{label}: reviews")
            else:
                ax.plot(frame["step"], frame[column], style, color=colour, label=label)
            if storm.any():  # one shaded collection, not a patch per week
                ax.fill_between(frame["step"], 0, 1, where=storm, step="mid", color="red", alpha=0.08,
                                lw=0, transform=ax.get_xaxis_transform())
            for entry in model.applied_interventions:
                ax.axvline(entry.week, color=colour, ls=":", lw=1)
            ax.set_title(title, fontsize=9)
            ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, loc="best")
    axes[6].legend(fontsize=6, loc="best")
    fig.supxlabel("week  (dotted: interventions, red: shitstorm weeks)", fontsize=8)
    return _close(fig)


def org_layout(model: OrgModel, seed: int = 0) -> np.ndarray:
    """Positions: departments on a circle, members in a disc around their centre (O(n))."""
    rng = np.random.default_rng(seed)
    department = model.workforce.department
    angle = 2 * np.pi * np.arange(dep.N_DEPARTMENTS) / dep.N_DEPARTMENTS
    centres = np.column_stack([np.cos(angle), np.sin(angle)]) * 3.0
    sizes = np.bincount(department, minlength=dep.N_DEPARTMENTS)
    radius = 0.35 + 0.12 * np.sqrt(sizes)
    r = radius[department] * np.sqrt(rng.random(department.size))
    theta = 2 * np.pi * rng.random(department.size)
    return centres[department] + np.column_stack([r * np.cos(theta), r * np.sin(theta)])


#: Attitude -1 (resists) red ... +1 (supports) green.
ATTITUDE_COLOURS = "RdYlGn"


def draw_org(ax: Axes, model: OrgModel, layout: np.ndarray, title: str) -> PathCollection:
    """Employees at ``layout``, coloured by attitude, roles marked; returns the colour-mapped points."""
    w = model.workforce
    coo = w.network.tocoo()
    across = (coo.row < coo.col) & (w.department[coo.row] != w.department[coo.col])
    segments = np.stack([layout[coo.row[across]], layout[coo.col[across]]], axis=1)
    ax.add_collection(LineCollection(list(segments), colors="0.6", linewidths=0.3, alpha=0.5))
    ordinary = ~(w.is_leader | w.is_multiplier | w.is_knowledge_carrier)
    points = ax.scatter(layout[ordinary, 0], layout[ordinary, 1], s=10, c=w.attitude[ordinary], cmap=ATTITUDE_COLOURS, vmin=-1, vmax=1)
    for mask, marker, size, label in ((w.is_multiplier & ~w.is_leader, "D", 28, "multiplier"),
                                      (w.is_knowledge_carrier, "s", 28, "knowledge carrier"),
                                      (w.is_leader, "*", 180, "leader")):
        if mask.any():
            ax.scatter(layout[mask, 0], layout[mask, 1], s=size, marker=marker, edgecolors="black", linewidths=0.8,
                       label=label, c=w.attitude[mask], cmap=ATTITUDE_COLOURS, vmin=-1, vmax=1)
    angle = 2 * np.pi * np.arange(dep.N_DEPARTMENTS) / dep.N_DEPARTMENTS
    for name, a in zip(dep.NAMES, angle, strict=True):
        ax.text(4.6 * np.cos(a), 4.6 * np.sin(a), name, ha="center", va="center", fontsize=8)
    ax.set_xlim(-5.4, 5.4)
    ax.set_ylim(-5.2, 5.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, loc="lower left", frameon=False)
    return points


def org_figure(models: list[OrgModel], layouts: list[np.ndarray], labels: list[str]) -> Figure:
    fig = Figure(figsize=(5.6 * len(models), 5.2))
    axes = np.atleast_1d(fig.subplots(1, len(models)))
    fig.subplots_adjust(left=0.01, right=0.88, top=0.93, bottom=0.01, wspace=0.05)
    points = [draw_org(ax, model, layout, f"{label}: attitudes; grey lines: cross-department ties")
              for ax, model, layout, label in zip(axes, models, layouts, labels, strict=True)]
    fig.colorbar(points[-1], ax=list(axes), shrink=0.6, label="attitude (−1 resist … +1 support)")
    return _close(fig)


def market_figure(models: list[OrgModel], labels: list[str]) -> Figure:
    """Up to 2,500 customers as dots: prospects grey, lost black, active by perception."""
    fig = Figure(figsize=(4.6 * len(models), 4.8))
    axes = np.atleast_1d(fig.subplots(1, len(models)))
    fig.subplots_adjust(left=0.02, right=0.98, top=0.88, bottom=0.02, wspace=0.1)
    for ax, model, label in zip(axes, models, labels, strict=True):
        m = model.market
        shown = min(MARKET_SAMPLE, m.size)
        side = int(np.ceil(np.sqrt(shown)))
        status = m.status[:shown]
        satisfaction = m.satisfaction[:shown]
        perceived = customers.perception(satisfaction, model.params)
        colours = np.full(shown, "0.85", dtype=object)
        colours[status == LOST] = "black"
        active = status == ACTIVE
        colours[active & (perceived == customers.POSITIVE)] = "tab:green"
        colours[active & (perceived == customers.NEGATIVE)] = "tab:red"
        colours[active & (perceived == customers.NEUTRAL)] = "gold"
        x, y = np.arange(shown) % side, np.arange(shown) // side
        ax.scatter(x, y, c=list(colours), s=6, marker="s", linewidths=0)
        counts = np.bincount(m.status, minlength=3)
        ax.set_title(f"{label}: {counts[PROSPECT]} prospects · {counts[ACTIVE]} active · {counts[LOST]} lost\n"
                     "(green positive, gold neutral, red negative, grey prospect, black lost)", fontsize=8)
        ax.set_aspect("equal")
        ax.axis("off")
    return _close(fig)


def trust_figure(models: list[OrgModel], labels: list[str]) -> Figure:
    fig = Figure(figsize=(5.2 * len(models), 4.8))
    axes = np.atleast_1d(fig.subplots(1, len(models)))
    fig.subplots_adjust(left=0.2, right=0.9, top=0.92, bottom=0.25, wspace=0.7)
    for ax, model, label in zip(axes, models, labels, strict=True):
        trust = model.trust_matrix
        ax.imshow(trust, vmin=0, vmax=1, cmap="viridis")
        for i in range(dep.N_DEPARTMENTS):
            for j in range(dep.N_DEPARTMENTS):
                ax.text(j, i, f"{trust[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if trust[i, j] < 0.5 else "black")
        ax.set_xticks(range(dep.N_DEPARTMENTS), dep.NAMES, rotation=60, fontsize=7)
        ax.set_yticks(range(dep.N_DEPARTMENTS), dep.NAMES, fontsize=7)
        ax.set_title(f"{label}: trust of row in column", fontsize=9)
    fig.colorbar(ScalarMappable(Normalize(0, 1), cmap="viridis"), ax=list(axes), shrink=0.7)
    return _close(fig)
