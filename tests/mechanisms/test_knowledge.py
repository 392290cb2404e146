import numpy as np
import scipy.sparse as sp

from orgsim.mechanisms import knowledge


def test_turbulence_flips_needs(rng):
    needs = np.ones(10_000, dtype=np.int8)
    flipped = knowledge.turbulence(needs, 0.1, rng)
    assert set(np.unique(flipped)) <= {-1, 1}
    assert abs(np.mean(flipped == -1) - 0.1) < 0.01


def test_contact_learning_only_for_those_who_learn(rng):
    beliefs = np.zeros((3, 500), dtype=np.int8)
    needs = np.ones(500, dtype=np.int8)
    new, insight = knowledge.contact_learning(beliefs, np.zeros_like(beliefs, bool), needs,
                                              np.array([0.0, 0.5, 1.0]), rng)
    assert (new[0] == 0).all() and (new[2] == 1).all()
    assert 0.4 < np.mean(new[1] == 1) < 0.6
    assert (insight == (new == 1)).all()


def test_diffusion_passes_insights_only():
    net = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=float))
    beliefs = np.array([[0, 0], [1, -1], [1, -1]], dtype=np.int8)
    insight = np.array([[False, False], [True, False], [True, False]])
    rng = np.random.default_rng(0)
    new, new_insight = knowledge.diffusion(beliefs, insight, net * 50, 1.0, np.zeros(3, bool), rng)
    assert new[0, 0] == 1  # strong insight signal is adopted
    assert new[0, 1] == 0  # opinions without insight do not travel
    assert not new_insight[0, 0]  # non-carriers do not relay what they heard
    _, carrier_insight = knowledge.diffusion(beliefs, insight, net * 50, 1.0, np.array([True, False, False]), rng)
    assert carrier_insight[0, 0]


def test_diffusion_weights_scale_cross_department_ties_by_trust():
    net = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=float))
    department = np.array([0, 0, 1])
    trust_matrix = np.array([[0.5, 0.25], [0.5, 0.5]])
    w = knowledge.diffusion_weights(net, department, trust_matrix, np.array([1.0, 2.0, 3.0])).toarray()
    assert np.isclose(w[0, 1], 2.0)  # same department: weight = sender weight
    assert np.isclose(w[0, 2], 3.0 * 2 * 0.25)


def test_socialisation_moves_one_step_toward_code(rng):
    beliefs = np.array([[-1, 0, 1, 1]], dtype=np.int8).repeat(1000, axis=0)
    code = np.array([1, 1, 1, 0], dtype=np.int8)
    new, moved = knowledge.socialisation(beliefs, code, 1.0, rng)
    assert (new == np.array([0, 1, 1, 1])).all()
    assert moved[:, :2].all() and not moved[:, 2:].any()
    half, _ = knowledge.socialisation(beliefs, code, 0.5, rng)
    assert 0.45 < np.mean(half[:, 0] == 0) < 0.55


def test_code_learns_majority_of_superior_group_only(rng):
    needs = np.ones(5, dtype=np.int8)
    code = np.zeros(5, dtype=np.int8)
    actions = np.array([[1, 1, 1, 1, -1]] * 3 + [[-1, -1, -1, -1, -1]] * 10, dtype=np.int8)
    new = knowledge.code_learning(actions, code, needs, 1.0, rng)
    # the ten wrong employees are not superior to the (empty) code; the three right ones are
    assert new.tolist() == [1, 1, 1, 1, -1]
    unchanged = knowledge.code_learning(actions, code, needs, 0.0, rng)
    assert (unchanged == 0).all()


def test_code_learning_probability_grows_with_margin():
    needs = np.ones(20_000, dtype=np.int8)
    code = np.zeros(20_000, dtype=np.int8)
    actions = np.ones((2, 20_000), dtype=np.int8)
    new = knowledge.code_learning(actions, code, needs, 0.3, np.random.default_rng(1))
    assert abs(np.mean(new == 1) - (1 - 0.7**2)) < 0.01


def test_teachers_restrict_who_the_code_learns_from(rng):
    needs = np.ones(4, dtype=np.int8)
    actions = np.ones((2, 4), dtype=np.int8)
    new = knowledge.code_learning(actions, np.zeros(4, np.int8), needs, 1.0, rng, teachers=np.array([False, False]))
    assert (new == 0).all()


def test_offer_fit():
    assert knowledge.offer_fit(np.array([1, 0, -1, 1]), np.array([1, 1, -1, -1])) == 0.5
