"""A project's saved run, brought back: what to show and how to continue it.

A project file holds the weights of its latest run, that run's history and, since
project version 2, where it stood (``TrainState``). ``saved_run`` gathers these;
``replay_batch`` turns them into one ``ProgressBatch``, the same object a live run
delivers, so a window draws a reopened run exactly as it drew it live (loss, metric and
gradient curves, the diagram's weights, and the decision boundary, fitted curve or
confusion matrix computed from the saved weights by ``core.training.model_views.model_views``,
and the misclassified validation samples);
``plan_continue`` says whether a design can continue the run and what that will do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from core.design.spec import Design
from core.errors import StudioError
from core.files.project import Project
from core.records.record import RunRecord
from core.records.snapshots import EpochSnapshot
from core.training.model_views import model_views
from core.training.progress import ProgressBatch
from core.training.train_state import TrainState
from core.training.trainer import Trainer, resume_offset


@dataclass
class SavedRun:
    """The run a project's weights belong to.

    ``design``: the design it trained; ``state``: where it stood (from the file, or
    built from the weights and the last epoch of the history for files without one:
    then the optimizer starts afresh);
    ``record``: its ``RunRecord`` if the file has it; ``history`` one dict per epoch;
    ``steps`` (n, 2) of [step, batch loss]; ``grad_curves`` (m, 1 + layers) of [step,
    gradient norm per layer] (empty if unknown), columns in ``layer_names`` order.
    """

    design: Design
    state: TrainState
    record: RunRecord | None
    history: list[dict[str, float]]
    steps: np.ndarray
    grad_curves: np.ndarray
    layer_names: tuple[str, ...]

    @property
    def end_reason(self) -> str:
        """How the run ended (a key of ``END_REASONS``), "" if the file does not say."""
        return self.record.end_reason if self.record is not None else ""


def _record_of(project: Project) -> RunRecord | None:
    state = project.train_state
    if state is not None and state.run_id:
        return next((r for r in project.runs if r.id == state.run_id), None)
    # Version 1 files from the window: the latest run's loss curve is the project's.
    for run in reversed(project.runs):
        if run.loss_curve.shape == project.steps.shape and np.array_equal(
                run.loss_curve, project.steps, equal_nan=True):
            return run
    return None


def saved_run(project: Project) -> SavedRun | None:
    """The project's saved run, or None if it has no weights."""
    if project.weights is None:
        return None
    record = _record_of(project)
    history = record.history if record is not None else project.history
    steps = record.loss_curve if record is not None else project.steps
    state = project.train_state
    if state is None:
        last = history[-1] if history else {}
        step = last.get("step", steps[-1, 0] if steps.shape[0] else 0.0)
        epoch = last.get("epoch", 0.0)
        state = TrainState(epoch=int(epoch) if math.isfinite(epoch) else 0,
                           step=int(step) if math.isfinite(step) else 0,
                           weights=project.weights)
    grads = record.grad_curves if record is not None else np.zeros((0, 1))
    names = record.layer_names if record is not None else ()
    design = record.design if record is not None else project.design
    return SavedRun(design, state, record, list(history), np.asarray(steps, dtype=np.float64),
                    grads, tuple(names))


def plan_continue(saved: SavedRun, design: Design) -> tuple[TrainState | None, str]:
    """Whether ``design`` can continue ``saved``: (the state to continue from, what that
    does in words) or (None, why not)."""
    state = saved.state
    if saved.end_reason == "diverged":
        return None, "the saved run diverged"
    old = saved.design
    if old.network != design.network:
        return None, "the network has changed since the run was saved"
    # Weights saved with no dataset (a model imported from ONNX) continue on the one
    # chosen since: the network check above already says they fit it.
    if old.dataset is not None and old.dataset != design.dataset:
        return None, "the dataset has changed since the run was saved"
    if old.training.dtype != design.training.dtype:
        return None, "the precision has changed since the run was saved"
    words = []
    if state.optimizer_state or state.iterations:
        if state.optimizer == design.training.optimizer:
            words.append("with the saved optimizer state")
        else:
            state = replace(state, optimizer="", iterations=0, optimizer_state={})
            words.append(f"with a fresh {design.training.optimizer} optimizer (the run used "
                         f"{saved.state.optimizer})")
    else:
        words.append("with a fresh optimizer (the file has no optimizer state)")
    offset = resume_offset(state, design.training)
    until = offset + design.training.epochs
    return state, (f"Continue from epoch {state.epoch:,}, step {state.step:,}, "
                   f"{' '.join(words)}, until epoch {until:,}.")


def replay_batch(saved: SavedRun, design: Design, dataset) -> ProgressBatch:
    """The saved run as one progress batch: its step losses, gradient norms and epochs,
    its weights, and the model views computed from them (none if ``dataset``, a core
    Dataset or None, does not fit the design)."""
    trainer = None
    if dataset is not None:
        try:
            trainer = Trainer(design, dataset, resume=replace(
                saved.state, optimizer="", iterations=0, optimizer_state={}, position=0))
        except StudioError:
            trainer = None
    names = saved.layer_names or (trainer.layer_names if trainer is not None else ())
    steps = saved.steps.reshape(-1, 2)
    ends = np.array([row["step"] for row in saved.history], dtype=np.float64)
    grads = saved.grad_curves
    if grads.ndim != 2 or grads.shape[1] != len(names) + 1:
        grads = np.zeros((0, len(names) + 1))
    unknown = np.full((grads.shape[0], len(names)), np.nan)
    task = dataset.task if dataset is not None else "classification"
    metric = saved.record.metric_name if saved.record is not None and \
        saved.record.metric_name else ("r2" if task == "regression" else "accuracy")
    epochs = [EpochSnapshot(int(r["epoch"]), int(r["step"]), r["train_loss"], r["val_loss"],
                            r["train_metric"], r["val_metric"], metric, math.nan, 0.0)
              for r in saved.history
              if math.isfinite(r["epoch"]) and math.isfinite(r["step"])]
    batch = ProgressBatch(
        tuple(names), steps[:, 0].copy(),
        np.searchsorted(ends, steps[:, 0], side="left").astype(np.float64),
        steps[:, 1].copy(), np.zeros(steps.shape[0]), np.full(steps.shape[0], np.nan),
        grads[:, 0].copy(), grads[:, 1:].copy(), unknown, unknown.copy(), epochs)
    batch.weights = saved.state.weights
    if trainer is not None:
        views = model_views(trainer, dataset)
        batch.surface, batch.fit, batch.neurons = (views["surface"], views["fit"],
                                                    views["neurons"])
        # One pass over the validation rows for both.
        out_v = trainer.evaluate(trainer.Xv, trainer.Yv)[1]
        batch.confusion = trainer.confusion(out_v)
        batch.misclassified = trainer.misclassified(out_v)
    return batch


__all__ = ["SavedRun", "plan_continue", "replay_batch", "saved_run"]
