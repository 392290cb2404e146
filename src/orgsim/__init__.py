"""orgsim: agent-based simulation of marketing inside a firm and its market.

    >>> from orgsim import OrgModel
    >>> model = OrgModel(seed=1, silo_strength=0.8)
    >>> frame = model.run(52)
"""

from typing import Any

__version__ = "0.2.0"
__all__ = ["OrgModel", "Employee", "Customer", "load_scenario", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `orgsim --help` does not pay for importing Mesa.
    if name == "OrgModel":
        from orgsim.model import OrgModel

        return OrgModel
    if name in ("Employee", "Customer"):
        from orgsim import agents

        return getattr(agents, name)
    if name == "load_scenario":
        from orgsim.scenario import load

        return load
    raise AttributeError(name)
