"""Mechanism 8 — recognition and freedom (S1.7, S0.5).

Each week a share ``r`` (``recognition_rate``) of employees, drawn at random,
is recognised for their contribution. Engagement ``e`` follows

    e(t+1) = e(t) + η · ( (1 + F + R_i) / 3 − e(t) )

with ``R_i`` = 1 if recognised this week, ``F`` the freedom (room and a
culture to develop ideas, S0.5) and ``η`` the engagement rate: intrinsic
motivation, freedom and recognition each count a third.

While the firm shows success (``s > 0``), the overlooked stop supporting the
favoured (S1.7): their attitude drops by ``overlooked_penalty · s``.
"""

from __future__ import annotations

import numpy as np


def step(
    engagement: np.ndarray,
    attitude: np.ndarray,
    success: float,
    recognition_rate: float,
    freedom: float,
    engagement_rate: float,
    overlooked_penalty: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (engagement, attitude) after one week of (non-)recognition."""
    recognised = rng.random(engagement.size) < recognition_rate
    target = (1.0 + freedom + recognised) / 3.0
    new_engagement = engagement + engagement_rate * (target - engagement)
    drop = overlooked_penalty * max(success, 0.0) * ~recognised
    return np.clip(new_engagement, 0.0, 1.0), np.clip(attitude - drop, -1.0, 1.0)
