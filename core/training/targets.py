"""Matching a dataset's targets to a network's output, and scoring predictions.

Class labels become one-hot rows or a single 0/1 column depending on the loss and the
number of outputs (``core.design.outputs.target_layout``, the rule the network check
applies too); a mismatch is reported in words that say which layer to change.
"""

from __future__ import annotations

import numpy as np

from core.design.outputs import outputs_mismatch, target_layout
from core.engine.losses import LossInfo
from core.errors import DesignError, Problem


def encode_targets(y: np.ndarray, task: str, n_classes: int, outputs: int, loss: LossInfo,
                   dtype: np.dtype, path: str = "network.layers") -> np.ndarray:
    """Encode targets for ``loss`` on a network with ``outputs`` outputs.

    ``y`` is (n,) int class indices for classification or (n, targets) floats for
    regression. Returns (n, outputs) in ``dtype``. Raises ``DesignError`` on a mismatch,
    located at ``path`` (the field to change, e.g. ``network.layers[4].units``).
    """
    n = y.shape[0]
    if task == "regression":
        # Not reshape(n, -1): with no rows (an empty validation split) -1 is ambiguous.
        y = y.reshape(n, int(np.prod(y.shape[1:], dtype=np.int64)))
    n_data = y.shape[1] if task == "regression" else n_classes
    layout = target_layout(task, n_data, outputs, loss)
    if layout is None:
        raise DesignError(Problem(path, outputs_mismatch(task, n_data, outputs, loss)))
    if layout == "values":
        return y.astype(dtype)
    if layout == "binary":
        return y.reshape(n, 1).astype(dtype)
    onehot = np.zeros((n, n_classes), dtype=dtype)
    onehot[np.arange(n), y] = 1.0
    return onehot


def predicted_classes(output: np.ndarray, logits: bool) -> np.ndarray:
    """Class indices (n,) from network outputs (n, outputs): argmax, or a threshold for a
    single output (0 for logits, 0.5 for probabilities or regression-style outputs)."""
    if output.shape[1] == 1:
        return (output[:, 0] > (0.0 if logits else 0.5)).astype(np.int64)
    return np.argmax(output, axis=1)


def accuracy(output: np.ndarray, y: np.ndarray, logits: bool) -> float:
    """Fraction of samples whose predicted class equals ``y`` (n,)."""
    if y.size == 0:
        return float("nan")
    return float(np.mean(predicted_classes(output, logits) == y))


def r2_score(output: np.ndarray, target: np.ndarray) -> float:
    """Coefficient of determination averaged over target columns (as scikit-learn's
    default); ``output`` and ``target`` are (n, targets). A constant target scores 0."""
    if target.shape[0] < 2:
        return float("nan")
    t = target.astype(np.float64)
    ss_res = np.sum((t - output) ** 2, axis=0)
    ss_tot = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    safe = np.where(ss_tot > 0, ss_tot, 1.0)
    scores = np.where(ss_tot > 0, 1.0 - ss_res / safe, 0.0)
    return float(np.mean(scores))


def confusion_matrix(outputs: np.ndarray, labels: np.ndarray, n_classes: int,
                     logits: bool) -> np.ndarray:
    """Counts (n_classes, n_classes): rows are true classes, columns predicted ones."""
    pred = predicted_classes(outputs, logits)
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (labels.astype(np.int64), pred), 1)
    return matrix
