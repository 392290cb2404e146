"""orgsim.analysis on synthetic results with known answers (no simulation)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from orgsim import analysis as an
from orgsim.errors import UserError
from orgsim.stats import holm, replications_needed


def synthetic(scenarios: list[str], points: list[dict[str, Any]], replications: int, steps: list[int],
              value: Callable[[str, dict[str, Any], int, int, np.random.Generator], dict[str, float]],
              design: dict[str, Any] | None = None, seed_of: Callable[[str, int], int] | None = None,
              rng_seed: int = 0) -> tuple[dict[str, Any], pd.DataFrame]:
    """A manifest and frame shaped like read_results' (one row per run and recorded week)."""
    rng = np.random.default_rng(rng_seed)
    varied = list(points[0]) if points else []
    rows = []
    for s, (p, point), r in itertools.product(scenarios, enumerate(points), range(replications)):
        seed = seed_of(s, r) if seed_of else 1000 + r
        for step in steps:
            rows.append({"run_id": f"{s}-p{p:04d}-r{r:03d}", "scenario": s, "point": p, **point, "replication": r,
                         "seed": seed, "step": step, **value(s, point, r, step, rng)})
    frame = pd.DataFrame(rows)
    outputs = [c for c in frame.columns if c not in {"run_id", "scenario", "point", "replication", "seed", "step", *varied}]
    if design is None:
        design = {"grid": {name: list(dict.fromkeys(p[name] for p in points)) for name in varied}}
    manifest = {"experiment": "synthetic", "scenarios": scenarios, "varied": varied, "design": design,
                "points": points, "replications": replications, "master_seed": 0, "steps": max(steps),
                "outputs": outputs, "n_runs": len(scenarios) * len(points) * replications, "orgsim_version": "test"}
    return manifest, frame


# ------------------------------------------------------------ comparisons
def _two_scenarios(seed_of=None, shift=1.0):
    seed_effect = np.random.default_rng(5).normal(0, 5, 8)

    def value(s, point, r, step, rng):
        return {"y": seed_effect[r] + (shift if s == "B" else 0.0) + rng.normal(0, 0.2),
                "noise": rng.normal(0, 1)}

    return synthetic(["A", "B"], [{"n_customers": 400}], 8, [0, 10], value, seed_of=seed_of)


def test_compare_scenarios_pairs_by_replication_and_holm_adjusts_over_every_output():
    manifest, frame = _two_scenarios()
    final = an.final_values(frame)
    assert set(final["step"]) == {10} and len(final) == 16
    table = an.compare_scenarios(final, manifest, ["y", "noise"]).set_index("output")
    assert list(table["method"]) == ["paired", "paired"] and list(table["n"]) == [8, 8]
    assert table.loc["y", "ci_low"] < 1.0 < table.loc["y", "ci_high"]
    assert table.loc["y", "p_t_holm"] < 1e-4  # the seed effect (SD 5) cancels in the pairs
    assert list(table["p_t_holm"]) == pytest.approx(list(holm(table["p_t"])))
    assert table.loc["y", "p_t_holm"] == pytest.approx(min(1.0, 2 * table.loc["y", "p_t"]))


def test_compare_scenarios_falls_back_to_welch_when_seeds_differ_and_says_why():
    manifest, frame = _two_scenarios(seed_of=lambda s, r: (0 if s == "A" else 500) + r)
    assert not an.common_random_numbers(frame)
    table = an.compare_scenarios(an.final_values(frame), manifest, ["y"])
    row = table.iloc[0]
    assert row["method"] == "Welch" and "seeds of a replication differ" in row["note"]
    assert row["p_t_holm"] > 0.05  # unpaired, the seed effect hides the difference of 1


def test_compare_scenarios_pairs_only_replications_both_finished():
    manifest, frame = _two_scenarios()
    frame = frame[~((frame["scenario"] == "B") & (frame["replication"] >= 6))]
    row = an.compare_scenarios(an.final_values(frame), manifest, ["y"]).iloc[0]
    assert row["method"] == "paired" and row["n"] == row["n_ref"] == 6


def test_sampled_designs_compare_design_averages_paired_by_replication():
    points = [{"silo_strength": x, "ad_share": 0.5} for x in (0.1, 0.5, 0.9)]
    design = {"method": "latin", "n": 3, "ranges": {"silo_strength": [0, 1], "ad_share": [0, 1]},
              "problem": {"num_vars": 2, "names": ["silo_strength", "ad_share"], "bounds": [[0, 1], [0, 1]]}}

    def value(s, point, r, step, rng):
        return {"y": 10 * point["silo_strength"] + r + (0.3 if s == "B" else 0) + rng.normal(0, 0.01)}

    manifest, frame = synthetic(["A", "B"], points, 5, [0, 4], value, design=design)
    row = an.compare_scenarios(an.final_values(frame), manifest, ["y"]).iloc[0]
    assert row["point"] == -1 and row["where"].startswith("design average") and row["n"] == 5
    assert row["difference"] == pytest.approx(0.3, abs=0.02) and row["mean_ref"] == pytest.approx(5 + 2, abs=0.02)


# ------------------------------------------------------------------- grids
def _grid(noise=0.3, replications=3):
    points = [{"silo_strength": a, "multiplier_share": b} for a in (0.1, 0.5, 0.9) for b in (0.0, 0.2)]

    def value(s, point, r, step, rng):
        return {"y": 4 * point["silo_strength"] + 0.5 * r + rng.normal(0, noise), "flat": 1.0}

    return synthetic(["base"], points, replications, [0, 8], value)


def test_cell_summary_never_pools_design_points():
    manifest, frame = _grid()
    cells = an.cell_summary(an.final_values(frame), manifest, ["y"])
    assert len(cells) == 6 and set(cells["n"]) == {3}
    first = cells.iloc[0]
    runs = an.final_values(frame)
    values = runs[runs["point"] == first["point"]]["y"]
    assert first["mean"] == pytest.approx(values.mean()) and first["ci_low"] < first["mean"] < first["ci_high"]


def test_factor_anova_finds_the_factor_that_matters_with_partial_eta_squared():
    manifest, frame = _grid()
    final = an.final_values(frame)
    table, formula = an.factor_anova(final, manifest, "y")
    assert "replication (block)" in formula and "silo_strength × multiplier_share" in formula
    rows = table.set_index("term")
    residual = rows.loc["Residual", "sum_sq"]
    for term in ("silo_strength", "multiplier_share", "silo_strength × multiplier_share"):
        ss = rows.loc[term, "sum_sq"]
        assert rows.loc[term, "partial_eta_sq"] == pytest.approx(ss / (ss + residual))
    assert rows.loc["silo_strength", "partial_eta_sq"] > 0.9 and rows.loc["silo_strength", "p"] < 1e-6
    assert rows.loc["multiplier_share", "partial_eta_sq"] < 0.5
    # the block takes the replication effect (0.5 per replication) out of the residual
    assert rows.loc["replication (block)", "p"] < 0.01


def test_factor_anovas_holm_adjust_over_outputs_and_say_why_an_output_has_no_model():
    manifest, frame = _grid()
    table = an.factor_anovas(an.final_values(frame), manifest, ["y", "flat"])
    flat = table[table["output"] == "flat"]
    assert len(flat) == 1 and "same in every run" in flat["note"].iloc[0]
    tested = table[table["p_holm"].notna()]
    assert set(tested["term"]) == {"silo_strength", "multiplier_share", "silo_strength × multiplier_share"}
    assert list(tested["p_holm"]) == pytest.approx(list(holm(tested["p"])))


def test_factor_anova_drops_interactions_without_residual_degrees_of_freedom():
    manifest, frame = _grid(replications=1)
    table, formula = an.factor_anova(an.final_values(frame), manifest, "y")
    assert "×" not in formula and "block" not in formula and (table["term"] == "Residual").any()


def test_trajectory_groups_show_the_reference_point_when_cells_are_many():
    points = [{"silo_strength": a, "multiplier_share": b} for a in (0.1, 0.4, 0.7, 1.0) for b in (0.0, 0.05, 0.1, 0.2)]
    manifest, frame = synthetic(["base"], points, 2, [0, 4], lambda s, p, r, t, rng: {"y": 1.0})
    ref = an.reference_point(manifest)
    assert manifest["points"][ref] == {"silo_strength": 0.4, "multiplier_share": 0.05}  # the lower middle levels
    groups = an.trajectory_groups(manifest, frame)
    assert set(groups.frame["point"]) == {ref} and not groups.per_cell
    assert "reference design point" in groups.description and "never pool" in groups.description
    small_manifest, small_frame = _grid()
    small = an.trajectory_groups(small_manifest, small_frame)
    assert small.per_cell and small.frame["group"].nunique() == 6


def test_point_labels_leave_out_grid_settings_of_one_value():
    manifest, _ = synthetic(["base"], [{"n_customers": 200, "silo_strength": 0.5}, {"n_customers": 200, "silo_strength": 1.0}],
                            1, [0], lambda s, p, r, t, rng: {"y": 1.0})
    assert an.point_label(manifest, 1) == "silo_strength=1"


# ------------------------------------------------------------- sensitivity
def _sobol(signal: bool, replications: int):
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": 3, "names": ["silo_strength", "ad_share", "freedom"], "bounds": [[0, 1]] * 3}
    matrix = sobol_sample.sample(problem, 32, calc_second_order=False, seed=1)
    points = [dict(zip(problem["names"], map(float, row), strict=True)) for row in matrix]
    design = {"method": "sobol", "n": 32, "ranges": dict.fromkeys(problem["names"], [0, 1]), "problem": problem}

    def value(s, point, r, step, rng):
        effect = 10 * point["silo_strength"] + 2 * point["ad_share"] if signal else 0.0
        return {"y": effect + rng.normal(0, 1)}

    return synthetic(["base"], points, replications, [0, 4], value, design=design)


@pytest.mark.slow
def test_noise_only_sobol_design_is_flagged_as_not_interpretable():
    manifest, frame = _sobol(signal=False, replications=3)
    result = an.sensitivity(an.final_values(frame), manifest, "y", "base")
    assert result.noise_share > 0.5
    assert result.table["below_floor"].all()
    text = " ".join(result.warnings)
    assert "noise" in text and "below the seed-noise floor" in text


@pytest.mark.slow
def test_sobol_signal_rises_above_the_noise_floor():
    manifest, frame = _sobol(signal=True, replications=3)
    result = an.sensitivity(an.final_values(frame), manifest, "y", "base")
    rows = result.table.set_index("parameter")
    assert result.noise_share < 0.1 and not rows.loc["silo_strength", "below_floor"]
    assert rows.loc["silo_strength", "ST"] > 0.7 and rows.loc["freedom", "ST"] < rows.loc["silo_strength", "ST"]
    assert {"S1_conf", "ST_conf"} <= set(rows.columns)
    assert not any("variance of the point means" in w for w in result.warnings)


@pytest.mark.slow
def test_one_replication_per_point_warns_that_noise_cannot_be_estimated():
    manifest, frame = _sobol(signal=True, replications=1)
    result = an.sensitivity(an.final_values(frame), manifest, "y", "base")
    assert math.isnan(result.noise_share) and "One replication per design point" in result.warnings[0]


@pytest.mark.slow
def test_morris_noise_floor_separates_a_real_effect_from_noise():
    from SALib.sample import morris as morris_sample

    problem = {"num_vars": 3, "names": ["silo_strength", "ad_share", "freedom"], "bounds": [[0, 1]] * 3}
    matrix = morris_sample.sample(problem, 10, num_levels=4, seed=2)
    points = [dict(zip(problem["names"], map(float, row), strict=True)) for row in matrix]
    design = {"method": "morris", "n": 10, "num_levels": 4, "ranges": dict.fromkeys(problem["names"], [0, 1]),
              "problem": problem}
    manifest, frame = synthetic(["base"], points, 3, [0, 4],
                                lambda s, p, r, t, rng: {"y": 20 * p["silo_strength"] + rng.normal(0, 1)}, design=design)
    result = an.sensitivity(an.final_values(frame), manifest, "y", "base")
    rows = result.table.set_index("parameter")
    assert rows.loc["silo_strength", "mu_star"] == pytest.approx(20, rel=0.15)
    assert not rows.loc["silo_strength", "below_floor"]
    assert rows.loc["ad_share", "below_floor"] and rows.loc["freedom", "below_floor"]
    assert "mu_star_conf" in rows.columns


# ------------------------------------------------------------ time to event
def test_parse_event_accepts_thresholds_and_percentages():
    assert an.parse_event("active_customers<450") == an.Event("active_customers", "<", 450.0, False, "active_customers<450")
    event = an.parse_event(" trust_sales_in_marketing > 90.5% ")
    assert (event.output, event.op, event.value, event.relative) == ("trust_sales_in_marketing", ">", 90.5, True)
    assert an.parse_event("net_promoter_score<-10").value == -10
    assert "falls 10 % below its week-0 level" in an.parse_event("active_customers<90%").describe()


@pytest.mark.parametrize("text", ["active_customers", "active_customers<=450", "active_customers<<3", "<3",
                                  "active_customers<abc", "active_customers=3", "", "active_customers<-5%"])
def test_bad_event_syntax_is_a_one_line_user_error(text):
    with pytest.raises(UserError, match="expected OUTPUT<VALUE or OUTPUT>VALUE") as error:
        an.parse_event(text)
    assert "\n" not in str(error.value)


def test_an_event_on_an_unrecorded_output_names_the_recorded_ones():
    with pytest.raises(UserError, match=r'did you mean "active_customers".*allowed: .*active_customers, revenue'):
        an.check_events([an.parse_event("activ_customers<3")], ["active_customers", "revenue"])


def _event_frame():
    series = {0: [100, 95, 90, 80], 1: [100, 99, 98, 97], 2: [200, 150, 190, 100], 3: [-5, -6, -7, -8]}

    def value(s, point, r, step, rng):
        return {"y": float(series[r][[0, 4, 8, 12].index(step)])}

    return synthetic(["base"], [{"n_customers": 400}], 4, [0, 4, 8, 12], value)


def test_event_times_known_crossings_and_censoring():
    _, frame = _event_frame()
    times = an.event_times(frame, an.parse_event("y<90%")).set_index("replication")
    assert list(times.index) == [0, 1, 2]  # replication 3 starts at -5: no relative threshold
    assert times.loc[0, "week"] == 12 and times.loc[0, "crossed"]  # strictly below: 90 at week 8 is not
    assert times.loc[1, "week"] == 12 and not times.loc[1, "crossed"]  # censored at its last week
    assert times.loc[2, "week"] == 4 and times.loc[2, "threshold"] == 180
    absolute = an.event_times(frame, an.parse_event("y>150")).set_index("replication")
    assert absolute.loc[2, "week"] == 0 and absolute.loc[2, "crossed"]  # held from the start
    assert not absolute.loc[0, "crossed"]


def test_event_summary_kaplan_meier_median_and_share_never_crossed():
    times = pd.DataFrame({"week": [2, 4, 6, 12, 12, 3, 3, 5, 5, 7],
                          "crossed": [True, True, True, False, False, True, True, True, True, True]})
    group = pd.Series(["A"] * 5 + ["B"] * 5, index=times.index)
    summary = an.event_summary(times, group).set_index("group")
    # A: S(2) = 0.8, S(4) = 0.6, S(6) = 0.4: the median is week 6; 2 of 5 never crossed
    assert summary.loc["A", "events"] == 3 and summary.loc["A", "median"] == 6
    assert summary.loc["A", "never"] == pytest.approx(0.4)
    assert summary.loc["A", "never_low"] < 0.4 < summary.loc["A", "never_high"]
    assert summary.loc["B", "median"] == 5 and summary.loc["B", "never"] == 0
    assert math.isnan(summary.loc["A", "p_logrank"]) and 0 < summary.loc["B", "p_logrank"] < 1
    weeks, share = an.survival_curve(times[group == "A"])
    assert list(share) == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.4]) and weeks[-1] == 12


# ---------------------------------------------------- replication adequacy
def test_replication_adequacy_targets_the_mean_or_the_sd_near_zero():
    values = {"large": [98.0, 102.0, 100.0, 96.0, 104.0], "zero": [-1.0, 1.0, 0.5, -0.5, 0.0]}

    def value(s, point, r, step, rng):
        return {name: v[r] for name, v in values.items()}

    manifest, frame = synthetic(["base"], [{"n_customers": 400}], 5, [0, 4], value)
    table = an.replication_adequacy(an.final_values(frame), manifest, ["large", "zero"]).set_index("output")
    sd = float(np.std(values["large"], ddof=1))
    assert table.loc["large", "target"] == pytest.approx(5.0) and "5 % of the mean" in table.loc["large", "rule"]
    assert table.loc["large", "n_needed"] == replications_needed(sd, 5.0)
    assert table.loc["large", "half_width_pct"] == pytest.approx(100 * table.loc["large", "half_width"] / 100)
    zero_sd = float(np.std(values["zero"], ddof=1))
    assert "0.1 SD" in table.loc["zero", "rule"] and table.loc["zero", "target"] == pytest.approx(0.1 * zero_sd)
    assert table.loc["zero", "n_needed"] == replications_needed(zero_sd, 0.1 * zero_sd)
