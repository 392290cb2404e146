import numpy as np
import pytest

from orgsim import departments as dep
from orgsim.errors import UserError
from orgsim.interventions import ACTIONS, validate_arguments
from orgsim.model import OrgModel


@pytest.fixture
def model():
    return OrgModel(seed=3, n_employees=100, n_customers=300)


def test_brief_actions_exist():
    assert {"appoint_multipliers", "appoint_knowledge_carriers", "start_ad_blitz", "stop_ad_blitz",
            "open_silos", "start_partnership", "start_recognition"} <= set(ACTIONS)


def test_appoint_multipliers_picks_responsible_allies(model):
    w = model.workforce
    before = w.is_multiplier.sum()
    model.intervene("appoint_multipliers", share=0.1, conviction=0.9)
    new = w.is_multiplier & ~w.is_leader
    assert w.is_multiplier.sum() == before + 10
    assert (w.attitude[new] >= 0.9).all()
    assert w.responsibility[new].min() >= np.sort(w.responsibility[~w.is_multiplier])[-1]


def test_knowledge_carriers_in_every_department(model):
    model.intervene("appoint_knowledge_carriers", per_department=2)
    counts = np.bincount(model.workforce.department[model.workforce.is_knowledge_carrier])
    assert counts.tolist() == [2] * dep.N_DEPARTMENTS


def test_ad_blitz_starts_and_stops(model):
    model.intervene("start_ad_blitz", budget_factor=3.0, ad_share=0.9)
    assert model.params.marketing_budget == 30_000 and model.params.ad_share == 0.9
    model.intervene("stop_ad_blitz")
    assert model.params.marketing_budget == 10_000 and model.params.ad_share == 0.5


def test_open_silos_adds_cross_ties(model):
    def cross(m):
        coo = m.workforce.network.tocoo()
        d = m.workforce.department
        return np.count_nonzero(d[coo.row] != d[coo.col])

    before = cross(model)
    model.intervene("open_silos", silo_strength=0.0)
    assert cross(model) > before and model.params.silo_strength == 0.0


def test_partnership_and_recognition(model):
    model.intervene("start_partnership", level=0.95, joint_ties=2.0)
    assert model.params.marketing_support == 0.95
    model.intervene("start_recognition", rate=0.7, visibility=0.9)
    assert model.params.recognition_rate == 0.7
    assert [e["action"] for e in model.applied_interventions] == ["start_partnership", "start_recognition"]


@pytest.mark.parametrize(
    ("action", "arguments", "message"),
    [
        ("appoint_multiplier", {}, 'did you mean "appoint_multipliers"'),
        ("appoint_multipliers", {"shar": 0.1}, 'did you mean "share"'),
        ("appoint_multipliers", {"share": 0.9}, "a number in [0, 0.5]"),
        ("appoint_knowledge_carriers", {"per_department": 1.5}, "an integer in [1, 50]"),
        ("stop_ad_blitz", {"now": True}, "no arguments"),
    ],
)
def test_bad_arguments(action, arguments, message):
    with pytest.raises(UserError, match="x.toml") as error:
        validate_arguments(action, arguments, "x.toml")
    assert message in str(error.value)
