"""The CLI as a user runs it: a real subprocess, exit codes and files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # every test here takes seconds

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ["step", "mean_attitude", "share_supporters", "share_resisters", "knowledge_reach", "offer_fit",
            "trust_sales_in_marketing", "handoff_failures", "duplicate_work", "service_quality", "prospects",
            "active_customers", "lost_customers", "share_positive", "share_neutral", "share_negative",
            "net_promoter_score", "referrals", "negative_reviews", "shitstorm", "ad_fatigue", "revenue",
            "marketing_spend"]


def orgsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orgsim.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_run_writes_timeseries_and_metadata(tmp_path):
    result = orgsim("run", "scenarios/siloed.toml", "--steps", "12", "--seed", "5", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(tmp_path / "timeseries.parquet")
    assert set(REQUIRED) <= set(frame.columns) and len(frame) == 13
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["seed"] == 5 and meta["steps"] == 12 and meta["parameters"]["silo_strength"] == 0.85
    assert meta["orgsim_version"] and meta["elapsed_seconds"] >= 0
    assert "mean_attitude" in result.stdout


def test_run_is_reproducible_from_the_shell(tmp_path):
    for name in ("a", "b"):
        assert orgsim("run", "multiplier_led", "--steps", "15", "--out", str(tmp_path / name)).returncode == 0
    a = pd.read_parquet(tmp_path / "a" / "timeseries.parquet")
    b = pd.read_parquet(tmp_path / "b" / "timeseries.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_set_and_csv(tmp_path):
    result = orgsim("run", "base", "--steps", "3", "--set", "silo_strength=0.1",
                    "--set", "customer_network=complete", "--format", "csv", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "timeseries.csv").exists()
    assert json.loads((tmp_path / "run.json").read_text())["parameters"]["customer_network"] == "complete"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "sileod"], 'did you mean "siloed"'),
        (["run", "siloed", "--set", "silo_stregth=0.2"], 'did you mean "silo_strength"'),
        (["run", "siloed", "--set", "silo_strength=2"], "allowed: a number in [0, 1]"),
        (["run", "siloed", "--set", "nonsense"], "expected KEY=VALUE"),
        (["run", "siloed_turnaround", "--steps", "10"], "past the end"),
        (["run", "missing.toml"], "no such file"),
        (["validate", "missing.toml"], "no such file"),
    ],
)
def test_user_mistakes_exit_2_with_one_clear_line(tmp_path, args, message):
    result = orgsim(*args, "--out", str(tmp_path / "out")) if args[0] == "run" else orgsim(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_malformed_file(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("[parameters\n")
    result = orgsim("validate", str(bad))
    assert result.returncode == 2 and "broken.toml: malformed TOML" in result.stderr


def test_validate_params_scenarios():
    ok = orgsim("validate", "scenarios/siloed_turnaround.toml")
    assert ok.returncode == 0 and "8 interventions" in ok.stdout
    params = orgsim("params")
    assert "silo_strength" in params.stdout and "S2.1" in params.stdout
    listing = orgsim("scenarios")
    assert "multiplier_led" in listing.stdout and "siloed_turnaround" in listing.stdout


def test_fresh_on_a_folder_with_the_users_files_is_refused_and_deletes_nothing(tmp_path):
    spec = tmp_path / "exp.toml"
    spec.write_text('scenarios = ["siloed"]\nreplications = 1\nsteps = 2\n\n[grid]\nn_customers = [200]\n')
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("mine")
    result = orgsim("experiment", str(spec), "--out", str(tmp_path / "out"), "--fresh", "--workers", "1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "holds files orgsim did not write (thesis.tex)" in result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["thesis.tex"]


@pytest.mark.parametrize("command", [["params"], ["scenarios"], ["--help"]])
def test_a_reader_that_stops_early_ends_orgsim_quietly(command):
    """`orgsim params | head`: no traceback; the status is 141 (128 + SIGPIPE), as for any Unix tool
    whose reader went away. The pipe's reader is closed before orgsim writes, so every run sees it."""
    import os

    read, write = os.pipe()
    os.close(read)
    try:
        result = subprocess.run([sys.executable, "-m", "orgsim.cli", *command], cwd=ROOT, stdout=write,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    # argparse's --help ignores a failed write itself (status 0) unless the write was buffered
    assert result.stderr == "" and result.returncode in ((0, 141) if command == ["--help"] else (141,))


@pytest.mark.parametrize("command", ["params", "scenarios"])
def test_piped_into_head_from_the_shell(command):
    shell = f"'{sys.executable}' -m orgsim.cli {command} | head -1; echo \"status ${{PIPESTATUS[0]}}\""
    result = subprocess.run(["bash", "-c", shell], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert result.stderr == ""
    _first_line, status = result.stdout.splitlines()
    assert status in ("status 0", "status 141")  # 0 when all of it fit in the pipe before head left
