"""Runs per minute of the flagship experiment: serial, all local cores, and Dask (`make bench`)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from orgsim.experiment import load_experiment, run_experiment

FLAGSHIP = Path(__file__).resolve().parents[1] / "experiments" / "silo_vs_multiplier.toml"


def timed(**kwargs) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        run_experiment(FLAGSHIP, out=Path(tmp) / "out", **kwargs)
        return time.perf_counter() - started


def main() -> None:
    from distributed import LocalCluster

    runs = load_experiment(FLAGSHIP).n_runs
    cores = os.cpu_count()
    rows = [("serial (1 worker)", timed(workers=1)), (f"local processes ({cores} workers)", timed(workers=cores))]
    with LocalCluster(n_workers=cores, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        timed(scheduler=cluster.scheduler_address)  # warm the workers' imports
        rows.append((f"Dask LocalCluster ({cores} workers, warm)", timed(scheduler=cluster.scheduler_address)))
    print(f"\nflagship: {runs} runs of 104 weeks")
    print(f"{'backend':<40}{'seconds':>9}{'runs/min':>10}")
    for label, seconds in rows:
        print(f"{label:<40}{seconds:>9.1f}{runs / seconds * 60:>10.0f}")
    overhead = (rows[2][1] - rows[1][1]) / runs
    print(f"Dask overhead per run vs local processes: {overhead * 1000:+.0f} ms")


if __name__ == "__main__":
    main()
