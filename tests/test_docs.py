import re

import pytest

from orgsim import docs


def test_committed_tables_are_current():
    current = docs.MODEL_DOC.read_text()
    assert docs.BEGIN in current and docs.END in current
    assert current == docs.render(current), "docs/model.md is stale: run `orgsim docs`"


def parameter_rows(text):
    """{name: (group, cells)} of every row of the generated parameter tables, with the group of the
    heading the row sits under; a name listed twice fails."""
    section = text.split("### Parameters", 1)[1].split("### Outputs", 1)[0]
    rows, group = {}, None
    for line in section.splitlines():
        heading = re.fullmatch(r"\*\*.+\*\* \(`(\w+)`\)", line)
        if heading:
            group = heading.group(1)
        elif line.startswith("| `"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            name = cells[0].strip("`")
            assert name not in rows, f"{name} is listed twice"
            rows[name] = (group, cells)
    return rows


def test_every_parameter_has_one_row_in_the_table_of_its_own_group():
    """Parses the generated tables (not the declarations they are made from): a parameter left out, listed
    twice, under another group's heading, or with its default or range rendered wrong fails."""
    from orgsim.parameters import PARAMETERS

    rows = parameter_rows(docs.tables())
    assert set(rows) == {p.name for p in PARAMETERS}
    assert {name: group for name, (group, _) in rows.items()} == {p.name: p.group for p in PARAMETERS}
    assert all(len(cells) == 6 for _, cells in rows.values())
    assert rows["n_employees"][1][1:4] == ["200", "an integer in [14, 100000]", "employees"]
    assert rows["silo_strength"][1][1:4] == ["0.3", "a number in [0, 1]", "0-1"]
    assert rows["enable_trust"][1][1:4] == ["true", "true or false", "switch"]
    assert rows["code_learns_from"][1][1:3] == ["offer_departments", 'one of "offer_departments", "everyone"']
    assert rows["enable_trust"][0] == "trust" and rows["n_employees"][0] == "firm"


def test_the_row_parser_sees_a_missing_or_misplaced_parameter():
    text = docs.tables()
    row = next(line for line in text.splitlines() if line.startswith("| `silo_strength` |"))
    assert "silo_strength" not in parameter_rows(text.replace(row + "\n", ""))
    trust_heading = next(line for line in text.splitlines() if line.endswith("(`trust`)"))
    moved = text.replace(row + "\n", "").replace(trust_heading, trust_heading + "\n" + row)
    assert parameter_rows(moved)["silo_strength"][0] == "trust"
    with pytest.raises(AssertionError, match="listed twice"):
        parameter_rows(text.replace(row, row + "\n" + row))
