"""Scenario files: TOML, one base plus presets that override it.

A scenario file may contain::

    description = "One line shown by `orgsim scenarios`."
    extends = "base"          # parent file, relative to this one (".toml" optional);
                              # a bare name not found there: the preset of that name
    steps = 104               # weeks
    seed = 42

    [parameters]              # overrides of the declared parameters
    silo_strength = 0.85

    [[interventions]]         # applied at the start of the given week
    week = 26
    action = "appoint_multipliers"
    arguments = { share = 0.1 }

A child's parameters override its parent's; its interventions are added to
the parent's. Every mistake raises :class:`orgsim.errors.UserError` naming
the file, the key and what is allowed, before anything runs.

The presets ship inside the package, in ``orgsim/scenarios/`` (found with
:mod:`importlib.resources`; the repository's top-level ``scenarios/`` is a
link to that folder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from orgsim.errors import UserError, check_int, check_keys, did_you_mean
from orgsim.interventions import validate_arguments
from orgsim.io import read_toml
from orgsim.parameters import make_parameters

TOP_LEVEL_KEYS = {"description", "extends", "steps", "seed", "parameters", "interventions"}
INTERVENTION_KEYS = {"week", "action", "arguments"}
MAX_STEPS = 100_000
#: The largest seed: numpy seeds are 64-bit, and TOML integers are signed.
SEED_MAX = 2**63 - 1


def scenario_dir() -> Path:
    """The packaged presets: the folder ``orgsim/scenarios`` of the installed package."""
    folder = resources.files("orgsim") / "scenarios"
    if not isinstance(folder, Path):  # e.g. imported from a zip archive: no files to read
        raise UserError(f"the preset scenarios ({folder}) are not files on disk; "
                        "install orgsim from its wheel or source folder")
    return folder


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    steps: int
    seed: int
    params: Any  # orgsim.parameters.Parameters
    interventions: tuple[dict[str, Any], ...] = ()
    path: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    def model(self, seed: int | None = None, **kwargs: Any):
        """A fresh OrgModel of this scenario (``seed`` defaults to the scenario's)."""
        from orgsim.model import OrgModel

        return OrgModel(
            self.params, seed=self.seed if seed is None else seed,
            interventions=self.interventions, **kwargs,
        )

    def with_overrides(self, overrides: dict[str, Any], source: str = "--set") -> Scenario:
        """A copy with some parameters (or ``steps``/``seed``) changed, validated."""
        overrides = dict(overrides)
        steps = check_int(overrides.pop("steps", self.steps), "steps", source, 1, MAX_STEPS)
        seed = check_int(overrides.pop("seed", self.seed), "seed", source, 0, SEED_MAX)
        params = make_parameters({**self.params.model_dump(), **overrides}, source)
        scenario = Scenario(self.name, self.description, steps, seed, params, self.interventions,
                            self.path, {**self.overrides, **overrides})
        _check_weeks(scenario, source)
        return scenario


def _check_weeks(scenario: Scenario, source: str) -> None:
    for entry in scenario.interventions:
        if entry["week"] >= scenario.steps:
            raise UserError(
                f"{source}: intervention {entry['action']!r} at week {entry['week']} is past the "
                f"end of the run; allowed: a week in [0, {scenario.steps - 1}]"
            )


def resolve(name_or_path: str | Path) -> Path:
    """A scenario given by path, or by preset name (``siloed``) from the packaged presets."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.exists():
        candidate = scenario_dir() / f"{path}.toml"
        if candidate.exists():
            return candidate
        presets = [p.stem for p in scenario_dir().glob("*.toml")]
        raise UserError(f"{name_or_path}: no such scenario file or preset{did_you_mean(str(path), presets)}; "
                        f"presets: {', '.join(sorted(presets))}")
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    return path


def _raw_chain(path: Path, seen: tuple[Path, ...] = ()) -> list[tuple[Path, dict[str, Any]]]:
    """The file and its ancestors, root first."""
    path = path.resolve()
    if path in seen:
        cycle = " -> ".join(p.name for p in (*seen, path))
        raise UserError(f"{seen[-1]}: extends cycle: {cycle}")
    data = read_toml(path)
    check_keys(data, TOP_LEVEL_KEYS, str(path))
    parent = data.get("extends")
    if parent is None:
        return [(path, data)]
    if not isinstance(parent, str):
        raise UserError(f"{path}: extends = {parent!r} is not allowed; allowed: a file name such as \"base\"")
    file_name = parent if parent.endswith(".toml") else f"{parent}.toml"
    parent_path = path.parent / file_name
    if not parent_path.is_file():
        # a bare name not next to the file (a user's own file extending a preset): the preset
        preset = scenario_dir() / file_name if Path(file_name).name == file_name else None
        if preset is None or not preset.is_file():
            where = f" and orgsim has no preset {Path(file_name).stem!r}" if preset is not None else ""
            raise UserError(f"{path}: extends = {parent!r}, but {parent_path} does not exist{where}")
        parent_path = preset
    return [*_raw_chain(parent_path, (*seen, path)), (path, data)]


def _interventions(path: Path, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise UserError(f"{path}: interventions must be a list of [[interventions]] tables")
    checked = []
    for number, entry in enumerate(raw, start=1):
        where = f"{path}: interventions[{number}]"
        if not isinstance(entry, dict):
            raise UserError(f"{where} must be a table with week, action, arguments")
        check_keys(entry, INTERVENTION_KEYS, where)
        for key in ("week", "action"):
            if key not in entry:
                raise UserError(f"{where}: missing key {key!r}")
        week = check_int(entry["week"], "week", where, 0, MAX_STEPS)
        action = entry["action"]
        if not isinstance(action, str):
            raise UserError(f"{where}: action = {action!r} is not allowed; allowed: an action name")
        arguments = entry.get("arguments", {})
        if not isinstance(arguments, dict):
            raise UserError(f"{where}: arguments must be a table such as {{ share = 0.1 }}")
        validate_arguments(action, arguments, where)
        checked.append({"week": week, "action": action, "arguments": dict(arguments)})
    return checked


def load(name_or_path: str | Path) -> Scenario:
    """Load, merge and validate a scenario; raise UserError on any mistake."""
    path = resolve(name_or_path)
    values: dict[str, Any] = {}
    steps, seed, description = 104, 42, ""
    interventions: list[dict[str, Any]] = []
    for file, data in _raw_chain(path):
        parameters = data.get("parameters", {})
        if not isinstance(parameters, dict):
            raise UserError(f"{file}: parameters must be a [parameters] table")
        make_parameters({**values, **parameters}, f"{file} [parameters]")  # names this file on error
        values.update(parameters)
        if "steps" in data:
            steps = check_int(data["steps"], "steps", str(file), 1, MAX_STEPS)
        if "seed" in data:
            seed = check_int(data["seed"], "seed", str(file), 0, SEED_MAX)
        if "description" in data:
            if not isinstance(data["description"], str):
                raise UserError(f"{file}: description must be a string")
            description = data["description"]
        interventions += _interventions(file, data.get("interventions", []))
    scenario = Scenario(
        name=path.stem, description=description, steps=steps, seed=seed,
        params=make_parameters(values, str(path)), interventions=tuple(interventions), path=path,
    )
    _check_weeks(scenario, str(path))
    return scenario


def presets() -> list[Scenario]:
    """Every packaged preset (not the docking sub-folder)."""
    return [load(p) for p in sorted(scenario_dir().glob("*.toml"))]
