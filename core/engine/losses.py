"""Losses keyed by name: each gives the error E of a batch and dE/d(output).

The targets are already encoded to the output's shape (one-hot rows for class labels).
Two losses are *fused* with the output activation for numerical stability: binary
cross-entropy takes the logits that feed the final sigmoid, softmax cross-entropy the
logits that feed the final softmax. For them "the network output" in ``gradient`` means
those logits, and the network skips its final activation when training with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

HUBER_DELTA = 1.0


class _ValueAndGrad(Protocol):
    def __call__(self, output: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]: ...


@dataclass(frozen=True)
class LossInfo:
    """One loss: ``value_and_grad(output, target) -> (E, dE/doutput)``.

    ``output`` and ``target`` have shape (batch, outputs); the gradient has the same
    shape. ``fused_activation`` names the final activation the loss absorbs, if any.
    ``tasks`` lists the dataset tasks it makes sense for. ``one_hot``: the targets must
    be one-hot rows, one output per class (so at least 2 outputs); otherwise two classes
    may also be one 0/1 output.
    """

    name: str
    label: str
    description: str
    value_and_grad: _ValueAndGrad
    fused_activation: str | None = None
    tasks: tuple[str, ...] = ("regression", "classification")
    one_hot: bool = False

    def value(self, output: np.ndarray, target: np.ndarray) -> float:
        """The loss E of one batch (a Python float)."""
        return self.value_and_grad(output, target)[0]

    def gradient(self, output: np.ndarray, target: np.ndarray) -> np.ndarray:
        """dE/doutput, shape (batch, outputs)."""
        return self.value_and_grad(output, target)[1]


def _mse(output: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    # The seed's E = (1/n) sum (y - yhat)^2 with n the number of outputs, also averaged
    # over the batch so the learning rate does not depend on the batch size.
    diff = np.subtract(output, target)
    value = float(np.vdot(diff, diff)) / diff.size
    np.multiply(diff, 2.0 / diff.size, out=diff)
    return value, diff


def _mae(output: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    diff = np.subtract(output, target)
    value = float(np.abs(diff).sum()) / diff.size
    return value, np.sign(diff) / diff.size


def _huber(output: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    d = np.subtract(output, target)
    a = np.abs(d)
    quad = np.minimum(a, HUBER_DELTA)
    value = float((0.5 * quad * quad + HUBER_DELTA * (a - quad)).sum()) / d.size
    return value, np.clip(d, -HUBER_DELTA, HUBER_DELTA) / d.size


def _bce_logits(z: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    # -[y log s(z) + (1-y) log(1-s(z))] = max(z,0) - z y + log1p(e^-|z|): no overflow
    # for logits of any size.
    soft = np.log1p(np.exp(-np.abs(z)))
    value = float((np.maximum(z, 0.0) - z * target + soft).sum()) / z.size
    s = np.tanh(z * 0.5)
    s += 1.0
    s *= 0.5
    s -= target
    s /= z.size
    return value, s


def _softmax_ce_logits(z: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    log_p = shifted - np.log(total)
    n = z.shape[0]
    value = -float(np.vdot(target, log_p)) / n
    e /= total
    e -= target
    e /= n
    return value, e


LOSSES: dict[str, LossInfo] = {
    item.name: item
    for item in (
        LossInfo(
            "mse", "Mean squared error",
            "E = (1/n) sum (y - yhat)^2: the average squared distance between target and "
            "prediction. The usual loss for regression.",
            _mse,
        ),
        LossInfo(
            "mae", "Mean absolute error",
            "The average absolute distance: less swayed by outliers than MSE.",
            _mae,
        ),
        LossInfo(
            "huber", "Huber",
            f"Squared error for small mistakes (below {HUBER_DELTA}), absolute error for "
            "large ones: robust to outliers yet smooth near zero.",
            _huber,
        ),
        LossInfo(
            "binary_cross_entropy", "Binary cross-entropy",
            "For yes/no outputs after a sigmoid: punishes confident wrong answers hard. "
            "Computed from the sigmoid's input so it never overflows.",
            _bce_logits, fused_activation="sigmoid", tasks=("classification",),
        ),
        LossInfo(
            "softmax_cross_entropy", "Softmax cross-entropy",
            "For one-of-C classes after a softmax: minus the log of the probability given "
            "to the right class. Computed together with the softmax for stability.",
            _softmax_ce_logits, fused_activation="softmax", tasks=("classification",),
            one_hot=True,
        ),
    )
}


def get_loss(name: str) -> LossInfo:
    """Look a loss up by name; ``KeyError`` names the valid choices."""
    try:
        return LOSSES[name]
    except KeyError:
        raise KeyError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
