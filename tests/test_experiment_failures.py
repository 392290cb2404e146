"""Experiments when things go wrong: bad places to write, a full disk, huge designs, a changed model.

Each test drives what a researcher would see: the one-line message and exit status of ``orgsim``
from a shell, and what is left in the results folder afterwards.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from orgsim import experiment as experiments
from orgsim import results
from orgsim.errors import EnvironmentProblem, UserError
from orgsim.experiment import load_experiment, read_results, run_experiment

ROOT = Path(__file__).resolve().parents[1]

TINY = """
scenarios = ["siloed", "multiplier_led"]
replications = 3
master_seed = 5
steps = 4
outputs = ["mean_attitude", "active_customers"]

[grid]
n_customers = [150]
n_employees = [30]
knowledge_history_weeks = [8]  # a run in half the time: these tests are about files, not the firm's past
"""


def write(folder: Path, text: str, name: str = "exp.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def orgsim(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orgsim.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error orgsim printed: exactly one line starting `orgsim: error:`, never a traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("orgsim: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def unshare_works() -> bool:
    """Whether this machine lets an unprivileged process mount a tmpfs in a private namespace."""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


needs_unshare = pytest.mark.skipif(not unshare_works(), reason="needs `unshare -rm` to mount a private tmpfs")


def in_private_tmpfs(mount: Path, options: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `orgsim ARGS` with a fresh tmpfs (mount OPTIONS) at MOUNT, seen by this process only."""
    mount.mkdir(exist_ok=True)
    script = f'mount -t tmpfs -o {options} tmpfs "$1" && shift && exec "$@"'
    return subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", str(mount), sys.executable, "-m",
                           "orgsim.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


# ------------------------------------------------------------------ places to write
def test_a_file_where_the_results_folder_should_be_is_a_user_error_and_is_kept(tmp_path):
    spec = write(tmp_path, TINY)
    in_the_way = tmp_path / "results.txt"
    in_the_way.write_text("mine")
    with pytest.raises(UserError, match="results.txt: is a file, not a folder; nothing was written"):
        run_experiment(spec, workers=1, out=in_the_way)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "runs").write_text("also mine")
    with pytest.raises(UserError, match="runs is a file where orgsim keeps its results"):
        run_experiment(spec, workers=1, out=tmp_path / "out")
    assert in_the_way.read_text() == "mine" and (tmp_path / "out" / "runs").read_text() == "also mine"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["runs"]


@pytest.mark.slow
@needs_unshare
def test_a_read_only_folder_is_one_line_and_exit_2_before_anything_runs(tmp_path):
    spec = write(tmp_path, TINY)
    result = in_private_tmpfs(tmp_path / "ro", "ro,size=1m", "experiment", str(spec), "--out", str(tmp_path / "ro" / "r"))
    assert result.returncode == 2
    line = one_line_error(result)
    assert "read-only" in line and str(tmp_path / "ro" / "r") in line and "nothing was run" in line
    assert "0 already done" not in result.stdout  # refused before the first run


@pytest.mark.slow
def test_report_in_a_folder_it_cannot_write_is_one_line(tmp_path):
    spec = write(tmp_path, TINY)
    out = run_experiment(spec, workers=1, out=tmp_path / "r")
    (out / "report.md").mkdir()  # a folder where the report goes: fails for any user, root included
    result = orgsim("report", str(out))
    assert result.returncode == 2
    assert "report.md" in one_line_error(result)


@pytest.mark.slow
@needs_unshare
def test_a_full_disk_stops_at_once_keeps_every_finished_run_and_resumes(tmp_path):
    """On a 256 KiB tmpfs: exit 1 with one line, the runs written so far kept; with space again, the
    same command finishes the rest (all inside one private mount namespace)."""
    spec = write(tmp_path, TINY.replace("replications = 3", "replications = 400"))
    mount = tmp_path / "disk"
    mount.mkdir()
    out = mount / "r"
    run = f'"{sys.executable}" -m orgsim.cli experiment "{spec}" --workers 2 --out "{out}"'
    count = f'"{sys.executable}" -c "from orgsim import results; print(int(results.finished(__import__(\'pathlib\').Path(\'{out}\'), 800).sum()))"'
    script = (f'mount -t tmpfs -o size=256k tmpfs "{mount}" || exit 99\n'
              f'start=$(date +%s%N); {run} > "{tmp_path}/1.out" 2> "{tmp_path}/1.err"; echo "status $?"\n'
              f'echo "seconds $(( ($(date +%s%N) - start) / 1000000000 ))"\n'
              f'echo "kept $({count})"\n'
              f'mount -o remount,size=64m "{mount}"\n'
              f'{run} > "{tmp_path}/2.out" 2> "{tmp_path}/2.err"; echo "resumed $?"\n'
              f'echo "kept $({count})"\n')
    shown = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True,
                           timeout=600).stdout
    facts = dict(line.split(" ", 1) for line in shown.splitlines())
    first = subprocess.CompletedProcess([], int(facts["status"]), "", (tmp_path / "1.err").read_text())
    assert first.returncode == 1, first.stderr
    line = one_line_error(first)
    assert "no space left on the device" in line and "finished runs are kept" in line
    kept_then = int(re.search(r"the ([\d,]+) finished runs are kept", line).group(1).replace(",", ""))
    assert int(facts["seconds"]) < 60
    assert 0 < kept_then < 800
    assert facts["resumed"] == "0", (tmp_path / "2.err").read_text()
    assert f"{kept_then:,} already done" in (tmp_path / "2.out").read_text()
    assert facts["kept"] == "800"


@pytest.mark.slow
def test_a_write_failure_mid_run_keeps_the_runs_written_before_it(tmp_path, monkeypatch):
    spec = write(tmp_path, TINY)
    out = tmp_path / "r"
    appended = 0
    real_append = results.Journal.append

    def append(self, frame):
        nonlocal appended
        if appended == 4:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        appended += 1
        real_append(self, frame)

    monkeypatch.setattr(results.Journal, "append", append)
    with pytest.raises(EnvironmentProblem, match="no space left on the device.*the 4 finished runs are kept"):
        run_experiment(spec, workers=1, out=out)
    assert results.finished(out, 6).sum() == 4 and not list((out / "runs").glob(".journal-*"))
    monkeypatch.setattr(results.Journal, "append", real_append)
    run_experiment(spec, workers=1, out=out)
    manifest = json.loads((out / "experiment.json").read_text())
    assert [s["runs_finished"] for s in manifest["sessions"]] == [4, 2]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_folder_without_write_permission_is_a_user_error(tmp_path):
    spec = write(tmp_path, TINY)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(UserError, match="Permission denied.*nothing was run"):
            run_experiment(spec, workers=1, out=locked / "r")
    finally:
        locked.chmod(stat.S_IRWXU)


@pytest.mark.slow
def test_results_are_readable_as_the_umask_says(tmp_path):
    spec = write(tmp_path, TINY)
    old = os.umask(0o022)
    try:
        out = run_experiment(spec, workers=1, out=tmp_path / "r")
    finally:
        os.umask(old)
    files = [out / "experiment.json", *(out / "runs").rglob("*.parquet")]
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o644 for f in files)


# ------------------------------------------------------------------ files and flags
@pytest.mark.slow
def test_a_file_that_is_not_utf8_is_one_line(tmp_path):
    spec = tmp_path / "latin1.toml"
    spec.write_bytes('description = "Gr\xfc\xdfe"\nscenarios = ["siloed"]\n'.encode("latin-1"))
    result = orgsim("experiment", str(spec), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "latin1.toml: not UTF-8" in one_line_error(result) and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_a_bad_scheduler_address_is_one_line_and_writes_nothing(tmp_path):
    spec = write(tmp_path, TINY)
    bad = orgsim("experiment", str(spec), "--scheduler", "foo", "--out", str(tmp_path / "a"), timeout=120)
    assert bad.returncode == 2 and "not a scheduler address" in one_line_error(bad)
    unreachable = orgsim("experiment", str(spec), "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "b"),
                         timeout=120)
    assert unreachable.returncode == 1 and "cannot reach a Dask scheduler" in one_line_error(unreachable)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_sobol_needs_a_power_of_two(tmp_path):
    spec = write(tmp_path, 'scenarios = ["base"]\n[sample]\nmethod = "sobol"\nn = 3\n[sample.ranges]\n'
                           'silo_strength = [0.0, 1.0]\nad_share = [0.0, 1.0]\n')
    with pytest.raises(UserError, match=r"n = 3 is not allowed for sobol; allowed: a power of 2.*e\.g\. 4"):
        load_experiment(spec)


# ------------------------------------------------------------------ scale
def test_a_huge_grid_is_refused_at_once_without_expanding_it(tmp_path):
    values = ", ".join(f"{v / 100:.2f}" for v in range(100))
    grid = "".join(f"{name} = [{values}]\n" for name in
                   ("silo_strength", "ad_share", "purpose_clarity", "marketing_support", "recognition_rate"))
    spec = write(tmp_path, f'scenarios = ["base"]\nreplications = 1\n[grid]\n{grid}')
    started = time.perf_counter()
    with pytest.raises(UserError, match=r"10,000,000,000 runs; allowed: at most 100,000,000"):
        load_experiment(spec)
    assert time.perf_counter() - started < 5


@pytest.mark.slow
def test_a_large_design_is_lazy_and_asks_for_yes(tmp_path):
    """400,000 runs: validated, sized and started lazily; above 100,000 runs only with --yes."""
    values = ", ".join(f"{v / 100:.2f}" for v in range(100))
    spec = write(tmp_path, f'scenarios = ["base"]\nreplications = 4\nsteps = 2\n[grid]\nsilo_strength = [{values}]\n'
                           f'ad_share = [{values}]\npurpose_clarity = [0.1, 0.9]\nrecognition_rate = [0.1, 0.5, 0.8, 0.9, 0.95]\n')
    started = time.perf_counter()
    experiment = load_experiment(spec)
    assert experiment.n_runs == 400_000 and time.perf_counter() - started < 5
    assert experiment.task(399_999)["overrides"] == {"silo_strength": 0.99, "ad_share": 0.99,
                                                     "purpose_clarity": 0.9, "recognition_rate": 0.95}
    tasks = experiment.tasks()
    assert next(tasks)["run"] == 0  # a generator: nothing is made before it is asked for
    with pytest.raises(UserError, match=r"400,000 runs is above 100,000; check the design and add --yes"):
        run_experiment(spec, workers=1, out=tmp_path / "o")
    assert not (tmp_path / "o").exists()
    manifest_sizes = []
    for replications in (1, 4):
        small = write(tmp_path, TINY.replace("replications = 3", f"replications = {replications}"), f"{replications}.toml")
        out = run_experiment(small, workers=1, out=tmp_path / f"m{replications}")
        manifest = json.loads((out / "experiment.json").read_text())
        manifest_sizes.append(len(json.dumps({k: v for k, v in manifest.items() if k not in ("sessions", "provenance")})))
    assert abs(manifest_sizes[1] - manifest_sizes[0]) <= 2  # "replications": 1 -> 4, nothing per run


# ------------------------------------------------------------------ provenance
@pytest.mark.slow
def test_the_manifest_says_where_the_results_came_from(tmp_path):
    spec = write(tmp_path, TINY)
    result = orgsim("experiment", str(spec), "--workers", "1", "--out", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "r" / "experiment.json").read_text())
    provenance = manifest["provenance"]
    assert {"python", "numpy", "scipy", "pandas", "pyarrow", "mesa", "salib", "git_commit"} <= set(provenance)
    assert provenance["command"].startswith("orgsim experiment ") and str(spec) in provenance["command"]
    assert provenance["started"] <= provenance["finished"]
    assert manifest["model"] == experiments.model_identity() and len(manifest["model"]["model_hash"]) == 16
    assert manifest["scenario_parameters"]["siloed"]["silo_strength"] != \
        manifest["scenario_parameters"]["multiplier_led"]["silo_strength"]


@pytest.mark.slow
def test_resume_refuses_another_model_unless_told(tmp_path, monkeypatch):
    spec = write(tmp_path, TINY.replace("replications = 3", "replications = 1"))
    out = run_experiment(spec, workers=1, out=tmp_path / "r")
    changed = {**experiments.model_identity(), "model_hash": "0123456789abcdef"}
    monkeypatch.setattr(experiments, "model_identity", lambda: changed)
    with pytest.raises(UserError, match="made by another model.*--accept-model-change"):
        run_experiment(spec, workers=1, out=out)
    run_experiment(spec, workers=1, out=out, accept_model_change=True)
    sessions = json.loads((out / "experiment.json").read_text())["sessions"]
    assert sessions[-1]["model"]["model_hash"] == "0123456789abcdef" != sessions[0]["model"]["model_hash"]


def test_a_task_carries_its_scenario_and_refuses_another_model(tmp_path, monkeypatch):
    """A Dask worker needs no file: the task holds the scenario's content; another orgsim refuses it."""
    scenario = tmp_path / "mine.toml"
    scenario.write_text('extends = "siloed"\n[parameters]\nn_customers = 120\nn_employees = 20\n')
    spec = write(tmp_path, 'scenarios = ["mine.toml"]\nreplications = 1\nsteps = 2\noutputs = ["active_customers"]\n')
    os.chdir(tmp_path)
    task = load_experiment(spec).task(0)
    scenario.unlink()
    os.chdir(ROOT)
    assert experiments.simulate(task)["run_id"].iloc[0] == "mine-p0000-r000"
    monkeypatch.setattr(experiments, "model_identity", lambda: {"orgsim": "0.0.1", "model_hash": "x", "numpy": "1"})
    with pytest.raises(UserError, match="a worker has a different model"):
        experiments.simulate(task)


# ------------------------------------------------------------------ reading back
@pytest.mark.slow
def test_results_are_a_few_files_per_scenario_and_read_back_in_run_order(tmp_path):
    spec = write(tmp_path, TINY.replace("replications = 3", "replications = 20"))
    out = run_experiment(spec, workers=2, out=tmp_path / "r")
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert len(files) == 3 and files[0] == "experiment.json"
    assert [Path(f).parent.name for f in files[1:]] == ["multiplier_led", "siloed"]
    manifest, frame = read_results(out)
    assert frame["run"].is_monotonic_increasing and frame["run"].nunique() == 40
    assert list(manifest["points"]) == [{"n_customers": 150, "n_employees": 30, "knowledge_history_weeks": 8}]
    pd.testing.assert_frame_equal(frame, results.read(out))


# ------------------------------------------------------------------ found in review
def test_duplicate_outputs_and_num_levels_outside_morris_are_refused_before_anything_runs(tmp_path):
    twice = write(tmp_path, 'scenarios = ["siloed"]\noutputs = ["revenue", "revenue"]\n', "twice.toml")
    with pytest.raises(UserError, match="outputs lists revenue more than once"):
        load_experiment(twice)
    levels = write(tmp_path, 'scenarios = ["base"]\n[sample]\nmethod = "latin"\nn = 8\nnum_levels = 4\n'
                             '[sample.ranges]\nsilo_strength = [0.0, 1.0]\nad_share = [0.0, 1.0]\n', "levels.toml")
    with pytest.raises(UserError, match="num_levels is for morris only"):
        load_experiment(levels)


def test_a_huge_sampled_design_is_refused_before_it_is_drawn(tmp_path):
    ranges = "".join(f"{name} = [0.0, 1.0]\n" for name in ("silo_strength", "ad_share", "purpose_clarity",
                                                           "marketing_support", "recognition_rate"))
    spec = write(tmp_path, f'scenarios = ["base"]\nreplications = 1000\n[sample]\nmethod = "sobol"\nn = 65536\n'
                           f'[sample.ranges]\n{ranges}')
    started = time.perf_counter()
    with pytest.raises(UserError, match=r"458,752,000 runs; allowed: at most 100,000,000"):
        load_experiment(spec)
    assert time.perf_counter() - started < 2


@pytest.mark.slow
def test_a_second_session_on_the_same_folder_is_refused(tmp_path):
    from tests.test_experiment_signals import LONG, start, wait_for_runs

    spec = write(tmp_path, LONG)
    out = tmp_path / "r"
    first = start(["experiment", str(spec), "--workers", "1", "--out", str(out)])
    try:
        wait_for_runs(out, 1, first)
        second = orgsim("experiment", str(spec), "--workers", "1", "--out", str(out))
        assert second.returncode == 2
        assert "another orgsim session is running this experiment there" in one_line_error(second)
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)
    assert first.returncode == 130


@pytest.mark.slow
def test_damaged_results_are_one_line_errors_naming_the_file(tmp_path):
    spec = write(tmp_path, TINY)
    out = run_experiment(spec, workers=1, out=tmp_path / "r")
    part = next((out / "runs").rglob("part-*.parquet"))
    part.write_bytes(part.read_bytes()[:100])
    for command in (["report", str(out)], ["experiment", str(spec), "--out", str(out)]):
        result = orgsim(*command)
        assert result.returncode == 2 and f"{part}: damaged results file" in one_line_error(result)
    (out / "experiment.json").write_text('{"bad')
    result = orgsim("report", str(out))
    assert result.returncode == 2 and "damaged manifest" in one_line_error(result)


@pytest.mark.slow
def test_scheduler_addresses_are_checked_at_once(tmp_path):
    spec = write(tmp_path, TINY)
    for address, message in (("", "not a scheduler address"), ("tcp://999.1.1.1:8786", "no such host"),
                             ("tcp://127.0.0.1", "not a scheduler address")):
        started = time.perf_counter()
        with pytest.raises(UserError, match=message):
            run_experiment(spec, scheduler=address, out=tmp_path / "o")
        assert time.perf_counter() - started < 5
    started = time.perf_counter()
    with pytest.raises(EnvironmentProblem, match="cannot reach a Dask scheduler there"):
        run_experiment(spec, scheduler="tcp://127.0.0.1:9", out=tmp_path / "o")
    assert time.perf_counter() - started < 5 and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_the_last_week_is_recorded_even_when_record_every_does_not_divide_the_weeks(tmp_path):
    spec = write(tmp_path, TINY.replace("steps = 4", "steps = 5\nrecord_every = 2").replace("replications = 3",
                                                                                        "replications = 1"))
    assert "of 5 weeks; 8 rows" in experiments.describe_size(load_experiment(spec))
    _, frame = read_results(run_experiment(spec, workers=1, out=tmp_path / "r"))
    assert sorted(frame["step"].unique()) == [0, 2, 4, 5]
