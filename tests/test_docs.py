from orgsim import docs


def test_committed_tables_are_current():
    current = docs.MODEL_DOC.read_text()
    assert docs.BEGIN in current and docs.END in current
    assert current == docs.render(current), "docs/model.md is stale: run `orgsim docs`"


def test_every_parameter_is_documented():
    from orgsim.parameters import PARAMETERS

    text = docs.tables()
    for p in PARAMETERS:
        assert f"`{p.name}`" in text
