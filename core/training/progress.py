"""Snapshots gathered into batches for a viewer that refreshes a few dozen times a second.

A trainer yields one snapshot per step (tens of thousands a second for a tiny network);
a window can show perhaps thirty updates a second. ``ProgressBatcher`` collects the
snapshots between two deliveries into one ``ProgressBatch`` of NumPy arrays, with room
for what only the training side can compute because it needs the live network (the
views of ``core.training.model_views``, the confusion matrix and the misclassified
samples). Everything in a batch is a copy; nothing refers to live arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.records.snapshots import EpochSnapshot, RunEnd, RunWarning, StepSnapshot
from core.training.misclassified import Misclassified
from core.training.model_views import FitCurve, SurfaceGrid
from core.training.neuron_maps import NeuronMaps
from core.training.train_state import TrainState


@dataclass
class ProgressBatch:
    """Everything that happened since the last delivery.

    Step arrays have one entry per step: ``steps``, ``epochs``, ``losses``,
    ``penalties``, ``learning_rates`` (k,). Detail arrays have one row per step that
    recorded per-layer figures: ``detail_steps`` (m,), ``grad_norms``, ``weight_norms``,
    ``update_ratios`` (m, layers), columns in ``layer_names`` order. ``warning`` is set
    when the run started to diverge (the blow-up rule under ``blow_up="warn"``).
    """

    layer_names: tuple[str, ...]
    steps: np.ndarray
    epochs: np.ndarray
    losses: np.ndarray
    penalties: np.ndarray
    learning_rates: np.ndarray
    detail_steps: np.ndarray
    grad_norms: np.ndarray
    weight_norms: np.ndarray
    update_ratios: np.ndarray
    epoch_snapshots: list[EpochSnapshot] = field(default_factory=list)
    end: RunEnd | None = None
    weights: dict[str, np.ndarray] | None = None
    surface: SurfaceGrid | None = None
    # Every column's neuron outputs over the surface's grid (2-D data; with the surface).
    neurons: NeuronMaps | None = None
    fit: FitCurve | None = None
    confusion: np.ndarray | None = None
    misclassified: Misclassified | None = None
    samples_per_second: float = 0.0
    # Where the run stands after the batch's last step (only when asked for, and last).
    train_state: TrainState | None = None
    warning: RunWarning | None = None

    @property
    def last_step(self) -> StepSnapshot | None:
        """The newest step's figures as a snapshot, or None if the batch has no steps."""
        if self.steps.size == 0:
            return None
        return StepSnapshot(int(self.epochs[-1]), int(self.steps[-1]), float(self.losses[-1]),
                            float(self.penalties[-1]), float(self.learning_rates[-1]), 0.0)


class ProgressBatcher:
    """Accumulates snapshots; ``take()`` returns them as one batch and starts afresh."""

    def __init__(self, layer_names: tuple[str, ...]) -> None:
        self.layer_names = layer_names
        self._reset()

    def _reset(self) -> None:
        self._steps: list[tuple[int, int, float, float, float]] = []
        self._detail: list[tuple[int, tuple[float, ...], tuple[float, ...],
                                 tuple[float, ...]]] = []
        self._epochs: list[EpochSnapshot] = []
        self._end: RunEnd | None = None
        self._warning: RunWarning | None = None

    def add(self, snap: StepSnapshot | EpochSnapshot | RunWarning | RunEnd) -> None:
        if isinstance(snap, StepSnapshot):
            if self._steps and snap.step <= self._steps[-1][0]:
                # Re-initialised: what came before is void for every viewer, so a batch
                # never mixes two starts (and its steps always increase).
                self._reset()
            self._steps.append((snap.step, snap.epoch, snap.loss, snap.penalty,
                                snap.learning_rate))
            if snap.grad_norms:
                self._detail.append((snap.step, snap.grad_norms, snap.weight_norms,
                                     snap.update_ratios))
        elif isinstance(snap, EpochSnapshot):
            self._epochs.append(snap)
        elif isinstance(snap, RunWarning):
            self._warning = snap
        else:
            self._end = snap

    @property
    def pending(self) -> int:
        return (len(self._steps) + len(self._epochs) + (self._end is not None)
                + (self._warning is not None))

    def take(self) -> ProgressBatch:
        n_layers = len(self.layer_names)
        s = np.array(self._steps, dtype=np.float64).reshape(-1, 5)
        if self._detail:
            d_steps = np.array([d[0] for d in self._detail], dtype=np.float64)
            grads = np.array([d[1] for d in self._detail], dtype=np.float64)
            weights = np.array([d[2] for d in self._detail], dtype=np.float64)
            ratios = np.array([d[3] for d in self._detail], dtype=np.float64)
        else:
            d_steps = np.zeros(0)
            grads = weights = ratios = np.zeros((0, n_layers))
        batch = ProgressBatch(self.layer_names, s[:, 0], s[:, 1], s[:, 2], s[:, 3], s[:, 4],
                              d_steps, grads.reshape(-1, n_layers),
                              weights.reshape(-1, n_layers), ratios.reshape(-1, n_layers),
                              self._epochs, self._end, warning=self._warning)
        confusions = [e.val_confusion for e in self._epochs if e.val_confusion is not None]
        if confusions:
            batch.confusion = confusions[-1]
        self._reset()
        return batch


def merge_batches(batches: list[ProgressBatch]) -> ProgressBatch | None:
    """One batch holding everything of ``batches`` (in order): step and detail rows
    concatenated, all epoch snapshots, the last end, the newest model views, warning and
    speed.
    None for an empty list."""
    if not batches:
        return None
    if len(batches) == 1:
        return batches[0]
    first, last = batches[0], batches[-1]

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(b, name) for b in batches])

    merged = ProgressBatch(
        first.layer_names, cat("steps"), cat("epochs"), cat("losses"), cat("penalties"),
        cat("learning_rates"), cat("detail_steps"), cat("grad_norms"), cat("weight_norms"),
        cat("update_ratios"), [e for b in batches for e in b.epoch_snapshots],
        next((b.end for b in reversed(batches) if b.end is not None), None))
    for name in ("weights", "surface", "neurons", "fit", "confusion", "misclassified",
                 "train_state", "warning"):
        setattr(merged, name, next((getattr(b, name) for b in reversed(batches)
                                    if getattr(b, name) is not None), None))
    merged.samples_per_second = last.samples_per_second
    return merged
