"""The model's mechanisms, one module each (mechanisms 1-8 of docs/model.md, section 7).

Every mechanism has one contract::

    step(world: World, p: Parameters, rng: numpy.random.Generator) -> Effects

It reads the world, never writes it, and returns its effects: the new values
of the state fields it changes, by container. The model applies the effects
in the order of its schedule (``orgsim.model.SCHEDULE``), so a mechanism sees
what the mechanisms before it did this week. Interventions are not a
mechanism: they are actions on a model (``orgsim.interventions``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orgsim.state import World


class Effects(dict[str, dict[str, Any]]):
    """New values of state fields, by container: ``Effects(workforce={"attitude": x})``."""

    def __init__(self, **containers: dict[str, Any]) -> None:
        super().__init__(containers)

    def apply_to(self, world: World) -> None:
        for container, fields in self.items():
            target = getattr(world, container)
            for name, value in fields.items():
                if not hasattr(target, name):
                    raise AttributeError(f"{type(target).__name__} has no field {name!r}")
                setattr(target, name, value)
