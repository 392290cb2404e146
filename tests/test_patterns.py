"""The pattern catalogue's verdicts (src/orgsim/patterns.py) on hand-made confidence intervals."""

from pathlib import Path

import pytest

from orgsim.patterns import BY_KEY, PATTERNS, Result, markdown
from orgsim.stats import MeanCI

UP = BY_KEY["word_of_mouth"]  # direction +1
DOWN = next(p for p in PATTERNS if p.direction < 0)


def result(pattern, effect, knockout):
    return Result(pattern, MeanCI(*effect, n=20), MeanCI(*knockout, n=20))


@pytest.mark.parametrize(("effect", "knockout", "holds"), [
    ((10.0, 6.0, 14.0), (0.5, -1.0, 2.0), True),  # gone: CI holds 0, within half the effect
    ((10.0, 6.0, 14.0), (2.0, 1.0, 3.0), True),  # shrunk by 80 % (>= 70 %)
    ((10.0, 6.0, 14.0), (5.0, 3.0, 7.0), False),  # half of it survives the knockout
    ((10.0, 6.0, 14.0), (4.0, -1.0, 9.0), False),  # CI holds 0 but also most of the effect
    ((10.0, -1.0, 21.0), (0.0, -1.0, 1.0), False),  # not reproduced in the first place
    ((10.0, 6.0, 14.0), (-8.0, -10.0, -6.0), True),  # significantly reversed: flagged, not in the claimed direction
    ((10.0, 6.0, 14.0), (-20.0, -45.0, 8.0), False),  # large, noisy, reaching most of the effect: not removed
    ((10.0, 6.0, 14.0), (-2.5, -3.0, -2.0), True),  # reversed, but small: removed by size alone
])
def test_a_pattern_holds_when_reproduced_and_removed_by_its_knockout(effect, knockout, holds):
    assert result(UP, effect, knockout).holds is holds
    mirrored = result(DOWN, tuple(-v for v in (effect[0], effect[2], effect[1])),
                      tuple(-v for v in (knockout[0], knockout[2], knockout[1])))
    assert mirrored.holds is holds


def test_a_reversed_knockout_is_flagged_in_the_catalogue():
    rows = [result(UP, (10.0, 6.0, 14.0), (-8.0, -10.0, -6.0)), result(UP, (10.0, 6.0, 14.0), (0.5, -1.0, 2.0))]
    assert rows[0].reversed and not rows[1].reversed
    table = markdown(rows, seeds=20)
    assert table.count("(**reversed**)") == 1 and "2 of 2 patterns hold." in table


def test_committed_catalogue_is_what_the_generator_writes():
    """docs/patterns.md (written by `orgsim patterns`, minutes): its text and every column that does not
    depend on the runs (claims, pattern, arms, KPI, knockout) are what `markdown` writes today."""
    committed = (Path(__file__).resolve().parents[1] / "docs" / "patterns.md").read_text().split("\n")
    zero = MeanCI(0.0, 0.0, 0.0, n=2)
    generated = markdown([Result(p, zero, zero) for p in PATTERNS], seeds=None).split("\n")
    start = generated.index("|---|---|---|---|---|---|---|---|---|---|") + 1
    assert committed[:start] == generated[:start]
    assert committed[start + len(PATTERNS)] == "", "one row per pattern"

    def fixed(row: str) -> list[str]:
        cells = row.split(" | ")
        assert len(cells) == 10, row
        return cells[:5] + cells[6:7]

    for ours, theirs in zip(committed[start:start + len(PATTERNS)], generated[start:], strict=False):
        assert fixed(ours) == fixed(theirs)
    assert "[S0.2](claims.md#S0.2)" in committed[start]
