"""Activation functions keyed by name: the single table the builder, the inspector and
``validate()`` all read.

Each entry computes its output into a preallocated buffer and, given the gradient from
above, the gradient with respect to its input (the chain rule's local factor times the
incoming gradient). Writing into ``out`` buffers keeps the training step free of
allocations, which is what makes small networks fast in NumPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0
_GELU_C = math.sqrt(2.0 / math.pi)


class _Forward(Protocol):
    def __call__(self, x: np.ndarray, out: np.ndarray) -> np.ndarray: ...


class _Backward(Protocol):
    def __call__(
        self, x: np.ndarray, y: np.ndarray, g: np.ndarray, out: np.ndarray,
        scratch: np.ndarray | None = None,
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class ActivationInfo:
    """One activation: its functions and the words a user sees.

    ``forward(x, out)`` writes f(x); ``backward(x, y, g, out)`` writes g * f'(x) where
    ``y = f(x)`` was computed by ``forward`` (many derivatives are cheaper from y).
    All arrays have shape (batch, features); ``out`` may alias ``g`` in ``backward``, and
    ``scratch``, when given, is a buffer of the same shape it may use freely.
    """

    name: str
    label: str
    description: str
    forward: _Forward
    backward: _Backward
    output_only: bool = False
    # The outputs are normalised together (softmax: they sum to 1), so over a single
    # output the function is a constant.
    joint: bool = False
    # Units whose input stays below zero output exactly 0 with slope 0 and stop learning
    # ("dead" ReLUs); activation statistics count them.
    can_die: bool = False
    # The slope jumps at x = 0 (ReLU family): a finite difference stepping across 0 is
    # not the derivative, so gradient checks flag such entries instead of failing them.
    kink: bool = False


def _sigmoid(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(x / 2)) equals 1 / (1 + e^-x) but never overflows.
    np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    np.add(out, 1.0, out=out)
    return np.multiply(out, 0.5, out=out)


def _sigmoid_back(x: np.ndarray, y: np.ndarray, g: np.ndarray, out: np.ndarray,
        scratch: np.ndarray | None = None) -> np.ndarray:
    # sigma' = y (1 - y)
    local = np.subtract(1.0, y, out=scratch)
    np.multiply(local, y, out=local)
    return np.multiply(g, local, out=out)


def _tanh(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.tanh(x, out=out)


def _tanh_back(x: np.ndarray, y: np.ndarray, g: np.ndarray, out: np.ndarray,
        scratch: np.ndarray | None = None) -> np.ndarray:
    # tanh' = 1 - y^2, applied as g - g*y*y to stay in preallocated memory.
    tmp = np.multiply(y, y, out=scratch)
    np.multiply(tmp, g, out=tmp)
    return np.subtract(g, tmp, out=out)


def _relu(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=out)


def _relu_back(x: np.ndarray, y: np.ndarray, g: np.ndarray, out: np.ndarray,
        scratch: np.ndarray | None = None) -> np.ndarray:
    return np.multiply(g, x > 0, out=out)


def _leaky(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.maximum(x, LEAKY_SLOPE * x, out=out)


def _leaky_back(x: np.ndarray, y: np.ndarray, g: np.ndarray, out: np.ndarray,
        scratch: np.ndarray | None = None) -> np.ndarray:
    slope = np.where(x > 0, 1.0, LEAKY_SLOPE).astype(g.dtype, copy=False)
    return np.multiply(g, slope, out=out)


def _elu(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    neg = np.minimum(x, 0.0)
    np.expm1(neg, out=neg)
    np.multiply(neg, ELU_ALPHA, out=neg)
    np.copyto(out, neg)
    np.copyto(out, x, where=x > 0)
    return out


def _elu_back(x: np.ndarray, y: np.ndarray, g: np.ndarray, out: np.ndarray,
        scratch: np.ndarray | None = None) -> np.ndarray:
    # For x <= 0, d/dx alpha (e^x - 1) = y + alpha.
    local = y + ELU_ALPHA
    np.copyto(local, 1.0, where=x > 0)
    return np.multiply(g, local, out=out)


def _gelu(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # The tanh approximation (Hendrycks & Gimpel): NumPy has no erf.
    inner = x * x
    np.multiply(inner, 0.044715, out=inner)
    np.add(inner, 1.0, out=inner)
    np.multiply(inner, x, out=inner)
    np.multiply(inner, _GELU_C, out=inner)
    np.tanh(inner, out=inner)
    np.add(inner, 1.0, out=inner)
    np.multiply(inner, x, out=inner)
    return np.multiply(inner, 0.5, out=out)


def _gelu_back(x: np.ndarray, y: np.ndarray, g: np.ndarray, out: np.ndarray,
        scratch: np.ndarray | None = None) -> np.ndarray:
    x2 = x * x
    u = _GELU_C * (x + 0.044715 * x2 * x)
    t = np.tanh(u)
    du = _GELU_C * (1.0 + 3 * 0.044715 * x2)
    local = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
    return np.multiply(g, local, out=out)


def _softplus(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite for any finite x.
    t = np.abs(x)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    return np.add(np.maximum(x, 0.0), t, out=out)


def _softplus_back(x: np.ndarray, y: np.ndarray, g: np.ndarray, out: np.ndarray,
        scratch: np.ndarray | None = None) -> np.ndarray:
    local = _sigmoid(x, np.empty_like(x))
    return np.multiply(g, local, out=out)


def _linear(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.copyto(out, x)
    return out


def _linear_back(x: np.ndarray, y: np.ndarray, g: np.ndarray, out: np.ndarray,
        scratch: np.ndarray | None = None) -> np.ndarray:
    if out is not g:
        np.copyto(out, g)
    return out


def _softmax(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # Shift by the row maximum so exp never overflows (logits up to 1e4 stay finite).
    np.subtract(x, x.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    return np.divide(out, out.sum(axis=1, keepdims=True), out=out)


def _softmax_back(x: np.ndarray, y: np.ndarray, g: np.ndarray, out: np.ndarray,
        scratch: np.ndarray | None = None) -> np.ndarray:
    # Jacobian-vector product: y * (g - sum(g * y)) per row.
    dot = np.einsum("ij,ij->i", g, y)[:, None]
    np.subtract(g, dot, out=out)
    return np.multiply(out, y, out=out)


ACTIVATIONS: dict[str, ActivationInfo] = {
    a.name: a
    for a in (
        ActivationInfo(
            "sigmoid", "Sigmoid",
            "Squashes any input into (0, 1): good for a yes/no output. Its slope is at most "
            "0.25, so in deep networks gradients shrink layer by layer (vanishing gradients).",
            _sigmoid, _sigmoid_back,
        ),
        ActivationInfo(
            "tanh", "Tanh",
            "Squashes inputs into (-1, 1) and centres them on zero, which often learns faster "
            "than sigmoid; still saturates for large inputs.",
            _tanh, _tanh_back,
        ),
        ActivationInfo(
            "relu", "ReLU",
            "max(0, x): cheap, does not saturate for positive inputs, the usual choice for "
            "hidden layers of deep networks. Units stuck below zero stop learning ('dead').",
            _relu, _relu_back, kink=True, can_die=True,
        ),
        ActivationInfo(
            "leaky_relu", "Leaky ReLU",
            f"Like ReLU but with slope {LEAKY_SLOPE} for negative inputs, so no unit dies.",
            _leaky, _leaky_back, kink=True,
        ),
        ActivationInfo(
            "elu", "ELU",
            "Identity for positive inputs, a smooth curve towards -1 for negative ones: "
            "keeps activations closer to zero mean than ReLU.",
            _elu, _elu_back,
        ),
        ActivationInfo(
            "gelu", "GELU",
            "A smooth ReLU used in transformers (tanh approximation): x times the chance "
            "that a standard normal is below x.",
            _gelu, _gelu_back,
        ),
        ActivationInfo(
            "softplus", "Softplus",
            "log(1 + e^x): a smooth ReLU whose slope is the sigmoid.",
            _softplus, _softplus_back,
        ),
        ActivationInfo(
            "linear", "Linear",
            "Passes its input through unchanged: the output of a regression network.",
            _linear, _linear_back,
        ),
        ActivationInfo(
            "softmax", "Softmax",
            "Turns the output layer's scores into class probabilities that sum to 1. "
            "Only as the last layer; pairs with softmax cross-entropy.",
            _softmax, _softmax_back, output_only=True, joint=True,
        ),
    )
}


def get_activation(name: str) -> ActivationInfo:
    """Look an activation up by name; ``KeyError`` names the valid choices."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise KeyError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        ) from None
