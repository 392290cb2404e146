import importlib.resources
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from orgsim import scenario
from orgsim.errors import UserError

PRESETS = {"siloed", "multiplier_led", "ad_spam", "trust_marketing", "sales_marketing_partnership",
           "knowledge_chain", "everything_is_marketing", "purpose_led", "siloed_turnaround"}


def test_all_presets_load_and_describe_themselves():
    loaded = {s.name: s for s in scenario.presets()}
    assert set(loaded) >= PRESETS
    for s in loaded.values():
        assert s.description, s.name


def test_child_overrides_parent_and_adds_interventions():
    siloed = scenario.load("siloed")
    turnaround = scenario.load("siloed_turnaround")
    assert turnaround.params == siloed.params
    assert [i["week"] for i in turnaround.interventions] == [26] * 8
    assert siloed.params.silo_strength == 0.85


def test_with_overrides():
    s = scenario.load("base").with_overrides({"silo_strength": 0.1, "steps": 10, "seed": 3})
    assert (s.params.silo_strength, s.steps, s.seed) == (0.1, 10, 3)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[parameters]\nsilo_stregth = 0.2\n', 'unknown parameter \'silo_stregth\' (did you mean "silo_strength"?)'),
        ('[parameters]\nsilo_strength = "high"\n', "silo_strength = 'high' is not allowed; allowed: a number in [0, 1]"),
        ('[parameters]\nsilo_strength = 1.2\n', "allowed: a number in [0, 1]"),
        ('stepz = 3\n', 'unknown key \'stepz\' (did you mean "steps"?)'),
        ('steps = 0\n', "steps = 0 is not allowed"),
        ('steps = 10\n[[interventions]]\nweek = 12\naction = "open_silos"\n', "past the end of the run"),
        ('[[interventions]]\nweek = 1\naction = "open_silo"\n', 'did you mean "open_silos"'),
        ('[[interventions]]\nweek = 1\naction = "open_silos"\narguments = { silo_strength = 2 }\n', "open_silos.silo_strength"),
        ('[[interventions]]\naction = "open_silos"\n', "missing key 'week'"),
        ('extends = "nowhere"\n', "does not exist"),
        ('[parameters\nsilo_strength = 0.2\n', "malformed TOML"),
    ],
)
def test_bad_files_name_file_key_and_allowed(tmp_path, text, message):
    path = _write(tmp_path, "bad.toml", text)
    with pytest.raises(UserError) as error:
        scenario.load(path)
    assert "bad.toml" in str(error.value)
    assert message in str(error.value)


def test_extends_cycle(tmp_path):
    _write(tmp_path, "a.toml", 'extends = "b"\n')
    _write(tmp_path, "b.toml", 'extends = "a"\n')
    with pytest.raises(UserError, match="extends cycle"):
        scenario.load(tmp_path / "a.toml")


def test_error_names_the_file_that_holds_the_mistake(tmp_path):
    _write(tmp_path, "parent.toml", "[parameters]\nad_share = 7\n")
    _write(tmp_path, "child.toml", 'extends = "parent"\n')
    with pytest.raises(UserError, match="parent.toml"):
        scenario.load(tmp_path / "child.toml")


def test_missing_file():
    with pytest.raises(UserError, match="no such file"):
        scenario.load("does/not/exist.toml")


def test_presets_are_package_data_found_from_anywhere(tmp_path, monkeypatch):
    """The presets ship inside the package (importlib.resources), not in the repository's folder."""
    packaged = importlib.resources.files("orgsim") / "scenarios"
    assert (packaged / "siloed.toml").is_file() and (packaged / "docking" / "bass.toml").is_file()
    monkeypatch.chdir(tmp_path)  # an empty folder: no scenarios/ here
    assert {s.name for s in scenario.presets()} >= PRESETS
    assert scenario.load("siloed").params.silo_strength == 0.85


def test_own_file_extends_a_preset_unless_its_folder_has_that_file(tmp_path):
    own = _write(tmp_path, "mine.toml", 'extends = "siloed"\n[parameters]\nad_share = 0.4\n')
    loaded = scenario.load(own)
    assert (loaded.params.silo_strength, loaded.params.ad_share) == (0.85, 0.4)
    _write(tmp_path, "siloed.toml", "[parameters]\nsilo_strength = 0.5\n")  # next to the file: first
    assert scenario.load(own).params.silo_strength == 0.5


@pytest.mark.slow
def test_wheel_ships_the_presets_and_py_typed(tmp_path):
    root = Path(__file__).resolve().parents[1]
    build_existed = (root / "build").exists()
    try:
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--quiet", "-w", str(tmp_path)],
                                cwd=root, capture_output=True, text=True, timeout=600)
    finally:
        if not build_existed:  # setuptools builds in ./build of the source tree
            shutil.rmtree(root / "build", ignore_errors=True)
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("orgsim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "orgsim/py.typed" in names
    source = root / "src" / "orgsim" / "scenarios"
    expected = {str(p.relative_to(source)) for p in source.rglob("*.toml")}
    assert {"siloed.toml", "base.toml", "docking/bass.toml"} <= expected
    assert {n.removeprefix("orgsim/scenarios/") for n in names if n.startswith("orgsim/scenarios/")} == expected


def test_a_scenario_file_that_is_not_utf8_is_one_line_from_the_shell(tmp_path):
    """Scenario and experiment files share one reader: a Latin-1 file is a clear error, not a traceback."""
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('description = "Gr\xfc\xdfe"\nextends = "siloed"\n'.encode("latin-1"))
    with pytest.raises(UserError, match=r"latin1.toml: not UTF-8 text \(byte 17 is 0xfc\)"):
        scenario.load(bad)
    for command in ("validate", "run"):
        result = subprocess.run([sys.executable, "-m", "orgsim.cli", command, str(bad)], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "not UTF-8 text" in result.stderr
