"""How step time and memory grow with the market and the firm (run by `make bench-scaling`).

Two series, every case in a fresh process: customers from 10k to 10M at 500
employees, and employees from 100 to 20k at 10,000 customers. For each case:
milliseconds per simulated week (weekly steps only, build excluded), the
ties of the networks, and the peak resident memory of the process. Writes
``benchmarks/scaling.json`` and ``benchmarks/scaling.png`` (time log-log, with a
line of slope 1: linear growth) and prints the table that benchmarks/README.md
reports; ``--plot-only`` redraws the plot from the JSON.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CUSTOMERS = [10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000]
EMPLOYEES = [100, 300, 1_000, 3_000, 10_000, 20_000]
FIXED_EMPLOYEES, FIXED_CUSTOMERS = 500, 10_000


def weeks_for(agents: int) -> int:
    """Enough weeks for a stable time, few for the largest cases."""
    return 40 if agents <= 300_000 else 10 if agents <= 3_000_000 else 3


def one_case(employees: int, customers: int) -> dict:
    from orgsim import OrgModel

    model = OrgModel(seed=1, n_employees=employees, n_customers=customers)
    weeks = weeks_for(employees + customers)
    model.step()  # the first week also makes the promoter-tie counts
    started = time.perf_counter()
    for _ in range(weeks):
        model.step()
    per_week = (time.perf_counter() - started) / weeks
    m, w = model.market, model.workforce
    customer_ties = sum(t.nnz for t in (m.weak_ties, m.strong_ties) if t is not None)
    return {"ms_per_week": per_week * 1e3, "customer_ties": customer_ties, "employee_ties": w.network.nnz,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run(employees: int, customers: int) -> dict:
    out = subprocess.run([sys.executable, __file__, str(employees), str(customers)],
                         capture_output=True, text=True, check=True)
    return {"employees": employees, "customers": customers, **json.loads(out.stdout)}


def plot(by_customers: list[dict], by_employees: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for ax, rows, key, label in ((axes[0], by_customers, "customers", f"customers ({FIXED_EMPLOYEES} employees)"),
                                 (axes[1], by_employees, "employees", f"employees ({FIXED_CUSTOMERS:,} customers)")):
        x = [r[key] for r in rows]
        ms = [r["ms_per_week"] for r in rows]
        mb = [r["peak_mb"] for r in rows]
        ax.loglog(x, ms, "o-", color="tab:blue", label="ms per week")
        ax.loglog([x[0], x[-1]], [ms[-1] * x[0] / x[-1], ms[-1]], ":", color="tab:blue",
                  label="slope 1 (linear growth)")
        ax.set_xlabel(label)
        ax.set_ylabel("milliseconds per simulated week", color="tab:blue")
        twin = ax.twinx()
        twin.semilogx(x, mb, "s--", color="tab:red", label="peak memory")
        twin.set_ylabel("peak memory, MB", color="tab:red")
        twin.set_ylim(bottom=0)
        twin.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        lines = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
        ax.legend(lines, [line.get_label() for line in lines], loc="upper left", fontsize=8)
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle("orgsim: time per simulated week (log-log) and peak memory")
    fig.savefig(path, dpi=110)


def main() -> None:
    if len(sys.argv) == 3:
        print(json.dumps(one_case(int(sys.argv[1]), int(sys.argv[2]))))
        return
    if sys.argv[1:] == ["--plot-only"]:  # redraw from the last run's figures
        series = json.loads((HERE / "scaling.json").read_text())
        plot(series["customers"], series["employees"], HERE / "scaling.png")
        return
    print(f"{'employees':>10}{'customers':>12}{'ms/week':>10}{'M agent-steps/s':>17}{'customer ties':>15}"
          f"{'staff ties':>12}{'peak MB':>9}")
    series: dict[str, list[dict]] = {"customers": [], "employees": []}
    for key, cases in (("customers", [(FIXED_EMPLOYEES, c) for c in CUSTOMERS]),
                       ("employees", [(e, FIXED_CUSTOMERS) for e in EMPLOYEES])):
        for employees, customers in cases:
            r = run(employees, customers)
            series[key].append(r)
            rate = (employees + customers) / r["ms_per_week"] / 1e3
            print(f"{employees:>10,}{customers:>12,}{r['ms_per_week']:>10.2f}{rate:>17.2f}"
                  f"{r['customer_ties']:>15,}{r['employee_ties']:>12,}{r['peak_mb']:>9.0f}", flush=True)
    (HERE / "scaling.json").write_text(json.dumps(series, indent=1) + "\n")
    plot(series["customers"], series["employees"], HERE / "scaling.png")
    print(f"figures: {HERE / 'scaling.json'}, plot: {HERE / 'scaling.png'}")


if __name__ == "__main__":
    main()
