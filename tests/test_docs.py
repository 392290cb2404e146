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


def test_orgsim_docs_outside_the_repository_is_a_clear_error(tmp_path, monkeypatch):
    """An installed orgsim has no docs/model.md to rewrite: a UserError, not a write into site-packages."""
    from orgsim.errors import UserError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="no such file"):
        docs.main()
    assert list(tmp_path.iterdir()) == []


ROOT = docs.PARAMETER_TYPES.parents[2]
CLAIM = re.compile(r"\bS(\d\.\d)[a-z]?\b")


def test_every_claim_the_code_and_docs_cite_is_in_the_register_in_docs():
    """The claims register (docs/claims.md) is in the repository and holds every claim ID that the
    source, the parameter table and the documents cite; nothing points to a brief outside it."""
    from orgsim.parameters import PARAMETERS

    register = (ROOT / "docs" / "claims.md").read_text()
    anchors = set(re.findall(r'<a id="(S\d\.\d)"></a>', register))
    cited: dict[str, set[str]] = {}
    documents = [path for path in ROOT.joinpath("docs").glob("*.md") if path.name != "claims.md"]
    sources = [*ROOT.joinpath("src", "orgsim").rglob("*.py"), *documents, ROOT / "README.md"]
    for path in sources:
        text = path.read_text()
        assert "MODEL_BRIEF" not in text and "model brief" not in text.lower(), f"{path} cites a brief"
        for number in CLAIM.findall(text):
            cited.setdefault(f"S{number}", set()).add(path.name)
    for param in PARAMETERS:
        for number in CLAIM.findall(param.claim):
            cited.setdefault(f"S{number}", set()).add(f"parameter {param.name}")
    missing = {claim: sorted(where) for claim, where in cited.items() if claim not in anchors}
    assert not missing, f"cited but not in docs/claims.md: {missing}"
    assert len(cited) >= 20
