"""What the trained model predicts, computed where the live network is, for a viewer.

The window shows the model beside its curves: the decision boundary or regression
surface over the 2-D input plane (``surface_grid``), with every neuron's output over
the same grid for the diagram (``grid_views``, one forward pass for both; see
``core.training.neuron_maps``), the fitted curve of a 1-D
regression (``fit_curve``), and a copy of the weights for the diagram
(``model_views``, which the training process sends every ``VIEW_INTERVAL`` and which a
reopened project computes from its saved weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.engine.network import Network
from core.training.neuron_maps import MAP_STRIDE, NeuronMaps, column_outputs, neuron_maps
from core.training.targets import predicted_classes

GRID_RESOLUTION = 64  # 63 = 3 * 21: the neuron maps (every third point) keep both ends


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


def on_plane(dataset) -> bool:
    """Whether ``dataset`` (a core Dataset or None) has two raw inputs: a plane the
    decision surface and the neuron maps cover."""
    raw = getattr(dataset, "x_train_raw", None)
    return raw is not None and raw.ndim == 2 and raw.shape[1] == 2


def surface_grid(network: Network, dataset, logits: bool,
                 resolution: int = GRID_RESOLUTION) -> SurfaceGrid | None:
    """The model's output over a grid covering the raw 2-D inputs (with a margin), or
    None for datasets that are not two-dimensional. ``dataset`` is a core Dataset."""
    return grid_views(network, dataset, logits, resolution)[0]


def grid_views(network: Network, dataset, logits: bool, resolution: int = GRID_RESOLUTION,
               stride: int = MAP_STRIDE) -> tuple[SurfaceGrid | None, NeuronMaps | None]:
    """The decision surface and every column's neuron maps over one grid of the raw
    2-D input plane, from one evaluation-mode forward pass (``resolution`` ** 2 points;
    the maps keep every ``stride``-th point: ``MAP_RESOLUTION`` with stride 1 gives the
    maps' own grid). (None, None) for datasets that are not two-dimensional."""
    if not on_plane(dataset):
        return None, None
    raw = dataset.x_train_raw
    both = np.concatenate([raw, dataset.x_val_raw]) if dataset.x_val_raw.size else raw
    lo, hi = both.min(axis=0), both.max(axis=0)
    pad = (hi - lo) * 0.08 + 1e-9
    lo, hi = lo - pad, hi + pad
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    columns, output, before_final = column_outputs(
        network, dataset.transform(points).astype(network.dtype))
    out = before_final if logits else output
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
    x_range, y_range = (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))
    surface = SurfaceGrid(np.asarray(values, dtype=np.float64).reshape(resolution, resolution),
                          x_range, y_range, kind)
    maps = neuron_maps(columns, resolution, dataset.task == "classification", x_range,
                       y_range, stride)
    return surface, maps


def fit_curve(network: Network, dataset, points: int = 200) -> FitCurve | None:
    """The prediction of a regression on one input feature along its range, or None."""
    raw = getattr(dataset, "x_train_raw", None)
    if raw is None or raw.shape[1] != 1 or dataset.task != "regression":
        return None
    lo, hi = float(raw.min()), float(raw.max())
    x = np.linspace(lo, hi, points).reshape(-1, 1)
    y = network.forward(dataset.transform(x).astype(network.dtype), training=False)
    return FitCurve(x[:, 0].copy(), y[:, 0].astype(np.float64))


def model_views(trainer, dataset) -> dict[str, Any]:
    """Copies of the weights (batch-norm statistics included) and the model views for
    the window (see ``ProgressBatch``): "weights", "surface", "neurons", "fit"."""
    net = trainer.network
    surface, maps = grid_views(net, dataset, trainer.stepper.logits)
    return {"weights": net.state_dict(), "surface": surface, "neurons": maps,
            "fit": fit_curve(net, dataset)}
