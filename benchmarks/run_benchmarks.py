"""Speed and memory of orgsim at growing sizes (run by `make bench`).

Each case builds the default scenario at the given size (customer agent views
off above 20,000 customers, as by default), times construction and the weekly
steps separately, and reports agent-steps per second
((employees + customers) x weeks / step time) and the peak resident memory of
a fresh process per case.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

CASES = [
    # (label, employees, customers, weeks)
    ("default scenario", 200, 5_000, 104),
    ("1k employees, 100k customers", 1_000, 100_000, 52),
    ("5k employees, 1M customers", 5_000, 1_000_000, 52),
]


def one_case(employees: int, customers: int, weeks: int) -> dict:
    from orgsim import OrgModel

    started = time.perf_counter()
    model = OrgModel(seed=1, n_employees=employees, n_customers=customers)
    built = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(weeks):
        model.step()
    stepped = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"build_s": built, "steps_s": stepped, "total_s": built + stepped,
            "agent_steps_per_s": (employees + customers) * weeks / stepped, "peak_mb": peak_mb}


def main() -> None:
    if len(sys.argv) == 4:
        print(json.dumps(one_case(*map(int, sys.argv[1:]))))
        return
    print(f"{'case':<32}{'weeks':>6}{'build s':>9}{'steps s':>9}{'total s':>9}{'M agent-steps/s':>17}{'peak MB':>9}")
    for label, employees, customers, weeks in CASES:
        out = subprocess.run([sys.executable, __file__, str(employees), str(customers), str(weeks)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        print(f"{label:<32}{weeks:>6}{r['build_s']:>9.2f}{r['steps_s']:>9.2f}{r['total_s']:>9.2f}"
              f"{r['agent_steps_per_s'] / 1e6:>17.2f}{r['peak_mb']:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
