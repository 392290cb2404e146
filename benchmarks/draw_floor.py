"""The floor of a week that keeps every result: how many random numbers it draws, and what numpy takes
to draw that many.

Usage, from the repository root::

    .venv/bin/python benchmarks/draw_floor.py                  # 500 employees, 10k customers
    .venv/bin/python benchmarks/draw_floor.py 200 5000         # employees, customers

A run is determined by its seed through the numbers its mechanisms draw, in their order and number.
A speed-up that keeps every result must draw all of them; numpy's bulk fill is the fastest way to do
so here (numba's ``Generator.random()`` inside a compiled pass takes about twice as long a number).
The model steps as usual with a counting stand-in for ``model.rng``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from orgsim import OrgModel

WEEKS = 20


class CountingRng:
    """Forwards every draw to the model's generator and counts the numbers drawn."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng, self.drawn = rng, 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.rng, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            drawn = method(*args, **kwargs)
            self.drawn += np.size(drawn)
            return drawn

        return counted


def main() -> None:
    employees, customers = (int(a) for a in sys.argv[1:3]) if len(sys.argv) == 3 else (500, 10_000)
    model = OrgModel(seed=1, n_employees=employees, n_customers=customers, customer_views=False)
    model.run(2)
    counting = CountingRng(model.rng)
    model.rng = counting
    model.run(WEEKS)
    per_week = round(counting.drawn / WEEKS)
    generator = np.random.default_rng(0)
    fastest = np.inf
    for _ in range(50):
        started = time.perf_counter()
        generator.random(per_week)
        fastest = min(fastest, time.perf_counter() - started)
    print(f"{employees:,} employees + {customers:,} customers: {per_week:,} numbers drawn a week; "
          f"numpy draws that many in {fastest * 1e3:.3f} ms (fastest of 50)")


if __name__ == "__main__":
    main()
