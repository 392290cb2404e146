"""Speed and memory of orgsim, and its speed against idiomatic Mesa (run by `make bench`).

Three tables, every case in a fresh process (so peak memory is the case's own):

1. **orgsim against idiomatic Mesa** at 10,000 customers + 500 employees: the
   full model (all mechanisms) against ``benchmarks/mesa_peer.py`` (two of
   them, one Python object per agent), the median of three runs of each.
2. **Agent-steps per second** at 10k, 100k, 1M and 10M customers: weekly
   steps after the first, (employees + customers) × weeks / their time. The
   first week of a process also loads some compiled passes from numba's cache
   and makes the full promoter-tie counts: it is shown apart.
3. **A million customers for a year**: 5,000 employees + 1M customers,
   52 weeks, build included, and the peak resident memory.

Timings on a shared machine vary by about ±10 %; medians of repeated runs are
reported where a run is short. The speed of this machine's core changes from
hour to hour (by up to 2× on the machines orgsim was measured on), so the
first line is a yardstick: a plain Python loop of 10 million steps and the
sum of an 80 MB array (the two can change independently: a busy neighbour
on the machine slows memory-bound numpy more than a Python loop). Compare
figures measured at different times relative to it, or alternate the two
versions being compared in one session (``PYTHONPATH=<other checkout>/src``).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
MESA_PEER_SIZE = (500, 10_000, 20)  # employees, customers, weeks
REPEATS = 3
A_YEAR_OF_A_MILLION = (5_000, 1_000_000, 52)  # employees, customers, weeks
SIZES = [
    # (label, employees, customers, weeks)
    ("10k customers", 500, 10_000, 104),
    ("100k customers", 1_000, 100_000, 52),
    ("1M customers", *A_YEAR_OF_A_MILLION),
    ("10M customers", 5_000, 10_000_000, 5),
]


def orgsim_case(employees: int, customers: int, weeks: int) -> dict:
    """Build, the first week, then ``weeks − 1`` weeks: the steady pace (agent-steps/s) is theirs.

    Building loads most compiled passes (from numba's cache); the first week loads the customers'
    and the marketing mix's and makes the full promoter-tie counts: it is timed apart and counted
    in the total.
    """
    from orgsim import OrgModel

    started = time.perf_counter()
    model = OrgModel(seed=1, n_employees=employees, n_customers=customers)
    built = time.perf_counter() - started
    started = time.perf_counter()
    model.step()
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(weeks - 1):
        model.step()
    stepped = time.perf_counter() - started
    return {"build_s": built, "first_week_s": first, "steps_s": stepped, "total_s": built + first + stepped,
            "agent_steps_per_s": (employees + customers) * (weeks - 1) / stepped, "peak_mb": _peak_mb()}


def mesa_case(employees: int, customers: int, weeks: int) -> dict:
    sys.path.insert(0, str(HERE))
    from mesa_peer import measure

    result = measure(customers, employees, weeks - 1)
    return {"build_s": result["build_s"], "first_week_s": result["first_week_s"], "steps_s": result["steps_s"],
            "agent_steps_per_s": result["agent_steps_per_s"], "peak_mb": _peak_mb()}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_fresh_process(kind: str, employees: int, customers: int, weeks: int) -> dict:
    out = subprocess.run([sys.executable, __file__, kind, str(employees), str(customers), str(weeks)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def yardstick() -> None:
    """The machine's speed now: a 10-million-step Python loop, and a pass over memory (numpy's own speed
    at a million customers is mostly the memory's)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for step in range(10_000_000):
            total += step
        best = min(best, time.perf_counter() - started)
    import numpy as np

    array = np.ones(10_000_000)  # 80 MB: far beyond the caches, so its speed is the memory's
    array.sum()
    bandwidth = min(timeit.repeat(array.sum, number=5, repeat=3)) / 5
    print(f"yardstick: a 10-million-step Python loop takes {best:.2f} s, the sum of 80 MB of float64 "
          f"{bandwidth * 1e3:.1f} ms ({0.08 / bandwidth:.1f} GB/s) on this machine now\n", flush=True)


def mesa_ratio() -> None:
    employees, customers, weeks = MESA_PEER_SIZE
    print(f"orgsim (all mechanisms) against idiomatic Mesa (benchmarks/mesa_peer.py, two mechanisms), "
          f"{employees:,} employees + {customers:,} customers, {weeks} weeks (the first timed apart), "
          f"median of {REPEATS} runs each")
    rates = {}
    for kind in ("mesa", "orgsim"):
        runs = [in_fresh_process(kind, employees, customers, weeks) for _ in range(REPEATS)]
        rates[kind] = statistics.median(r["agent_steps_per_s"] for r in runs)
        per_week = statistics.median(r["steps_s"] for r in runs) / (weeks - 1)
        first = statistics.median(r["first_week_s"] for r in runs)
        print(f"  {kind:<8}{rates[kind] / 1e6:>8.3f} M agent-steps/s   {per_week * 1e3:>7.2f} ms per week"
              f"   (first week {first * 1e3:.0f} ms)", flush=True)
    print(f"  orgsim / Mesa = {rates['orgsim'] / rates['mesa']:.0f}x\n", flush=True)


def sizes() -> None:
    print(f"{'case':<16}{'employees':>10}{'weeks':>6}{'build s':>9}{'week 1 s':>9}{'steps s':>9}{'ms/week':>9}"
          f"{'M agent-steps/s':>17}{'peak MB':>9}")
    results = {}
    for label, employees, customers, weeks in SIZES:
        r = results[employees, customers, weeks] = in_fresh_process("orgsim", employees, customers, weeks)
        print(f"{label:<16}{employees:>10,}{weeks:>6}{r['build_s']:>9.2f}{r['first_week_s']:>9.2f}{r['steps_s']:>9.2f}"
              f"{r['steps_s'] / (weeks - 1) * 1e3:>9.1f}{r['agent_steps_per_s'] / 1e6:>17.2f}{r['peak_mb']:>9.0f}",
              flush=True)
    r = results[A_YEAR_OF_A_MILLION]
    print(f"\n5,000 employees + 1M customers, 52 weeks, build and first week included: {r['total_s']:.1f} s "
          f"(build {r['build_s']:.1f} s), peak {r['peak_mb']:,.0f} MB")


def main() -> None:
    if len(sys.argv) == 5:
        kind, employees, customers, weeks = sys.argv[1], *map(int, sys.argv[2:])
        case = mesa_case if kind == "mesa" else orgsim_case
        print(json.dumps(case(employees, customers, weeks)))
        return
    yardstick()
    mesa_ratio()
    sizes()


if __name__ == "__main__":
    main()
