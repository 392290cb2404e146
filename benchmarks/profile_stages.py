"""Where a week's time goes: milliseconds per week for each stage of the schedule and the outputs.

Usage, from the repository root::

    .venv/bin/python benchmarks/profile_stages.py                  # 500 employees, 10k customers
    .venv/bin/python benchmarks/profile_stages.py 5000 1000000 30  # employees, customers, weeks

Each stage of ``orgsim.model.SCHEDULE`` is wrapped in a timer and the model
steps as usual, so the figures are those of ``OrgModel.step`` itself.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections import defaultdict

from orgsim import OrgModel
from orgsim import model as model_module


def timed(name: str, function, totals: dict[str, float]):
    def run(*args, **kwargs):
        started = time.perf_counter()
        result = function(*args, **kwargs)
        totals[name] += time.perf_counter() - started
        return result

    return run


def main() -> None:
    employees, customers, weeks = (int(a) for a in sys.argv[1:4]) if len(sys.argv) == 4 else (500, 10_000, 200)
    model = OrgModel(seed=1, n_employees=employees, n_customers=customers)
    model.step()  # the first week also makes the promoter-tie counts
    totals: dict[str, float] = defaultdict(float)
    model_module.SCHEDULE = tuple(
        dataclasses.replace(stage, run=timed(stage.group, stage.run, totals),
                            off=stage.off and timed(stage.group, stage.off, totals))
        for stage in model_module.SCHEDULE
    )
    model.record = timed("outputs (measure + DataCollector)", model.record, totals)
    started = time.perf_counter()
    for _ in range(weeks):
        model.step()
    per_week = (time.perf_counter() - started) / weeks
    print(f"{employees:,} employees, {customers:,} customers, {weeks} weeks: {per_week * 1e3:.3f} ms per week, "
          f"{(employees + customers) / per_week / 1e6:.2f} M agent-steps/s")
    for name, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {name:<36}{seconds / weeks * 1e3:>9.3f} ms  {seconds / weeks / per_week:>5.0%}")
    print(f"  {'the rest (schedule, interventions)':<36}{(per_week - sum(totals.values()) / weeks) * 1e3:>9.3f} ms")


if __name__ == "__main__":
    main()
