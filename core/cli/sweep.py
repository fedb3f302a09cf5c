"""``main.py sweep DESIGN --space SPACE.json --trials N``: a headless hyperparameter
search (``core.sweeps``) on the design's own dataset.

Prints a line per trial (number, settings, objective, state, seconds) and the best
settings at the end; writes ``trials.csv`` (one row per trial of the study, resumed
ones included) and ``sweep.bpsproj`` (every trial's run record; its design has the
best settings) to the output folder. The study is kept in an Optuna journal file
(``--storage``, default ``OUT/study.journal``), so running the same command again with
more ``--trials`` continues it.
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
    p = sub.add_parser("sweep", help="search a design's hyperparameters (Optuna); writes "
                                     "trials.csv and a resumable study journal")
    p.add_argument("design", help="design file (.json) naming its dataset")
    p.add_argument("--space", required=True, metavar="SPACE.json",
                   help="the settings to vary, the objective, sampler and pruner")
    p.add_argument("--trials", type=int, required=True, metavar="N",
                   help="finished trials the study should hold (a resumed study counts "
                        "those it has)")
    p.add_argument("--storage", metavar="PATH",
                   help="the study's journal file (default: OUT/study.journal)")
    p.add_argument("--study", metavar="NAME", help="the study's name (default: the "
                                                  "design file's name)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: "
                                                "runs/<design name>-sweep)")
    p.set_defaults(func=sweep_from_args)


def _load_dataset(design, design_path: Path):  # -> (Design fitted to the data, Dataset)
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
    import optuna

    from core.files.design_file import load_design
    from core.sweeps.space import apply, load_space, params_text
    from core.sweeps.study import TrialResult, run_sweep

    if args.trials < 1:
        raise StudioError("--trials must be at least 1")
    design_path = Path(args.design)
    design = load_design(design_path)
    space = load_space(args.space, design)
    space.check_budget(args.trials)  # before loading a dataset
    design, dataset = _load_dataset(design, design_path)
    out = Path(args.out) if args.out else Path("runs") / f"{design_path.stem}-sweep"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudioError(f"cannot create the output folder {out}: {exc.strerror}") from None
    storage = Path(args.storage) if args.storage else out / "study.journal"
    name = args.study or design_path.stem
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our lines say it all

    def show(result: TrialResult) -> None:
        print(f"trial {result.number:>4}  {params_text(result.params)}  {space.objective} "
              f"{_value_text(result.value)}  {result.state}  ({result.seconds:.1f} s)",
              flush=True)

    print(f"sweep {name!r}: {space.sampler} sampler, {space.pruner} pruner, "
          f"{space.direction} {space.objective}; study kept in {storage}")
    records = []

    def keep(result: TrialResult) -> None:
        show(result)
        if result.record is not None:
            records.append(result.record)

    study = run_sweep(design, dataset, space, args.trials, storage, name, keep)
    _write_trials(study, out / "trials.csv", [p.name for p in space.parameters])
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    best_design = design
    if complete:
        best = study.best_trial
        best_design = apply(design, best.params)
        print(f"best: trial {best.number}  {params_text(best.params)}  {space.objective} "
              f"{_value_text(best.value)}")
    else:
        print("best: none (no trial completed)", file=sys.stderr)
    _save_records(out / "sweep.bpsproj", best_design, records)
    print(f"Trials written to {out / 'trials.csv'}; their runs to {out / 'sweep.bpsproj'}")
    return EXIT_OK


def _save_records(path: Path, design, records: list) -> None:
    """The trials' run records in a project file whose design has the best settings; a
    resumed sweep adds its records to those the file holds."""
    from core.files.project import Project, load_project, save_project

    earlier = load_project(path).runs if path.is_file() else []
    save_project(Project(design, runs=[*earlier, *records]), path)


def _write_trials(study, path: Path, names: list[str]) -> None:
    """One row per trial: number, state, objective value, seconds, each parameter."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["number", "state", "value", "seconds", *names])
        for t in study.trials:
            seconds = (t.datetime_complete - t.datetime_start).total_seconds() \
                if t.datetime_complete and t.datetime_start else math.nan
            value = t.value if t.value is not None else math.nan
            writer.writerow([t.number, t.state.name.lower(), repr(value), f"{seconds:.3f}",
                             *(t.params.get(n, "") for n in names)])
