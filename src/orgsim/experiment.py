"""Batch experiments: scenarios × parameter designs × replications.

An experiment file (TOML) in ``experiments/``::

    description = "Siloed against multiplier-led."
    scenarios = ["siloed", "multiplier_led"]   # presets or paths
    replications = 30
    master_seed = 2026
    steps = 104
    record_every = 1                            # keep every week (2: every other week ...)
    outputs = ["mean_attitude", "net_promoter_score"]   # default: all

    [grid]                                      # full factorial over lists
    silo_strength = [0.2, 0.5, 0.8]

    [sample]                                    # or a sampler from SALib
    method = "morris"                           # morris | sobol | latin
    n = 10                                      # trajectories / base samples (a power of 2) / points
    [sample.ranges]
    silo_strength = [0.0, 1.0]

Every run is one (scenario, design point, replication); run ``i`` is the
``i``-th in that fixed order. Replication r uses the seed
``SeedSequence([master_seed, r])`` for every scenario and design point (common
random numbers), so a run is fully determined by the file, whatever the
number of workers or the backend. Runs are generated lazily and at most a few
per worker are in flight, so a million-run design costs the parent no more
memory than a small one. Finished runs are kept as described in
:mod:`orgsim.results`; running the same command again runs only what is
missing. ``experiment.json`` records the design's fingerprint and the model's
identity (orgsim's version, a hash of the model code, numpy's version): a
changed file is refused unless ``--fresh`` is given, a changed model unless
``--accept-model-change`` is.

Ctrl-C, SIGTERM or a failed write stop the workers at once (within seconds,
whatever is left to run), keep every finished run and exit; workers never
outlive the orgsim process that started them by more than about a second.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.metadata
import io
import itertools
import json
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from orgsim import __version__, results
from orgsim import scenario as scenarios
from orgsim.errors import (
    EnvironmentProblem,
    Interrupted,
    UserError,
    check_int,
    check_keys,
    describe_os_error,
    did_you_mean,
    raised_by_a_signal,
    signals_unwrapped,
)
from orgsim.io import read_toml, temporary_files, write_json, write_table
from orgsim.outputs import OUTPUT_NAMES
from orgsim.parameters import PARAMS_BY_NAME, make_parameters

TOP_LEVEL_KEYS = {"description", "scenarios", "replications", "master_seed", "steps", "record_every",
                  "outputs", "grid", "sample"}
SAMPLE_KEYS = {"method", "n", "ranges", "num_levels"}
METHODS = ("morris", "sobol", "latin")
#: Above this many runs an experiment starts only with ``--yes`` (the size is printed first).
CONFIRM_ABOVE = 100_000
#: Designs beyond this are refused outright: even the list of finished runs would not fit.
MAX_RUNS = 100_000_000
#: Runs handed to each worker ahead of time: enough to keep it busy, few enough to stop at once.
IN_FLIGHT_PER_WORKER = 2


# ------------------------------------------------------------------- design
@dataclass(frozen=True)
class Design:
    """The parameter design: a full-factorial grid (expanded on demand) or sampled points."""

    grid: dict[str, list[Any]] = field(default_factory=dict)
    sample: dict[str, Any] | None = None
    #: The sampled points, one row each (a matrix: a million points take 8 bytes per value, not a dict).
    sampled: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))

    def __len__(self) -> int:
        if self.sample is not None:
            return len(self.sampled)
        return math.prod(len(values) for values in self.grid.values())

    def point(self, index: int) -> dict[str, Any]:
        """The parameter values of design point ``index`` (grid: the last parameter varies fastest)."""
        if self.sample is not None:
            return {name: int(round(value)) if PARAMS_BY_NAME[name].kind is int else float(value)
                    for name, value in zip(self.varied, self.sampled[index], strict=True)}
        point = {}
        for name, values in reversed(self.grid.items()):
            index, digit = divmod(index, len(values))
            point[name] = values[digit]
        return dict(reversed(point.items()))

    @property
    def varied(self) -> tuple[str, ...]:
        return tuple(self.sample["ranges"]) if self.sample is not None else tuple(self.grid)

    def points(self) -> Sequence[dict[str, Any]]:
        """Every design point, made when indexed (a grid of millions costs nothing until then)."""
        return _Points(self)

    def describe(self) -> dict[str, Any]:
        return self.sample if self.sample is not None else {"grid": self.grid}


class _Points(Sequence[dict[str, Any]]):
    def __init__(self, design: Design) -> None:
        self.design = design

    def __len__(self) -> int:
        return len(self.design)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self.design.point(i) for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self.design.point(index % len(self))


@dataclass(frozen=True)
class Experiment:
    name: str
    path: Path
    description: str
    scenarios: tuple[str, ...]  # names
    scenario_contents: tuple[dict[str, Any], ...]  # resolved parameters and interventions of each
    replications: int
    master_seed: int
    steps: int
    record_every: int
    outputs: tuple[str, ...]
    design: Design

    @property
    def varied(self) -> tuple[str, ...]:
        return self.design.varied

    @property
    def n_points(self) -> int:
        return len(self.design)

    @property
    def n_runs(self) -> int:
        return len(self.scenarios) * self.n_points * self.replications

    def seed(self, replication: int) -> int:
        return int(np.random.SeedSequence([self.master_seed, replication]).generate_state(1, np.uint64)[0] >> 1)

    def task(self, run: int) -> dict[str, Any]:
        """Everything a worker needs for run ``run``: it reads no file (a Dask worker may have none)."""
        scenario, rest = divmod(run, self.n_points * self.replications)
        point, replication = divmod(rest, self.replications)
        content = self.scenario_contents[scenario]
        return {
            "run": run, "run_id": f"{content['name']}-p{point:04d}-r{replication:03d}",
            "scenario": content["name"], "parameters": content["parameters"],
            "interventions": content["interventions"], "point": point, "overrides": self.design.point(point),
            "replication": replication, "seed": self.seed(replication), "steps": self.steps,
            "record_every": self.record_every, "outputs": list(self.outputs),
            "model": model_identity(),
        }

    def tasks(self, skip: np.ndarray | None = None) -> Iterator[dict[str, Any]]:
        """Every run in the fixed order, made one at a time; ``skip`` masks runs already finished."""
        for run in range(self.n_runs):
            if skip is None or not skip[run]:
                yield self.task(run)

    def fingerprint(self) -> str:
        """Changes when any run would change: the design, seeds, weeks, outputs and the scenarios' contents."""
        design = self.design.describe()
        text = json.dumps({
            "scenarios": self.scenario_contents, "design": design,
            "sampled": hashlib.sha256(np.ascontiguousarray(self.design.sampled, dtype=float).tobytes()).hexdigest(),
            "replications": self.replications, "master_seed": self.master_seed, "steps": self.steps,
            "record_every": self.record_every, "outputs": self.outputs,
        }, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def schema(self) -> pa.Schema:
        """The columns of every run's rows, typed from the declarations (the same whatever the values)."""
        kinds = {int: pa.int64(), float: pa.float64(), bool: pa.bool_(), str: pa.string()}
        return pa.schema(
            [("run", pa.int64()), ("run_id", pa.string()), ("scenario", pa.string()), ("point", pa.int64())]
            + [(name, kinds.get(PARAMS_BY_NAME[name].kind, pa.string())) for name in self.varied]
            + [("replication", pa.int64()), ("seed", pa.int64()), ("step", pa.int64())]
            + [(name, pa.float64()) for name in self.outputs]
        )


#: The modules whose code decides what a run computes; their hash is part of the model's identity.
MODEL_MODULES = ("model.py", "state.py", "parameters.py", "networks.py", "interventions.py", "outputs.py",
                 "departments.py", "agents.py", "mechanisms/*.py")


@functools.cache
def model_identity() -> dict[str, str]:
    """orgsim's version, a hash of the model's code, and numpy's version (its random streams)."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for pattern in MODEL_MODULES for p in package.glob(pattern)):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return {"orgsim": __version__, "model_hash": digest.hexdigest()[:16], "numpy": np.__version__}


def provenance() -> dict[str, Any]:
    """What a methods section needs to say where results came from."""
    versions: dict[str, str | None] = {}
    for name in ("numpy", "scipy", "pandas", "pyarrow", "mesa", "SALib"):
        try:
            versions[name.lower()] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name.lower()] = None
    return {"python": platform.python_version(), "platform": platform.platform(), **versions,
            "git_commit": _git_commit(), "command": shlex.join(["orgsim", *sys.argv[1:]])}


def _git_commit() -> str | None:
    """The commit of orgsim's source checkout (``+dirty`` if its model code has changes), if it is one."""
    source = Path(__file__).resolve().parents[2]
    if not (source / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- validation
def _param(name: str, where: str):
    if name not in PARAMS_BY_NAME:
        raise UserError(f"{where}: unknown parameter {name!r}{did_you_mean(name, PARAMS_BY_NAME)}")
    return PARAMS_BY_NAME[name]


def _design(data: dict[str, Any], path: Path, master_seed: int, replications_and_scenarios: int) -> Design:
    grid, sample = data.get("grid", {}), data.get("sample")
    if grid and sample:
        raise UserError(f"{path}: give either [grid] or [sample], not both")
    if not isinstance(grid, dict):
        raise UserError(f"{path}: grid must be a [grid] table of lists")
    if sample is None:
        for name, values in grid.items():
            _param(name, f"{path} [grid]")
            if not isinstance(values, list) or not values:
                raise UserError(f"{path} [grid]: {name} must be a non-empty list, e.g. {name} = [0.2, 0.8]")
        return Design(grid=grid)

    where = f"{path} [sample]"
    if not isinstance(sample, dict):
        raise UserError(f"{path}: sample must be a [sample] table")
    check_keys(sample, SAMPLE_KEYS, where)
    method = sample.get("method")
    if method not in METHODS:
        raise UserError(f"{where}: method = {method!r} is not allowed; allowed: one of {', '.join(METHODS)}")
    n = check_int(sample.get("n"), "n", where, 2, 100_000)
    if method == "sobol" and n & (n - 1):
        raise UserError(f"{where}: n = {n} is not allowed for sobol; allowed: a power of 2 "
                        f"(Saltelli's sequence loses its balance otherwise), e.g. {1 << n.bit_length()}")
    ranges = sample.get("ranges")
    if not isinstance(ranges, dict) or len(ranges) < 2:
        raise UserError(f"{where}: ranges must be a table of at least two parameters, e.g. silo_strength = [0.0, 1.0]")
    for name, bounds in ranges.items():
        param = _param(name, f"{where}.ranges")
        if param.kind not in (int, float):
            raise UserError(f"{where}.ranges: {name} is {param.describe_range()}; only numbers can be sampled")
        ok = (isinstance(bounds, list) and len(bounds) == 2
              and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
              and param.low <= bounds[0] < bounds[1] <= param.high)
        if not ok:
            raise UserError(f"{where}.ranges: {name} = {bounds!r} is not allowed; allowed: [low, high] "
                            f"with {param.low:g} <= low < high <= {param.high:g}")
    problem = {"num_vars": len(ranges), "names": list(ranges), "bounds": [list(map(float, b)) for b in ranges.values()]}
    seed = master_seed % (2**32)
    if "num_levels" in sample and method != "morris":
        raise UserError(f"{where}: num_levels is for morris only; {method} does not use it")
    levels = check_int(sample.get("num_levels", 4), "num_levels", where, 2, 100)
    points = {"morris": n * (len(ranges) + 1), "sobol": n * (len(ranges) + 2), "latin": n}[method]
    if points * replications_and_scenarios > MAX_RUNS:  # refused before a sample is drawn
        raise UserError(f"{path}: the design has {points * replications_and_scenarios:,} runs; allowed: at most "
                        f"{MAX_RUNS:,} (a smaller n, fewer parameters or replications)")
    if method == "morris":
        from SALib.sample import morris

        matrix = morris.sample(problem, n, num_levels=levels, seed=seed)
    elif method == "sobol":
        from SALib.sample import sobol

        matrix = sobol.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        from SALib.sample import latin

        matrix = latin.sample(problem, n, seed=seed)
    described = {"method": method, "n": n, "num_levels": levels, "ranges": ranges, "problem": problem}
    return Design(sample=described, sampled=np.asarray(matrix, dtype=float))


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file; raise UserError on any mistake."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    data = read_toml(path)
    check_keys(data, TOP_LEVEL_KEYS, str(path))
    names = data.get("scenarios")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise UserError(f"{path}: scenarios must be a non-empty list of preset names or files, e.g. [\"siloed\"]")
    replications = check_int(data.get("replications", 10), "replications", str(path), 1, 100_000)
    master_seed = check_int(data.get("master_seed", 0), "master_seed", str(path), 0, 2**63 - 1)
    steps = check_int(data.get("steps", 104), "steps", str(path), 1, scenarios.MAX_STEPS)
    record_every = check_int(data.get("record_every", 1), "record_every", str(path), 1, steps)
    outputs = data.get("outputs", list(OUTPUT_NAMES))
    if not isinstance(outputs, list) or not outputs:
        raise UserError(f"{path}: outputs must be a non-empty list of output names")
    if len(set(map(str, outputs))) < len(outputs):
        twice = sorted({str(o) for o in outputs if outputs.count(o) > 1})
        raise UserError(f"{path}: outputs lists {', '.join(twice)} more than once; allowed: each output once")
    for name in outputs:
        if name not in OUTPUT_NAMES:
            raise UserError(f"{path}: unknown output {name!r}{did_you_mean(str(name), OUTPUT_NAMES)}; "
                            "see docs/model.md for the list")
    design = _design(data, path, master_seed, replications * len(names))
    n_runs = len(names) * len(design) * replications
    if n_runs > MAX_RUNS:
        raise UserError(f"{path}: the design has {n_runs:,} runs; allowed: at most {MAX_RUNS:,} "
                        "(fewer grid values, a [sample] design or fewer replications)")

    contents = []
    for name in names:
        try:
            loaded = scenarios.load(name)
        except UserError as error:
            raise UserError(f"{path}: scenarios: {error}") from None
        source = f"{path} (scenario {loaded.name})"
        loaded.with_overrides({"steps": steps}, source=source)
        # Parameters are validated each on its own (none constrains another), so checking each grid
        # value once checks every combination without expanding them; sampled values lie in ranges
        # already checked against the declarations.
        for parameter, options in design.grid.items():
            for value in options:
                loaded.with_overrides({parameter: value, "steps": steps}, source=source)
        contents.append({"name": loaded.name, "parameters": loaded.params.model_dump(),
                         "interventions": [dict(i) for i in loaded.interventions]})
    if len({c["name"] for c in contents}) < len(contents):
        raise UserError(f"{path}: scenarios: a scenario is listed twice ({', '.join(names)})")
    return Experiment(
        name=path.stem, path=path, description=str(data.get("description", "")),
        scenarios=tuple(c["name"] for c in contents), scenario_contents=tuple(contents),
        replications=replications, master_seed=master_seed, steps=steps, record_every=record_every,
        outputs=tuple(outputs), design=design,
    )


# ----------------------------------------------------------------- execution
def simulate(task: dict[str, Any]) -> pd.DataFrame:
    """Run one task and return its rows (run, run_id, scenario, varied parameters, seed, step, outputs)."""
    from orgsim.model import OrgModel

    if task["model"] != model_identity():
        raise UserError(f"a worker has a different model ({model_identity()}) than the experiment "
                        f"({task['model']}): install the same orgsim everywhere the experiment runs")
    source = f"run {task['run_id']}"
    params = make_parameters({**task["parameters"], **task["overrides"]}, source)
    model = OrgModel(params, seed=task["seed"], interventions=task["interventions"], customer_views=False)
    frame = model.run(task["steps"])
    frame = frame[(frame["step"] % task["record_every"] == 0) | (frame["step"] == task["steps"])]
    frame = frame[["step", *task["outputs"]]].reset_index(drop=True)
    meta = {"run": task["run"], "run_id": task["run_id"], "scenario": task["scenario"], "point": task["point"],
            **task["overrides"], "replication": task["replication"], "seed": task["seed"]}
    return pd.concat([pd.DataFrame([meta] * len(frame)), frame], axis=1)


#: The reports and their figures (orgsim.report and orgsim.discover write them; named here so that
#: ``--fresh`` knows them as orgsim's own).
REPORT, TRAJECTORIES_FIGURE, GRID_FIGURE, SENSITIVITY_FIGURE = (
    "report.md", "trajectories.png", "grid.png", "sensitivity.png")
TIME_TO_EVENT_FIGURE, REPLICATIONS_FIGURE = "time_to_event.png", "replications.png"
DISCOVERY, DISCOVERY_FIGURE = "discovery.md", "discovery.png"
REPORT_FIGURES = (TRAJECTORIES_FIGURE, GRID_FIGURE, SENSITIVITY_FIGURE, TIME_TO_EVENT_FIGURE, REPLICATIONS_FIGURE,
                  DISCOVERY_FIGURE)
MANIFEST, DESIGN = "experiment.json", "design.parquet"
#: The temporary files of orgsim's atomic writes in a results folder (manifest, design, runs, report).
#: A writer killed between creating one and renaming it into place leaves it behind; resuming sweeps them.
TEMPORARY_FILES = (temporary_files(MANIFEST), temporary_files(DESIGN), results.TEMPORARY_PARTS,
                   temporary_files(REPORT), temporary_files(DISCOVERY),
                   *(f"figures/{temporary_files(name)}" for name in REPORT_FIGURES))
#: What orgsim writes in a results folder. ``--fresh`` removes these and nothing else.
OWN_FILES = (MANIFEST, DESIGN, f"{results.RUNS}/{results.PARTS}", f"{results.RUNS}/{results.JOURNALS}", REPORT,
             DISCOVERY, *TEMPORARY_FILES, *(f"figures/{name}" for name in REPORT_FIGURES),
             f"{results.RUNS}/*.parquet", f"{results.RUNS}/{temporary_files('*.parquet')}")  # one file per run: orgsim 0.1
OWN_FOLDERS = ("runs/*", "runs", "figures")


def _files_matching(out: Path, patterns: tuple[str, ...]) -> set[Path]:
    """The files in ``out`` that match any of the glob ``patterns`` (relative to ``out``)."""
    return {path for pattern in patterns for path in out.glob(pattern) if path.is_file()}


def remove_orphaned_temporaries(out: Path) -> list[Path]:
    """Delete the temporary files that killed writers of orgsim left in ``out``; return them.

    Only names matching :data:`TEMPORARY_FILES` (``io.temporary_files``) at their own places are
    touched; anything else, however it is named, stays. Two orgsim processes writing the same
    results folder at once are not supported (each would also run the other's missing runs).
    """
    orphans = sorted(path for path in _files_matching(out, TEMPORARY_FILES) if not path.is_symlink())
    for path in orphans:
        path.unlink(missing_ok=True)
    return orphans


def remove_results(out: Path) -> None:
    """Delete what orgsim wrote in ``out``; refuse, deleting nothing, if the folder holds anything else."""
    if not out.exists():
        return
    if not out.is_dir():
        raise UserError(f"--out {out}: is a file, not a folder; --fresh deletes nothing")
    own = _files_matching(out, OWN_FILES)
    own_folders = {path for pattern in OWN_FOLDERS for path in out.glob(pattern) if path.is_dir()}
    foreign = [path for path in sorted(out.rglob("*")) if path not in own and path not in own_folders
               and not (path.is_dir() and any(path.iterdir()))]  # files, and folders only when empty
    foreign += [path for path in own_folders if path.is_symlink()]
    if foreign:
        listed = ", ".join(str(path.relative_to(out)) for path in foreign[:3])
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise UserError(
            f"--out {out}: holds files orgsim did not write ({listed}{more}); --fresh deletes only an "
            "experiment's own results, so nothing was deleted: choose another folder with --out"
        )
    for path in own:
        path.unlink()
    for folder in sorted(own_folders, key=lambda p: len(p.parts), reverse=True):  # deepest first
        folder.rmdir()


def _check_not_a_file(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: is a file, not a folder; nothing was written: choose another folder "
                        "with --out")
    if (out / results.RUNS).exists() and not (out / results.RUNS).is_dir():
        raise UserError(f"--out {out}: {out / results.RUNS} is a file where orgsim keeps its results; nothing "
                        "was written: choose another folder with --out")


def _output_problem(out: Path, error: OSError, after: str) -> Exception:
    """The one-line error for a failed write in ``out``: the user's (2) or the environment's (1)."""
    message, status = describe_os_error(error)
    kind = UserError if status == 2 else EnvironmentProblem
    return kind(f"--out {out}: cannot write results: {message}; {after}")


def _check_writable(out: Path) -> None:
    """Fail before the first run if results could not be kept in ``out`` (read-only, no permission)."""
    try:
        (out / results.RUNS).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out / results.RUNS):
            pass
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise _output_problem(out, error, "nothing was run") from None


def _manifest(experiment: Experiment, out: Path, accept_model_change: bool) -> dict[str, Any]:
    """The manifest to write: a new one, or the existing one with this session added."""
    where = provenance()  # asks git: once
    session = {"started": _now(), "finished": None, "model": model_identity(), "command": where["command"]}
    path = out / MANIFEST
    if not path.exists():
        return {
            "experiment": experiment.name, "file": str(experiment.path), "description": experiment.description,
            "fingerprint": experiment.fingerprint(), "n_runs": experiment.n_runs, "n_points": experiment.n_points,
            "scenarios": list(experiment.scenarios),
            "scenario_parameters": {c["name"]: c["parameters"] for c in experiment.scenario_contents},
            "scenario_interventions": {c["name"]: c["interventions"] for c in experiment.scenario_contents},
            "varied": list(experiment.varied), "design": experiment.design.describe(),
            "replications": experiment.replications, "master_seed": experiment.master_seed,
            "steps": experiment.steps, "record_every": experiment.record_every, "outputs": list(experiment.outputs),
            "orgsim_version": __version__, "model": model_identity(),
            "provenance": {**where, "started": session["started"], "finished": None},
            "sessions": [session],
        }
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: unreadable manifest ({error}); use --fresh to start over there") from None
    if previous.get("fingerprint") != experiment.fingerprint():
        raise UserError(
            f"{experiment.path}: changed since the results in {out} were started "
            f"({previous.get('n_runs')} runs planned then, {experiment.n_runs} now); "
            "use --fresh to start over there, or --out to use another folder"
        )
    if previous.get("model") != model_identity() and not accept_model_change:
        raise UserError(
            f"{out}: its runs were made by another model ({previous.get('model')}); this is "
            f"{model_identity()}; mixing them would mix two models' results: use --fresh to start over, "
            "--out for another folder, or --accept-model-change to resume anyway (recorded in the manifest)"
        )
    return {**previous, "sessions": [*previous.get("sessions", []), session]}


def _finish_manifest(out: Path, manifest: dict[str, Any], runs_done: int, all_done: bool) -> None:
    """Record the session's end and its runs (a session killed by SIGKILL never gets here: the next
    one counts its runs as ``runs_recovered``)."""
    manifest["sessions"][-1].update(finished=_now(), runs_finished=runs_done)
    if all_done:
        manifest["provenance"]["finished"] = manifest["sessions"][-1]["finished"]
    write_json(out / MANIFEST, manifest)


def _lock(out: Path) -> _FolderLock:
    """Hold the results folder for this session (a lock on the folder itself: no file is written);
    a second orgsim there at the same time would lose runs."""
    try:
        descriptor = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise _output_problem(out, error, "nothing was run") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise UserError(f"--out {out}: another orgsim session is running this experiment there; wait for it "
                        "to finish (or stop it with Ctrl-C), or choose another folder with --out") from None
    return _FolderLock(descriptor)


@dataclass
class _FolderLock:
    descriptor: int

    def close(self) -> None:
        os.close(self.descriptor)  # and with it the lock

    def __enter__(self) -> _FolderLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _prepare(experiment: Experiment, out: Path, fresh: bool,
             accept_model_change: bool) -> tuple[dict[str, Any], _FolderLock]:
    """Check everything that can be checked, then lock the folder and bring it up to date.

    Nothing is written before the checks pass: a refused resume leaves the folder as it was.
    """
    _check_not_a_file(out)
    lock = _lock(out) if out.is_dir() else None  # before --fresh deletes what a live session uses
    try:
        if fresh:
            remove_results(out)
        manifest = _manifest(experiment, out, accept_model_change)
        _check_writable(out)
        lock = lock or _lock(out)
        remove_orphaned_temporaries(out)  # what writers killed mid-write left behind
        manifest["sessions"][-1]["runs_recovered"] = results.compact(out)  # runs a killed session kept
        write_json(out / MANIFEST, manifest)
        if experiment.design.sample is not None and not (out / DESIGN).exists():
            write_table(out / DESIGN, pd.DataFrame(experiment.design.sampled, columns=list(experiment.varied)))
    except BaseException:
        if lock is not None:
            lock.close()
        raise
    return manifest, lock


class _SilentOnceOrphaned(io.TextIOBase):
    """A worker's stderr that goes quiet once orgsim is gone (its pool's broken pipes are no news)."""

    def __init__(self, stream: Any, orgsim: int) -> None:
        self.stream, self.orgsim = stream, orgsim

    def write(self, text: str) -> int:
        if _alive(self.orgsim):
            return self.stream.write(text)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            self.stream.flush()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exit_on_term(number: int, _frame: Any) -> None:
    raise SystemExit(128 + number)


def _worker_start(orgsim: int) -> None:
    """In each worker: leave Ctrl-C to orgsim, and exit as soon as orgsim (process ``orgsim``) is gone.

    A worker's parent is the fork server, which exits when orgsim does, even on SIGKILL; either
    sign ends the worker within a quarter of a second.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM (orgsim's Pool.terminate, or a TERM sent to the whole process group) ends a worker by an
    # exception, so that it lets go of the pool's queue lock on its way out: killed holding it, the
    # worker would leave the pool's shutdown waiting for that lock for ever.
    signal.signal(signal.SIGTERM, _exit_on_term)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    sys.stderr = _SilentOnceOrphaned(sys.stderr, orgsim)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent and _alive(orgsim):
            time.sleep(0.25)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _worker_loop(connection: Any, orgsim: int) -> None:
    """A worker: run each task that arrives on ``connection`` and send back its rows (or its error)."""
    _worker_start(orgsim)
    while True:
        try:
            task = connection.recv()
        except EOFError:  # orgsim closed its end: nothing more to do
            return
        if task is None:
            return
        try:
            reply: tuple[bool, Any] = (True, simulate(task))
        except Exception as error:  # noqa: BLE001 - every failure of a run goes back to orgsim, which raises it
            if (interruption := raised_by_a_signal(error)) is not None:
                raise interruption from None  # SIGTERM during a compiled pass: the worker ends, as it should
            reply = (False, error)
        try:
            connection.send(reply)
        except (BrokenPipeError, EOFError, ConnectionResetError):
            return
        except Exception as error:  # noqa: BLE001 - an error that does not pickle still reaches orgsim
            connection.send((False, RuntimeError(f"{type(error).__name__}: {error}")))


def _local(tasks: Iterator[dict[str, Any]], workers: int) -> Generator[pd.DataFrame]:
    """Run tasks on ``workers`` local processes, a few in flight each; yield rows as runs finish.

    Each worker has a pipe of its own and no lock is shared between processes, so stopping them
    (at the end, on Ctrl-C or on an error) cannot wait on a lock a dying worker held: a known way
    for ``multiprocessing.Pool.terminate`` to hang for ever.
    """
    if workers == 1:
        for task in tasks:
            yield simulate(task)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["orgsim.model", "orgsim.experiment", "orgsim.warm"])
    # Ctrl-C or a TERM to the process group would kill the fork server (mid-import with a traceback,
    # or later, so that no worker could be started): it starts with both signals blocked and keeps
    # them so. Workers unblock TERM once they handle it; orgsim gets any signal sent meanwhile as soon
    # as the workers stand.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    processes: dict[Any, Any] = {}  # orgsim's end of each worker's pipe -> the worker
    try:
        for _ in range(workers):
            ours, theirs = context.Pipe()
            process = context.Process(target=_worker_loop, args=(theirs, os.getpid()), daemon=True)
            process.start()
            theirs.close()
            processes[ours] = process
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    in_flight = dict.fromkeys(processes, 0)
    finished = False
    try:
        for connection in processes:
            for task in itertools.islice(tasks, IN_FLIGHT_PER_WORKER):
                connection.send(task)
                in_flight[connection] += 1
        while any(in_flight.values()):
            # a timeout keeps the main thread responsive to signals
            ready: list[Any] = multiprocessing.connection.wait([c for c, n in in_flight.items() if n], timeout=0.2)
            for connection in ready:
                try:
                    ok, value = connection.recv()
                except (EOFError, ConnectionResetError):
                    process = processes[connection]
                    process.join(1)
                    raise EnvironmentProblem(
                        f"a worker process stopped unexpectedly (exit code {process.exitcode}; out of memory?): "
                        "finished runs are kept, the same command resumes") from None
                in_flight[connection] -= 1
                if not ok:
                    raise value
                yield value
                for task in itertools.islice(tasks, 1):
                    connection.send(task)
                    in_flight[connection] += 1
        for connection in processes:  # the normal end: each worker leaves its loop
            with contextlib.suppress(OSError):
                connection.send(None)
        finished = True
    finally:
        _stop(processes, grace=2.0 if finished else 0.0)


def _stop(processes: dict[Any, Any], grace: float = 2.0) -> None:
    """Wait up to ``grace`` seconds for the workers to end, then kill those still running.

    After a normal end every worker has left its loop and exits by itself; when orgsim stops early
    (``grace`` 0), a worker still computing is killed at once: its result could not be kept anyway.
    """
    deadline = time.monotonic() + grace
    for connection, process in processes.items():
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(2)
        connection.close()


def _connect(address: str) -> Any:
    """A Dask client for the scheduler at ``address``, or a clear error before anything is written."""
    try:
        from distributed import Client
    except ImportError:
        raise UserError("--scheduler needs Dask's distributed package: pip install distributed") from None
    # orgsim says in one line what a lost scheduler means; Dask's own logged tracebacks would bury it
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("distributed")] + ["distributed"]:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    _reachable(address)
    try:
        return Client(address, timeout="10s")
    except ValueError as error:
        raise UserError(f"--scheduler {address}: not a scheduler address ({error}); "
                        "expected e.g. tcp://127.0.0.1:8786") from None
    except (OSError, TimeoutError) as error:
        raise EnvironmentProblem(f"--scheduler {address}: cannot reach a Dask scheduler there ({error}); "
                                 "start one (dask scheduler) or check the address; nothing was written") from None


def _reachable(address: str) -> None:
    """Check a scheduler address at once: its form, its host and an open port (Dask would retry for 10 s)."""
    parsed = urllib.parse.urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host = port = None
    if parsed.scheme not in ("tcp", "tls") or not host or not port:
        raise UserError(f"--scheduler {address!r}: not a scheduler address; expected e.g. tcp://127.0.0.1:8786")
    try:
        socket.getaddrinfo(host, port)
    except (socket.gaierror, UnicodeError):
        raise UserError(f"--scheduler {address}: no such host {host!r}; expected e.g. tcp://127.0.0.1:8786") from None
    try:
        socket.create_connection((host, port), timeout=10).close()
    except OSError as error:
        raise EnvironmentProblem(f"--scheduler {address}: cannot reach a Dask scheduler there "
                                 f"({error.strerror or error}); start one (dask scheduler) or check the address; "
                                 "nothing was written") from None


def _distributed(tasks: Iterator[dict[str, Any]], client: Any, window: int, prefix: str) -> Generator[pd.DataFrame]:
    """Run tasks on a Dask cluster, ``window`` in flight; yield rows as runs finish.

    Task keys hold the experiment's fingerprint: two experiments on one cluster never share a result.
    """
    from distributed import as_completed as dask_completed

    address = client.scheduler.address

    def submit(task: dict[str, Any]) -> Any:
        return client.submit(simulate, task, key=f"{prefix}-{task['run']}", pure=False)

    futures = dask_completed([submit(task) for task in itertools.islice(tasks, window)])
    for future in futures:
        try:
            frame = future.result()
        except Exception:
            if client.status == "running":  # the run itself failed: a bug or another orgsim on a worker
                raise
            raise EnvironmentProblem(
                f"--scheduler {address}: lost the Dask scheduler; every finished run is kept: "
                "run the same command again (with a running scheduler) to resume") from None
        future.release()
        yield frame
        for task in itertools.islice(tasks, 1):
            futures.add(submit(task))


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM raise :class:`Interrupted` in the main thread while an experiment runs."""
    def stop(number: int, _frame: Any) -> None:
        for other in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not break the wind-down
            signal.signal(other, signal.SIG_IGN)
        raise Interrupted(number)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        with signals_unwrapped():
            yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def describe_size(experiment: Experiment) -> str:
    weeks = experiment.steps // experiment.record_every + 1 + (experiment.steps % experiment.record_every > 0)
    rows = experiment.n_runs * weeks
    return (f"{experiment.n_runs:,} runs ({len(experiment.scenarios)} scenario(s) × {experiment.n_points:,} "
            f"design point(s) × {experiment.replications} replication(s)) of {experiment.steps} weeks; "
            f"{rows:,} rows of {len(experiment.outputs)} outputs")


def run_experiment(file: str | Path, workers: int | None = None, scheduler: str | None = None,
                   out: str | Path | None = None, fresh: bool = False, yes: bool = False,
                   accept_model_change: bool = False, echo: Callable[[str], None] = print) -> Path:
    """Run every missing run of an experiment; return the results folder.

    Raises :class:`UserError` for the user's mistakes (before anything is written),
    :class:`EnvironmentProblem` for a full disk or a lost scheduler and :class:`Interrupted`
    for Ctrl-C or SIGTERM; in every case the finished runs are kept.
    """
    experiment = load_experiment(file)
    out = Path(out) if out else Path("results") / experiment.name
    if workers is not None and not 1 <= workers <= 512:
        raise UserError(f"--workers {workers} is not allowed; allowed: an integer in [1, 512]")
    echo(f"{experiment.name}: {describe_size(experiment)}")
    if experiment.n_runs > CONFIRM_ABOVE and not yes:
        raise UserError(f"{experiment.path}: {experiment.n_runs:,} runs is above {CONFIRM_ABOVE:,}; "
                        "check the design and add --yes to start")
    client = _connect(scheduler) if scheduler is not None else None
    try:
        with _stopped_by_signals():  # from here, Ctrl-C and SIGTERM raise Interrupted, once
            manifest, lock = _prepare(experiment, out, fresh, accept_model_change)
            with lock:
                _run(experiment, out, manifest, client, workers or multiprocessing.cpu_count(), echo)
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=2)
    return out


def _run(experiment: Experiment, out: Path, manifest: dict[str, Any], client: Any, workers: int,
         echo: Callable[[str], None]) -> None:
    """Run the missing runs into this session's journal, then compact it and record the session."""
    from tqdm.auto import tqdm

    done = results.finished(out, experiment.n_runs)
    already = int(done.sum())
    backend = f"Dask at {client.scheduler.address}" if client is not None else f"{workers} local worker(s)"
    echo(f"{experiment.name}: {already:,} already done, {experiment.n_runs - already:,} to run on {backend} -> {out}")
    tasks = experiment.tasks(skip=done)
    runs = (_distributed(tasks, client, window=8 * max(1, len(client.scheduler_info()["workers"])),
                         prefix=f"orgsim-{experiment.fingerprint()}")
            if client is not None else _local(tasks, workers))
    journal = results.Journal(out, experiment.schema())
    try:
        with tqdm(total=experiment.n_runs, initial=already, unit="run", desc=experiment.name, smoothing=0.05) as bar:
            try:
                for frame in runs:
                    journal.append(frame)
                    bar.update()
            finally:
                runs.close()  # stop the workers now: nothing they finish from here on could be kept
    except OSError as error:
        _wind_down(out, journal, manifest, all_done=False, quiet=True)
        if not error.filename:
            error.filename = str(journal.path)
        raise _output_problem(out, error, f"the {already + journal.appended:,} finished runs are kept: free space "
                                          "or fix the folder, then run the same command again to resume") from None
    except BaseException:
        _wind_down(out, journal, manifest, all_done=False, quiet=True)
        raise
    _wind_down(out, journal, manifest, all_done=already + journal.appended == experiment.n_runs)


def _wind_down(out: Path, journal: results.Journal, manifest: dict[str, Any], all_done: bool,
               quiet: bool = False) -> None:
    """Close the journal, move its runs into Parquet parts and record the session in the manifest.

    ``quiet`` (when an error already stops the experiment): a failing write here is not raised;
    what fails is left for the next session (it compacts the journal and counts its runs).
    """
    for step in (journal.close, lambda: results.compact(out),
                 lambda: _finish_manifest(out, manifest, journal.appended, all_done)):
        try:
            step()
        except OSError:
            if not quiet:
                raise


def read_results(out: str | Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """The manifest (with its design ``points``) and the rows of every finished run of a results folder."""
    out = Path(out)
    manifest_path = out / MANIFEST
    if not manifest_path.is_file():
        raise UserError(f"{out}: not an experiment results folder (no {MANIFEST})")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as error:
        raise UserError(f"{manifest_path}: damaged manifest ({error}); rerun the experiment with --fresh") from None
    if not isinstance(manifest, dict) or "model" not in manifest:
        raise UserError(f"{out}: results of orgsim 0.1 (one file per run); "
                        "rerun the experiment with --fresh")
    frame = results.read(out)
    if frame.empty:
        raise UserError(f"{out}: no finished runs yet")
    design = manifest["design"]
    if "grid" in design:
        manifest["points"] = Design(grid=design["grid"]).points()
    else:
        try:
            matrix = pd.read_parquet(out / DESIGN)[list(manifest["varied"])].to_numpy(dtype=float)
        except (OSError, ValueError, KeyError) as error:
            raise UserError(f"{out / DESIGN}: missing or damaged ({error}); rerun the experiment with --fresh") from None
        manifest["points"] = Design(sample=design, sampled=matrix).points()
    return manifest, frame
