"""A fingerprint of what the model computes: to show that a speed-up changed no result, bit for bit.

Usage, from the repository root::

    .venv/bin/python benchmarks/fingerprint.py            # prints one digest per run and the total
    .venv/bin/python benchmarks/fingerprint.py --total    # the total only

Runs every preset and docking scenario with two seeds for 40 weeks (with
its interventions), and two presets at 30,000 customers, and hashes each
run's time series, every state array of the workforce, the market and the
firm, and both networks. Run it before and after a change: the same total
means every one of these runs is identical to the last bit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys

import numpy as np
import scipy.sparse as sp

from orgsim import scenario as scenarios
from orgsim.model import OrgModel

WEEKS = 40
SEEDS = (1, 2)


def _update(digest, value) -> None:
    if isinstance(value, np.ndarray):
        digest.update(str(value.dtype).encode() + str(value.shape).encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif sp.issparse(value):
        value = sp.csr_matrix(value)
        for part in (value.indptr, value.indices, value.data):
            _update(digest, np.asarray(part))
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            _update(digest, getattr(value, field.name))
    else:
        digest.update(repr(value).encode())


def run_digest(model: OrgModel, weeks: int) -> str:
    frame = model.run(weeks)
    digest = hashlib.sha256(frame.to_numpy(dtype=np.float64).tobytes())
    for container in (model.workforce, model.market, model.firm):
        _update(digest, container)
    return digest.hexdigest()[:16]


def cases():
    every = [*scenarios.presets(), *(scenarios.load(p) for p in sorted((scenarios.scenario_dir() / "docking").glob("*.toml")))]
    for scenario in every:
        interventions = [i for i in scenario.interventions if i["week"] < WEEKS]
        for seed in SEEDS:
            yield f"{scenario.name} seed {seed}", lambda s=scenario, i=interventions, seed=seed: OrgModel(
                s.params, seed=seed, interventions=i, customer_views=False)
    for name in ("siloed", "multiplier_led"):
        s = scenarios.load(name)
        yield f"{name} 30k customers", lambda s=s: OrgModel(s.params.replace(n_customers=30_000), seed=3,
                                                           interventions=s.interventions, customer_views=False)


def main() -> None:
    total = hashlib.sha256()
    for name, make in cases():
        digest = run_digest(make(), WEEKS)
        total.update(digest.encode())
        if "--total" not in sys.argv:
            print(f"{name:<44}{digest}", flush=True)
    print(f"total {total.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
