"""``main.py train``: headless training with files a spreadsheet can open.

Writes to the output folder: ``design.json`` (the design as trained, with the dataset
choice), ``steps.csv`` (one row per step, streamed to disk so memory stays flat, with
every layer's gradient norm), ``metrics.csv`` (one row per epoch), ``weights.safetensors``
and ``project.bpsproj`` (design, weights, the run's record with its thinned history, and
where the run stood, in one file, as the window saves it). ``train PROJECT.bpsproj
--resume`` continues the project's saved run: from its weights, optimizer state and step
count, with the same steps an uninterrupted run takes.

The run goes through ``core.training.session.run_session``; its consumers are the two
CSV writers, the progress lines and the ``RunRecorder`` whose record the project keeps.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TextIO

from core.design.edit import fit_to_data
from core.design.spec import Design
from core.errors import DesignError, StudioError
from core.files.design_file import save_design
from core.files.project import Project, save_project
from core.files.safetensors import save_safetensors
from core.records.record import next_run_name
from core.records.recorder import RunRecorder
from core.records.snapshots import EpochSnapshot, RunEnd, RunWarning, Snapshot, StepSnapshot
from core.training.session import run_session
from core.training.trainer import Trainer

EXIT_OK, EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 2, 3, 130


def _dataset_spec(args: argparse.Namespace, design: Design):  # -> DatasetSpec
    from core.datasets import DATASETS, DatasetSpec

    if args.csv:
        target: str | int | None = args.target
        # A path typed on the command line is relative to the working folder, not to the
        # design's folder (where load_dataset resolves relative paths).
        return DatasetSpec.csv(str(Path(args.csv).absolute()), target=target, task=args.task)
    if args.target:
        raise DesignError("--target only applies with --csv")
    if args.dataset:
        info = DATASETS.get(args.dataset)
        if info is None:
            raise DesignError(f"unknown dataset {args.dataset!r}; 'datasets' lists them: "
                              f"{', '.join(DATASETS)}")
        if info.kind == "builtin":
            return DatasetSpec.builtin(args.dataset)
        return DatasetSpec.synthetic(args.dataset)
    if design.dataset is None:
        raise DesignError("the design names no dataset; give --dataset NAME or --csv FILE")
    return DatasetSpec.from_dict(design.dataset)


class _Progress:
    """One line per epoch; on a terminal, a bar redrawn at most ten times a second."""

    def __init__(self, stream: TextIO, epochs: int, quiet: bool) -> None:
        self.stream = stream
        self.epochs = epochs
        self.quiet = quiet
        self.tty = stream.isatty()
        self._last = 0.0

    def add(self, snap: Snapshot) -> None:
        """A consumer of the run (``core.training.session``)."""
        if isinstance(snap, StepSnapshot):
            self.step(snap)
        elif isinstance(snap, EpochSnapshot):
            self.epoch(snap)
        elif isinstance(snap, RunWarning):  # blow_up "warn": say it, go on
            self.warn(snap.message)

    def step(self, snap: StepSnapshot) -> None:
        if self.quiet or not self.tty:
            return
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        done = min(snap.epoch / max(self.epochs, 1), 1.0)
        bar = "#" * int(done * 30)
        self.stream.write(f"\r[{bar:<30}] epoch {snap.epoch + 1}/{self.epochs} step "
                          f"{snap.step} loss {snap.loss:.4g}")
        self.stream.flush()

    def warn(self, message: str) -> None:
        """A warning on stderr, on a line of its own (clear of the progress bar)."""
        if self.tty and not self.quiet:
            self.stream.write("\r\033[K")
            self.stream.flush()
        print(f"warning: {message}", file=sys.stderr)

    def epoch(self, snap: EpochSnapshot) -> None:
        if self.quiet:
            return
        metric = "accuracy" if snap.metric_name == "accuracy" else "R²"
        val = "" if math.isnan(snap.val_loss) else (
            f"  val loss {snap.val_loss:.4g}  val {metric} {snap.val_metric:.4f}")
        prefix = "\r\033[K" if self.tty else ""
        self.stream.write(f"{prefix}epoch {snap.epoch:>5}/{self.epochs}  train loss "
                          f"{snap.train_loss:.4g}  {metric} {snap.train_metric:.4f}{val}  "
                          f"({snap.elapsed:.1f} s)\n")
        self.stream.flush()


def _load(args: argparse.Namespace) -> tuple[Design, Project | None]:
    """The design to train, and the project it came from (None for a design file)."""
    from core.files.design_file import load_design
    from core.files.project import PROJECT_SUFFIX, load_project

    if Path(args.design).suffix == PROJECT_SUFFIX:
        project = load_project(args.design)
        return project.design, project
    if args.resume:
        raise DesignError(f"--resume continues the run saved in a project file "
                          f"({PROJECT_SUFFIX}); {Path(args.design).name} is a design")
    return load_design(args.design), None


def train_from_args(args: argparse.Namespace) -> int:
    """Run the ``train`` sub-command; returns the exit code."""
    from core.datasets import load_dataset

    design, project = _load(args)
    overrides = {}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.seed is not None:
        overrides["seed"] = args.seed
    training = dataclasses.replace(design.training, **overrides)
    spec = _dataset_spec(args, design)
    if spec.kind == "csv" and not Path(spec.path).is_absolute():
        # Relative to the design's folder; the design.json written to the output folder
        # must still find the file.
        spec = dataclasses.replace(spec, path=str(Path(args.design).parent.absolute() /
                                                  spec.path))
    dataset = load_dataset(spec)
    if dataset.task_detected and args.csv:
        print(f"note: task detected as {dataset.task} from the target column (--task "
              "overrides)", file=sys.stderr)
    network = design.network
    if network.inputs != dataset.n_features:
        # The input layer is defined by the data, as in the window.
        print(f"note: the design has {network.inputs} inputs; using the dataset's "
              f"{dataset.n_features}", file=sys.stderr)
    network = fit_to_data(network, dataset.n_features, dataset.image_shape)
    design = dataclasses.replace(design, network=network, training=training,
                                 dataset=spec.to_dict())
    saved = None
    resume = None
    if args.resume:
        from core.files.saved_run import plan_continue, saved_run

        saved = saved_run(project) if project is not None else None
        if saved is None:
            raise DesignError(f"{Path(args.design).name} holds no trained weights to "
                              f"continue from")
        resume, words = plan_continue(saved, design)
        if resume is None:
            raise DesignError(f"cannot continue the saved run: {words}")
        if not args.quiet:
            print(words)
    trainer = Trainer(design, dataset, resume=resume)  # DesignError names any mismatch
    out = Path(args.out) if args.out else Path("runs") / Path(args.design).stem
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudioError(f"cannot create the output folder {out}: {exc.strerror}") from None
    save_design(design, out / "design.json")
    return _run(trainer, design, out, args, saved, project)


class _CsvFiles:
    """``steps.csv`` (one row per step, every layer's gradient norm and update ratio) and
    ``metrics.csv`` (one row per epoch), written as the run goes."""

    def __init__(self, steps: TextIO, metrics: TextIO, names: tuple[str, ...]) -> None:
        self._metrics_file = metrics
        self._steps = csv.writer(steps)
        self._steps.writerow(["step", "epoch", "loss", "penalty", "learning_rate",
                              "grad_norm", *(f"grad_norm[{n}]" for n in names),
                              *(f"update_ratio[{n}]" for n in names)])
        self._metrics = csv.writer(metrics)
        self._metrics.writerow(["epoch", "step", "train_loss", "val_loss", "train_metric",
                                "val_metric", "metric", "learning_rate", "elapsed_s"])

    def add(self, snap: Snapshot) -> None:
        if isinstance(snap, StepSnapshot):
            self._steps.writerow([snap.step, snap.epoch + 1, repr(snap.loss),
                                  repr(snap.penalty), repr(snap.learning_rate),
                                  repr(snap.grad_norm), *map(repr, snap.grad_norms),
                                  *map(repr, snap.update_ratios)])
        elif isinstance(snap, EpochSnapshot):
            self._metrics.writerow([snap.epoch, snap.step, repr(snap.train_loss),
                                    repr(snap.val_loss), repr(snap.train_metric),
                                    repr(snap.val_metric), snap.metric_name,
                                    repr(snap.learning_rate), f"{snap.elapsed:.3f}"])
            self._metrics_file.flush()


def _run(trainer: Trainer, design: Design, out: Path, args: argparse.Namespace,
         saved=None, project: Project | None = None) -> int:
    progress = _Progress(sys.stdout, trainer.epoch_offset + design.training.epochs,
                         args.quiet)
    recorder = RunRecorder(trainer.layer_names)
    runs = list(project.runs) if project is not None and saved is not None else []
    note = ""
    if saved is not None:  # a continued run's record holds the whole history
        recorder.continue_from(saved.steps, saved.grad_curves, saved.history,
                               saved.record.metric_name if saved.record else "")
        source = saved.record.name if saved.record is not None else "the saved weights"
        note = f"Continued from {source} at step {trainer.step_count:,}."
    started, t0 = datetime.now(), time.perf_counter()
    end: RunEnd | None = None  # None: interrupted with Ctrl+C
    with open(out / "steps.csv", "w", newline="", encoding="utf-8") as sf, \
            open(out / "metrics.csv", "w", newline="", encoding="utf-8") as mf:
        try:
            end = run_session(trainer, _CsvFiles(sf, mf, trainer.layer_names), recorder,
                              progress)
        except KeyboardInterrupt:
            end = None  # the weights and the record so far are saved below
    state = trainer.state()
    recorded = end or RunEnd("stopped", state.epoch, state.step,
                             f"Interrupted at step {state.step:,}.")
    record = recorder.finish(recorded, design, started, time.perf_counter() - t0,
                             name=next_run_name(runs), note=note)
    weights = state.weights
    save_safetensors(out / "weights.safetensors", weights,
                     {"format": "backprop-studio-weights", "design": "design.json"})
    save_project(Project(design, weights, [dict(row) for row in record.history],
                         record.loss_curve, [*runs, record],
                         dataclasses.replace(state, run_id=record.id)),
                 out / "project.bpsproj")
    if end is None:
        print(f"\ninterrupted: weights so far saved in {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if end.reason == "diverged":
        print(f"error: {end.message}", file=sys.stderr)
        return EXIT_DIVERGED
    if not args.quiet:
        print(f"{end.message} Files written to {out}/")
    return EXIT_OK
