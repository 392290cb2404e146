import pytest

from orgsim.errors import UserError
from orgsim.parameters import GROUPS, PARAMETERS, PARAMS_BY_NAME, make_parameters


def test_every_parameter_is_fully_declared():
    for p in PARAMETERS:
        assert p.group in GROUPS, p.name
        assert p.help and p.unit, p.name
        if p.kind in (int, float):
            assert p.low is not None and p.high is not None and p.low <= p.default <= p.high, p.name
        if p.kind is bool or p.choices:
            continue
        assert p.claim, f"{p.name} cites no claim"


def test_names_are_unique():
    names = [p.name for p in PARAMETERS]
    assert len(names) == len(set(names))


def test_defaults_validate():
    params = make_parameters()
    assert params.silo_strength == PARAMS_BY_NAME["silo_strength"].default == 0.3


def test_integer_accepted_for_float():
    assert make_parameters({"silo_strength": 1}).silo_strength == 1.0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"silo_stregth": 0.3}, 'did you mean "silo_strength"'),
        ({"silo_strength": 1.5}, "a number in [0, 1]"),
        ({"silo_strength": "0.5"}, "a number in [0, 1]"),
        ({"silo_strength": True}, "is a boolean"),
        ({"n_employees": 20.5}, "an integer in [14, 100000]"),
        ({"enable_trust": "yes"}, "true or false"),
        ({"customer_network": "ring"}, 'one of "clustered", "complete"'),
    ],
)
def test_bad_values_name_key_and_what_is_allowed(values, message):
    with pytest.raises(UserError) as error:
        make_parameters(values, source="my.toml")
    assert "my.toml" in str(error.value)
    assert next(iter(values)) in str(error.value)
    assert message in str(error.value)


def test_replace_validates():
    params = make_parameters()
    assert params.replace(ad_share=0.9).ad_share == 0.9
    with pytest.raises(UserError):
        params.replace(ad_share=2.0)


def test_the_typed_parameter_protocol_is_generated_from_the_declarations():
    """src/orgsim/parameter_types.py is what `orgsim docs` writes from the table (type checkers read it)."""
    import typing
    from importlib.resources import files

    from orgsim import parameter_types
    from orgsim.parameters import PARAMETER_TYPES_MODULE, PARAMETERS, parameter_types_source

    committed = (files("orgsim") / PARAMETER_TYPES_MODULE).read_text()
    assert committed == parameter_types_source(), "stale: run `orgsim docs`"
    hints = typing.get_type_hints(parameter_types.ParameterValues.__dict__[PARAMETERS[0].name].fget)
    assert hints["return"] is PARAMETERS[0].kind
    declared = {name for name, value in vars(parameter_types.ParameterValues).items() if isinstance(value, property)}
    assert declared == {p.name for p in PARAMETERS}
