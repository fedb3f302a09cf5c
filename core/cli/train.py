"""``main.py train``: headless training with files a spreadsheet can open.

Writes to the output folder: ``design.json`` (the design as trained, with the dataset
choice), ``steps.csv`` (one row per step, streamed to disk so memory stays flat, with
every layer's gradient norm), ``metrics.csv`` (one row per epoch), ``weights.safetensors``
and ``project.bpsproj`` (design, weights, thinned history and where the run stood, in
one file). ``train PROJECT.bpsproj --resume`` continues the project's saved run: from its
weights, optimizer state and step count, with the same steps an uninterrupted run takes.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import sys
import time
from pathlib import Path
from typing import TextIO

import numpy as np

from core.design.spec import Design
from core.errors import DesignError, StudioError
from core.files.design_file import save_design
from core.files.project import Project, save_project
from core.files.safetensors import save_safetensors
from core.records.history import ThinnedSeries
from core.training.trainer import EpochSnapshot, RunEnd, RunWarning, StepSnapshot, Trainer

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
    network = design.network
    if network.inputs != dataset.n_features:
        # The input layer is defined by the data, as in the window.
        print(f"note: the design has {network.inputs} inputs; using the dataset's "
              f"{dataset.n_features}", file=sys.stderr)
        network = dataclasses.replace(network, inputs=dataset.n_features)
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
    return _run(trainer, design, out, args, saved)


def _run(trainer: Trainer, design: Design, out: Path, args: argparse.Namespace,
         saved=None) -> int:
    names = trainer.layer_names
    progress = _Progress(sys.stdout, trainer.epoch_offset + design.training.epochs,
                         args.quiet)
    steps_hist = ThinnedSeries(2, capacity=10_000)
    history: list[dict[str, float]] = []
    if saved is not None:  # a continued run's project holds the whole history
        for row in saved.steps:
            steps_hist.append((row[0], row[1]))
        history = [dict(row) for row in saved.history]
    end: RunEnd | None = None
    interrupted = False
    # The trainer detects non-finite values itself and ends with "diverged": the overflow
    # on the way there is expected, not a NumPy warning to show the user.
    with np.errstate(over="ignore", invalid="ignore"), \
            open(out / "steps.csv", "w", newline="", encoding="utf-8") as sf, \
            open(out / "metrics.csv", "w", newline="", encoding="utf-8") as mf:
        steps_w = csv.writer(sf)
        steps_w.writerow(["step", "epoch", "loss", "penalty", "learning_rate", "grad_norm",
                          *(f"grad_norm[{n}]" for n in names),
                          *(f"update_ratio[{n}]" for n in names)])
        metrics_w = csv.writer(mf)
        metrics_w.writerow(["epoch", "step", "train_loss", "val_loss", "train_metric",
                            "val_metric", "metric", "learning_rate", "elapsed_s"])
        try:
            for snap in trainer.run():
                if isinstance(snap, StepSnapshot):
                    steps_w.writerow([snap.step, snap.epoch + 1, repr(snap.loss),
                                      repr(snap.penalty), repr(snap.learning_rate),
                                      repr(snap.grad_norm), *map(repr, snap.grad_norms),
                                      *map(repr, snap.update_ratios)])
                    steps_hist.append((snap.step, snap.loss))
                    progress.step(snap)
                elif isinstance(snap, EpochSnapshot):
                    metrics_w.writerow([snap.epoch, snap.step, repr(snap.train_loss),
                                        repr(snap.val_loss), repr(snap.train_metric),
                                        repr(snap.val_metric), snap.metric_name,
                                        repr(snap.learning_rate), f"{snap.elapsed:.3f}"])
                    mf.flush()
                    history.append({"epoch": snap.epoch, "step": snap.step,
                                    "train_loss": snap.train_loss, "val_loss": snap.val_loss,
                                    "train_metric": snap.train_metric,
                                    "val_metric": snap.val_metric})
                    progress.epoch(snap)
                elif isinstance(snap, RunWarning):  # blow_up "warn": say it, go on
                    progress.warn(snap.message)
                else:
                    end = snap
        except KeyboardInterrupt:
            interrupted = True
    state = trainer.state()
    weights = state.weights
    save_safetensors(out / "weights.safetensors", weights,
                     {"format": "backprop-studio-weights", "design": "design.json"})
    save_project(Project(design, weights, history, steps_hist.array(), train_state=state),
                 out / "project.bpsproj")
    if interrupted:
        print(f"\ninterrupted: weights so far saved in {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    assert end is not None
    if end.reason == "diverged":
        print(f"error: {end.message}", file=sys.stderr)
        return EXIT_DIVERGED
    if not args.quiet:
        print(f"{end.message} Files written to {out}/")
    return EXIT_OK
