from pathlib import Path

from orgsim.experiment import run_experiment
from orgsim.report import write_report

TWO_SCENARIOS = """
scenarios = ["siloed", "multiplier_led"]
replications = 4
master_seed = 1
steps = 20
[grid]
n_customers = [400]
"""

MORRIS = """
scenarios = ["base"]
replications = 1
master_seed = 3
steps = 8
outputs = ["mean_attitude", "active_customers"]
[sample]
method = "morris"
n = 3
[sample.ranges]
n_customers = [200, 400]
silo_strength = [0.0, 1.0]
multiplier_share = [0.0, 0.3]
"""


def _experiment(tmp_path: Path, text: str) -> Path:
    spec = tmp_path / "exp.toml"
    spec.write_text(text)
    return run_experiment(spec, workers=1, out=tmp_path / "out")


def test_report_compares_scenarios_with_cis_and_tests(tmp_path):
    out = _experiment(tmp_path, TWO_SCENARIOS)
    text = write_report(out).read_text()
    assert "siloed mean [95 % CI]" in text and "Welch p" in text and "Cohen's d" in text
    assert "multiplier_led (n=4) vs siloed (n=4)" in text
    assert (out / "figures" / "trajectories.png").stat().st_size > 10_000


def test_report_has_morris_indices(tmp_path):
    out = _experiment(tmp_path, MORRIS)
    text = write_report(out).read_text()
    assert "Sensitivity (morris)" in text and "largest μ*" in text
    assert (out / "figures" / "sensitivity.png").exists()
