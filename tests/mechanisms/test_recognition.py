import numpy as np

from orgsim.mechanisms import recognition


def test_engagement_tends_to_freedom_and_recognition(rng):
    e = np.full(20_000, 0.5)
    x = np.zeros(20_000)
    for _ in range(200):
        e, x = recognition.step(e, x, 0.0, recognition_rate=0.6, freedom=0.9,
                                engagement_rate=0.2, overlooked_penalty=0.0, rng=rng)
    assert abs(e.mean() - (1 + 0.9 + 0.6) / 3) < 0.01


def test_overlooked_lose_support_only_when_there_is_success(rng):
    e = np.full(10_000, 0.5)
    x = np.zeros(10_000)
    _, x_success = recognition.step(e, x, 0.5, 0.3, 0.5, 0.1, 0.1, rng)
    assert abs(np.mean(x_success < 0) - 0.7) < 0.02
    assert np.allclose(x_success[x_success < 0], -0.05)
    _, x_fail = recognition.step(e, x, -0.5, 0.3, 0.5, 0.1, 0.1, rng)
    assert (x_fail == 0).all()
