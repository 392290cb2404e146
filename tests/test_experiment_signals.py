"""Stopping an experiment: Ctrl-C, SIGTERM, a killed parent, a killed Dask worker and scheduler.

Measured as a researcher at a terminal sees it: the time until the prompt returns, which processes
are left, and what is in the results folder afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orgsim import cli, results
from orgsim import experiment as experiments
from orgsim.errors import Interrupted, raised_by_a_signal
from orgsim.model import OrgModel
from tests.conftest import as_numba_delivers
from tests.test_experiment_failures import one_line_error, write

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: 120 runs of about a second each on a loaded machine: far from done when the signal comes.
LONG = """
scenarios = ["siloed", "multiplier_led"]
replications = 60
master_seed = 5
steps = 104
outputs = ["mean_attitude", "active_customers"]
"""
N_RUNS = 120
#: 4 runs of 4 weeks: done in a second or two.
TINY = """
scenarios = ["siloed", "multiplier_led"]
replications = 2
master_seed = 1
steps = 4
outputs = ["mean_attitude"]
"""


def start(args: list[str]) -> subprocess.Popen[str]:
    """`orgsim ARGS` in its own process group, as a shell would start it."""
    return subprocess.Popen([sys.executable, "-m", "orgsim.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for_runs(out: Path, at_least: int, process: subprocess.Popen[str], limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if (out / "runs").is_dir() and results.finished(out, N_RUNS).sum() >= at_least:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {at_least} runs finished in {limit} s")


def long_experiment(tmp_path: Path, at_least: int) -> tuple[subprocess.Popen[str], Path, Path]:
    """The LONG experiment on 2 workers, once ``at_least`` of its runs are kept: (process, spec, out)."""
    spec = write(tmp_path, LONG)
    out = tmp_path / "r"
    process = start(["experiment", str(spec), "--workers", "2", "--out", str(out)])
    wait_for_runs(out, at_least, process)
    return process, spec, out


def group_members(group: int) -> list[int]:
    """The processes still alive (not zombies) in a process group."""
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                alive.append(int(entry.name))
    return alive


def gone_within(group: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not group_members(group):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
@pytest.mark.parametrize(("how", "status"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_ctrl_c_or_sigterm_stops_within_5_s_and_keeps_every_finished_run(tmp_path, how, status):
    process, spec, out = long_experiment(tmp_path, 3)
    sent = time.monotonic()
    os.killpg(process.pid, getattr(signal, how))  # Ctrl-C reaches the whole foreground group
    _, stderr = process.communicate(timeout=30)
    took = time.monotonic() - sent
    assert process.returncode == status, stderr
    assert took < 5, f"the prompt came back after {took:.1f} s"
    assert gone_within(process.pid, 5), "worker processes outlived orgsim"
    assert "Traceback" not in stderr and "leaked" not in stderr
    assert f"stopped by {how}; finished runs are kept" in stderr
    kept = int(results.finished(out, N_RUNS).sum())
    assert 3 <= kept < N_RUNS and not results.journals(out)  # compacted on the way out
    resumed = start(["experiment", str(spec), "--workers", "2", "--out", str(out)])
    wait_for_runs(out, kept + 2, resumed)
    os.killpg(resumed.pid, signal.SIGINT)
    stdout, _ = resumed.communicate(timeout=30)
    assert f"{kept} already done, {N_RUNS - kept} to run" in stdout


def test_raised_by_a_signal_finds_the_handlers_exception_under_numbas_wrapping():
    for raised in (Interrupted(signal.SIGINT), KeyboardInterrupt(), SystemExit(143)):
        assert raised_by_a_signal(as_numba_delivers(raised)) is raised
        assert raised_by_a_signal(as_numba_delivers(as_numba_delivers(raised))) is raised  # nested calls
    assert raised_by_a_signal(as_numba_delivers(ValueError("a bug"))) is None
    assert raised_by_a_signal(SystemError("no cause")) is None


@pytest.mark.slow
def test_ctrl_c_inside_a_compiled_pass_stops_like_any_ctrl_c(tmp_path, monkeypatch, capsys):
    """Regression: 1 Ctrl-C in 6 came during a compiled pass and ended orgsim with a SystemError (exit 1)."""
    spec = write(tmp_path, TINY)
    out = tmp_path / "r"
    real = experiments.simulate
    started = []

    def third_run_gets_ctrl_c(task):
        started.append(task)
        if len(started) == 3:
            raise as_numba_delivers(Interrupted(signal.SIGINT))
        return real(task)

    monkeypatch.setattr(experiments, "simulate", third_run_gets_ctrl_c)
    assert cli.main(["experiment", str(spec), "--workers", "1", "--out", str(out)]) == 130
    stderr = capsys.readouterr().err
    assert "stopped by SIGINT; finished runs are kept" in stderr and "SystemError" not in stderr
    assert results.finished(out, 4).sum() == 2 and not results.journals(out)
    monkeypatch.setattr(experiments, "simulate", real)
    assert cli.main(["experiment", str(spec), "--workers", "1", "--out", str(out)]) == 0
    assert "2 already done, 2 to run" in capsys.readouterr().out


def test_the_api_raises_interrupted_for_a_ctrl_c_inside_a_compiled_pass(tmp_path, monkeypatch):
    def ctrl_c(task):
        raise as_numba_delivers(Interrupted(signal.SIGINT))

    monkeypatch.setattr(experiments, "simulate", ctrl_c)
    with pytest.raises(Interrupted):
        experiments.run_experiment(write(tmp_path, TINY), workers=1, out=tmp_path / "r", echo=lambda _: None)


def test_a_worker_ends_on_sigterm_inside_a_compiled_pass_instead_of_reporting_a_failed_run(monkeypatch):
    class Pipe:
        """One task, then orgsim's end of work (None): without the fix the loop reports and ends."""

        def __init__(self) -> None:
            self.tasks, self.sent = iter([{"a": "task"}, None]), []

        def recv(self):
            return next(self.tasks)

        def send(self, reply):
            self.sent.append(reply)

    def sigterm(task):
        raise as_numba_delivers(SystemExit(143))

    monkeypatch.setattr(experiments, "_worker_start", lambda orgsim: None)
    monkeypatch.setattr(experiments, "simulate", sigterm)
    pipe = Pipe()
    with pytest.raises(SystemExit) as ended:
        experiments._worker_loop(pipe, os.getpid())
    assert ended.value.code == 143 and not pipe.sent


def test_ctrl_c_inside_a_compiled_pass_of_a_single_run_is_one_line(tmp_path, monkeypatch, capsys):
    def ctrl_c(self, steps, progress=False):
        raise as_numba_delivers(KeyboardInterrupt())

    monkeypatch.setattr(OrgModel, "run", ctrl_c)
    assert cli.main(["run", "siloed", "--steps", "2", "--out", str(tmp_path / "r")]) == 130
    assert capsys.readouterr().err.strip() == "orgsim: interrupted"
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_workers_do_not_outlive_a_killed_parent(tmp_path):
    process, _, out = long_experiment(tmp_path, 2)
    assert len(group_members(process.pid)) >= 3  # orgsim, its fork server and workers
    os.kill(process.pid, signal.SIGKILL)  # the parent only, as an out-of-memory killer would
    process.communicate(timeout=30)
    assert gone_within(process.pid, 5), f"left running: {group_members(process.pid)}"
    assert results.finished(out, N_RUNS).sum() >= 2  # its journal keeps what it finished


@pytest.mark.slow
def test_a_short_experiment_ends_promptly_every_time(tmp_path):
    """Its workers stop at the end (multiprocessing.Pool's shutdown once hung here, one run in ten)."""
    spec = write(tmp_path, TINY)
    for attempt in range(6):
        out = tmp_path / f"r{attempt}"
        process = start(["experiment", str(spec), "--workers", "2", "--out", str(out)])
        try:
            _, stderr = process.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(f"attempt {attempt}: the experiment did not end within 90 s") from None
        assert process.returncode == 0, stderr
        assert results.finished(out, 4).all()
        assert gone_within(process.pid, 5), f"left running: {group_members(process.pid)}"


def parent_of(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.slow
def test_a_worker_killed_mid_run_stops_the_experiment_with_one_line(tmp_path):
    process, _, out = long_experiment(tmp_path, 2)
    workers = [pid for pid in group_members(process.pid) if parent_of(parent_of(pid)) == process.pid]
    assert workers, "no worker processes found"
    killed = time.monotonic()
    os.kill(workers[0], signal.SIGKILL)  # as the out-of-memory killer would
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - killed < 5
    assert process.returncode == 1
    assert "a worker process stopped unexpectedly" in one_line_error(subprocess.CompletedProcess([], 1, "", stderr))
    assert gone_within(process.pid, 5), f"left running: {group_members(process.pid)}"
    assert results.finished(out, N_RUNS).sum() >= 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_a_killed_dask_worker_and_a_killed_scheduler_on_a_loopback_cluster(tmp_path):
    """A cluster started from the command line: losing a worker costs nothing; losing the scheduler
    stops orgsim with one line (exit 1), keeps every finished run, and a new cluster resumes."""
    spec = write(tmp_path, LONG.replace("replications = 60", "replications = 15"))
    out = tmp_path / "r"
    started: list[subprocess.Popen[bytes]] = []

    def cluster() -> tuple[str, subprocess.Popen[bytes], list[subprocess.Popen[bytes]]]:
        address = f"tcp://127.0.0.1:{free_port()}"
        scheduler = subprocess.Popen([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port",
                                      address.rsplit(":", 1)[1], "--no-dashboard"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        workers = [subprocess.Popen([BIN / "dask", "worker", address, "--nthreads", "1", "--no-dashboard"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                   for _ in range(2)]
        started.extend([scheduler, *workers])
        return address, scheduler, workers

    try:
        address, scheduler, workers = cluster()
        process = start(["experiment", str(spec), "--scheduler", address, "--out", str(out)])
        wait_for_runs(out, 2, process, limit=240)
        os.killpg(workers[0].pid, signal.SIGKILL)
        wait_for_runs(out, 6, process, limit=240)  # the other worker carries on
        os.killpg(scheduler.pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 1, stderr
        assert "lost the Dask scheduler; every finished run is kept" in one_line_error(
            subprocess.CompletedProcess([], 1, "", stderr))
        kept = int(results.finished(out, 30).sum())
        assert kept >= 6

        address, _, _ = cluster()
        resumed = subprocess.run([sys.executable, "-m", "orgsim.cli", "experiment", str(spec), "--scheduler",
                                  address, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert resumed.returncode == 0, resumed.stderr
        assert f"{kept} already done, {30 - kept} to run" in resumed.stdout
        assert results.finished(out, 30).all()
    finally:
        for child in started:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


@pytest.mark.slow
def test_two_experiments_on_one_dask_cluster_keep_their_own_results(tmp_path):
    """Task keys carry each experiment's fingerprint: two designs at once never swap results."""
    from distributed import LocalCluster

    from orgsim.experiment import read_results, run_experiment

    small = LONG.replace("replications = 60", "replications = 6").replace("steps = 104", "steps = 6")
    specs = [write(tmp_path, small.replace("master_seed = 5", f"master_seed = {seed}"), f"seed{seed}.toml")
             for seed in (1, 99)]
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        both = [start(["experiment", str(spec), "--scheduler", cluster.scheduler_address, "--out",
                       str(tmp_path / spec.stem)]) for spec in specs]
        for process in both:
            process.communicate(timeout=300)
            assert process.returncode == 0
    for spec in specs:
        local = read_results(run_experiment(spec, workers=1, out=tmp_path / f"local-{spec.stem}"))[1]
        remote = read_results(tmp_path / spec.stem)[1]
        assert remote.equals(local), spec.stem
