"""Snapshots gathered into batches for a viewer that refreshes a few dozen times a second.

A trainer yields one snapshot per step (tens of thousands a second for a tiny network);
a window can show perhaps thirty updates a second. ``ProgressBatcher`` collects the
snapshots between two deliveries into one ``ProgressBatch`` of NumPy arrays, and adds
what only the training side can compute because it needs the live network: a copy of
the weights for the diagram, the model's predictions over a grid of the input plane
(decision boundary or regression surface), the fitted curve of a 1-D regression, and
the confusion matrix. Everything in a batch is a copy; nothing refers to live arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.engine.network import Network
from core.records.snapshots import EpochSnapshot, RunEnd, RunWarning, StepSnapshot
from core.training.targets import predicted_classes
from core.training.train_state import TrainState

GRID_RESOLUTION = 64


@dataclass(frozen=True)
class SurfaceGrid:
    """Model output over a grid of the raw 2-D input plane.

    ``values`` (ny, nx): probability of class 1 (binary), predicted class index
    (multi-class, as float) or the regression output; ``x_range``/``y_range`` are the
    raw-coordinate extents the grid covers; ``kind`` is "probability", "classes" or
    "regression".
    """

    values: np.ndarray
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    kind: str


@dataclass(frozen=True)
class FitCurve:
    """A 1-D regression's prediction: ``x`` (n,) raw input, ``y`` (n,) model output."""

    x: np.ndarray
    y: np.ndarray


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
    fit: FitCurve | None = None
    confusion: np.ndarray | None = None
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


# ------------------------------------------------------------- model views


def surface_grid(network: Network, dataset, logits: bool,
                 resolution: int = GRID_RESOLUTION) -> SurfaceGrid | None:
    """The model's output over a grid covering the raw 2-D inputs (with a margin), or
    None for datasets that are not two-dimensional. ``dataset`` is a core Dataset."""
    raw = getattr(dataset, "x_train_raw", None)
    if raw is None or raw.shape[1] != 2:
        return None
    both = np.concatenate([raw, dataset.x_val_raw]) if dataset.x_val_raw.size else raw
    lo, hi = both.min(axis=0), both.max(axis=0)
    pad = (hi - lo) * 0.08 + 1e-9
    lo, hi = lo - pad, hi + pad
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    out = network.forward(dataset.transform(points).astype(network.dtype), training=False,
                          logits=logits)
    if dataset.task == "regression":
        values, kind = out[:, 0], "regression"
    elif out.shape[1] == 1:
        z = out[:, 0].astype(np.float64)
        values = 0.5 * (1.0 + np.tanh(0.5 * z)) if logits else z
        kind = "probability"
    elif out.shape[1] == 2:
        z = out.astype(np.float64)
        if logits:
            z = np.exp(z - z.max(axis=1, keepdims=True))
            z /= z.sum(axis=1, keepdims=True)
        values, kind = z[:, 1], "probability"
    else:
        values, kind = predicted_classes(out, logits).astype(np.float64), "classes"
    return SurfaceGrid(np.asarray(values, dtype=np.float64).reshape(resolution, resolution),
                       (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])), kind)


def fit_curve(network: Network, dataset, points: int = 200) -> FitCurve | None:
    """The prediction of a regression on one input feature along its range, or None."""
    raw = getattr(dataset, "x_train_raw", None)
    if raw is None or raw.shape[1] != 1 or dataset.task != "regression":
        return None
    lo, hi = float(raw.min()), float(raw.max())
    x = np.linspace(lo, hi, points).reshape(-1, 1)
    y = network.forward(dataset.transform(x).astype(network.dtype), training=False)
    return FitCurve(x[:, 0].copy(), y[:, 0].astype(np.float64))




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
    for name in ("weights", "surface", "fit", "confusion", "train_state", "warning"):
        setattr(merged, name, next((getattr(b, name) for b in reversed(batches)
                                    if getattr(b, name) is not None), None))
    merged.samples_per_second = last.samples_per_second
    return merged
