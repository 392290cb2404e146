"""The speed baseline of benchmarks/mesa_peer.py keeps working (Mesa's API moves between versions)."""

import importlib.util
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
