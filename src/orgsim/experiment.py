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
    n = 10                                      # trajectories / base samples / points
    [sample.ranges]
    silo_strength = [0.0, 1.0]

Every run is one (scenario, design point, replication). Replication r uses
the seed ``SeedSequence([master_seed, r])`` for every scenario and design point
(common random numbers), so a run is fully determined by the file, whatever
the number of workers or the backend. Each finished run is written atomically
to ``results/<experiment>/runs/<run_id>.parquet``; running the same command
again runs only what is missing (and first deletes the ``.NAME.*.tmp`` files
of writes that a kill interrupted, nothing else). The resolved run list is fingerprinted in
``experiment.json``; a changed file is refused unless ``--fresh`` is given.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import tomllib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from orgsim import __version__
from orgsim import scenario as scenarios
from orgsim.errors import UserError, check_int, check_keys, did_you_mean
from orgsim.io import temporary_files, write_json, write_table
from orgsim.outputs import OUTPUT_NAMES
from orgsim.parameters import PARAMS_BY_NAME

TOP_LEVEL_KEYS = {"description", "scenarios", "replications", "master_seed", "steps", "record_every",
                  "outputs", "grid", "sample"}
SAMPLE_KEYS = {"method", "n", "ranges", "num_levels"}
METHODS = ("morris", "sobol", "latin")


@dataclass(frozen=True)
class Experiment:
    name: str
    path: Path
    description: str
    scenarios: tuple[str, ...]
    replications: int
    master_seed: int
    steps: int
    record_every: int
    outputs: tuple[str, ...]
    grid: dict[str, list[Any]]
    sample: dict[str, Any] | None
    points: tuple[dict[str, Any], ...]  # the parameter design, one dict per point

    @property
    def varied(self) -> tuple[str, ...]:
        return tuple(self.grid) if self.grid else tuple(self.sample["ranges"]) if self.sample else ()

    @property
    def n_runs(self) -> int:
        return len(self.scenarios) * len(self.points) * self.replications

    def seed(self, replication: int) -> int:
        return int(np.random.SeedSequence([self.master_seed, replication]).generate_state(1, np.uint64)[0] >> 1)

    def tasks(self) -> list[dict[str, Any]]:
        """Every run, in a fixed order."""
        return [
            {"run_id": f"{Path(s).stem}-p{p:04d}-r{r:03d}", "scenario": s, "point": p,
             "overrides": point, "seed": self.seed(r), "replication": r, "steps": self.steps,
             "record_every": self.record_every, "outputs": list(self.outputs)}
            for s in self.scenarios
            for p, point in enumerate(self.points)
            for r in range(self.replications)
        ]

    def fingerprint(self) -> str:
        """Changes when any run would change: the run list and the scenarios' resolved contents."""
        contents = {}
        for path in self.scenarios:
            s = scenarios.load(path)
            contents[s.name] = {"params": s.params.model_dump(), "interventions": list(s.interventions)}
        tasks = [{**t, "scenario": Path(t["scenario"]).stem} for t in self.tasks()]
        text = json.dumps({"tasks": tasks, "scenarios": contents}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- validation
def _param(name: str, where: str):
    if name not in PARAMS_BY_NAME:
        raise UserError(f"{where}: unknown parameter {name!r}{did_you_mean(name, PARAMS_BY_NAME)}")
    return PARAMS_BY_NAME[name]


def _design(data: dict[str, Any], path: Path, master_seed: int) -> tuple[dict, dict | None, list[dict]]:
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
        names = list(grid)
        return grid, None, [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]

    where = f"{path} [sample]"
    if not isinstance(sample, dict):
        raise UserError(f"{path}: sample must be a [sample] table")
    check_keys(sample, SAMPLE_KEYS, where)
    method = sample.get("method")
    if method not in METHODS:
        raise UserError(f"{where}: method = {method!r} is not allowed; allowed: one of {', '.join(METHODS)}")
    n = check_int(sample.get("n"), "n", where, 2, 100_000)
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
    if method == "morris":
        from SALib.sample import morris

        levels = check_int(sample.get("num_levels", 4), "num_levels", where, 2, 100)
        matrix = morris.sample(problem, n, num_levels=levels, seed=seed)
    elif method == "sobol":
        from SALib.sample import sobol

        matrix = sobol.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        from SALib.sample import latin

        matrix = latin.sample(problem, n, seed=seed)
    points = []
    for row in matrix:
        point = {}
        for name, value in zip(ranges, row, strict=True):
            point[name] = int(round(value)) if PARAMS_BY_NAME[name].kind is int else float(value)
        points.append(point)
    levels = sample.get("num_levels", 4)
    return {}, {"method": method, "n": n, "num_levels": levels, "ranges": ranges, "problem": problem}, points


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file; raise UserError on any mistake."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path}: malformed TOML: {error}") from None
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
    for name in outputs:
        if name not in OUTPUT_NAMES:
            raise UserError(f"{path}: unknown output {name!r}{did_you_mean(str(name), OUTPUT_NAMES)}; "
                            "see docs/model.md for the list")
    grid, sample, points = _design(data, path, master_seed)

    resolved = []
    for name in names:
        try:
            loaded = scenarios.load(name)
        except UserError as error:
            raise UserError(f"{path}: scenarios: {error}") from None
        for point in points:  # every combination must be valid before anything runs
            loaded.with_overrides({**point, "steps": steps}, source=f"{path} (scenario {loaded.name})")
        resolved.append(str(loaded.path))
    return Experiment(
        name=path.stem, path=path, description=str(data.get("description", "")),
        scenarios=tuple(resolved), replications=replications, master_seed=master_seed, steps=steps,
        record_every=record_every, outputs=tuple(outputs), grid=grid, sample=sample, points=tuple(points),
    )


# ----------------------------------------------------------------- execution
def simulate(task: dict[str, Any]) -> pd.DataFrame:
    """Run one task and return its rows (run_id, scenario, varied parameters, seed, step, outputs)."""
    scenario = scenarios.load(task["scenario"]).with_overrides(
        {**task["overrides"], "steps": task["steps"], "seed": task["seed"]}
    )
    frame = scenario.model(customer_views=False).run(scenario.steps)
    frame = frame[frame["step"] % task["record_every"] == 0]
    frame = frame[["step", *task["outputs"]]].reset_index(drop=True)
    meta = {"run_id": task["run_id"], "scenario": scenario.name, "point": task["point"],
            **task["overrides"], "replication": task["replication"], "seed": task["seed"]}
    return pd.concat([pd.DataFrame([meta] * len(frame)), frame], axis=1)


#: The report and its figures (orgsim.report writes them).
REPORT, TRAJECTORIES_FIGURE, GRID_FIGURE, SENSITIVITY_FIGURE = (
    "report.md", "trajectories.png", "grid.png", "sensitivity.png")
#: The temporary files of orgsim's atomic writes in a results folder (manifest, runs, report). A
#: writer killed between creating one and renaming it into place leaves it behind; resuming sweeps them.
TEMPORARY_FILES = (temporary_files("experiment.json"), f"runs/{temporary_files('*.parquet')}",
                   temporary_files(REPORT))
#: What orgsim writes in a results folder: the manifest, one Parquet file per run (and the temporary
#: files of atomic writes), the report and its figures. ``--fresh`` removes these and nothing else.
OWN_FILES = ("experiment.json", "runs/*.parquet", REPORT, *TEMPORARY_FILES,
             *(f"figures/{name}" for name in (TRAJECTORIES_FIGURE, GRID_FIGURE, SENSITIVITY_FIGURE)))
OWN_FOLDERS = ("runs", "figures")


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
    own_folders = {out / folder for folder in OWN_FOLDERS}
    foreign = [path for path in sorted(out.rglob("*")) if path not in own and path not in own_folders
               and not (path.is_dir() and any(path.iterdir()))]  # files, and folders only when empty
    if foreign:
        listed = ", ".join(str(path.relative_to(out)) for path in foreign[:3])
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise UserError(
            f"--out {out}: holds files orgsim did not write ({listed}{more}); --fresh deletes only an "
            "experiment's own results, so nothing was deleted: choose another folder with --out"
        )
    for path in own:
        path.unlink()
    for folder in OWN_FOLDERS:
        if (out / folder).is_dir():
            (out / folder).rmdir()


def _prepare(experiment: Experiment, out: Path, fresh: bool) -> None:
    manifest = out / "experiment.json"
    if fresh:
        remove_results(out)
    elif out.is_dir():
        remove_orphaned_temporaries(out)  # resuming: what writers killed mid-write left behind
    if manifest.exists():
        previous = json.loads(manifest.read_text())
        if previous.get("fingerprint") != experiment.fingerprint():
            raise UserError(
                f"{experiment.path}: changed since the results in {out} were started "
                f"({previous.get('n_runs')} runs planned then, {experiment.n_runs} now); "
                "use --fresh to start over there, or --out to use another folder"
            )
    write_json(manifest, {
        "experiment": experiment.name, "file": str(experiment.path), "fingerprint": experiment.fingerprint(),
        "n_runs": experiment.n_runs, "scenarios": [Path(s).stem for s in experiment.scenarios],
        "varied": list(experiment.varied), "design": experiment.sample or {"grid": experiment.grid},
        "replications": experiment.replications, "master_seed": experiment.master_seed,
        "steps": experiment.steps, "outputs": list(experiment.outputs), "points": list(experiment.points),
        "orgsim_version": __version__,
    })


def _local(tasks: list[dict], workers: int) -> Iterator[pd.DataFrame]:
    if workers == 1:
        for task in tasks:
            yield simulate(task)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["orgsim.model", "orgsim.experiment"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(simulate, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def _distributed(tasks: list[dict], address: str) -> Iterator[pd.DataFrame]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    try:
        client = Client(address, timeout="10s")
    except OSError as error:
        raise UserError(f"--scheduler {address}: cannot connect to a Dask scheduler ({error})") from None
    with client:
        futures = client.map(simulate, tasks, key=[t["run_id"] for t in tasks], pure=False)
        for future in dask_completed(futures):
            yield future.result()
            future.release()


def run_experiment(file: str | Path, workers: int | None = None, scheduler: str | None = None,
                   out: str | Path | None = None, fresh: bool = False) -> Path:
    """Run every missing run of an experiment; return the results folder."""
    from tqdm.auto import tqdm

    experiment = load_experiment(file)
    out = Path(out) if out else Path("results") / experiment.name
    runs = out / "runs"
    if workers is not None and not 1 <= workers <= 512:
        raise UserError(f"--workers {workers} is not allowed; allowed: an integer in [1, 512]")
    _prepare(experiment, out, fresh)
    done = {p.stem for p in runs.glob("*.parquet")} if runs.exists() else set()
    tasks = [t for t in experiment.tasks() if t["run_id"] not in done]
    workers = workers or multiprocessing.cpu_count()
    backend = f"Dask at {scheduler}" if scheduler else f"{workers} local worker(s)"
    print(f"{experiment.name}: {experiment.n_runs} runs, {len(done)} already done, "
          f"{len(tasks)} to run on {backend} -> {out}")
    results = _distributed(tasks, scheduler) if scheduler else _local(tasks, workers)
    with tqdm(total=experiment.n_runs, initial=len(done), unit="run", desc=experiment.name) as bar:
        for frame in results:
            write_table(runs / f"{frame['run_id'].iloc[0]}.parquet", frame)
            bar.update()
    return out


def read_results(out: str | Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """The manifest and all finished runs of a results folder."""
    out = Path(out)
    manifest_path = out / "experiment.json"
    if not manifest_path.is_file():
        raise UserError(f"{out}: not an experiment results folder (no experiment.json)")
    files = sorted((out / "runs").glob("*.parquet"))
    if not files:
        raise UserError(f"{out}: no finished runs yet")
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return json.loads(manifest_path.read_text()), frame
