"""The ``orgsim`` command line.

    orgsim run SCENARIO [--steps N] [--seed S] [--set KEY=VALUE ...] [--out DIR] [--format parquet|csv]
    orgsim compare SCENARIO [SCENARIO ...] [--seed S]
    orgsim validate FILE
    orgsim params
    orgsim scenarios
    orgsim docs [--check] [--path FILE]
    orgsim experiment FILE [--workers N] [--scheduler ADDRESS] [--out DIR] [--fresh] [--yes] [--accept-model-change]
    orgsim report DIR [--event OUTPUT<VALUE ...]
    orgsim discover DIR --kpi OUTPUT (--above X | --below X) [--week N] [--cases points|runs]
                    [--threshold D] [--min-mass M] [--box N] [--keep-insignificant]
    orgsim ui [--host H] [--port P] [--workers N] [--present] [--mesa]

A user's mistake prints one line naming the file, the key and what is
allowed, and exits with status 2; nothing is written. A problem of the
environment (a full disk, a lost Dask scheduler) prints one line and exits
with status 1; Ctrl-C exits with 130 and SIGTERM with 143. Finished runs are
kept in every case. When the reader of the
output stops early (``orgsim params | head``) orgsim stops quietly, no
traceback, with status 141 (128 + SIGPIPE) like any Unix tool.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from orgsim import __version__
from orgsim.errors import (
    EnvironmentProblem,
    Interrupted,
    UserError,
    describe_os_error,
    signals_unwrapped,
)

SUMMARY_COLUMNS = (
    "mean_attitude", "share_supporters", "knowledge_reach", "offer_fit", "trust_sales_in_marketing",
    "service_quality", "active_customers", "lost_customers", "net_promoter_score", "revenue",
)


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """``["silo_strength=0.3", "customer_network=complete"]`` -> typed values (TOML syntax)."""
    values: dict[str, Any] = {}
    for item in assignments:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. --set silo_strength=0.3")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text  # a bare word such as `complete` is a string
        values[key.strip()] = value
    return values


def _cmd_run(args: argparse.Namespace) -> int:
    import pandas as pd
    from mesa import __version__ as mesa_version

    from orgsim import scenario as scenarios
    from orgsim.io import write_json, write_table

    scenario = scenarios.load(args.scenario)
    overrides = parse_assignments(args.set or [])
    if args.steps is not None:
        overrides["steps"] = args.steps
    if args.seed is not None:
        overrides["seed"] = args.seed
    if overrides:
        scenario = scenario.with_overrides(overrides)
    out = Path(args.out) if args.out else Path("results") / "runs" / f"{scenario.name}_seed{scenario.seed}"

    started = time.perf_counter()
    model = scenario.model()
    frame = model.run(scenario.steps, progress=True)
    elapsed = time.perf_counter() - started

    table = out / ("timeseries.csv" if args.format == "csv" else "timeseries.parquet")
    write_table(table, frame)
    write_json(out / "run.json", {
        "scenario": scenario.name,
        "scenario_file": str(scenario.path),
        "seed": scenario.seed,
        "steps": scenario.steps,
        "parameters": scenario.params.model_dump(),
        "overrides": scenario.overrides,
        "interventions": [i.as_dict() for i in model.applied_interventions],
        "orgsim_version": __version__,
        "mesa_version": mesa_version,
        "python_version": platform.python_version(),
        "elapsed_seconds": round(elapsed, 3),
    })
    final = frame.iloc[-1]
    summary = pd.DataFrame({"week 0": frame.iloc[0][list(SUMMARY_COLUMNS)],
                            f"week {int(final['step'])}": final[list(SUMMARY_COLUMNS)]})
    print(f"{scenario.name} (seed {scenario.seed}, {scenario.steps} weeks, {elapsed:.2f} s)")
    print(summary.to_string(float_format=lambda v: f"{v:,.3f}"))
    print(f"wrote {table} and {out / 'run.json'}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from orgsim import scenario as scenarios

    columns = {}
    for name in args.scenarios:
        s = scenarios.load(name)
        if args.seed is not None:
            s = s.with_overrides({"seed": args.seed})
        frame = s.model().run(s.steps, progress=True)
        columns[f"{s.name} (week {s.steps})"] = frame.iloc[-1][list(SUMMARY_COLUMNS)]
    print(pd.DataFrame(columns).to_string(float_format=lambda v: f"{v:,.3f}"))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from orgsim import scenario as scenarios

    path = Path(args.file)
    if _is_experiment(path):
        from orgsim.experiment import describe_size, load_experiment

        experiment = load_experiment(path)
        print(f"{path}: valid experiment {experiment.name!r}: {describe_size(experiment)}")
        return 0
    scenario = scenarios.load(path)
    print(f"{path}: valid scenario {scenario.name!r}, {scenario.steps} weeks, seed {scenario.seed}, "
          f"{len(scenario.interventions)} interventions")
    return 0


def _is_experiment(path: Path) -> bool:
    """Experiment files list ``scenarios``; scenario files never do."""
    try:
        return "scenarios" in tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # the scenario loader reports the problem


def _cmd_params(args: argparse.Namespace) -> int:
    from orgsim.parameters import GROUPS, parameters_in_group

    for group, title in GROUPS.items():
        print(f"\n{title} [{group}]")
        for p in parameters_in_group(group):
            print(f"  {p.name:<28} {p.default!s:<18} {p.describe_range():<34} {p.unit}")
            print(f"      {p.help} ({p.claim})" if p.claim else f"      {p.help}")
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from orgsim import scenario as scenarios

    for s in scenarios.presets():
        print(f"  {s.name:<30} {s.description}")
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from orgsim import docs

    return docs.main(check=args.check, path=args.path)


def _cmd_patterns(args: argparse.Namespace) -> int:
    import os

    from orgsim import patterns
    from orgsim.io import atomic_write_text

    if args.seeds is not None and args.seeds < 2:
        raise UserError(f"--seeds {args.seeds} is not allowed; allowed: an integer >= 2 (confidence intervals need two)")
    results = patterns.run_catalogue(args.seeds, workers=args.workers or os.cpu_count() or 1)
    out = Path(args.out)
    atomic_write_text(out, patterns.markdown(results, args.seeds))
    held = sum(r.holds for r in results)
    print(f"{held} of {len(results)} patterns hold; wrote {out}")
    return 0 if held == len(results) else 1


def _cmd_experiment(args: argparse.Namespace) -> int:
    from orgsim.experiment import run_experiment

    out = run_experiment(args.file, workers=args.workers, scheduler=args.scheduler, out=args.out, fresh=args.fresh,
                         yes=args.yes, accept_model_change=args.accept_model_change)
    print(f"done: results in {out}; `orgsim report {out}` writes the statistics")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from orgsim.report import write_report

    print(f"wrote {write_report(Path(args.dir), events=args.event)}")
    return 0


def _cmd_discover(args: argparse.Namespace) -> int:
    from orgsim.discover import discover, summary, write_discovery
    from orgsim.experiment import read_results

    manifest, frame = read_results(Path(args.dir))
    result = discover(manifest, frame, args.kpi, above=args.above, below=args.below, week=args.week,
                      cases=args.cases, threshold=args.threshold, min_mass=args.min_mass, box=args.box,
                      drop_insignificant=not args.keep_insignificant)
    markdown, figure = write_discovery(Path(args.dir), result)
    print(summary(result))
    print(f"wrote {markdown} and {figure}")
    return 0


def _cmd_ui(args: argparse.Namespace) -> int:
    from orgsim.ui.serve import APP, MESA_APP, serve

    return serve(host=args.host, port=args.port, app=MESA_APP if args.mesa else APP, present=args.present,
                 workers=args.workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orgsim", description="Simulate marketing inside a firm and its market.")
    parser.add_argument("--version", action="version", version=f"orgsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one scenario and write its weekly timeseries")
    run.add_argument("scenario", help="scenario file or preset name (see `orgsim scenarios`)")
    run.add_argument("--steps", type=int, help="weeks to simulate (default: the scenario's)")
    run.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    run.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter (repeatable)")
    run.add_argument("--out", help="output folder (default: results/runs/<scenario>_seed<seed>)")
    run.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    run.set_defaults(handler=_cmd_run)

    compare = sub.add_parser("compare", help="run scenarios with the same seed and print their final KPIs side by side")
    compare.add_argument("scenarios", nargs="+", help="scenario files or preset names")
    compare.add_argument("--seed", type=int, help="seed for all (default: each scenario's)")
    compare.set_defaults(handler=_cmd_compare)

    validate = sub.add_parser("validate", help="check a scenario or experiment file without running it")
    validate.add_argument("file")
    validate.set_defaults(handler=_cmd_validate)

    sub.add_parser("params", help="list every parameter").set_defaults(handler=_cmd_params)
    sub.add_parser("scenarios", help="list the preset scenarios").set_defaults(handler=_cmd_scenarios)

    docs = sub.add_parser("docs", help="regenerate the parameter table in docs/model.md")
    docs.add_argument("--check", action="store_true", help="fail if the committed table is stale")
    docs.add_argument("--path", help="the file to rewrite (default: docs/model.md of the current folder)")
    docs.set_defaults(handler=_cmd_docs)

    patterns = sub.add_parser("patterns", help="run the pattern catalogue (claims with knockouts) and write docs/patterns.md")
    patterns.add_argument("--seeds", type=int, help="seeds per arm (default: each pattern's, 10, 20 or 40)")
    patterns.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    patterns.add_argument("--out", default="docs/patterns.md", help="markdown file to write (default: docs/patterns.md)")
    patterns.set_defaults(handler=_cmd_patterns)

    experiment = sub.add_parser("experiment", help="run a batch experiment in parallel (resumable)")
    experiment.add_argument("file", help="experiment file, e.g. experiments/silo_vs_multiplier.toml")
    experiment.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    experiment.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://127.0.0.1:8786")
    experiment.add_argument("--out", help="results folder (default: results/<experiment>)")
    experiment.add_argument("--fresh", action="store_true", help="delete the earlier results orgsim wrote in the folder (refused if it holds anything else) and start over")
    experiment.add_argument("--yes", action="store_true", help="start even a design of more than 100,000 runs")
    experiment.add_argument("--accept-model-change", action="store_true",
                            help="resume results made by another orgsim version or model code (recorded in the manifest)")
    experiment.set_defaults(handler=_cmd_experiment)

    report = sub.add_parser("report", help="write report.md with figures for an experiment's results")
    report.add_argument("dir", help="results folder, e.g. results/silo_vs_multiplier")
    report.add_argument("--event", action="append", metavar="OUTPUT<VALUE",
                        help="time-to-event: the week OUTPUT first goes below (<) or above (>) VALUE, or VALUE%% of "
                             "its week-0 value, e.g. \"active_customers<450\" or \"active_customers<90%%\" "
                             "(repeatable; replaces the default events)")
    report.set_defaults(handler=_cmd_report)

    discover = sub.add_parser("discover", help="scenario discovery: which parameter ranges lead to an outcome (PRIM); "
                                               "writes discovery.md and figures/discovery.png")
    discover.add_argument("dir", help="results folder of an experiment with a [grid] or [sample] design")
    discover.add_argument("--kpi", required=True, metavar="OUTPUT", help="the output that defines the outcome, e.g. active_customers")
    discover.add_argument("--above", type=float, metavar="X", help="the outcome: the KPI above X")
    discover.add_argument("--below", type=float, metavar="X", help="the outcome: the KPI below X")
    discover.add_argument("--week", type=int, metavar="N", help="the recorded week to judge (default: the last)")
    discover.add_argument("--cases", default="points", metavar="points|runs",
                          help="points (default): a design point is a case, its KPI the mean over its replications; "
                               "runs: every run is a case")
    discover.add_argument("--threshold", type=float, default=0.8, metavar="D",
                          help="choose the box with the highest coverage among those with density >= D (default 0.8)")
    discover.add_argument("--min-mass", type=float, default=0.05, metavar="M",
                          help="PRIM stops peeling before a box holds less than this share of the cases (default 0.05)")
    discover.add_argument("--box", type=int, metavar="N", help="choose box N of the peeling trajectory instead")
    discover.add_argument("--keep-insignificant", action="store_true",
                          help="keep the chosen box's bounds whose quasi-p-value exceeds 0.05 (default: drop them "
                               "while the box keeps its density)")
    discover.set_defaults(handler=_cmd_discover)

    ui = sub.add_parser("ui", help="serve the browser UI (default http://127.0.0.1:8765)")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    ui.add_argument("--port", type=int, default=8765)
    ui.add_argument("--present", action="store_true",
                    help="start every session in presentation mode (large KPI charts, no sidebar)")
    ui.add_argument("--workers", type=int, default=1,
                    help="server processes (default 1); for a class of more than 20, two per core (README)")
    ui.add_argument("--mesa", action="store_true",
                    help="serve OrgModel in Mesa's own SolaraViz instead (docs/mesa.md)")
    ui.set_defaults(handler=_cmd_ui)
    return parser


#: The status when the reader of orgsim's output went away (``orgsim params | head``): 128 + SIGPIPE,
#: what a shell reports for any Unix tool stopped that way (``set -o pipefail`` sees it as such).
CLOSED_PIPE_STATUS = 141


def main(argv: list[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except BrokenPipeError:
        # no traceback: the reader stopped early. Later writes (the exit's flush) go nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return CLOSED_PIPE_STATUS


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with signals_unwrapped():  # Ctrl-C during a compiled pass arrives wrapped
            return args.handler(args)
    except UserError as error:
        print(f"orgsim: error: {error}", file=sys.stderr)
        return 2
    except EnvironmentProblem as error:
        print(f"orgsim: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise  # the reader went away: handled quietly in main()
    except OSError as error:  # a file orgsim had to write or read, outside an experiment's own checks
        message, status = describe_os_error(error)
        print(f"orgsim: error: {message}", file=sys.stderr)
        return status
    except Interrupted as stop:
        print(f"orgsim: stopped by {signal.Signals(stop.signal_number).name}; finished runs are kept, "
              "the same command resumes", file=sys.stderr)
        return 128 + stop.signal_number
    except KeyboardInterrupt:
        print("orgsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
