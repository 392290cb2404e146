"""A 20,480-run Sobol experiment of a small firm, as a researcher would run it (`make bench-scale`).

From the shell, in a temporary folder: runs per minute with 1 and 2 workers (on a 640-run slice of
the same design), the full experiment killed with SIGKILL part-way and resumed (nothing lost,
nothing run twice), the parent's peak memory, the results' size on disk and the time to read them
back and to write the report; then the parent's memory and the time to the first run for a
1,310,720-run version of the design (stopped after its first runs).

    python benchmarks/experiment_scale.py
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "benchmarks" / "sobol_small_firm.toml"


def variant(folder: Path, name: str, n: int, replications: int = 4) -> Path:
    """The benchmark's design with ``n`` base samples."""
    text = SPEC.read_text().replace("n = 1024", f"n = {n}").replace("replications = 4", f"replications = {replications}")
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def kept(out: Path, n_runs: int) -> int:
    from orgsim import results

    return int(results.finished(out, n_runs).sum()) if (out / "runs").is_dir() else 0


def orgsim(spec: Path, out: Path, *extra: str, kill_after_runs: int | None = None, n_runs: int = 0,
           kill_after_seconds: float | None = None) -> dict[str, float]:
    """Run `orgsim experiment`, sampling the parent's memory; optionally SIGKILL it part-way."""
    command = [sys.executable, "-m", "orgsim.cli", "experiment", str(spec), "--out", str(out), "--yes", *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak, first_run, last_check = 0.0, None, 0.0
    while process.poll() is None:
        peak = max(peak, rss_mb(process.pid))
        now = time.perf_counter()
        if (kill_after_runs or kill_after_seconds) and now - last_check > 1.0:
            last_check = now
            done = kept(out, n_runs)
            if first_run is None and done:
                first_run = now - started
            if (kill_after_runs and done >= kill_after_runs) or (kill_after_seconds and first_run is not None
                                                                 and now - started > kill_after_seconds):
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                break
        time.sleep(0.1)
    stdout = process.stdout.read() if process.stdout else ""
    return {"seconds": time.perf_counter() - started, "peak_mb": peak, "status": process.returncode,
            "first_run_s": first_run or float("nan"), "stdout": stdout}


def main() -> None:
    from orgsim.experiment import load_experiment, read_results

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small = variant(folder, "slice", 32)
        n_small = load_experiment(small).n_runs
        for workers in (1, 2):
            result = orgsim(small, folder / f"w{workers}", "--workers", str(workers))
            assert result["status"] == 0
            rows.append((f"{n_small} runs, {workers} worker(s)", f"{result['seconds']:.1f} s = "
                         f"{n_small / result['seconds'] * 60:,.0f} runs/min, parent peak {result['peak_mb']:.0f} MB"))

        n_runs = load_experiment(SPEC).n_runs
        out = folder / "sobol"
        first = orgsim(SPEC, out, "--workers", "2", kill_after_runs=int(n_runs * 0.4), n_runs=n_runs)
        kept_at_kill = kept(out, n_runs)
        second = orgsim(SPEC, out, "--workers", "2")
        assert second["status"] == 0, second
        manifest = json.loads((out / "experiment.json").read_text())
        sessions = [s.get("runs_finished") for s in manifest["sessions"]]
        assert sessions[-1] == n_runs - kept_at_kill and kept(out, n_runs) == n_runs  # none lost, none twice
        total = first["seconds"] + second["seconds"]
        rows += [
            (f"{n_runs:,}-run Sobol, 2 workers, killed (SIGKILL) after {first['seconds']:.0f} s",
             f"{kept_at_kill:,} runs kept"),
            ("resumed", f"{second['seconds']:.0f} s; runs per session {sessions} (the killed session could not "
                        f"record its count); {n_runs - kept_at_kill:,} run after the resume, so none twice"),
            ("whole experiment", f"{total / 60:.1f} min = {n_runs / total * 60:,.0f} runs/min"),
            ("parent peak memory", f"{max(first['peak_mb'], second['peak_mb']):.0f} MB"),
        ]
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        files = sum(1 for p in out.rglob("*") if p.is_file())
        rows.append(("results on disk", f"{size / 1e6:.1f} MB in {files} files"))
        started = time.perf_counter()
        _, frame = read_results(out)
        rows.append(("read back (read_results)", f"{time.perf_counter() - started:.2f} s, {len(frame):,} rows, "
                                                 f"{frame['run'].nunique():,} runs"))
        started = time.perf_counter()
        report = subprocess.run([sys.executable, "-m", "orgsim.cli", "report", str(out)], cwd=ROOT,
                                capture_output=True, text=True)
        assert report.returncode == 0, report.stderr
        rows.append(("orgsim report", f"{time.perf_counter() - started:.1f} s"))
        (ROOT / "benchmarks" / "sobol_small_firm_report.md").write_text((out / "report.md").read_text())

        huge = variant(folder, "huge", 65536)
        n_huge = load_experiment(huge).n_runs
        result = orgsim(huge, folder / "huge", "--workers", "2", kill_after_seconds=20, n_runs=n_huge)
        rows.append((f"{n_huge:,}-run design", f"first run after {result['first_run_s']:.1f} s, parent peak "
                                               f"{result['peak_mb']:.0f} MB (stopped after 20 s)"))

    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
