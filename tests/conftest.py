"""Shared fixtures."""

from __future__ import annotations

import numpy as np
import pytest

from orgsim.parameters import make_parameters

#: Every mechanism switch, for configurations that keep only one on.
SWITCHES = (
    "enable_attitude", "enable_knowledge", "enable_trust", "enable_coordination",
    "enable_quality", "enable_marketing_mix", "enable_experience", "enable_referrals",
    "enable_reviews", "enable_churn", "enable_recognition",
)


def only(*switches: str) -> dict[str, bool]:
    """Switch overrides that leave only the named mechanisms on."""
    return {s: s in switches for s in SWITCHES}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def params():
    return make_parameters({"n_employees": 60, "n_customers": 800})
