"""Interventions (orgsim.interventions): actions on a model between weeks.

Every action validates its arguments (UserError naming the action, the key
and the allowed values) and applies; no action sets anyone's conviction by
decree (only the leader's own view, by the leader); ad blitzes undo exactly.
"""

import copy

import numpy as np
import pytest
import scipy.sparse as sp

from orgsim import departments as dep
from orgsim.errors import UserError
from orgsim.interventions import ACTIONS, Intervention, validate_arguments
from orgsim.state import influence_matrix
from tests.conftest import small_model


@pytest.fixture(scope="module")
def built():
    return small_model(seed=3, n_employees=100, n_customers=300)


@pytest.fixture
def model(built):
    """A fresh model for every test: a deep copy of one built once, bit for bit what a new build
    gives (random generators included) at a few milliseconds instead of a build's ~0.1 s."""
    return copy.deepcopy(built)


def edges(network: sp.csr_matrix) -> set[tuple[int, int]]:
    coo = sp.triu(network, k=1).tocoo()
    return set(zip(coo.row.tolist(), coo.col.tolist(), strict=True))


def defaults(action: str) -> dict:
    return {a.name: a.default for a in ACTIONS[action].arguments}


def test_the_briefs_actions_exist():
    assert {"appoint_multipliers", "leader_commits", "appoint_knowledge_carriers", "start_ad_blitz",
            "stop_ad_blitz", "open_silos", "start_partnership", "start_recognition", "culture_not_control",
            "clarify_purpose"} <= set(ACTIONS)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_applies_with_its_defaults_and_is_recorded(model, action):
    model.run(2)
    done = model.intervene(action)
    assert isinstance(done, Intervention)
    assert (done.week, done.action, done.arguments) == (2, action, defaults(action))
    assert isinstance(done.note, str)
    assert model.applied_interventions[-1] is done
    assert validate_arguments(action, {}, "x") == defaults(action)  # declared defaults are allowed
    model.run(2)  # the model runs on


@pytest.mark.parametrize(
    ("action", "arguments", "message"),
    [
        ("appoint_multiplier", {}, 'unknown intervention action \'appoint_multiplier\' (did you mean "appoint_multipliers"?)'),
        ("fire_everyone", {}, "allowed: appoint_multipliers, "),
        ("appoint_multipliers", {"shar": 0.1}, 'appoint_multipliers has no argument \'shar\' (did you mean "share"?)'),
        ("stop_ad_blitz", {"now": True}, "stop_ad_blitz has no argument 'now'; allowed: no arguments"),
        ("appoint_multipliers", {"share": 0.9}, "appoint_multipliers.share = 0.9 is not allowed; allowed: a number in [0, 0.5]"),
        ("appoint_multipliers", {"share": -0.1}, "appoint_multipliers.share = -0.1 is not allowed"),
        ("start_ad_blitz", {"budget_factor": 0.5}, "start_ad_blitz.budget_factor = 0.5 is not allowed; allowed: a number in [1, 100]"),
        ("appoint_knowledge_carriers", {"per_department": 1.5}, "per_department = 1.5 is not allowed; allowed: an integer in [1, 50]"),
        ("appoint_knowledge_carriers", {"per_department": 0}, "per_department = 0 is not allowed"),
        ("leader_commits", {"attitude": True}, "leader_commits.attitude = True is not allowed"),
        ("leader_commits", {"attitude": "0.9"}, "leader_commits.attitude = '0.9' is not allowed"),
        ("open_silos", {"silo_strength": 1.5}, "open_silos.silo_strength = 1.5 is not allowed; allowed: a number in [0, 1]"),
    ],
)
def test_bad_arguments_raise_a_user_error_naming_them(action, arguments, message):
    with pytest.raises(UserError) as error:
        validate_arguments(action, arguments, "scenario.toml")
    assert str(error.value).startswith("scenario.toml: ")
    assert message in str(error.value)


def test_a_rejected_intervention_changes_nothing(model):
    params, attitude = model.params, model.workforce.attitude.copy()
    with pytest.raises(UserError, match=r"^intervention: start_ad_blitz\.ad_share = 2"):
        model.intervene("start_ad_blitz", ad_share=2)
    assert model.params is params and np.array_equal(model.workforce.attitude, attitude)
    assert all(i.action != "start_ad_blitz" for i in model.applied_interventions)


def test_integers_are_accepted_for_numbers():
    assert validate_arguments("leader_commits", {"attitude": 1}, "x") == {"attitude": 1.0}


# ------------------------------------------------------------------ multipliers and the leader
def test_appoint_multipliers_changes_nobodys_view_and_picks_the_most_responsible_of_the_willing(model):
    w = model.workforce
    attitude, anchor, before = w.attitude.copy(), w.attitude_anchor.copy(), w.is_multiplier.copy()
    willing = (attitude > 0) & ~before
    assert willing.sum() > 10
    done = model.intervene("appoint_multipliers", share=0.1)
    new = w.is_multiplier & ~before
    assert new.sum() == 10 and done.note.startswith("10 willing employees appointed")
    assert np.array_equal(w.attitude, attitude) and np.array_equal(w.attitude_anchor, anchor)
    assert (attitude[new] > 0).all()
    passed_over = willing & ~new
    assert w.responsibility[new].min() >= w.responsibility[passed_over].max()
    np.testing.assert_array_equal(model.influence.toarray(), influence_matrix(w, model.params).toarray())


def test_appoint_multipliers_appoints_fewer_when_fewer_are_willing(model):
    w = model.workforce
    w.attitude[:] = -0.5
    w.attitude[[5, 50, 70]] = 0.2
    w.is_multiplier[:] = False
    done = model.intervene("appoint_multipliers", share=0.5)
    assert np.flatnonzero(w.is_multiplier).tolist() == [5, 50, 70]
    assert done.note == "3 willing employees appointed (asked for 50)"


def test_random_multipliers_are_willing_too():
    model = small_model(seed=3, n_employees=100, n_customers=300, multiplier_selection="random")
    w = model.workforce
    attitude, before = w.attitude.copy(), w.is_multiplier.copy()
    model.intervene("appoint_multipliers", share=0.1)
    new = w.is_multiplier & ~before
    assert new.sum() == 10 and (attitude[new] > 0).all()
    assert np.array_equal(w.attitude, attitude)


def test_leader_commits_sets_only_the_leaders_view(model):
    w = model.workforce
    attitude, anchor = w.attitude.copy(), w.attitude_anchor.copy()
    leader = np.flatnonzero(w.is_leader)
    assert leader.size == 1
    done = model.intervene("leader_commits", attitude=0.7)
    assert w.attitude[leader[0]] == 0.7 and w.attitude_anchor[leader[0]] == 0.7
    others = ~w.is_leader
    assert np.array_equal(w.attitude[others], attitude[others])
    assert np.array_equal(w.attitude_anchor[others], anchor[others])
    assert done.undo["attitude"] == attitude[leader[0]]


def test_knowledge_carriers_are_the_most_customer_oriented_of_every_department(model):
    w = model.workforce
    w.alignment = np.random.default_rng(0).random(w.size)
    model.intervene("appoint_knowledge_carriers", per_department=2)
    for d in range(dep.N_DEPARTMENTS):
        members = np.flatnonzero(w.department == d)
        carriers = members[w.is_knowledge_carrier[members]]
        assert carriers.size == 2
        assert w.alignment[carriers].min() >= np.delete(w.alignment[members], np.searchsorted(members, carriers)).max()
    done = model.intervene("appoint_knowledge_carriers", per_department=1)  # one more each, not the same ones
    assert np.bincount(w.department[w.is_knowledge_carrier]).tolist() == [3] * dep.N_DEPARTMENTS
    assert done.note == f"{dep.N_DEPARTMENTS} knowledge carriers appointed"


# ------------------------------------------------------------------ ad blitz
def test_a_blitz_and_its_stop_restore_budget_and_ad_share_exactly(model):
    budget, ad_share = model.params.marketing_budget, model.params.ad_share
    model.intervene("start_ad_blitz", budget_factor=3.0, ad_share=0.9)
    assert model.params.marketing_budget == 3 * budget and model.params.ad_share == 0.9
    model.run(3)
    model.intervene("stop_ad_blitz")
    assert model.params.marketing_budget == budget and model.params.ad_share == ad_share


def test_stop_without_a_blitz_changes_nothing_and_says_so(model):
    params = model.params
    done = model.intervene("stop_ad_blitz")
    assert model.params is params
    assert "no ad blitz was running" in done.note and "nothing changed" in done.note
    model.intervene("start_ad_blitz")
    model.intervene("stop_ad_blitz")
    blitzed = model.params
    again = model.intervene("stop_ad_blitz")  # the blitz was stopped already
    assert model.params is blitzed and "no ad blitz was running" in again.note


def test_two_blitzes_then_one_stop_restores_the_values_before_the_second(model):
    original = (model.params.marketing_budget, model.params.ad_share)
    model.intervene("start_ad_blitz", budget_factor=2.0, ad_share=0.8)
    first = (model.params.marketing_budget, model.params.ad_share)
    model.intervene("start_ad_blitz", budget_factor=5.0, ad_share=1.0)
    assert (model.params.marketing_budget, model.params.ad_share) == (first[0] * 5, 1.0)
    model.intervene("stop_ad_blitz")
    assert (model.params.marketing_budget, model.params.ad_share) == first
    model.intervene("stop_ad_blitz")
    assert (model.params.marketing_budget, model.params.ad_share) == original


def test_blitz_budget_is_capped_at_the_parameter_limit():
    model = small_model(seed=3, marketing_budget=5e8)
    model.intervene("start_ad_blitz", budget_factor=10.0)
    assert model.params.marketing_budget == 1e9


# ------------------------------------------------------------------ silos and partnership
def test_open_silos_adds_cross_department_ties_only(model):
    w = model.workforce
    before = edges(w.network)
    model.intervene("open_silos", silo_strength=0.0)
    after = edges(w.network)
    new = after - before
    assert before <= after and len(new) > 20  # ~ n * degree * 0.3 / 2 = 60
    assert all(w.department[i] != w.department[j] for i, j in new)
    assert model.params.silo_strength == 0.0
    np.testing.assert_array_equal(model.influence.toarray(), influence_matrix(w, model.params).toarray())


def test_raising_the_silo_strength_removes_no_ties_and_adds_none(model):
    before = edges(model.workforce.network)
    model.intervene("open_silos", silo_strength=0.9)
    assert edges(model.workforce.network) == before and model.params.silo_strength == 0.9


def test_partnership_adds_sales_marketing_ties_and_sets_the_three_behaviours(model):
    w = model.workforce
    before, params = edges(w.network), model.params
    done = model.intervene("start_partnership", level=0.95, joint_ties=2.0)
    new = edges(w.network) - before
    n_sales = int(np.sum(w.department == dep.SALES))
    assert 0 < len(new) <= 2 * n_sales and done.note == f"{2 * n_sales} joint sales-marketing ties"
    assert all({w.department[i], w.department[j]} == {dep.SALES, dep.MARKETING} for i, j in new)
    p = model.params
    assert (p.marketing_advocacy, p.marketing_support, p.marketing_buffering) == (0.95, 0.95, 0.95)
    assert done.undo == {"marketing_advocacy": params.marketing_advocacy,
                         "marketing_support": params.marketing_support,
                         "marketing_buffering": params.marketing_buffering}
    changed = {k for k, v in p.model_dump().items() if v != params.model_dump()[k]}
    assert changed == {"marketing_advocacy", "marketing_support", "marketing_buffering"}


@pytest.mark.parametrize(("action", "arguments", "expected"), [
    ("start_recognition", {"rate": 0.7, "visibility": 0.9}, {"recognition_rate": 0.7, "results_visibility": 0.9}),
    ("culture_not_control", {"socialisation_rate": 0.02, "code_learning_rate": 0.8, "freedom": 0.6},
     {"socialisation_rate": 0.02, "code_learning_rate": 0.8, "freedom": 0.6}),
    ("clarify_purpose", {"purpose_clarity": 0.95}, {"purpose_clarity": 0.95}),
])
def test_parameter_actions_set_their_parameters_and_keep_the_old_values(model, action, arguments, expected):
    params = model.params
    done = model.intervene(action, **arguments)
    dumped = model.params.model_dump()
    assert {k: dumped[k] for k in expected} == expected
    assert done.undo == {k: getattr(params, k) for k in expected}
    assert {k for k, v in dumped.items() if v != params.model_dump()[k]} <= set(expected)
