"""Patterns of the claims about the firm inside (S0.2-S0.5, S1.4-S1.9): effect and knockout."""

import pytest

from orgsim.patterns import PATTERNS, evaluate

INTERNAL = [p for p in PATTERNS if p.claims.startswith(("S0", "S1"))]


@pytest.mark.slow
@pytest.mark.parametrize("pattern", INTERNAL, ids=[p.key for p in INTERNAL])
def test_pattern_holds_and_its_knockout_removes_it(pattern):
    result = evaluate(pattern)
    assert result.reproduced, f"{pattern.key}: effect {result.effect} not on the claimed side"
    assert result.knocked_out, f"{pattern.key}: knockout leaves {result.knockout} of {result.effect}"
