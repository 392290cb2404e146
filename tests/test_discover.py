"""``orgsim discover``: PRIM scenario discovery on synthetic cases with a known box, the user's
mistakes, and the command on a real (tiny) experiment.

The synthetic experiment: design points uniform over silo_strength [0, 1], multiplier_share [0, 0.3]
and ad_share [0, 1]; the KPI of a run is 1000 + 200 inside the box {silo_strength < 0.3,
multiplier_share > 0.1} plus Gaussian seed noise (SD 60, so a single run lands on the wrong side of
the cut-off 1100 with probability 5 %). ad_share does nothing.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import orgsim.experiment
from orgsim.cli import main
from orgsim.discover import (
    DISCOVERY,
    DISCOVERY_FIGURE,
    MIN_CASES,
    SCENARIO_INPUT,
    Discovery,
    discover,
    markdown,
)
from orgsim.errors import UserError

KPI = "active_customers"
TRUE_SILO_HIGH, TRUE_MULT_LOW = 0.3, 0.1


def synthetic(seed: int = 2026, n_points: int = 300, replications: int = 3, sd: float = 60.0,
              scenarios: tuple[str, ...] = ("base",)) -> tuple[dict[str, Any], pd.DataFrame]:
    """A manifest and frame shaped like read_results' (two recorded weeks: 0 and 52)."""
    rng = np.random.default_rng(seed)
    silo = rng.uniform(0, 1, n_points)
    mult = rng.uniform(0, 0.3, n_points)
    ad = rng.uniform(0, 1, n_points)
    rows = []
    for scenario in scenarios:
        for p in range(n_points):
            inside = silo[p] < TRUE_SILO_HIGH and mult[p] > TRUE_MULT_LOW
            if len(scenarios) > 1:  # then the outcome also needs the last scenario
                inside = inside and scenario == scenarios[-1]
            for r in range(replications):
                meta = {"run_id": f"{scenario}-p{p:04d}-r{r:03d}", "scenario": scenario, "point": p,
                        "silo_strength": silo[p], "multiplier_share": mult[p], "ad_share": ad[p],
                        "replication": r, "seed": r}
                rows.append({**meta, "step": 0, KPI: 1000.0, "revenue": 0.0})
                kpi = 1000 + 200 * inside + rng.normal(0, sd)
                rows.append({**meta, "step": 52, KPI: kpi, "revenue": -kpi})
    manifest = {"experiment": "synthetic", "scenarios": list(scenarios),
                "varied": ["silo_strength", "multiplier_share", "ad_share"],
                "design": {"method": "latin", "n": n_points}, "replications": replications, "steps": 52,
                "outputs": [KPI, "revenue"], "n_runs": len(scenarios) * n_points * replications,
                "points": [{"silo_strength": s, "multiplier_share": m, "ad_share": a}
                           for s, m, a in zip(silo, mult, ad, strict=True)]}
    return manifest, pd.DataFrame(rows)


def restrictions(result: Discovery) -> dict[str, Any]:
    return {r.name: r for r in result.restrictions}


def assert_known_box(result: Discovery, silo_tolerance: float = 0.1, mult_tolerance: float = 0.05) -> None:
    r = restrictions(result)
    assert r["silo_strength"].low is None and r["silo_strength"].high is not None
    assert abs(r["silo_strength"].high - TRUE_SILO_HIGH) <= silo_tolerance
    assert r["multiplier_share"].high is None and r["multiplier_share"].low is not None
    assert abs(r["multiplier_share"].low - TRUE_MULT_LOW) <= mult_tolerance
    assert not r["ad_share"].restricted, "the irrelevant parameter must stay unrestricted"
    assert r["silo_strength"].qp_high is not None and r["silo_strength"].qp_high < 1e-3
    assert r["multiplier_share"].qp_low is not None and r["multiplier_share"].qp_low < 0.05


# --------------------------------------------------------------- known box
@pytest.mark.slow
def test_recovers_a_known_box_and_leaves_the_irrelevant_parameter_alone():
    """Measured over 600 seeds of this design (300 points × 3 replications): the bounds fall outside
    the tolerances (silo ±0.1, multiplier ±0.05, a sixth of its range) for 0.5 % of them, and ad_share
    was never restricted. The seed is fixed, so the test is deterministic."""
    result = discover(*synthetic(), KPI, above=1100)
    assert_known_box(result)
    assert result.chosen_stats["density"] >= 0.8 and result.chosen_stats["coverage"] >= 0.9
    assert result.n_cases == 300 and result.n_runs == 900 and result.cases == "points"


@pytest.mark.slow
def test_the_box_statistics_agree_with_a_count_of_the_cases():
    manifest, frame = synthetic(seed=7)
    result = discover(manifest, frame, KPI, above=1100)
    final = frame[frame["step"] == 52]
    means = final.groupby("point").agg(silo=("silo_strength", "first"), mult=("multiplier_share", "first"),
                                       kpi=(KPI, "mean"))
    r = restrictions(result)
    inside = np.ones(len(means), dtype=bool)
    for name, column in (("silo_strength", "silo"), ("multiplier_share", "mult")):
        if r[name].low is not None:
            inside &= means[column].to_numpy() >= r[name].low
        if r[name].high is not None:
            inside &= means[column].to_numpy() <= r[name].high
    interest = means["kpi"].to_numpy() > 1100
    s = result.chosen_stats
    assert s["n"] == inside.sum() and s["k"] == (inside & interest).sum()
    assert math.isclose(s["coverage"], (inside & interest).sum() / interest.sum())
    assert math.isclose(s["density"], (inside & interest).sum() / inside.sum())
    assert math.isclose(s["mass"], inside.sum() / len(means))
    assert result.n_interest == interest.sum()
    # the run-level density counts single runs of the points inside the box
    runs_inside = final[final["point"].isin(means.index[inside])]
    assert result.runs_in_box == len(runs_inside)
    assert math.isclose(result.run_density, (runs_inside[KPI] > 1100).mean())
    # the trajectory starts with the box of every case and peels down to about min_mass
    t = result.trajectory
    assert t.loc[0, "coverage"] == 1 and t.loc[0, "mass"] == 1 and t.loc[0, "restricted"] == 0
    assert t["mass"].min() >= result.min_mass


@pytest.mark.slow
def test_below_is_the_mirror_of_above():
    manifest, frame = synthetic(seed=3)
    above = discover(manifest, frame, KPI, above=1100)
    below = discover(manifest, frame, "revenue", below=-1100)  # revenue is -KPI here
    pd.testing.assert_frame_equal(above.trajectory, below.trajectory)
    assert above.restrictions == below.restrictions


@pytest.mark.slow
def test_every_run_as_a_case():
    result = discover(*synthetic(seed=11), KPI, above=1100, cases="runs")
    assert result.cases == "runs" and result.n_cases == result.n_runs == 900
    assert result.disagreeing_points is None
    assert_known_box(result, silo_tolerance=0.15, mult_tolerance=0.07)


@pytest.mark.slow
def test_the_scenario_is_a_categorical_input():
    manifest, frame = synthetic(seed=5, n_points=150, replications=2, scenarios=("siloed", "multiplier_led"))
    result = discover(manifest, frame, KPI, above=1100)
    assert result.n_cases == 300 and SCENARIO_INPUT in result.inputs
    scenario = restrictions(result)[SCENARIO_INPUT]
    assert scenario.categorical and scenario.categories == ("multiplier_led",)
    assert scenario.qp_low is not None and scenario.qp_low < 0.05
    assert not restrictions(result)["ad_share"].restricted
    text = markdown(result)
    assert "`scenario`" in text and "is multiplier_led" in text and SCENARIO_INPUT not in text


@pytest.mark.slow
def test_box_option_and_threshold():
    manifest, frame = synthetic(seed=2)
    default = discover(manifest, frame, KPI, above=1100)
    picked = discover(manifest, frame, KPI, above=1100, box=3, drop_insignificant=False)
    assert picked.chosen == 3 and "--box" in picked.rule and not picked.dropped
    assert picked.chosen_stats["coverage"] == pytest.approx(picked.trajectory.loc[3, "coverage"])
    strict = discover(manifest, frame, KPI, above=1100, threshold=1.0)
    assert strict.chosen_stats["density"] >= default.chosen_stats["density"]
    assert strict.command("out") == "orgsim discover out --kpi active_customers --above 1100 --threshold 1"
    with pytest.raises(UserError, match=r"--box 999 is not allowed; allowed: an integer in \[0, \d+\]"):
        discover(manifest, frame, KPI, above=1100, box=999)


# ----------------------------------------------------------- user mistakes
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"above": 1100, "below": 900}, "give exactly one of --above X or --below X"),
    ({}, "give exactly one of --above X or --below X"),
    ({"above": float("nan")}, "--above nan is not allowed; allowed: a finite number"),
    ({"above": 1100, "cases": "seeds"}, "--cases 'seeds' is not allowed; allowed: one of points, runs"),
    ({"above": 1100, "threshold": 1.5}, r"--threshold 1.5 is not allowed; allowed: a density in \(0, 1\]"),
    ({"above": 1100, "min_mass": 0}, r"--min-mass 0 is not allowed"),
    ({"above": 1100, "week": 5}, r"--week 5 was not recorded; allowed: a recorded week \(0, 52\)"),
    ({"above": 5000}, r"no design point has a mean active_customers above 5000: the outcome never happens "
                      r"\(range of the design points' means: \[\d+(\.\d+)?, \d+(\.\d+)?\]\)"),
    ({"above": 0}, "every design point has a mean active_customers above 0: the outcome always happens"),
    ({"above": 5000, "cases": "runs"}, r"no run has active_customers above 5000: the outcome never happens "
                                       r"\(range of the KPI: \["),
    ({"above": 1100, "week": 0}, r"no design point has a mean active_customers above 1100: the outcome never "
                                 r"happens \(range of the design points' means: \[1000, 1000\]\)"),
])
def test_user_mistakes(kwargs, message):
    manifest, frame = synthetic(n_points=30, replications=1)
    with pytest.raises(UserError, match=message):
        discover(manifest, frame, KPI, **kwargs)


def test_unknown_kpi_names_the_allowed_ones():
    with pytest.raises(UserError, match=r"--kpi 'active_customer' is not an output of this experiment "
                                        r"\(did you mean \"active_customers\"\?\); allowed: active_customers, revenue"):
        discover(*synthetic(n_points=30, replications=1), "active_customer", above=1100)


def test_a_design_without_varied_parameters_has_nothing_to_discover():
    manifest, frame = synthetic(n_points=30, replications=1, scenarios=("siloed", "multiplier_led"))
    manifest = {**manifest, "varied": [], "design": {"grid": {}}}
    with pytest.raises(UserError, match="varies no parameter .* nothing to discover"):
        discover(manifest, frame, KPI, above=1100)


def test_varied_parameters_with_one_value_are_no_inputs():
    manifest, frame = synthetic(n_points=30, replications=1)
    for name in manifest["varied"]:
        frame[name] = 0.5
    with pytest.raises(UserError, match="no varied parameter takes more than one value"):
        discover(manifest, frame, KPI, above=1100)


def test_too_few_cases():
    manifest, frame = synthetic(n_points=MIN_CASES - 1, replications=3)
    with pytest.raises(UserError, match=rf"too few cases for PRIM: {MIN_CASES - 1} design points, at least "
                                        rf"{MIN_CASES} needed; sample more design points, or make each of the "
                                        rf"{3 * (MIN_CASES - 1)} runs a case with --cases runs"):
        discover(manifest, frame, KPI, above=1100)
    manifest, frame = synthetic(n_points=5, replications=2)
    with pytest.raises(UserError, match="too few cases for PRIM: 10 finished runs, at least 20 needed; sample more"):
        discover(manifest, frame, KPI, above=1100, cases="runs")


def test_the_cli_prints_one_line_and_exits_2(tmp_path, capsys):
    assert main(["discover", str(tmp_path), "--kpi", KPI, "--above", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an experiment results folder" in err


def test_the_cli_reports_the_discover_errors(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(orgsim.experiment, "read_results", lambda out: synthetic(n_points=30, replications=1))
    assert main(["discover", str(tmp_path), "--kpi", KPI, "--above", "1", "--below", "2"]) == 2
    err = capsys.readouterr().err
    assert err == "orgsim: error: give exactly one of --above X or --below X (the outcome of interest is the " \
                  "KPI above or below X)\n"
    assert not (tmp_path / DISCOVERY).exists()


# ------------------------------------------------------------ the command
SMALL_FIRM = """
description = "A small firm for a quick test."
extends = "base"
steps = 6
[parameters]
n_employees = 30
n_customers = 300
knowledge_history_weeks = 4
"""

LATIN = """
scenarios = ["{scenario}"]
replications = 1
master_seed = 4
steps = 6
record_every = 3
outputs = ["active_customers", "mean_attitude"]

[sample]
method = "latin"
n = 24

[sample.ranges]
silo_strength = [0.0, 1.0]
multiplier_share = [0.0, 0.3]
ad_share = [0.0, 1.0]
"""


@pytest.mark.slow
def test_discover_on_a_real_experiment(tmp_path, capsys):
    scenario = tmp_path / "small.toml"
    base = Path(orgsim.experiment.__file__).parent / "scenarios" / "base.toml"
    scenario.write_text(SMALL_FIRM.replace('extends = "base"', f'extends = "{base}"'))
    spec = tmp_path / "latin.toml"
    spec.write_text(LATIN.format(scenario=scenario))
    out = orgsim.experiment.run_experiment(spec, workers=1, out=tmp_path / "out")
    _, frame = orgsim.experiment.read_results(out)
    final = frame[frame["step"] == frame["step"].max()][KPI]
    assert final.nunique() > 2, "the tiny experiment must spread the KPI for a median split"
    cutoff = float(np.median(final))
    capsys.readouterr()

    assert main(["discover", str(out), "--kpi", KPI, "--above", f"{cutoff:g}", "--cases", "runs"]) == 0
    printed = capsys.readouterr().out
    assert f"{KPI} above {cutoff:g} at week 6" in printed and "chosen box" in printed
    assert f"wrote {out / DISCOVERY}" in printed
    text = (out / DISCOVERY).read_text()
    for heading in ("# Scenario discovery: latin", "## The chosen box", "## Peeling trajectory", "## How to read this"):
        assert heading in text
    assert f"figures/{DISCOVERY_FIGURE}" in text and "Friedman & Fisher 1999" in text
    assert f"`orgsim discover {out} --kpi {KPI} --above {cutoff:g} --cases runs`" in text
    figure = out / "figures" / DISCOVERY_FIGURE
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 10_000
    assert not list(out.rglob("*.tmp")), "atomic writes leave no temporary files"

    # the default cases, design points (24, one replication each), and the other direction
    assert main(["discover", str(out), "--kpi", KPI, "--below", f"{cutoff:g}"]) == 0
    assert "**24 design points**" in (out / DISCOVERY).read_text()


@pytest.mark.slow
def test_a_bound_that_carries_the_density_is_not_dropped():
    """In this sample the first box to reach density 0.8 has only begun to peel multiplier_share
    (quasi-p above 0.05); dropping that bound would sink the density to about 0.7, so it stays."""
    result = discover(*synthetic(seed=100, n_points=200), KPI, above=1100)
    r = restrictions(result)
    assert r["multiplier_share"].low is not None and r["multiplier_share"].qp_low is not None
    assert result.chosen_stats["density"] >= 0.8
    assert not r["ad_share"].restricted


@pytest.mark.slow
def test_a_grid_shows_the_design_levels_inside_the_box():
    rng = np.random.default_rng(0)
    rows, point = [], 0
    for silo in (0.0, 0.25, 0.5, 0.75, 1.0):
        for mult in (0.0, 0.1, 0.2, 0.3):
            for r in range(2):
                kpi = 1000 + 200 * (silo <= 0.25) + rng.normal(0, 20)
                rows.append({"scenario": "base", "point": point, "silo_strength": silo, "multiplier_share": mult,
                             "replication": r, "step": 10, KPI: kpi})
            point += 1
    manifest = {"experiment": "grid", "scenarios": ["base"], "varied": ["silo_strength", "multiplier_share"],
                "design": {"grid": {}}, "replications": 2, "outputs": [KPI], "n_runs": 40}
    result = discover(manifest, pd.DataFrame(rows), KPI, above=1100)
    silo = restrictions(result)["silo_strength"]
    assert silo.levels_inside == (0.0, 0.25) and silo.high is not None and 0.25 <= silo.high < 0.5
    assert "(design levels inside: 0, 0.25)" in markdown(result)
    assert not restrictions(result)["multiplier_share"].restricted
