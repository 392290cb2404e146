"""Shared fixtures and helpers.

* :data:`SWITCHES` and :func:`only`: parameter overrides that leave only some
  mechanisms on (the single-mechanism model tests in tests/test_model.py).
* :func:`small_world`: a small model's world and parameters, for the
  known-answer tests of one mechanism's ``step(world, p, rng)`` (built once,
  handed out as fresh copies).
* :class:`ThresholdRng`: a stand-in for ``numpy.random.Generator`` whose
  every uniform draw is one value ``u``, so every Bernoulli event
  ``rng.random() < p`` happens exactly when ``p > u``. Running a mechanism
  with ``u`` just below and just above a probability from its docstring
  tests that probability exactly, without statistics.
* :func:`snapshot` and :func:`assert_same_world`: a mechanism reads the world
  and never writes it.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from orgsim.parameters import PARAMETERS

#: Every mechanism switch (the parameters named enable_*), in declaration order.
SWITCHES: tuple[str, ...] = tuple(p.name for p in PARAMETERS if p.name.startswith("enable_"))


def only(*switches: str) -> dict[str, bool]:
    """Switch overrides that leave only the named mechanisms on."""
    unknown = set(switches) - set(SWITCHES)
    if unknown:
        raise ValueError(f"not a switch: {sorted(unknown)}")
    return {s: s in switches for s in SWITCHES}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def small_model(seed: int = 1, customer_views: bool = False, **overrides: Any):
    """A model of 40 employees and 300 customers (or as overridden), by default without customer views.

    Its firm has 8 weeks of knowledge history instead of 104: the history still shapes the code, and
    the build takes a third of the time (most known-answer tests build one).
    """
    from orgsim.model import OrgModel

    sizes = {"n_employees": 40, "n_customers": 300, "knowledge_history_weeks": 8}
    return OrgModel(seed=seed, customer_views=customer_views, **{**sizes, **overrides})


_WORLDS: dict[tuple, tuple[Any, Any]] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    """The cache lives for one test session: a new session in the same process (mutmut forks one
    per mutant) builds again, with the code as it is then."""
    _WORLDS.clear()


def small_world(seed: int = 1, **overrides: Any):
    """(world, parameters) of :func:`small_model`: a fresh deep copy at every call, free to change.

    The model is built once per seed and overrides (building settles week 0: about 0.1 s); a copy
    takes well under a millisecond and is bit for bit the world a new build gives (same random
    generator state included), so the known-answer tests stay independent and fast.
    """
    if "MUTANT_UNDER_TEST" in os.environ:  # mutmut: each test must run (and be seen to run) the build
        model = small_model(seed, **overrides)
        return model.world, model.params
    key = (seed, tuple(sorted((name, repr(value)) for name, value in overrides.items())))
    if key not in _WORLDS:
        model = small_model(seed, **overrides)
        _WORLDS[key] = (model.world, model.params)
    return copy.deepcopy(_WORLDS[key])


class ThresholdRng:
    """Every uniform draw is ``u``: an event of probability p happens iff p > u.

    Covers the draws the mechanisms make: ``random``, ``integers`` (always
    ``low``: the first candidate) and ``binomial`` (all n trials happen iff
    p > u, none otherwise).
    """

    def __init__(self, u: float) -> None:
        self.u = u

    def random(self, size: Any = None) -> Any:
        return self.u if size is None else np.full(size, self.u)

    def integers(self, low: int, high: int | None = None, size: Any = None) -> Any:
        if high is None:
            low = 0
        return low if size is None else np.full(size, low, dtype=np.int64)

    def binomial(self, n: Any, p: Any, size: Any = None) -> Any:
        return np.where(np.asarray(p) > self.u, n, 0).astype(np.int64)


def just_below(probability: float) -> ThresholdRng:
    """A draw just below ``probability``: the event happens."""
    return ThresholdRng(probability * (1 - 1e-9))


def just_above(probability: float) -> ThresholdRng:
    """A draw just above ``probability``: the event does not happen."""
    return ThresholdRng(min(probability * (1 + 1e-9) + 1e-15, 1 - 1e-15))


class CyclingRng(ThresholdRng):
    """Like :class:`ThresholdRng`, but uniform draws differ from one event to the next: ``values``
    repeated to the shape asked for (so a test can give each event its own draw)."""

    def __init__(self, values: Any) -> None:
        super().__init__(float(values[0]))
        self.values = np.asarray(values, dtype=float)

    def random(self, size: Any = None) -> Any:
        return self.values[0] if size is None else np.resize(self.values, size)


def snapshot(world: Any) -> Any:
    return copy.deepcopy(world)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.random.Generator) or isinstance(b, np.random.Generator):
        return (isinstance(a, np.random.Generator) and isinstance(b, np.random.Generator)
                and a.bit_generator.state == b.bit_generator.state)
    if sp.issparse(a) or sp.issparse(b):
        return sp.issparse(a) and sp.issparse(b) and a.shape == b.shape and (a != b).nnz == 0
    if dataclasses.is_dataclass(a) or dataclasses.is_dataclass(b):
        return type(a) is type(b) and all(_same(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and np.array_equal(a, b))
    return a == b


def assert_same_world(a: Any, b: Any, ignore: tuple[str, ...] = ()) -> None:
    """Every field of every container is equal (bit for bit, dtype included; random generators by state).

    ``ignore``: "container.field" names not compared.
    """
    for container in dataclasses.fields(a):
        left, right = getattr(a, container.name), getattr(b, container.name)
        for field in dataclasses.fields(left):
            if f"{container.name}.{field.name}" in ignore:
                continue
            assert _same(getattr(left, field.name), getattr(right, field.name)), \
                f"{container.name}.{field.name} changed"


def as_numba_delivers(raised: BaseException) -> SystemError:
    """What a compiled pass raises when a signal handler raised ``raised`` in the Python it runs."""
    try:
        try:
            raise raised
        except BaseException as inner:
            raise SystemError("CPUDispatcher(<function _chain_week>) returned a result with an exception set") \
                from inner
    except SystemError as outer:
        return outer
