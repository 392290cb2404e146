"""Mechanism 8 — recognition and freedom (S1.7, S0.5).

Each week a share ``r`` (``recognition_rate``) of employees, drawn at random,
is recognised for their contribution (``R_i = 1``). Engagement follows

    e_i ← e_i + η · ( (μ + F + R_i) / 3 − e_i )

with ``μ`` the intrinsic motivation, ``F`` the freedom (room and a culture to
develop ideas, S0.5) and ``η`` the engagement rate: intrinsic motivation,
freedom and recognition weigh a third each (an assumption).

While the firm shows success ``s > 0``, the overlooked stop supporting the
favoured (S1.7): their attitude target (mechanism 1) is lowered by

    pressure_i = π · max(s, 0) · (1 − R_i) · (1 + x_i) / 2

(``overlooked_penalty`` π): the more they supported, the more they have to
withdraw. Attitude moves toward its target at its own rate,
so a week of being overlooked is a nudge, not a jump.
"""

from __future__ import annotations

import numpy as np

from orgsim.mechanisms import Effects
from orgsim.parameter_types import ParameterValues
from orgsim.state import World


def step(world: World, p: ParameterValues, rng: np.random.Generator) -> Effects:
    w = world.workforce
    recognised = rng.random(w.size) < p.recognition_rate
    target = (p.intrinsic_motivation + p.freedom + recognised) / 3.0
    engagement = np.clip(w.engagement + p.engagement_rate * (target - w.engagement), 0.0, 1.0)
    pressure = p.overlooked_penalty * max(world.firm.success, 0.0) * ~recognised * (1.0 + w.attitude) / 2.0
    return Effects(workforce={"engagement": engagement, "recognised": recognised, "overlooked_pressure": pressure})
