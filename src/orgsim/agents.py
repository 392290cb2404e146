"""Thin Mesa agents: views on the model's numpy state.

An ``Employee`` or ``Customer`` holds only its row index; every attribute is
read from (and written to) the arrays in ``model.workforce`` or
``model.market``. So ``model.agents``, AgentSet selections such as
``model.agents_by_type[Employee].select(lambda e: e.is_multiplier)`` and
per-agent inspection work, while the mechanisms stay vectorised.

The population is fixed for a run (nobody is hired or fired; customers who
leave stay in the market as "lost"), so removing a view is refused: it would
leave a row in the arrays that keeps acting without an agent.
"""

from __future__ import annotations

from typing import Any

import mesa

from orgsim import departments as dep
from orgsim.errors import UserError

_STATUS = ("prospect", "active", "lost")


def _view(population: str, field: str, convert: Any) -> property:
    def get(self) -> Any:
        return convert(getattr(getattr(self.model, population), field)[self.index])

    def set_(self, value: Any) -> None:
        getattr(getattr(self.model, population), field)[self.index] = value

    return property(get, set_, doc=f"View on model.{population}.{field}[index].")


class _View(mesa.Agent):
    """A Mesa agent that is one row of a population's arrays."""

    def __init__(self, model: mesa.Model, index: int) -> None:
        super().__init__(model)
        self.index = index

    def remove(self) -> None:
        """Refused: the arrays, not the views, are the population (see the module docstring)."""
        kind = type(self).__name__
        raise UserError(
            f"{kind} {self.index} cannot be removed: orgsim's populations are fixed for a run "
            f"(the {kind.lower()} is a row of the model's arrays and would keep acting); "
            "change the population with parameters (n_employees, n_customers) or an intervention instead"
        )


class Employee(_View):
    """One employee: a row of ``model.workforce``."""

    attitude = _view("workforce", "attitude", float)
    engagement = _view("workforce", "engagement", float)
    alignment = _view("workforce", "alignment", float)
    performance = _view("workforce", "performance", float)
    responsibility = _view("workforce", "responsibility", float)
    is_leader = _view("workforce", "is_leader", bool)
    is_head = _view("workforce", "is_head", bool)
    is_customer_contact = _view("workforce", "is_customer_contact", bool)
    is_multiplier = _view("workforce", "is_multiplier", bool)
    is_knowledge_carrier = _view("workforce", "is_knowledge_carrier", bool)

    @property
    def department(self) -> str:
        return dep.NAMES[self.model.workforce.department[self.index]]

    @property
    def knowledge(self) -> float:
        """Share of the market's core needs this employee believes correctly."""
        beliefs = self.model.workforce.beliefs[self.index]
        return float((beliefs == self.model.firm.core_needs).mean())

    def __repr__(self) -> str:
        return f"Employee({self.index}, {self.department}, attitude={self.attitude:+.2f})"


class Customer(_View):
    """One customer: a row of ``model.market``."""

    satisfaction = _view("market", "satisfaction", float)
    promise = _view("market", "promise", float)
    ad_fatigue = _view("market", "ad_fatigue", float)

    @property
    def segment(self) -> int:
        return int(self.model.market.segment[self.index])

    @property
    def expectation(self) -> float:
        """Expectation: the customer's own base expectation plus remembered promises."""
        return float(self.model.market.expectation[self.index])

    @property
    def score(self) -> int:
        """Likelihood to recommend, 0-10."""
        from orgsim.mechanisms.customers import score

        return int(score(self.model.market.satisfaction[self.index : self.index + 1], self.model.params)[0])

    @property
    def status(self) -> str:
        return _STATUS[self.model.market.status[self.index]]

    @property
    def perception(self) -> str:
        """Brand stored as positive (promoter), standard (passive) or negative (detractor), S1.5."""
        from orgsim.mechanisms.customers import perception

        level = perception(self.model.market.satisfaction[self.index : self.index + 1], self.model.params)[0]
        return ("negative", "neutral", "positive")[level + 1]

    def __repr__(self) -> str:
        return f"Customer({self.index}, {self.status}, {self.perception})"
