"""Make the figures and the face-validity table of docs/validation.md (`make figures`)."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from orgsim import load_scenario  # noqa: E402
from orgsim.stats import mean_ci  # noqa: E402
from tests.docking.test_bass import bass_closed_form, mean_adopter_share  # noqa: E402
from tests.docking.test_march1991 import REFERENCE, equilibrium_knowledge  # noqa: E402

FIGURES = ROOT / "docs" / "figures"


def bass() -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for p, q, years in [(0.03, 0.38, 10), (0.011, 1.5, 6)]:
        weeks = 52 * years
        t = np.arange(weeks + 1) / 52
        ax.plot(t, mean_adopter_share(p, q, weeks), lw=2, label=f"model, p={p}, q={q}")
        ax.plot(t, bass_closed_form(np.clip(t - 0.5 / 52, 0, None), p, q), "k--", lw=1)
    ax.set(xlabel="years", ylabel="adopter share", title="Bass docking: model (30 seeds) vs closed form (dashed)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(FIGURES / "docking_bass.png", dpi=110)


def friedkin_johnsen() -> None:
    scenario = load_scenario("scenarios/docking/friedkin_johnsen.toml")
    model = scenario.model(customer_views=False)
    model.workforce.attitude = np.random.default_rng(7).uniform(-1, 1, model.workforce.size)  # start away from x*
    x0 = model.workforce.attitude_anchor.copy()
    lam = 1 - scenario.params.attitude_anchoring
    expected = np.linalg.solve(np.eye(x0.size) - lam * model.influence.toarray(), (1 - lam) * x0)
    model.run(scenario.steps)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(expected, model.workforce.attitude, s=12)
    ax.plot([-1, 1], [-1, 1], "k--", lw=1)
    ax.set(xlabel="x* = (I − ΛW)⁻¹(I − Λ)x₀", ylabel="model attitude after 200 weeks",
           title=f"Friedkin–Johnsen docking (max error {np.abs(expected - model.workforce.attitude).max():.1e})")
    fig.tight_layout()
    fig.savefig(FIGURES / "docking_friedkin_johnsen.png", dpi=110)


def beta_trust() -> None:
    scenario = load_scenario("scenarios/docking/beta_trust.toml")
    frame = scenario.model(customer_views=False).run(scenario.steps)
    t = frame["step"].to_numpy()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(t, frame["trust_sales_in_marketing"], "o", ms=4, label="model")
    ax.plot(t, (2 * t + 1) / (3 * t + 2), "k-", lw=1, label="(r+1)/(r+s+2), r=2t, s=t")
    ax.set(xlabel="week", ylabel="trust of sales in marketing", title="Beta-reputation docking")
    ax.legend()
    fig.tight_layout()
    fig.savefig(FIGURES / "docking_beta_trust.png", dpi=110)


def march(runs: int = 60) -> None:
    keys = list(REFERENCE)
    model = [np.mean([equilibrium_knowledge(*k, s) for s in range(runs)]) for k in keys]
    fig, ax = plt.subplots(figsize=(6, 4))
    for p2, marker in [(0.1, "o"), (0.5, "s"), (0.9, "^")]:
        p1s = [k[0] for k in keys if k[1] == p2]
        ax.plot(p1s, [REFERENCE[(p1, p2)] for p1 in p1s], "k--", lw=1)
        ax.plot(p1s, [model[keys.index((p1, p2))] for p1 in p1s], marker=marker, label=f"model p2={p2}")
    ax.set(xlabel="socialisation rate p1", ylabel="equilibrium knowledge",
           title=f"March (1991) docking: model ({runs} runs) vs re-creation (dashed)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(FIGURES / "docking_march1991.png", dpi=110)


def face_validity(seeds: int = 20, weeks: int = 156) -> pd.DataFrame:
    kpis = ["mean_attitude", "offer_fit", "trust_sales_in_marketing", "service_quality", "net_promoter_score",
            "active_customers"]
    names = ["siloed", "siloed_turnaround", "multiplier_led"]
    runs = {n: [load_scenario(n).with_overrides({"steps": weeks}).model(seed=s, customer_views=False).run(weeks)
                for s in range(seeds)] for n in names}
    fig, axes = plt.subplots(1, len(kpis), figsize=(21, 3.6))
    rows = []
    for ax, kpi in zip(axes, kpis, strict=True):
        for n in names:
            values = np.array([r[kpi].to_numpy() for r in runs[n]])
            cis = [mean_ci(values[:, t]) for t in range(values.shape[1])]
            ax.plot([c.mean for c in cis], label=n)
            ax.fill_between(range(values.shape[1]), [c.low for c in cis], [c.high for c in cis], alpha=0.25)
            end = cis[-1]
            rows.append({"kpi": kpi, "scenario": n, "mean": end.mean, "ci_low": end.low, "ci_high": end.high})
        ax.axvline(26, color="0.5", ls=":", lw=1)
        ax.set(title=kpi, xlabel="week (dotted: the turnaround's interventions)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "face_validity.png", dpi=100)
    table = pd.DataFrame(rows)
    table.to_csv(FIGURES / "face_validity.csv", index=False, float_format="%.4f")
    return table


VALIDATION_DOC = ROOT / "docs" / "validation.md"
BEGIN, END = "<!-- BEGIN FACE VALIDITY (make figures) -->", "<!-- END FACE VALIDITY -->"


def write_face_validity_table(table: pd.DataFrame) -> None:
    """The end-of-run table (mean [95 % CI]) into docs/validation.md between its markers."""
    names = ["siloed", "siloed_turnaround", "multiplier_led"]
    lines = [BEGIN, "", "| KPI (week 156) | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for kpi, rows in table.groupby("kpi", sort=False):
        cells = {r.scenario: f"{r.mean:.3g} [{r.ci_low:.3g}, {r.ci_high:.3g}]" for r in rows.itertuples()}
        lines.append(f"| {kpi} | " + " | ".join(cells[n] for n in names) + " |")
    lines += ["", END]
    text = VALIDATION_DOC.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    VALIDATION_DOC.write_text(head + "\n".join(lines) + tail)


if __name__ == "__main__":
    FIGURES.mkdir(parents=True, exist_ok=True)
    for make in (beta_trust, friedkin_johnsen, bass, march):
        make()
        print(f"made {make.__name__}", flush=True)
    table = face_validity()
    write_face_validity_table(table)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
