"""An idiomatic Mesa 3.5 peer of two orgsim mechanisms: the speed baseline.

Why this file exists: orgsim's goal "at least 100x idiomatic Mesa" needs a
Mesa model to compare against. This is that model, written the way Mesa's own
examples are (``mesa.examples.basic.virus_on_network``, ``boltzmann_wealth_model``):
one Python object per agent, each with a ``step()``; agents placed on a
``mesa.discrete_space.Network``; neighbours read through the space
(``self.cell.neighborhood.agents``); ``model.agents_by_type[...].shuffle_do("step")``;
random numbers from ``self.random`` / ``self.model.rng``; a ``mesa.DataCollector``
collected every step. Nothing is vectorised on purpose.

Mechanisms (simplified versions of orgsim's attitude and customer mechanisms):

* Employees on a stochastic block model (8 departments, on average 8 ties
  inside the department and 2 across) move toward a Friedkin-Johnsen target
  ``(1 - anchoring) * mean(own and neighbours' attitudes) + anchoring * anchor``
  at rate 0.5, anchoring 0.3.
* Customers on a Watts-Strogatz network (k = 16, p = 0.1) are prospects,
  active or lost. A prospect with ``j`` promoter neighbours (active, satisfaction
  > 0.5) converts with probability ``1 - (1 - 0.01)**j`` (Goldenberg, Libai &
  Muller 2001); an active customer churns with probability 0.01, else its
  satisfaction drifts ``s += 0.1 * (normal(0, 1) - s)``.

As in Mesa's examples, agents update in place in random order (asynchronous
activation), whereas orgsim updates everyone from last week's state; the work
per agent is the same.

Usage, from the repository root::

    .venv/bin/python benchmarks/mesa_peer.py --customers 10000 --employees 500 --weeks 20
"""

from __future__ import annotations

import argparse
import time
from enum import Enum

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Cell, FixedAgent, Network

N_DEPARTMENTS = 8
TIES_INSIDE = 8.0
TIES_ACROSS = 2.0
ATTITUDE_ANCHORING = 0.3
ATTITUDE_RATE = 0.5
WS_K = 16
WS_P = 0.1
INITIAL_ACTIVE = 0.10
PROMOTER_THRESHOLD = 0.5
REFERRAL_PROB = 0.01
CHURN_PROB = 0.01
SATISFACTION_DRIFT = 0.1


class State(Enum):
    """A customer's relation to the firm."""

    PROSPECT = 0
    ACTIVE = 1
    LOST = 2


class Employee(FixedAgent):
    """An employee whose attitude to marketing follows Friedkin-Johnsen on the internal network."""

    def __init__(self, model: PeerModel, anchor: float, cell: Cell) -> None:
        super().__init__(model)
        self.anchor = anchor
        self.attitude = anchor
        self.cell = cell

    def step(self) -> None:
        """Move part of the way toward the anchored mean of own and neighbours' attitudes."""
        attitudes = [self.attitude] + [a.attitude for a in self.cell.neighborhood.agents]
        local_mean = sum(attitudes) / len(attitudes)
        target = (1 - ATTITUDE_ANCHORING) * local_mean + ATTITUDE_ANCHORING * self.anchor
        self.attitude += ATTITUDE_RATE * (target - self.attitude)


class Customer(FixedAgent):
    """A customer who is won by referrals from promoters, and may churn."""

    def __init__(self, model: PeerModel, state: State, satisfaction: float, cell: Cell) -> None:
        super().__init__(model)
        self.state = state
        self.satisfaction = satisfaction
        self.cell = cell

    @property
    def is_promoter(self) -> bool:
        """Active and satisfied enough to recommend the firm."""
        return self.state is State.ACTIVE and self.satisfaction > PROMOTER_THRESHOLD

    def step(self) -> None:
        """Convert through promoter neighbours (prospects); churn or drift (active customers)."""
        if self.state is State.PROSPECT:
            promoters = sum(1 for a in self.cell.neighborhood.agents if a.is_promoter)
            if self.random.random() < 1 - (1 - REFERRAL_PROB) ** promoters:
                self.state = State.ACTIVE
        elif self.state is State.ACTIVE:
            if self.random.random() < CHURN_PROB:
                self.state = State.LOST
            else:
                noise = self.random.gauss(0.0, 1.0)
                self.satisfaction += SATISFACTION_DRIFT * (noise - self.satisfaction)


def mean_attitude(model: PeerModel) -> float:
    """Mean attitude of the employees."""
    return model.agents_by_type[Employee].agg("attitude", np.mean)


def count_state(model: PeerModel, state: State) -> int:
    """Number of customers in ``state``."""
    return sum(1 for a in model.agents_by_type[Customer] if a.state is state)


def promoter_share(model: PeerModel) -> float:
    """Share of promoters among active customers (0 when there are none)."""
    active = model.agents_by_type[Customer].select(lambda a: a.state is State.ACTIVE)
    return sum(1 for a in active if a.is_promoter) / len(active) if len(active) else 0.0


class PeerModel(mesa.Model):
    """Employees' attitudes and customers' referrals, one Mesa agent per person."""

    def __init__(self, n_customers: int = 10_000, n_employees: int = 500, seed: int | None = None) -> None:
        super().__init__(rng=seed)

        # Internal network: a stochastic block model of 8 roughly equal departments.
        sizes = [len(d) for d in np.array_split(np.arange(n_employees), N_DEPARTMENTS)]
        p_across = min(1.0, TIES_ACROSS / (n_employees - n_employees / N_DEPARTMENTS))
        probs = [
            [min(1.0, TIES_INSIDE / max(si - 1, 1)) if i == j else p_across for j in range(N_DEPARTMENTS)]
            for i, si in enumerate(sizes)
        ]
        org_graph = nx.stochastic_block_model(sizes, probs, seed=self.random)
        # layout=None: a purely topological network (the default, nx.spring_layout, only
        # serves drawing and would dominate construction at 10k nodes).
        self.org = Network(org_graph, capacity=1, random=self.random, layout=None)
        anchors = np.clip(self.rng.normal(0.0, 0.4, n_employees), -1.0, 1.0)
        Employee.create_agents(self, n_employees, anchors.tolist(), list(self.org.all_cells))

        # Customer network: small world.
        market_graph = nx.watts_strogatz_graph(n_customers, WS_K, WS_P, seed=self.random)
        self.market = Network(market_graph, capacity=1, random=self.random, layout=None)
        states = [
            State.ACTIVE if u < INITIAL_ACTIVE else State.PROSPECT
            for u in self.rng.random(n_customers)
        ]
        satisfaction = self.rng.normal(0.0, 1.0, n_customers).tolist()
        Customer.create_agents(self, n_customers, states, satisfaction, list(self.market.all_cells))

        self.datacollector = mesa.DataCollector(
            model_reporters={
                "Mean attitude": mean_attitude,
                "Active": lambda m: count_state(m, State.ACTIVE),
                "Prospects": lambda m: count_state(m, State.PROSPECT),
                "Promoter share": promoter_share,
            }
        )
        self.running = True
        self.datacollector.collect(self)

    def step(self) -> None:
        """One week: every employee, then every customer, in random order; then record."""
        self.agents_by_type[Employee].shuffle_do("step")
        self.agents_by_type[Customer].shuffle_do("step")
        self.datacollector.collect(self)


def measure(n_customers: int, n_employees: int, weeks: int, seed: int = 1) -> dict:
    """Time building the model, its first week, and ``weeks`` weeks after it (the steady pace).

    The first week is timed apart, as for orgsim (benchmarks/run_benchmarks.py), whose first week in
    a process also loads its compiled passes.
    """
    start = time.perf_counter()
    model = PeerModel(n_customers=n_customers, n_employees=n_employees, seed=seed)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    model.step()
    first_week_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(weeks):
        model.step()
    steps_s = time.perf_counter() - start
    return {
        "n_customers": n_customers,
        "n_employees": n_employees,
        "weeks": weeks,
        "build_s": build_s,
        "first_week_s": first_week_s,
        "steps_s": steps_s,
        "step_s_per_week": steps_s / weeks,
        "agent_steps_per_s": (n_customers + n_employees) * weeks / steps_s,
        "final": model.datacollector.get_model_vars_dataframe().iloc[-1].to_dict(),
    }


def main() -> None:
    """Command line: time the peer model once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--employees", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    r = measure(args.customers, args.employees, args.weeks, args.seed)
    print(f"Mesa {mesa.__version__} peer model: {r['n_employees']:,} employees, "
          f"{r['n_customers']:,} customers, {r['weeks']} weeks")
    print(f"build          {r['build_s']:.3f} s")
    print(f"steps          {r['steps_s']:.3f} s ({r['step_s_per_week'] * 1000:.1f} ms per week)")
    print(f"agent-steps/s  {r['agent_steps_per_s']:,.0f}")
    print("last week      " + ", ".join(f"{k} {v:.4g}" for k, v in r["final"].items()))


if __name__ == "__main__":
    main()
