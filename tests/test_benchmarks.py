"""The speed baseline of benchmarks/mesa_peer.py keeps working (Mesa's API moves between versions)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

PEER = Path(__file__).resolve().parents[1] / "benchmarks" / "mesa_peer.py"


def load_peer():
    spec = importlib.util.spec_from_file_location("mesa_peer", PEER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # builds two networkx graphs and Mesa agents twice
def test_mesa_peer_runs_and_a_seed_determines_it():
    peer = load_peer()
    first, second = (peer.measure(n_customers=300, n_employees=40, weeks=4, seed=2) for _ in range(2))
    assert first["final"] == second["final"]
    assert first["agent_steps_per_s"] > 0
    assert first["final"]["Active"] + first["final"]["Prospects"] <= 300
    assert -1.0 <= first["final"]["Mean attitude"] <= 1.0


@pytest.mark.slow
@pytest.mark.browser  # starts `orgsim ui`
def test_the_classroom_benchmark_still_speaks_the_pages_protocol():
    """Its students are websocket clients that send what the page sends: a change of the app's
    widgets or of Solara's protocol must break this test, not the benchmark's figures."""
    run = subprocess.run([sys.executable, str(PEER.parent / "ui_classroom.py"), "--sessions", "2", "--seconds", "4",
                          "--speed", "5", "--settle", "0.5", "--after", "0", "--workers", "2"],
                         capture_output=True, text=True, timeout=300, cwd=PEER.parents[1])
    assert run.returncode == 0, run.stderr
    row = run.stdout.strip().splitlines()[-1].split("|")
    workers, frames_per_second, weeks_per_frame = int(row[2]), float(row[3]), float(row[4])
    assert workers == 2  # the students' sessions live in the workers of `orgsim ui --workers 2`
    # played with every week drawn; above 2 frames/s only if frames are acknowledged (without, ~0.95)
    assert frames_per_second > 2.0 and weeks_per_frame == pytest.approx(1.0)
