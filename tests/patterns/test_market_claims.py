"""Patterns of the claims about silos, advertising, trust and purpose (S2-S4): effect and knockout."""

import pytest

from orgsim.patterns import PATTERNS, evaluate

MARKET = [p for p in PATTERNS if not p.claims.startswith(("S0", "S1"))]


@pytest.mark.slow
@pytest.mark.parametrize("pattern", MARKET, ids=[p.key for p in MARKET])
def test_pattern_holds_and_its_knockout_removes_it(pattern):
    result = evaluate(pattern)
    assert result.reproduced, f"{pattern.key}: effect {result.effect} not on the claimed side"
    assert result.knocked_out, f"{pattern.key}: knockout leaves {result.knockout} of {result.effect}"
