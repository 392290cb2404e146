from pathlib import Path

import pytest

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


@pytest.mark.slow
def test_report_compares_scenarios_with_cis_and_tests(tmp_path):
    out = _experiment(tmp_path, TWO_SCENARIOS)
    text = write_report(out).read_text()
    assert "siloed mean [95 % CI]" in text and "Welch p" in text and "Cohen's d" in text
    assert "multiplier_led (n=4) vs siloed (n=4)" in text
    assert (out / "figures" / "trajectories.png").stat().st_size > 10_000


@pytest.mark.slow
def test_report_has_morris_indices(tmp_path):
    out = _experiment(tmp_path, MORRIS)
    text = write_report(out).read_text()
    assert "Sensitivity (morris)" in text and "largest μ*" in text
    assert (out / "figures" / "sensitivity.png").exists()


@pytest.mark.slow
def test_orgsim_leaves_the_users_matplotlib_backend_alone(tmp_path):
    """Importing orgsim.report or orgsim.ui.views, writing a report and drawing the UI's figures keep
    the backend the user chose (here MPLBACKEND=svg): figures are drawn with the object-oriented API."""
    import os
    import subprocess
    import sys

    script = f"""
import sys
import matplotlib
assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
import orgsim.report, orgsim.ui.views
assert matplotlib.get_backend() == "svg", ("after import", matplotlib.get_backend())
from orgsim.experiment import run_experiment
from orgsim.model import OrgModel
from pathlib import Path
spec = Path({str(tmp_path)!r}) / "exp.toml"
spec.write_text('scenarios = ["siloed", "multiplier_led"]\\nreplications = 2\\nsteps = 3\\n[grid]\\nn_customers = [200]\\n')
out = run_experiment(spec, workers=1, out=Path({str(tmp_path)!r}) / "out")
orgsim.report.write_report(out)
model = OrgModel(seed=1, n_employees=40, n_customers=200, customer_views=False)
model.step()
orgsim.ui.views.kpi_figure([model], ["A"]).savefig(Path({str(tmp_path)!r}) / "kpi.png")
assert matplotlib.get_backend() == "svg", ("after drawing", matplotlib.get_backend())
assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
"""
    result = subprocess.run([sys.executable, "-c", script], env={**os.environ, "MPLBACKEND": "svg"},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "out" / "figures" / "trajectories.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "kpi.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
