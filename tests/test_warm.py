"""orgsim.warm, imported by fork servers before they fork workers, loads every compiled pass a model uses."""

import json
import subprocess
import sys

import pytest

LOADED = """
import importlib, json, pkgutil
import numba
from numba.core.registry import CPUDispatcher
from numba.np.ufunc.dufunc import DUFunc
from orgsim import mechanisms

def loaded():
    counts = {}
    for info in pkgutil.iter_modules(mechanisms.__path__):
        module = importlib.import_module(f"orgsim.mechanisms.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher):
                counts[f"{info.name}.{name}"] = len(value.signatures)
            elif isinstance(value, DUFunc):
                counts[f"{info.name}.{name}"] = len(value.types)
    return counts
"""


@pytest.mark.slow  # a fresh process: imports and loads the compiled passes
def test_after_warm_a_model_loads_no_further_compiled_pass():
    script = LOADED + """
import orgsim.warm
before = loaded()
from orgsim.model import OrgModel
OrgModel(n_employees=60, n_customers=2000, seed=3, customer_views=False).run(6)
OrgModel(n_employees=60, n_customers=500, seed=4, customer_network="complete", code_evidence="reality").run(3)
print(json.dumps([before, loaded()]))
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    before, after = json.loads(run.stdout.strip().splitlines()[-1])
    assert before == after
    assert before["knowledge._chain_week"] and before["customers._add_columns"] and before["quality._team_quality"]
