import re
import subprocess
import sys
from pathlib import Path

import pytest

from orgsim.errors import UserError
from orgsim.experiment import run_experiment
from orgsim.report import FIGURES, _num, write_report

ROOT = Path(__file__).resolve().parents[1]

TWO_SCENARIOS = """
scenarios = ["siloed", "multiplier_led"]
replications = 4
master_seed = 1
steps = 20
[grid]
n_customers = [400]
"""

GRID = """
scenarios = ["base"]
replications = 2
master_seed = 7
steps = 6
record_every = 2
outputs = ["mean_attitude", "active_customers", "handoff_failures"]
[grid]
n_customers = [200]
silo_strength = [0.1, 0.9]
multiplier_share = [0.0, 0.2]
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

TINY = """
scenarios = ["siloed"]
replications = 2
steps = 3
outputs = ["active_customers", "revenue"]
[grid]
n_customers = [200]
"""


def _experiment(tmp_path: Path, text: str) -> Path:
    spec = tmp_path / "exp.toml"
    spec.write_text(text)
    return run_experiment(spec, workers=1, out=tmp_path / "out")


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def test_numbers_keep_four_significant_digits():
    assert [_num(v) for v in (123108.333, 0.23153, -3.7751, 0.0, 1.2e-7, float("nan"))] == \
        ["123,108", "0.2315", "-3.775", "0", "1.20e-07", "–"]


@pytest.mark.slow
def test_two_scenarios_are_compared_paired_with_holm_and_every_output_reported(tmp_path):
    out = _experiment(tmp_path, TWO_SCENARIOS)
    text = write_report(out).read_text()
    # order: headline first, methods before the appendix, appendix last
    positions = [text.index(t) for t in ("## Headline", "## Trajectories", "## End of run", "## Each scenario against",
                                         "## Time to event", "## Replication adequacy", "## Methods", "## Appendix")]
    assert positions == sorted(positions)
    assert "The experiment recorded 30 outputs: the 9 key ones are in the body, the other 21 in the appendix" in text
    comparison = _section(text, "Each scenario against `siloed`")
    assert "paired t p (Holm)" in comparison and "Wilcoxon p (Holm)" in comparison and "Hedges' g_z [95 % CI]" in comparison
    assert re.search(r"Holm-adjusted over the family of 2[0-9] comparisons with a defined test, of the 30 made", comparison)
    assert "| `active_customers` | multiplier_led − siloed | 4 pairs |" in comparison
    assert "cannot go below p = 0.12" in comparison  # 4 pairs: the signed-rank test's floor is said
    assert "siloed mean [95 % CI] (n=4)" in _section(text, "End of run")
    appendix = _section(text, "Appendix")
    assert "`lost_customers`" in appendix and "`acquisition_cost`" in appendix
    assert "`active_customers` |" not in appendix  # a key output is not repeated
    methods = _section(text, "Methods")
    for phrase in ("model hash", "git commit", "common random numbers", "SeedSequence([1, r])", "replicated 4 times",
                   "20 weeks", "every week", "Holm-adjusted", "Wilcoxon", "statsmodels", "differ in"):
        assert phrase in methods, phrase
    events = _section(text, "Time to event")
    assert "`active_customers<90%`: `active_customers` first falls 10 % below its week-0 level" in events
    assert "| `active_customers<90%` | siloed | 4 |" in events
    adequacy = _section(text, "Replication adequacy")
    assert "n needed" in adequacy and "| `mean_attitude` | siloed |" in adequacy
    for name in ("trajectories.png", "time_to_event.png", "replications.png"):
        assert (out / "figures" / name).stat().st_size > 10_000
    assert not (out / "figures" / "grid.png").exists()


@pytest.mark.slow
def test_a_grid_gets_cells_and_an_anova_and_no_pooled_means(tmp_path):
    out = _experiment(tmp_path, GRID)
    text = write_report(out).read_text()
    assert "## End of run" not in text  # no mean pooled over design points
    grid = _section(text, "Grid: cells and factors")
    assert "n = 2 runs per cell" in grid and "| multiplier_share \\ silo_strength | 0.1 | 0.9 |" in grid
    assert "partial η²" in grid and "| `mean_attitude` (n=8, R²=" in grid and "replication (block)" in grid
    assert "one band per cell (scenario × design point, 4 cells)" in _section(text, "Trajectories")
    assert "`handoff_failures`" in _section(text, "Appendix")
    assert "A full-factorial grid over silo_strength ∈ {0.1, 0.9}, multiplier_share ∈ {0, 0.2} (4 design points) " \
           "with n_customers = 200" in _section(text, "Methods")
    assert "every 2 weeks" in _section(text, "Methods")
    assert (out / "figures" / "grid.png").exists()


@pytest.mark.slow
def test_morris_indices_with_cis_and_a_warning_for_one_replication(tmp_path):
    out = _experiment(tmp_path, MORRIS)
    text = write_report(out).read_text()
    sensitivity = _section(text, "Sensitivity (morris")
    assert "μ* ± 95 % CI" in sensitivity and "One replication per design point" in sensitivity
    assert "sensitivity analysis raised" in text.split("## Headline")[0]  # warned before the headline
    assert "one band per scenario at the reference design point" in _section(text, "Trajectories")
    assert (out / "figures" / "sensitivity.png").exists()
    assert set(p.name for p in (out / "figures").iterdir()) <= set(FIGURES)


@pytest.mark.slow
def test_events_from_the_command_line_and_bad_ones_as_one_line_errors(tmp_path):
    out = _experiment(tmp_path, TINY)
    text = write_report(out, events=["active_customers>0", "revenue<-1"]).read_text()
    events = _section(text, "Time to event")
    assert "Events given with `--event`" in events and "active_customers<90%" not in events
    assert "| `active_customers>0` | siloed | 2 | 2 |" in events  # held from week 0
    assert "| `revenue<-1` | siloed | 2 | 0 |" in events
    with pytest.raises(UserError, match="unknown output 'nps'.*allowed: .*active_customers, revenue"):
        write_report(out, events=["nps<3"])
    for bad, message in (("nps<3", "unknown output 'nps'"), ("active_customers=3", "expected OUTPUT<VALUE")):
        result = subprocess.run([sys.executable, "-m", "orgsim.cli", "report", str(out), "--event", bad],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1 and message in result.stderr


@pytest.mark.slow
def test_orgsim_leaves_the_users_matplotlib_backend_alone(tmp_path):
    """Importing orgsim.report and writing a report keep the backend the user chose (here
    MPLBACKEND=svg): figures are drawn with the object-oriented API."""
    import os

    script = f"""
import sys
import matplotlib
assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
import orgsim.report
assert matplotlib.get_backend() == "svg", ("after import", matplotlib.get_backend())
from orgsim.experiment import run_experiment
from pathlib import Path
spec = Path({str(tmp_path)!r}) / "exp.toml"
spec.write_text('scenarios = ["siloed", "multiplier_led"]\\nreplications = 2\\nsteps = 3\\n[grid]\\nn_customers = [200]\\n')
out = run_experiment(spec, workers=1, out=Path({str(tmp_path)!r}) / "out")
orgsim.report.write_report(out)
assert matplotlib.get_backend() == "svg", ("after drawing", matplotlib.get_backend())
assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
"""
    result = subprocess.run([sys.executable, "-c", script], env={**os.environ, "MPLBACKEND": "svg"},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "out" / "figures" / "trajectories.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_methods_degrade_gracefully_without_the_newer_manifest_keys():
    from orgsim.report import _methods
    from tests.test_analysis import synthetic

    manifest, frame = synthetic(["A", "B"], [{"n_customers": 400}], 3, [0, 2, 4],
                                lambda s, p, r, t, rng: {"y": 1.0})
    text = _methods(manifest, frame, 6, 1, [])
    assert "model hash not recorded" in text and "git commit not recorded" in text
    assert "every 2 weeks (inferred from the data" in text and "not recorded in this results folder" in text
    manifest.update(record_every=2, model={"model_hash": "abc123"}, provenance={"git_commit": "f00d", "numpy": "2.0",
                    "command": "orgsim experiment x.toml", "started": "t0", "finished": "t1"},
                    scenario_parameters={"A": {"silo_strength": 0.8, "ad_share": 0.5, "n_customers": 1000},
                                         "B": {"silo_strength": 0.2, "ad_share": 0.5, "n_customers": 2000}},
                    scenario_interventions={"A": [], "B": [{"week": 26, "action": "open_silos", "arguments": {}}]})
    text = _methods(manifest, frame, 6, 1, [])
    assert "model hash abc123" in text and "git commit f00d" in text and "NumPy 2.0" in text
    # n_customers is set by the design, so it is not a difference between the scenarios
    assert "differ in 1 parameter(s): silo_strength (0.8 vs 0.2)" in text
    assert "`B`: open_silos() at week 26" in text and "`orgsim experiment x.toml`, run from t0 to t1" in text
