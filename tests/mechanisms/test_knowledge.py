"""Mechanism 2, the knowledge chain: known answers of the docstring's rules.

1. turbulence: each core need flips with probability p4, in every segment;
2. contact learning: contact staff learn each need of the segment they meet
   with probability κ e_i o_i (first-hand evidence); insights go stale;
3. chain: s_ik = Σ_j w_ij u_jk b_jk, w_ij = a_ij g_ij h_j, g = 1 inside a
   department and √(T_ij T_ji)/½ across, h_j = e_j o_j;
   u_jk = 1 for first-hand beliefs and, for carriers, anything they heard;
   carriers listen only to first-hand evidence; adoption with probability
   ρ (1 − e^{−|s|}), hearsay is not evidence;
4. socialisation one step toward the code; a belief that moved is no longer
   evidence;
5. code learning from the teachers' evidence vote v: probability
   p2 · min(1, |v|/q); never from the true needs (customer_insight).

Most tests switch every rate off but the one under test and use
:class:`ThresholdRng`, so an event of probability p happens iff p > u.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from orgsim import departments as dep
from orgsim.mechanisms import knowledge
from orgsim.state import ACTIVE
from tests.conftest import (
    ThresholdRng,
    assert_same_world,
    just_above,
    just_below,
    small_world,
    snapshot,
)

SILENT = {"knowledge_history_weeks": 0, "market_turbulence": 0.0, "contact_learning_rate": 0.0,
          "insight_forgetting": 0.0, "knowledge_diffusion_rate": 0.0, "socialisation_rate": 0.0,
          "code_learning_rate": 0.0}
M = 50  # need dimensions (default)


def quiet_world(seed=7, **overrides):
    """Every knowledge rate 0 unless overridden; no beliefs, no evidence, full engagement and orientation."""
    world, p = small_world(seed=seed, **{**SILENT, **overrides})
    w = world.workforce
    w.beliefs = np.zeros((w.size, M), dtype=np.int8)
    w.insight = np.zeros((w.size, M), dtype=bool)
    w.first_hand = np.zeros((w.size, M), dtype=bool)
    w.engagement = np.ones(w.size)
    w.alignment = np.ones(w.size)
    return world, p


def ties(n, pairs):
    rows, cols = zip(*pairs, strict=True)
    a = sp.csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(n, n))
    return (a + a.T).tocsr()


def member(world, department, k=0):
    return int(np.flatnonzero(world.workforce.department == department)[k])


# ------------------------------------------------------------------ turbulence
def test_turbulence_flips_the_core_and_every_segment_on_the_same_dimensions():
    core = np.where(np.arange(2000) % 3 == 0, -1, 1).astype(np.int8)
    segments = np.vstack([core, -core, core]).astype(np.int8)
    new_core, new_segments = knowledge.turbulence(core, segments, 0.1, np.random.default_rng(0))
    flipped = new_core != core
    assert np.array_equal(new_segments, segments * np.where(flipped, -1, 1)[None, :])
    assert abs(flipped.mean() - 0.1) < 4 * np.sqrt(0.09 / 2000)  # 4 SE
    all_flip, _ = knowledge.turbulence(core, segments, 0.1, just_below(0.1))
    none_flip, _ = knowledge.turbulence(core, segments, 0.1, just_above(0.1))
    assert np.array_equal(all_flip, -core) and np.array_equal(none_flip, core)


def test_step_applies_turbulence_to_core_and_segment_needs():
    world, p = quiet_world(market_turbulence=0.2)
    f = world.firm
    world.week.number = 5
    flips = np.random.default_rng([f.needs_seed, 5]).random(M) < 0.2  # the market's counter-based stream
    assert 0 < flips.sum() < M
    sign = np.where(flips, -1, 1)
    effects = knowledge.step(world, p, np.random.default_rng(0))["firm"]
    assert np.array_equal(effects["core_needs"], f.core_needs * sign)
    assert np.array_equal(effects["segment_needs"], f.segment_needs * sign[None, :])


def test_turbulence_draws_from_the_markets_own_stream():
    """Common random numbers: the needs drift alike whatever else the week draws; (seed, week) decide."""
    world, p = small_world(seed=7, market_turbulence=0.3)
    a = knowledge.step(world, p, np.random.default_rng(1))["firm"]["core_needs"]
    b = knowledge.step(world, p, np.random.default_rng(2))["firm"]["core_needs"]
    assert np.array_equal(a, b) and not np.array_equal(a, world.firm.core_needs)
    world.week.number += 1
    c = knowledge.step(world, p, np.random.default_rng(1))["firm"]["core_needs"]
    assert not np.array_equal(a, c)


# ------------------------------------------------------------------ contact learning
def test_contact_learning_probability_is_kappa_times_engagement_times_orientation():
    world, p = quiet_world(contact_learning_rate=0.8)
    w, m, f = world.workforce, world.market, world.firm
    w.engagement = np.linspace(0.1, 1.0, w.size)
    w.alignment = np.linspace(1.0, 0.2, w.size)
    u = 0.2
    effects = knowledge.step(world, p, ThresholdRng(u))["workforce"]
    learns = w.is_customer_contact & (0.8 * w.engagement * w.alignment > u)
    assert 0 < learns.sum() < w.is_customer_contact.sum()  # the threshold splits the contact staff
    met = m.segment[m.status == ACTIVE][0]  # ThresholdRng meets the first active customer
    assert np.array_equal(effects["beliefs"][learns], np.broadcast_to(f.segment_needs[met], (learns.sum(), M)))
    assert (effects["beliefs"][~learns] == 0).all()
    assert np.array_equal(effects["first_hand"], np.repeat(learns[:, None], M, axis=1))
    assert np.array_equal(effects["insight"], effects["first_hand"])


def test_only_customer_contact_staff_learn_from_customers():
    world, p = quiet_world(contact_learning_rate=1.0)
    w = world.workforce
    assert 0 < w.is_customer_contact.sum() < w.size
    effects = knowledge.step(world, p, ThresholdRng(1 - 1e-12))["workforce"]
    assert effects["first_hand"][w.is_customer_contact].all()
    assert not effects["first_hand"][~w.is_customer_contact].any()
    assert (effects["beliefs"][~w.is_customer_contact] == 0).all()


def test_contact_staff_meet_segments_of_active_customers():
    world, p = quiet_world(contact_learning_rate=1.0)
    m, f, w = world.market, world.firm, world.workforce
    m.segment = np.where(m.status == ACTIVE, 1, 0)
    f.segment_needs = np.vstack([-np.ones(M), np.ones(M), -np.ones(M), -np.ones(M)]).astype(np.int8)
    effects = knowledge.step(world, p, np.random.default_rng(0))["workforce"]
    assert (effects["beliefs"][w.is_customer_contact] == 1).all()


def test_insights_go_stale_at_the_forgetting_rate():
    world, p = quiet_world(insight_forgetting=0.3)
    w = world.workforce
    w.beliefs[:] = 1
    w.first_hand[:, :10] = True
    w.insight[:, :20] = True
    stale = knowledge.step(world, p, just_below(0.3))["workforce"]
    assert not stale["insight"].any() and not stale["first_hand"].any()
    kept = knowledge.step(world, p, just_above(0.3))["workforce"]
    assert np.array_equal(kept["insight"], w.insight) and np.array_equal(kept["first_hand"], w.first_hand)


# ------------------------------------------------------------------ the chain (function level)
def run_diffusion(beliefs, first_hand, insight, carriers, weights, rate, rng):
    return knowledge.diffusion(np.array(beliefs, dtype=np.int8), np.array(insight, dtype=bool),
                               np.array(first_hand, dtype=bool), np.array(carriers, dtype=bool),
                               sp.csr_matrix(np.array(weights, dtype=float)), rate, rng)


def test_adoption_probability_is_rate_times_one_minus_exp_of_the_signal():
    # employee 0 hears 1 (+1, weight 0.7) and 2 (−1, weight 0.2) on one dimension: s = 0.5
    weights = [[0, 0.7, 0.2], [0, 0, 0], [0, 0, 0]]
    args = ([[0], [1], [-1]], [[False], [True], [True]], [[False], [True], [True]], [False] * 3, weights, 0.6)
    chance = 0.6 * (1 - np.exp(-0.5))
    adopted, insight, adopt = run_diffusion(*args, just_below(chance))
    assert adopted[0, 0] == 1 and adopt[0, 0]
    assert not insight[0, 0]  # hearsay is not evidence
    adopted, _, adopt = run_diffusion(*args, just_above(chance))
    assert adopted[0, 0] == 0 and not adopt.any()


def test_opinions_and_relayed_hearsay_of_non_carriers_do_not_travel():
    # 1: an opinion without evidence; 2: evidence a non-carrier got through a carrier (not first-hand)
    weights = [[0, 5.0, 5.0], [0, 0, 0], [0, 0, 0]]
    adopted, _, adopt = run_diffusion([[0, 0], [1, 0], [0, -1]], [[False] * 2] * 3,
                                      [[False, False], [False, False], [False, True]], [False] * 3,
                                      weights, 1.0, ThresholdRng(0.0))
    assert not adopt.any() and (adopted[0] == 0).all()


def test_carriers_relay_what_they_heard_and_it_counts_as_evidence():
    weights = [[0, 0.5], [0, 0]]
    chance = 1 - np.exp(-0.5)
    adopted, insight, _ = run_diffusion([[0], [1]], [[False], [False]], [[False], [True]], [False, True],
                                        weights, 1.0, just_below(chance))
    assert adopted[0, 0] == 1 and insight[0, 0]
    adopted, _, _ = run_diffusion([[0], [1]], [[False], [False]], [[False], [True]], [False, True],
                                  weights, 1.0, just_above(chance))
    assert adopted[0, 0] == 0


def test_carriers_listen_to_first_hand_evidence_only():
    weights = [[0, 5.0], [0, 0]]
    relayed = run_diffusion([[0], [1]], [[False], [False]], [[False], [True]], [True, True],
                            weights, 1.0, ThresholdRng(0.0))
    assert not relayed[2].any()  # a carrier ignores another carrier's relayed evidence
    first_hand = run_diffusion([[0], [1]], [[False], [True]], [[False], [True]], [True, False],
                               weights, 1.0, ThresholdRng(0.0))
    assert first_hand[0][0, 0] == 1 and first_hand[1][0, 0]  # and what a carrier adopts is evidence


def test_a_carriers_first_hand_evidence_counts_once():
    weights = [[0, 0.5], [0, 0]]  # non-carrier 0 hears carrier 1's first-hand +1 at weight 0.5: s = 0.5
    adopted, _, _ = run_diffusion([[0], [1]], [[False], [True]], [[False], [True]], [False, True],
                                  weights, 1.0, just_above(1 - np.exp(-0.5)))
    assert adopted[0, 0] == 0  # with s counted twice (s = 1) the chance is 1 − e^{−1} and it adopts


def test_diffusion_weights_scale_cross_department_ties_by_mutual_trust():
    net = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=float))
    department = np.array([0, 0, 1])
    trust = np.array([[0.5, 0.2], [0.8, 0.5]])
    w = knowledge.diffusion_weights(net, department, trust, np.array([1.0, 2.0, 3.0])).toarray()
    assert w[0, 1] == pytest.approx(2.0)  # inside a department: the sender's weight
    assert w[0, 2] == pytest.approx(3.0 * np.sqrt(0.2 * 0.8) / 0.5)  # across: × √(T_01 T_10) / ½
    assert w[2, 0] == pytest.approx(1.0 * np.sqrt(0.8 * 0.2) / 0.5)
    assert w[1, 2] == 0.0


# ------------------------------------------------------------------ the chain inside step
def test_step_passes_first_hand_evidence_over_a_tie_weighted_by_trust_engagement_and_orientation():
    world, p = quiet_world(knowledge_diffusion_rate=0.7)
    w, f = world.workforce, world.firm
    i, j = member(world, dep.SALES), member(world, dep.MARKETING)
    w.network = ties(w.size, [(i, j)])
    w.beliefs[j, 0], w.first_hand[j, 0], w.insight[j, 0] = 1, True, True
    w.engagement[j], w.alignment[j] = 0.8, 0.5
    f.trust_positive[dep.SALES, dep.MARKETING], f.trust_negative[dep.SALES, dep.MARKETING] = 3.0, 1.0
    f.trust_positive[dep.MARKETING, dep.SALES], f.trust_negative[dep.MARKETING, dep.SALES] = 1.0, 5.0
    mutual = np.sqrt((4 / 6) * (2 / 8)) / 0.5  # beta means (P + 1)/(P + N + 2)
    chance = 0.7 * (1 - np.exp(-mutual * 0.8 * 0.5))
    adopted = knowledge.step(world, p, just_below(chance))["workforce"]["beliefs"]
    assert adopted[i, 0] == 1
    changed = adopted != w.beliefs
    assert changed.sum() == 1  # nobody else heard anything
    assert knowledge.step(world, p, just_above(chance))["workforce"]["beliefs"][i, 0] == 0


def test_a_carriers_relayed_evidence_reaches_a_colleague_at_the_senders_willingness():
    world, p = quiet_world(knowledge_diffusion_rate=1.0)
    w = world.workforce
    i, j = member(world, dep.SALES, 0), member(world, dep.SALES, 1)
    w.network = ties(w.size, [(i, j)])
    w.is_knowledge_carrier[j] = True
    w.beliefs[j, 0], w.insight[j, 0] = -1, True  # heard, not first-hand
    w.engagement[j], w.alignment[j] = 0.5, 0.4
    chance = 1 - np.exp(-0.5 * 0.4)  # same department: w_ij = e_j o_j
    effects = knowledge.step(world, p, just_below(chance))["workforce"]
    assert effects["beliefs"][i, 0] == -1 and effects["insight"][i, 0]  # relayed by a carrier: evidence
    assert knowledge.step(world, p, just_above(chance))["workforce"]["beliefs"][i, 0] == 0


def test_hearsay_that_replaces_a_first_hand_belief_is_no_longer_first_hand():
    """Hearsay is not evidence, this week or the next (insight = (insight & ~stale) | first_hand)."""
    world, p = quiet_world(knowledge_diffusion_rate=1.0)
    w = world.workforce
    i, j = member(world, dep.SALES, 0), member(world, dep.SALES, 1)
    w.network = ties(w.size, [(i, j)])
    w.beliefs[i, 0], w.first_hand[i, 0], w.insight[i, 0] = -1, True, True  # i heard -1 from a customer
    w.beliefs[j, 0], w.first_hand[j, 0], w.insight[j, 0] = 1, True, True  # j heard +1
    knowledge.step(world, p, ThresholdRng(0.0)).apply_to(world)
    assert w.beliefs[i, 0] == 1  # i adopted j's view by hearsay (and j adopted i's)
    assert not w.insight[i, 0] and not w.first_hand[i, 0]
    knowledge.step(world, p.replace(knowledge_diffusion_rate=0.0), ThresholdRng(0.0)).apply_to(world)
    assert w.beliefs[i, 0] == 1 and not w.insight[i, 0]


# ------------------------------------------------------------------ socialisation
def test_socialisation_moves_one_step_toward_a_non_zero_code():
    beliefs = np.array([[-1, 0, 1, 1, -1]], dtype=np.int8).repeat(4, axis=0)
    code = np.array([1, 1, 1, 0, -1], dtype=np.int8)
    new, moved = knowledge.socialisation(beliefs, code, 0.3, just_below(0.3))
    assert (new == [0, 1, 1, 1, -1]).all()
    assert np.array_equal(moved[0], [True, True, False, False, False])
    same, moved = knowledge.socialisation(beliefs, code, 0.3, just_above(0.3))
    assert np.array_equal(same, beliefs) and not moved.any()


def test_socialisation_removes_insight_and_first_hand_of_the_beliefs_it_moves():
    world, p = quiet_world(socialisation_rate=0.5)
    w, f = world.workforce, world.firm
    f.code = np.zeros(M, dtype=np.int8)
    f.code[:3] = 1
    w.beliefs[:, :5] = -1
    w.beliefs[:, 1] = 1  # agrees with the code: does not move
    w.insight[:, :5] = w.first_hand[:, :5] = True
    effects = knowledge.step(world, p, just_below(0.5))["workforce"]
    assert (effects["beliefs"][:, :5] == [0, 1, 0, -1, -1]).all()
    expected = np.zeros(M, dtype=bool)
    expected[[1, 3, 4]] = True
    assert (effects["insight"] == expected).all() and (effects["first_hand"] == expected).all()


# ------------------------------------------------------------------ code learning
def test_code_adopts_the_vote_with_probability_p2_times_min_one_vote_over_quorum():
    beliefs = np.array([[1, 1, -1, 1], [1, -1, -1, 1], [1, 1, -1, -1]], dtype=np.int8)
    insight = np.array([[True, True, True, False], [True, True, True, False], [True, True, True, True]])
    code = np.array([-1, 0, 1, 0], dtype=np.int8)
    teachers = np.ones(3, dtype=bool)
    # votes: [3, 1, -3, -1]; chances 0.5 * min(1, |v| / 2) = [0.5, 0.25, 0.5, 0.25]
    learn = knowledge.learn_from_insight
    assert learn(beliefs, insight, code, 0.5, 2.0, just_below(0.25), teachers).tolist() == [1, 1, -1, -1]
    assert learn(beliefs, insight, code, 0.5, 2.0, just_above(0.25), teachers).tolist() == [1, 0, -1, 0]
    assert learn(beliefs, insight, code, 0.5, 2.0, just_above(0.5), teachers).tolist() == [-1, 0, 1, 0]


def test_code_ignores_beliefs_without_evidence_and_employees_who_do_not_teach():
    beliefs = np.array([[1, 1], [1, 1]], dtype=np.int8)
    code = np.array([-1, -1], dtype=np.int8)
    insight = np.array([[False, True], [False, True]])
    new = knowledge.learn_from_insight(beliefs, insight, code, 1.0, 1.0, ThresholdRng(0.0), np.ones(2, bool))
    assert new.tolist() == [-1, 1]
    new = knowledge.learn_from_insight(beliefs, insight, code, 1.0, 1.0, ThresholdRng(0.0), np.zeros(2, bool))
    assert new.tolist() == [-1, -1]


@pytest.mark.parametrize(("learns_from", "changes"), [("offer_departments", False), ("everyone", True)])
def test_teachers_are_the_offer_departments_unless_everyone(learns_from, changes):
    world, p = quiet_world(code_learning_rate=1.0, code_learns_from=learns_from)
    w, f = world.workforce, world.firm
    sales = w.department == dep.SALES
    f.code[0] = -1
    w.beliefs[sales, 0], w.insight[sales, 0] = 1, True
    code = knowledge.step(world, p, ThresholdRng(0.0))["firm"]["code"]
    assert (code[0] == 1) == changes
    offer = np.isin(w.department, dep.OFFER_DEPARTMENTS)
    w.beliefs[offer, 1], w.insight[offer, 1] = 1, True
    f.code[1] = -1
    assert knowledge.step(world, p, ThresholdRng(0.0))["firm"]["code"][1] == 1


def test_code_learning_from_insight_never_uses_the_true_needs():
    """Same beliefs and evidence, other needs: the code learns exactly the same (same random draws)."""
    world, p = quiet_world(code_learning_rate=0.5, code_evidence_quorum=2.0, knowledge_diffusion_rate=0.3,
                           socialisation_rate=0.2, insight_forgetting=0.1)
    w = world.workforce
    draw = np.random.default_rng(11)
    w.beliefs = draw.integers(-1, 2, (w.size, M)).astype(np.int8)
    w.insight = draw.random((w.size, M)) < 0.5
    w.first_hand = w.insight & (draw.random((w.size, M)) < 0.5)
    other = snapshot(world)
    other.firm.core_needs = -world.firm.core_needs
    other.firm.segment_needs = draw.choice(np.array([-1, 1], dtype=np.int8), world.firm.segment_needs.shape)
    a = knowledge.step(world, p, np.random.default_rng(5))
    b = knowledge.step(other, p, np.random.default_rng(5))
    assert not np.array_equal(a["firm"]["code"], world.firm.code)  # the code did learn
    assert np.array_equal(a["firm"]["code"], b["firm"]["code"])
    assert np.array_equal(a["workforce"]["beliefs"], b["workforce"]["beliefs"])
    # March's rule compares actions with reality, so there the needs matter (the test can fail)
    reality = p.replace(code_evidence="reality")
    c = knowledge.step(world, reality, np.random.default_rng(5))
    d = knowledge.step(other, reality, np.random.default_rng(5))
    assert not np.array_equal(c["firm"]["code"], d["firm"]["code"])


def test_march_code_learns_the_majority_of_the_superior_group_only():
    reality = np.ones(5, dtype=np.int8)
    code = np.zeros(5, dtype=np.int8)
    actions = np.array([[1, 1, 1, 1, -1]] * 3 + [[-1, -1, -1, -1, -1]] * 10, dtype=np.int8)
    everyone = np.ones(13, dtype=bool)
    new = knowledge.learn_from_reality(actions, code, reality, 1.0, ThresholdRng(0.5), everyone)
    assert new.tolist() == [1, 1, 1, 1, -1]  # the three who beat the code (score 3 > 0), not the ten
    # chance 1 − (1 − p2)^k with margin k = 3
    chance = 1 - 0.8**3
    assert knowledge.learn_from_reality(actions, code, reality, 0.2, just_below(chance), everyone).tolist() \
        == [1, 1, 1, 1, -1]
    assert (knowledge.learn_from_reality(actions, code, reality, 0.2, just_above(chance), everyone) == 0).all()
    assert (knowledge.learn_from_reality(actions, code, reality, 1.0, ThresholdRng(0.0),
                                         np.zeros(13, bool)) == 0).all()


# ------------------------------------------------------------------ outputs and contract
def test_segment_fit_and_knowledge_share():
    code = np.array([1, 0, -1, 1], dtype=np.int8)
    segments = np.array([[1, 1, -1, -1], [1, 0, -1, 1]], dtype=np.int8)
    assert knowledge.segment_fit(code, segments).tolist() == [0.5, 1.0]
    beliefs = np.array([[1, 1, -1, -1], [0, 0, 0, 0]], dtype=np.int8)
    assert knowledge.knowledge_share(beliefs, np.array([1, 1, -1, 1])).tolist() == [0.75, 0.0]


def test_writes_only_its_fields_and_does_not_mutate_the_world():
    world, p = small_world(seed=8)  # the default rates: everything happens
    before = snapshot(world)
    effects = knowledge.step(world, p, np.random.default_rng(0))
    assert_same_world(world, before)
    assert {k: set(v) for k, v in effects.items()} == {
        "workforce": {"beliefs", "insight", "first_hand"}, "firm": {"core_needs", "segment_needs", "code"}}
    assert effects["workforce"]["beliefs"].dtype == np.int8 and effects["firm"]["code"].dtype == np.int8


def test_step_leaves_the_markets_random_stream_alone():
    world, p = small_world(seed=8, market_turbulence=0.3)
    first = knowledge.step(world, p, np.random.default_rng(0))["firm"]["core_needs"]
    again = knowledge.step(world, p, np.random.default_rng(0))["firm"]["core_needs"]
    assert np.array_equal(first, again)


# ------------------------------------------------------------------ every event its own draw; chance 0 never
class CyclingRng(ThresholdRng):
    """Uniform draws that differ from one event to the next: ``values`` repeated to the shape asked for.
    Events drawn one by one must follow the pattern; one draw shared by all would not."""

    def __init__(self, values):
        super().__init__(float(values[0]))
        self.values = np.asarray(values, dtype=float)

    def random(self, size=None):
        return self.values[0] if size is None else np.resize(self.values, size)


ALTERNATING = CyclingRng([0.1, 0.9])


def test_turbulence_of_chance_zero_never_flips_even_on_a_draw_of_zero_and_keeps_int8():
    core = np.array([1, -1, 1, 1], dtype=np.int8)
    segments = np.vstack([core, -core]).astype(np.int8)
    new_core, new_segments = knowledge.turbulence(core, segments, 0.0, ThresholdRng(0.0))
    assert np.array_equal(new_core, core) and np.array_equal(new_segments, segments)
    flipped_core, flipped_segments = knowledge.turbulence(core, segments, 0.5, ALTERNATING)
    assert flipped_core.tolist() == [-1, -1, -1, 1] and flipped_segments[1].tolist() == [1, 1, 1, -1]
    assert flipped_core.dtype == np.int8 and flipped_segments.dtype == np.int8


def test_each_contact_meets_their_own_customer_and_learns_each_need_by_its_own_draw():
    world, p = quiet_world(contact_learning_rate=1.0)
    w, m, f = world.workforce, world.market, world.firm
    m.status[:] = ACTIVE
    m.segment = np.arange(m.size) % 4
    alternating = np.where(np.arange(M) % 2 == 0, -1, 1)
    f.segment_needs = np.array([-np.ones(M), alternating, -alternating, np.ones(M)], dtype=np.int8)  # distinct
    beliefs, first_hand, learns = knowledge.contact_learning(world, p, np.random.default_rng(4), f.segment_needs)
    contacts = np.flatnonzero(w.is_customer_contact)
    assert contacts.size >= 8 and beliefs.dtype == np.int8
    met = [int(np.flatnonzero((f.segment_needs == beliefs[i]).all(axis=1))[0]) for i in contacts]
    assert len(set(met)) > 1  # each contact met a customer of their own
    w.engagement[:] = 0.5  # chance 0.5 per need
    _, _, learns = knowledge.contact_learning(world, p, ALTERNATING, f.segment_needs)
    assert np.array_equal(learns[contacts], np.resize([True, False], (contacts.size, M)))


def test_without_active_customers_contact_staff_meet_any_customer():
    world, p = quiet_world(contact_learning_rate=1.0)
    w, m, f = world.workforce, world.market, world.firm
    m.status[:] = 0  # prospects only
    m.segment[:] = 2
    beliefs, _, _ = knowledge.contact_learning(world, p, ThresholdRng(0.5), f.segment_needs)
    assert (beliefs[w.is_customer_contact] == f.segment_needs[2]).all()


@pytest.mark.parametrize("active_share", [0.0, 0.003, 0.3, 1.0])
def test_met_segments_are_the_drawn_active_customers_segments(active_share):
    """The walk gives what indexing the active customers' segments gives, from the same draws."""
    world, _ = quiet_world()
    m = world.market
    statuses, n_customers = np.random.default_rng(7), 3_001  # blocks of 64 customers, many of them empty
    m.status = np.where(statuses.random(n_customers) < active_share, ACTIVE, 0).astype(np.int8)
    m.segment = statuses.integers(0, 4, n_customers)
    active_segments = m.segment[m.status == ACTIVE]
    pool = active_segments if active_segments.size else m.segment
    expected = pool[np.random.default_rng(3).integers(0, pool.size, world.workforce.size)]
    met = knowledge.met_segments(world, np.random.default_rng(3))
    assert met.dtype == m.segment.dtype and np.array_equal(met, expected)


def test_each_insight_goes_stale_by_its_own_draw():
    world, p = quiet_world(insight_forgetting=0.5)
    w = world.workforce
    w.beliefs[:] = 1
    w.insight[:] = True
    insight = knowledge.step(world, p, ALTERNATING)["workforce"]["insight"]
    assert np.array_equal(insight, np.resize([False, True], insight.shape))  # draws 0.1 < 0.5: stale


def test_no_diffusion_of_chance_zero_even_on_a_draw_of_zero():
    weights = [[0, 5.0], [0, 0]]
    adopted, _, adopt = run_diffusion([[0], [1]], [[False], [True]], [[False], [True]], [False, False],
                                      weights, 0.0, ThresholdRng(0.0))
    assert not adopt.any() and adopted[0, 0] == 0 and adopted.dtype == np.int8


def test_each_belief_is_adopted_by_its_own_draw():
    n = 4
    weights = np.zeros((n, n))
    weights[:, 0] = 50.0  # everyone hears employee 0's first-hand evidence loud: chance 0.5 (1 − e^{−50})
    weights[0, 0] = 0.0
    beliefs = np.zeros((n, 2), dtype=np.int8)
    beliefs[0] = 1
    first_hand = np.zeros((n, 2), dtype=bool)
    first_hand[0] = True
    adopted, _, adopt = run_diffusion(beliefs, first_hand, first_hand, [False] * n, weights, 0.5, ALTERNATING)
    draws = np.resize([0.1, 0.9], (n, 2))
    assert np.array_equal(adopt[1:], draws[1:] < 0.5)
    assert adopted.dtype == np.int8


def test_each_belief_is_socialised_by_its_own_draw():
    beliefs = np.full((3, 4), -1, dtype=np.int8)
    code = np.ones(4, dtype=np.int8)
    new, moved = knowledge.socialisation(beliefs, code, 0.5, ALTERNATING)
    assert np.array_equal(moved, np.resize([True, False], (3, 4)))
    none, moved = knowledge.socialisation(beliefs, code, 0.0, ThresholdRng(0.0))
    assert not moved.any() and np.array_equal(none, beliefs)


def test_code_learning_at_exactly_the_chance_does_not_happen():
    """An event of chance c happens iff the draw is below c: a draw of exactly c is no event."""
    beliefs = np.array([[1], [1]], dtype=np.int8)
    insight = np.ones((2, 1), dtype=bool)
    code = np.array([-1], dtype=np.int8)
    # vote 2, quorum 4: chance 0.5 · min(1, 2/4) = 0.25
    kept = knowledge.learn_from_insight(beliefs, insight, code, 0.5, 4.0, ThresholdRng(0.25), np.ones(2, bool))
    assert kept.tolist() == [-1]
    assert knowledge.learn_from_insight(beliefs, insight, code, 0.0, 4.0, ThresholdRng(0.0),
                                        np.ones(2, bool)).tolist() == [-1]


def test_march_actions_are_beliefs_or_a_fair_coin_of_int8():
    beliefs = np.array([[1, 0, -1, 0], [0, 0, 1, -1]], dtype=np.int8)
    heads = knowledge.act(beliefs, ThresholdRng(0.3))  # draw below 0.5: -1
    tails = knowledge.act(beliefs, ThresholdRng(0.7))
    assert heads.tolist() == [[1, -1, -1, -1], [-1, -1, 1, -1]]
    assert tails.tolist() == [[1, 1, -1, 1], [1, 1, 1, -1]]
    assert knowledge.act(beliefs, ThresholdRng(0.5)).tolist() == tails.tolist()  # exactly 0.5: not below
    assert heads.dtype == np.int8 and tails.dtype == np.int8
    mixed = knowledge.act(np.zeros((1, 4), dtype=np.int8), ALTERNATING)
    assert mixed.tolist() == [[-1, 1, -1, 1]]  # one coin per belief


def test_march_group_is_strictly_better_than_the_code_and_draws_per_dimension():
    reality = np.ones(4, dtype=np.int8)
    code = np.array([1, 1, -1, -1], dtype=np.int8)  # score 0
    actions = np.array([[1, 1, 1, -1], [1, -1, 1, -1]], dtype=np.int8)  # scores 2 (better) and 0 (a tie)
    everyone = np.ones(2, dtype=bool)
    new = knowledge.learn_from_reality(actions, code, reality, 1.0, ThresholdRng(0.0), everyone)
    assert new.tolist() == [1, 1, 1, -1] and new.dtype == np.int8  # only the first one's actions count
    # margin 1 everywhere: chance 1 − (1 − 0.5)^1 = 0.5; a draw of exactly 0.5 is no event
    assert knowledge.learn_from_reality(actions, code, reality, 0.5, ThresholdRng(0.5), everyone).tolist() \
        == code.tolist()
    changed = knowledge.learn_from_reality(actions, np.array([-1, -1, -1, 1], dtype=np.int8), reality, 0.5,
                                           ALTERNATING, everyone)
    assert changed.tolist() == [1, -1, 1, 1]  # dimensions 0 and 2 drew 0.1, 1 and 3 drew 0.9


def test_step_keeps_beliefs_needs_and_code_int8_in_either_code_rule():
    for rule in ("customer_insight", "reality"):
        world, p = small_world(seed=8, market_turbulence=0.3, code_evidence=rule)
        effects = knowledge.step(world, p, np.random.default_rng(0))
        for value in (effects["workforce"]["beliefs"], effects["firm"]["core_needs"],
                      effects["firm"]["segment_needs"], effects["firm"]["code"]):
            assert value.dtype == np.int8, rule


# ------------------------------------------------------------------ the compiled week is the rules, bit for bit
def week_by_the_rules(world, p, rng):
    """One week composed from the rule functions, in the order of the module docstring."""
    w, f = world.workforce, world.firm
    needs_rng = np.random.default_rng([f.needs_seed, world.week.number])
    core, segment_needs = knowledge.turbulence(f.core_needs, f.segment_needs, p.market_turbulence, needs_rng)
    beliefs, first_hand, _ = knowledge.contact_learning(world, p, rng, segment_needs)
    stale = rng.random(w.insight.shape) < p.insight_forgetting
    learned = first_hand & ~w.first_hand
    first_hand = (first_hand & ~stale) | learned
    insight = (w.insight & ~stale) | first_hand
    if p.knowledge_diffusion_rate > 0:
        trust = knowledge.expected_trust(f.trust_positive, f.trust_negative)
        weights = knowledge.diffusion_weights(w.network, w.department, trust, w.engagement * w.alignment)
        beliefs, insight, adopted = knowledge.diffusion(beliefs, insight, first_hand, w.is_knowledge_carrier,
                                                        weights, p.knowledge_diffusion_rate, rng)
        first_hand = first_hand & ~adopted
    teachers = (np.ones(w.size, dtype=bool) if p.code_learns_from == "everyone"
                else knowledge.IS_OFFER_DEPARTMENT[w.department])
    actions = knowledge.act(beliefs, rng) if p.code_evidence == "reality" else None
    new_beliefs, socialised = knowledge.socialisation(beliefs, f.code, p.socialisation_rate, rng)
    if actions is not None:
        code = knowledge.learn_from_reality(actions, f.code, core, p.code_learning_rate, rng, teachers)
    else:
        code = knowledge.learn_from_insight(beliefs, insight, f.code, p.code_learning_rate, p.code_evidence_quorum,
                                            rng, teachers)
    return {"beliefs": new_beliefs, "insight": insight & ~socialised, "first_hand": first_hand & ~socialised,
            "core_needs": core, "segment_needs": segment_needs, "code": code}


@pytest.mark.parametrize("overrides", [
    {},  # the defaults
    {"knowledge_diffusion_rate": 0.9, "contact_learning_rate": 0.5, "insight_forgetting": 0.3,
     "socialisation_rate": 0.4, "code_learning_rate": 0.6, "code_evidence_quorum": 2.0},
    {"carriers_per_department": 2, "knowledge_diffusion_rate": 0.7, "contact_learning_rate": 0.4},
    {"code_learns_from": "everyone", "knowledge_diffusion_rate": 0.0},
    {"code_evidence": "reality", "knowledge_diffusion_rate": 0.5, "code_learning_rate": 0.5},
])
def test_the_compiled_week_gives_the_rules_bit_for_bit(overrides):
    world, p = small_world(seed=21, **overrides)
    for week in range(8):  # weeks in a row, so that evidence, carriers' relays and staleness build up
        world.week.number = week
        rules_rng, rng = np.random.default_rng(week), np.random.default_rng(week)
        rules = week_by_the_rules(world, p, rules_rng)
        compiled = knowledge.step(world, p, rng)
        assert rng.random() == rules_rng.random()  # the same number of draws
        for name, value in {**compiled["workforce"], **compiled["firm"]}.items():
            assert value.dtype == rules[name].dtype and np.array_equal(value, rules[name]), (week, name)
        compiled.apply_to(world)
