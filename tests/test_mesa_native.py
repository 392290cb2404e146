"""OrgModel as a Mesa user expects it: rng=, DataCollector, batch_run, SolaraViz, agent views."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pandas as pd
import pytest

from orgsim import Customer, Employee, OrgModel
from orgsim.errors import UserError
from orgsim.outputs import OUTPUT_NAMES
from orgsim.parameters import PARAMETERS

SMALL = {"n_employees": 40, "n_customers": 300}


def test_rng_keyword_seeds_the_run_like_seed():
    by_rng = OrgModel(rng=5, **SMALL).run(4)
    by_seed = OrgModel(seed=5, **SMALL).run(4)
    pd.testing.assert_frame_equal(by_rng, by_seed)
    assert OrgModel(rng=5, **SMALL).seed == 5


def test_rng_accepts_a_generator_and_the_run_follows_it():
    first = OrgModel(rng=np.random.default_rng(3), **SMALL).run(3)
    second = OrgModel(rng=np.random.default_rng(3), **SMALL).run(3)
    pd.testing.assert_frame_equal(first, second)


def test_rng_and_seed_together_are_refused():
    with pytest.raises(UserError, match="rng or seed, not both"):
        OrgModel(rng=1, seed=1, **SMALL)


def test_signature_lists_every_declared_parameter_with_its_default():
    signature = inspect.signature(OrgModel)
    for param in PARAMETERS:
        assert signature.parameters[param.name].default == param.default
        assert signature.parameters[param.name].kind is inspect.Parameter.KEYWORD_ONLY
    assert {"rng", "seed", "params", "interventions", "customer_views"} <= set(signature.parameters)


def test_datacollector_holds_the_declared_outputs_every_week():
    model = OrgModel(rng=2, **SMALL)
    frame = model.run(5)
    collected = model.datacollector.get_model_vars_dataframe()
    assert list(collected.columns) == list(OUTPUT_NAMES)
    assert len(collected) == 6  # week 0 and five weeks
    pd.testing.assert_frame_equal(collected.reset_index(drop=True), frame[list(OUTPUT_NAMES)],
                                  check_dtype=False)


def test_the_collector_holds_what_mesas_reporters_give_and_collects_reporters_added_later():
    model = OrgModel(rng=2, **SMALL)
    model.run(2)
    collector = model.datacollector
    assert collector._collection_steps == [0, 1, 2]  # batch_run reads the steps collected
    assert {name: values[-1] for name, values in collector.model_vars.items()} == {
        name: reporter(model) for name, reporter in collector.model_reporters.items()}
    collector._new_model_reporter("weeks_run", lambda m: m.steps)  # as a user's own reporter is added
    model.step()
    assert collector.model_vars["weeks_run"] == [3]
    assert collector._collection_steps == [0, 1, 2, 3]
    assert collector.model_vars["revenue"][-1] == model.records[-1]["revenue"]
    collector.model_reporters["revenue"] = lambda m: -1.0  # a declared output's reporter replaced
    model.step()
    assert collector.model_vars["revenue"][-1] == -1.0 and collector.model_vars["weeks_run"] == [3, 4]


def test_the_collector_takes_the_records_values_without_calling_the_reporters(monkeypatch):
    model = OrgModel(rng=2, **SMALL)
    monkeypatch.setattr(mesa.DataCollector, "collect", lambda *_: pytest.fail("Mesa's collect called the reporters"))
    model.step()
    assert model.datacollector.model_vars["revenue"][-1] == model.records[-1]["revenue"]


def test_mesa_scenario_fields_are_parameter_overrides():
    from mesa.experimental.scenarios import Scenario

    model = OrgModel(scenario=Scenario(rng=9, silo_strength=0.7), **SMALL)
    assert model.params.silo_strength == 0.7
    assert model.seed == 9
    assert model.scenario.silo_strength == 0.7


def _batch(processes: int) -> list[dict]:
    return mesa.batch_run(
        OrgModel, parameters={**SMALL, "silo_strength": [0.2, 0.8]}, rng=[1, 2], max_steps=4,
        number_processes=processes, data_collection_period=1, display_progress=False,
    )


def _by_run(rows: list[dict]) -> dict[tuple, pd.DataFrame]:
    frame = pd.DataFrame(rows)
    seed_column = "seed" if "seed" in frame else "rng"
    return {key: group.sort_values("Step").reset_index(drop=True)
            for key, group in frame.groupby([seed_column, "silo_strength"])}


@pytest.mark.slow
def test_batch_run_gives_the_rows_orgsim_gives():
    runs = _by_run(_batch(1))
    assert len(runs) == 4
    for (seed, silo), rows in runs.items():
        expected = OrgModel(seed=int(seed), silo_strength=silo, **SMALL).run(4)
        assert list(rows["Step"]) == list(range(5))
        pd.testing.assert_frame_equal(rows[list(OUTPUT_NAMES)], expected[list(OUTPUT_NAMES)], check_dtype=False)


@pytest.mark.slow
def test_batch_run_in_two_processes_gives_the_same_rows():
    one, two = _by_run(_batch(1)), _by_run(_batch(2))
    assert one.keys() == two.keys()
    for key in one:
        pd.testing.assert_frame_equal(one[key].drop(columns="RunId"), two[key].drop(columns="RunId"))


@pytest.mark.parametrize("kind", [Employee, Customer])
def test_removing_an_agent_view_is_refused_and_changes_nothing(kind):
    model = OrgModel(rng=1, customer_views=True, **SMALL)
    agents = model.agents_by_type[kind]
    before = len(model.agents)
    with pytest.raises(UserError, match="cannot be removed"):
        agents[0].remove()
    assert len(model.agents) == before == SMALL["n_employees"] + SMALL["n_customers"]
    model.step()  # the model still runs with every view in place
    assert len(model.agents) == before


@pytest.mark.slow
def test_solaraviz_page_is_built_from_the_declarations():
    from orgsim.parameters import PARAMS_BY_NAME
    from orgsim.ui import mesa_viz

    params = mesa_viz.model_params()
    assert params["rng"] == mesa_viz.SEED
    for name in mesa_viz.SLIDERS:
        declared = PARAMS_BY_NAME[name]
        assert params[name]["value"] == declared.default
        assert (params[name]["min"], params[name]["max"]) == (declared.low, declared.high)
    assert mesa_viz.model_param(PARAMS_BY_NAME["enable_trust"])["type"] == "Checkbox"
    assert mesa_viz.model_param(PARAMS_BY_NAME["n_customers"])["type"] == "SliderInt"
    # every plotted measure is a declared output the DataCollector records
    assert {name for names in mesa_viz.PLOTS for name in names} <= set(OUTPUT_NAMES)
