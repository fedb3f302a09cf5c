"""``main.py sweep DESIGN --space SPACE.json --trials N --workers K``: a headless
hyperparameter search (``core.sweeps``) on the design's own dataset, K trials trained at
once in worker processes.

Prints a line per trial (number, settings, objective, state, seconds) and the best
settings at the end; writes ``trials.csv`` (one row per trial of the study, resumed
ones included) and ``sweep.bpsproj`` (every trial's run record; its design has the
best settings) to the output folder. The study is kept in a SQLite file (``--storage``,
default ``OUT/study.sweeps.db``) or a database URL, so running the same command again
continues it: finished trials are kept, and trials a killed sweep left running are tried
again.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import sys
from pathlib import Path

from core.errors import DesignError, StudioError

EXIT_OK = 0


def add_sweep_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sweep`` on the command line's sub-parsers."""
    from core.sweeps.plan import default_workers

    p = sub.add_parser("sweep", help="search a design's hyperparameters (Optuna); writes "
                                     "trials.csv and a resumable study")
    p.add_argument("design", help="design file (.json) naming its dataset")
    p.add_argument("--space", required=True, metavar="SPACE.json",
                   help="the settings to vary, the objective, sampler and pruner")
    p.add_argument("--trials", type=int, metavar="N",
                   help="finished trials the study should hold (a resumed study counts "
                        "those it has); give this, --time-limit, or both")
    p.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="start no trial after this many seconds")
    p.add_argument("--workers", type=int, default=default_workers(), metavar="K",
                   help=f"trials trained at once, each in its own process (default "
                        f"{default_workers()}: the cores but one)")
    p.add_argument("--storage", metavar="PATH_OR_URL",
                   help="the study's SQLite file (default: OUT/study.sweeps.db) or a "
                        "database URL (postgresql://user@host/db) shared with "
                        "sweep-workers on other machines")
    p.add_argument("--study", metavar="NAME", help="the study's name (default: the "
                                                  "design file's name)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: "
                                                "runs/<design name>-sweep)")
    p.set_defaults(func=sweep_from_args)


def load_design_data(design, design_path: Path):  # -> (Design fitted to the data, Dataset)
    """The design fitted to its own dataset, and that dataset loaded (fetched first if it
    is a download), as ``train`` loads it."""
    from core.cli.fetch import fetch_if_needed
    from core.datasets import DatasetSpec, load_dataset
    from core.design.edit import fit_to_data

    if design.dataset is None:
        raise DesignError(f"{design_path.name} names no dataset; a sweep trains on the "
                          f"design's own dataset")
    spec = DatasetSpec.from_dict(design.dataset)
    fetch_if_needed(spec)
    dataset = load_dataset(spec, base_dir=design_path.parent)
    network = fit_to_data(design.network, dataset.n_features, dataset.image_shape)
    return dataclasses.replace(design, network=network), dataset


def _value_text(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.4g}"


def sweep_from_args(args: argparse.Namespace) -> int:
    """Run the ``sweep`` sub-command; returns the exit code (StudioError: the caller's
    one-line message and exit 2)."""
    from core.datasets.source import to_send
    from core.files.design_file import load_design
    from core.sweeps.driver import SweepDriver, TrialResult
    from core.sweeps.plan import SweepPlan
    from core.sweeps.space import load_space, params_text

    design_path = Path(args.design)
    design = load_design(design_path)
    space = load_space(args.space, design)
    out = Path(args.out) if args.out else Path("runs") / f"{design_path.stem}-sweep"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudioError(f"cannot create the output folder {out}: {exc.strerror}") from None
    storage = args.storage or str(out / "study.sweeps.db")
    name = args.study or design_path.stem
    plan = SweepPlan(space, args.trials, args.time_limit, args.workers, name, storage)
    plan.check()  # before loading a dataset
    design, dataset = load_design_data(design, design_path)
    quiet_optuna()

    def show(result: TrialResult) -> None:
        print(f"trial {result.number:>4}  {params_text(result.params)}  {space.objective} "
              f"{_value_text(result.value)}  {result.state}  ({result.seconds:.1f} s)",
              flush=True)

    from core.sweeps.storage import shown

    print(f"sweep {name!r}: {space.sampler} sampler, {space.pruner} pruner, "
          f"{space.direction} {space.objective}, {plan.workers} worker(s); study kept in "
          f"{shown(storage)}", flush=True)
    records = []

    def keep(result: TrialResult) -> None:
        show(result)
        if result.record is not None:
            records.append(result.record)

    driver = SweepDriver(design, to_send(dataset, design.dataset, design_path.parent), plan,
                         on_result=keep, task=dataset.task)
    driver.run()
    status = driver.status()
    write_trials(status, out / "trials.csv")
    best_design = design
    best = status.best
    if best is not None:
        from core.sweeps.space import apply

        best_design = apply(design, best.params)
        print(f"best: trial {best.number}  {params_text(best.params)}  {space.objective} "
              f"{_value_text(best.value)}")
    else:
        print("best: none (no trial completed)", file=sys.stderr)
    _save_records(out / "sweep.bpsproj", best_design, records)
    print(f"Trials written to {out / 'trials.csv'}; their runs to {out / 'sweep.bpsproj'}")
    return EXIT_OK


def quiet_optuna() -> None:
    """Optuna's own log lines off: ours say it all."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _save_records(path: Path, design, records: list) -> None:
    """The trials' run records in a project file whose design has the best settings; a
    resumed sweep adds its records to those the file holds."""
    from core.files.project import Project, load_project, save_project

    earlier = load_project(path).runs if path.is_file() else []
    save_project(Project(design, runs=[*earlier, *records]), path)


def write_trials(status, path: Path) -> None:
    """One row per trial of the study (a ``SweepStatus``): number, state, objective value
    (the last epoch's), seconds, worker, each parameter."""
    names = [p.name for p in status.parameters]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["number", "state", "value", "seconds", "worker", *names])
        for row in status.trials:
            writer.writerow([row.number, row.state, repr(row.value), f"{row.seconds:.3f}",
                             row.worker, *(row.params.get(n, "") for n in names)])
