"""What the UI says and saves, without a browser: labels, tooltips, sliders, summary, setups, links, charts."""

from __future__ import annotations

import json

import pytest

from orgsim.errors import UserError
from orgsim.parameters import PARAMS_BY_NAME
from orgsim.scenario import load
from orgsim.ui import charts, info

PRESETS = ["base", "multiplier_led", "siloed"]


def test_labels_read_as_words():
    assert info.label("n_customers") == "Number of customers"
    assert info.label("left_brain_scepticism") == "Left brain scepticism"


def test_a_tooltip_names_the_code_the_range_and_explains_the_claim():
    text = info.tooltip(PARAMS_BY_NAME["silo_strength"])
    assert text.startswith("silo_strength:") and "Allowed: a number in [0, 1]" in text
    claim = PARAMS_BY_NAME["silo_strength"].claim.split(",")[0].strip()
    assert f"{claim} {info.claims()[claim]['title']}" in text


def test_every_claim_cited_by_a_parameter_or_action_is_in_the_digest():
    from orgsim.interventions import ACTIONS

    cited = {c for p in PARAMS_BY_NAME.values() for c in info.CLAIM_ID.findall(p.claim)}
    cited |= {c for a in ACTIONS.values() for c in info.CLAIM_ID.findall(a.claim)}
    assert cited <= set(info.claims())


@pytest.mark.parametrize("name", [n for n, p in PARAMS_BY_NAME.items()
                                  if p.kind in (int, float) and p.low is not None and info.log_scaled(p)])
def test_a_log_slider_reaches_both_ends_and_finds_the_default(name):
    param = PARAMS_BY_NAME[name]
    assert info.from_position(param, 0) == param.low
    assert info.from_position(param, info.LOG_POSITIONS) == pytest.approx(param.high, rel=1e-3)
    at_default = info.from_position(param, info.to_position(param, param.default))
    assert at_default == pytest.approx(param.default, rel=0.02)


def test_the_slider_scale_is_logarithmic_only_where_the_range_spans_orders_of_magnitude():
    assert info.log_scaled(PARAMS_BY_NAME["n_customers"]) and info.log_scaled(PARAMS_BY_NAME["marketing_budget"])
    assert not info.log_scaled(PARAMS_BY_NAME["silo_strength"])


def small_runner(names=("siloed", "multiplier_led"), weeks=6):
    from orgsim.ui.app import build_runner

    runner = build_runner(list(names), 3, {"n_customers": 400, "n_employees": 60})
    runner.step(weeks)
    return runner


def test_the_summary_says_who_is_ahead_in_words():
    runner = small_runner()
    text = info.summary(runner.models, ["A: siloed", "B: multiplier_led"])
    a, b = (m.records[-1]["active_customers"] for m in runner.models)
    assert "after 6 weeks" in text and ("B is ahead" if b > a else "A is ahead") in text
    assert info.summary(small_runner(weeks=0).models, ["A", "B"]).startswith("Week 0")


def test_a_saved_setup_reruns_identically_with_orgsim(tmp_path):
    """A setup saved after an intervention in the UI, run as a scenario file: the same weeks, to the bit."""
    from orgsim.ui.app import build_runner, setup_toml

    runner = build_runner(["siloed"], 5, {"n_customers": 400, "n_employees": 60})
    runner.step(3)
    done = runner.models[0].intervene("appoint_multipliers", share=0.2)
    runner.ui_interventions[0].append({"week": done.week, "action": done.action, "arguments": dict(done.arguments)})
    runner.step(5)
    path = tmp_path / "mine.toml"
    path.write_text(setup_toml(runner, 0, {"n_customers": 400, "n_employees": 60}))
    rerun = load(path).model(customer_views=False).run(8)
    assert rerun.equals(runner.models[0].timeseries())
    setup = info.read_setup(path.read_text(), "mine.toml", PRESETS)
    assert setup.preset == "siloed" and setup.seed == 5 and setup.overrides == {"n_customers": 400, "n_employees": 60}
    assert setup.interventions == [{"week": 3, "action": "appoint_multipliers", "arguments": {"share": 0.2}}]


@pytest.mark.parametrize(("text", "says"), [
    ("extends = \"nowhere\"", "extend a preset"),
    ("not toml [", "not a TOML file"),
    ("extends = \"siloed\"\n[parameters]\nsilo_strength = 7", "silo_strength"),
])
def test_a_setup_that_cannot_be_loaded_says_why(text, says):
    with pytest.raises(UserError, match=says):
        info.read_setup(text, "bad.toml", PRESETS)


def test_a_link_round_trips_and_leaves_out_what_is_not_allowed():
    query = info.to_query("compare", "siloed", "multiplier_led", 7, {"freedom": 0.7, "n_customers": 800}, True)
    back = info.from_query(query, PRESETS)
    assert (back.mode, back.a, back.b, back.seed, back.present) == ("compare", "siloed", "multiplier_led", 7, True)
    assert back.overrides == {"freedom": 0.7, "n_customers": 800} and back.problems == []
    bad = info.from_query("?seed=-5&a=nowhere&set.freedom=7&set.nothing=1&mode=x", PRESETS)
    assert bad.seed is None and bad.a is None and bad.overrides == {} and len(bad.problems) == 5


def test_kpi_charts_have_a_fixed_week_axis_coded_interventions_and_storms_per_firm():
    runner = small_runner(weeks=4)
    runner.models[0].intervene("open_silos")
    runner.step(2)
    chart = charts.kpi_option(runner.models, ["A: siloed", "B: multiplier_led"], last_week=104)
    option = chart["baseOption"]  # narrow screens get two panels a row (media)
    assert len(chart["media"][0]["option"]["grid"]) == len(charts.KPI_PANELS)
    assert {axis["max"] for axis in option["xAxis"]} == {104}
    assert len(option["grid"]) == len(charts.KPI_PANELS)
    codes = [d["name"] for s in option["series"] for d in s.get("markLine", {}).get("data", [])]
    assert "A1" in codes
    assert "A1, week 4: open silos" in charts.marker_legend(runner.models, ["A: siloed", "B: multiplier_led"])
    json.dumps(chart)  # plain JSON for the browser: no numpy scalars
    for build in (charts.org_option(runner.models, runner.layouts, ["A", "B"]),
                  charts.market_option(runner.models, ["A", "B"]), charts.trust_option(runner.models, ["A", "B"])):
        json.dumps(build)


def test_the_kpi_columns_kept_between_frames_are_the_records_of_every_week():
    runner = small_runner(weeks=4)
    charts.kpi_option(runner.models, ["A", "B"], last_week=104)  # a frame keeps its columns
    runner.step(3)
    chart = charts.kpi_option(runner.models, ["A", "B"], last_week=104)
    for model, dataset in zip(runner.models, chart["baseOption"]["dataset"], strict=True):
        assert dataset["source"]["step"] == list(range(model.steps + 1))
        for column, values in dataset["source"].items():
            assert values == [round(float(record[column]), 4) for record in model.records]


def test_storm_periods_are_runs_of_consecutive_storm_weeks():
    class Fake:
        records = [{"shitstorm": s} for s in (0, 1, 1, 0, 0, 1, 0, 1)]

    assert charts.storm_periods(Fake()) == [(1, 2), (5, 5), (7, 7)]


def test_presentation_panels_are_the_four_key_kpis():
    assert [p.columns[0] for p in charts.PRESENTATION_PANELS] == [
        "active_customers", "net_promoter_score", "mean_attitude", "trust_sales_in_marketing"]
