"""Batch experiments: validation, determinism across workers and backends, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from orgsim import results
from orgsim.errors import UserError
from orgsim.experiment import load_experiment, read_results, run_experiment

ROOT = Path(__file__).resolve().parents[1]

SMALL = """
scenarios = ["siloed", "multiplier_led"]
replications = 2
master_seed = 5
steps = 12
record_every = 3
outputs = ["mean_attitude", "active_customers"]

[grid]
n_customers = [300]
silo_strength = [0.2, 0.8]
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def data(out: Path) -> pd.DataFrame:
    _, frame = read_results(out)
    return frame.sort_values(["run_id", "step"]).reset_index(drop=True)


def kept_runs(out: Path, n_runs: int) -> int:
    """Runs kept in a results folder (in Parquet parts or a session's journal)."""
    return int(results.finished(out, n_runs).sum()) if (out / "runs").is_dir() else 0


def test_design_and_seeds(tmp_path):
    experiment = load_experiment(write(tmp_path, SMALL))
    assert experiment.n_runs == 2 * 2 * 2
    tasks = list(experiment.tasks())
    assert len({t["run_id"] for t in tasks}) == len(tasks) == 8
    assert [t["run"] for t in tasks] == list(range(8))
    # common random numbers: replication r has the same seed in every scenario and point
    seeds = {(t["replication"], t["seed"]) for t in tasks}
    assert len(seeds) == 2
    assert list(load_experiment(write(tmp_path, SMALL, "again.toml")).tasks()) == tasks
    assert [t["overrides"] for t in tasks[:4]] == [{"n_customers": 300, "silo_strength": 0.2}] * 2 + [
        {"n_customers": 300, "silo_strength": 0.8}] * 2


@pytest.mark.slow
def test_rows_have_the_promised_columns(tmp_path):
    out = run_experiment(write(tmp_path, SMALL), workers=1, out=tmp_path / "r")
    frame = data(out)
    assert {"run_id", "scenario", "n_customers", "silo_strength", "seed", "step",
            "mean_attitude", "active_customers"} <= set(frame.columns)
    assert sorted(frame["step"].unique()) == [0, 3, 6, 9, 12]
    assert frame["run_id"].nunique() == 8


@pytest.mark.slow
def test_same_rows_for_one_and_two_workers(tmp_path):
    spec = write(tmp_path, SMALL)
    one = data(run_experiment(spec, workers=1, out=tmp_path / "one"))
    two = data(run_experiment(spec, workers=2, out=tmp_path / "two"))
    pd.testing.assert_frame_equal(one, two, check_exact=True)


@pytest.mark.slow
def test_dask_backend_gives_identical_rows(tmp_path):
    from distributed import LocalCluster

    spec = write(tmp_path, SMALL)
    local = data(run_experiment(spec, workers=1, out=tmp_path / "local"))
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                      processes=True) as cluster:
        remote = data(run_experiment(spec, scheduler=cluster.scheduler_address, out=tmp_path / "dask"))
    pd.testing.assert_frame_equal(local, remote, check_exact=True)


@pytest.mark.slow
def test_kill_and_resume_loses_and_repeats_nothing(tmp_path):
    spec = write(tmp_path, SMALL.replace("replications = 2", "replications = 12").replace("steps = 12", "steps = 60"))
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "orgsim.cli", "experiment", str(spec), "--workers", "2", "--out", str(out)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and kept_runs(out, 48) < 5:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = kept_runs(out, 48)
    assert 5 <= finished < 48, "the kill came too late to test a resume"
    kept_before = data(out)

    resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{finished} already done, {48 - finished} to run" in resumed.stdout
    manifest = json.loads((out / "experiment.json").read_text())
    assert manifest["sessions"][-1]["runs_finished"] == 48 - finished  # nothing finished was run again
    assert not list((out / "runs").glob(".*")) and len(list((out / "runs").rglob("*.parquet"))) <= 4
    reference = data(run_experiment(spec, workers=1, out=tmp_path / "reference"))
    pd.testing.assert_frame_equal(data(out), reference, check_exact=True)
    again = data(out).merge(kept_before[["run", "step"]])
    pd.testing.assert_frame_equal(again, kept_before.reset_index(drop=True), check_exact=True)


@pytest.mark.slow
def test_changed_file_is_refused_unless_fresh(tmp_path):
    spec = write(tmp_path, SMALL)
    out = run_experiment(spec, workers=1, out=tmp_path / "r")
    spec.write_text(SMALL.replace("replications = 2", "replications = 3"))
    with pytest.raises(UserError, match="changed since the results"):
        run_experiment(spec, workers=1, out=out)
    run_experiment(spec, workers=1, out=out, fresh=True)
    assert data(out)["run_id"].nunique() == 12


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_fresh_refuses_a_folder_holding_files_orgsim_did_not_write(tmp_path):
    """The user's thesis and data next to the results: --fresh deletes nothing, not even the results."""
    spec = write(tmp_path, SMALL)
    out = run_experiment(spec, workers=1, out=tmp_path / "r")
    (out / "thesis.tex").write_text("\\chapter{Results}\n")
    (out / "sub").mkdir()
    (out / "sub" / "data.csv").write_text("a,b\n1,2\n")
    (out / "runs" / "notes.txt").write_text("my notes")
    (out / "empty").mkdir()
    (out / "figures").mkdir()
    (out / "figures" / "mine.png").write_bytes(b"png")
    before = tree(out)
    with pytest.raises(UserError, match=r"holds files orgsim did not write \(empty, figures/mine.png, runs/notes.txt "
                                        r"and 2 more\).*nothing was deleted"):
        run_experiment(spec, workers=1, out=out, fresh=True)
    assert tree(out) == before and (out / "empty").is_dir()


def test_fresh_refuses_a_folder_that_is_not_an_experiments_and_a_file(tmp_path):
    spec = write(tmp_path, SMALL)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("x")
    with pytest.raises(UserError, match="thesis.tex"):
        run_experiment(spec, workers=1, out=mine, fresh=True)
    assert tree(mine) == {"thesis.tex": b"x"}
    a_file = tmp_path / "results.txt"
    a_file.write_text("keep")
    with pytest.raises(UserError, match="is a file, not a folder"):
        run_experiment(spec, workers=1, out=a_file, fresh=True)
    assert a_file.read_text() == "keep"


@pytest.mark.slow
def test_fresh_removes_exactly_what_orgsim_wrote(tmp_path):
    """Runs, manifest, report and figures of an earlier experiment go; the rerun starts from nothing."""
    from orgsim.report import write_report

    spec = write(tmp_path, SMALL)
    out = run_experiment(spec, workers=1, out=tmp_path / "r")
    write_report(out)
    (out / "runs" / "siloed" / ".part-1.parquet.abc123.tmp").write_bytes(b"half")  # left by a killed writer
    (out / "runs" / ".journal-1-2.arrows").write_bytes(b"cut short")  # left by a killed session
    assert (out / "report.md").exists() and list((out / "figures").glob("*.png"))
    spec.write_text(SMALL.replace("replications = 2", "replications = 3"))
    run_experiment(spec, workers=1, out=out, fresh=True)
    assert sorted(p.name for p in out.iterdir()) == ["experiment.json", "runs"]
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["multiplier_led", "siloed"]
    assert data(out)["run_id"].nunique() == 12


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('scenarios = ["siloed"]\nreplicatons = 3\n', 'did you mean "replications"'),
        ('scenarios = ["sileod"]\n', 'did you mean "siloed"'),
        ('scenarios = "siloed"\n', "non-empty list"),
        ('scenarios = ["siloed"]\nreplications = 0\n', "replications = 0 is not allowed"),
        ('scenarios = ["siloed"]\noutputs = ["nps"]\n', "unknown output 'nps'"),
        ('scenarios = ["siloed"]\n[grid]\nsilo_stregth = [0.1]\n', 'did you mean "silo_strength"'),
        ('scenarios = ["siloed"]\n[grid]\nsilo_strength = [0.1, 3.0]\n', "allowed: a number in [0, 1]"),
        ('scenarios = ["siloed"]\n[sample]\nmethod = "fast"\nn = 4\n', "one of morris, sobol, latin"),
        ('scenarios = ["siloed"]\n[sample]\nmethod = "sobol"\nn = 4\n[sample.ranges]\nad_share = [0.0, 2.0]\nfreedom = [0.0, 1.0]\n',
         "ad_share = [0.0, 2.0] is not allowed"),
        ('scenarios = ["siloed_turnaround"]\nsteps = 10\n', "past the end"),
        ('scenarios = ["siloed"\n', "malformed TOML"),
    ],
)
def test_bad_experiment_files(tmp_path, text, message):
    with pytest.raises(UserError) as error:
        load_experiment(write(tmp_path, text, "bad.toml"))
    assert "bad.toml" in str(error.value) and message in str(error.value)


@pytest.mark.slow
def test_bad_file_from_the_shell_writes_nothing(tmp_path):
    spec = write(tmp_path, 'scenarios = ["sileod"]\n', "bad.toml")
    result = subprocess.run([sys.executable, "-m", "orgsim.cli", "experiment", str(spec), "--out", str(tmp_path / "o")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_shipped_experiments_are_valid():
    sizes = {p.stem: load_experiment(p).n_runs for p in (ROOT / "experiments").glob("*.toml")}
    assert sizes["silo_vs_multiplier"] == 60
    assert sizes["silo_multiplier_grid"] == 80
    assert sizes["sensitivity_morris"] >= 8 * 12


@pytest.mark.slow
def test_resume_sweeps_orgsims_orphaned_temporary_files_and_nothing_else(tmp_path):
    """A writer killed between mkstemp and rename leaves `.NAME.*.tmp` behind; resuming removes
    exactly those (the patterns io.temporary_files declares) and never a file orgsim did not write."""
    spec = write(tmp_path, 'scenarios = ["siloed"]\nreplications = 2\nsteps = 2\n\n[grid]\nn_customers = [200]\n')
    out = run_experiment(spec, workers=1, out=tmp_path / "r")
    orphans = [out / "runs" / "siloed" / ".part-17.parquet.k9x2ab.tmp", out / ".experiment.json.a1b2c3.tmp",
               out / ".report.md.zz0011.tmp"]
    theirs = [out / "thesis.tex", out / "runs" / "notes.tmp", out / "runs" / ".draft.tmp",
              out / "runs" / ".siloed.parquet.tmp", out / ".experiment.json.tmp", out / "data.parquet.x.tmp",
              out / "sub" / ".experiment.json.a1b2c3.tmp", out / "runs" / "siloed" / ".part.parquet.tmp"]
    for path in orphans + theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half-written")
    before = {name: content for name, content in tree(out).items() if out / name not in orphans}

    run_experiment(spec, workers=1, out=out)

    assert not any(path.exists() for path in orphans)
    after = tree(out)
    assert {name: after.get(name) for name in before if name != "experiment.json"} == {
        name: content for name, content in before.items() if name != "experiment.json"}  # the user's files
    assert set(after) == set(before)
