"""Optimizers keyed by name, working in place on one flat parameter vector.

The network keeps every parameter in one contiguous buffer (each layer's weights are
views into it), so an update is a handful of whole-vector NumPy calls whatever the
depth. ``Optimizer.step`` is a template method: it applies the shared pieces (weight
decay, clipping) and calls the one ``_update`` each optimizer overrides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.engine.norms import stable_norm


@dataclass(frozen=True)
class OptimizerInfo:
    """One optimizer: its class, the words a user sees, and which settings it reads."""

    name: str
    label: str
    description: str
    settings: tuple[str, ...]


class Optimizer:
    """Base optimizer: ``step(params, grads)`` updates ``params`` (1-D) in place.

    Settings (``learning_rate``, ``momentum``...) are plain attributes, so a running
    trainer can change them between steps and the next step uses the new values.
    """

    name = "base"
    # Per-parameter state saved with a project, as {name in the file: attribute}.
    state_slots: dict[str, str] = {}

    def __init__(
        self,
        size: int,
        dtype: np.dtype,
        learning_rate: float = 0.01,
        momentum: float = 0.9,
        nesterov: bool = False,
        beta1: float = 0.9,
        beta2: float = 0.999,
        rho: float = 0.9,
        epsilon: float = 1e-8,
    ) -> None:
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.beta1 = beta1
        self.beta2 = beta2
        self.rho = rho
        self.epsilon = epsilon
        self.iterations = 0
        self._tmp = np.zeros(size, dtype=dtype)
        self._init_state(size, dtype)

    def _init_state(self, size: int, dtype: np.dtype) -> None:
        """Allocate per-parameter state (velocity, moments); none for plain SGD."""

    def reset(self) -> None:
        """Forget accumulated state (velocities, moments), e.g. after re-initialising."""
        self.iterations = 0
        self._init_state(self._tmp.size, self._tmp.dtype)

    def state(self) -> dict[str, np.ndarray]:
        """Copies of the per-parameter state arrays (n,) by ``state_slots`` name; with
        ``iterations`` they are all a continued run needs (SGD has none)."""
        return {k: getattr(self, attr).copy() for k, attr in self.state_slots.items()}

    def load_state(self, iterations: int, arrays: dict[str, np.ndarray]) -> None:
        """Restore ``state()`` output. Checks names and shapes before changing anything;
        ``ValueError`` names what does not fit."""
        if set(arrays) != set(self.state_slots):
            raise ValueError(f"{self.name} keeps {sorted(self.state_slots) or 'no state'}, "
                             f"got {sorted(arrays) or 'none'}")
        for k, v in arrays.items():
            if np.shape(v) != self._tmp.shape:
                raise ValueError(f"optimizer.{k}: shape {np.shape(v)} does not match the "
                                 f"network's {self._tmp.shape}")
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
            raise ValueError(f"optimizer iterations must be a non-negative integer, got "
                             f"{iterations!r}")
        self.iterations = iterations
        for k, v in arrays.items():
            np.copyto(getattr(self, self.state_slots[k]), np.asarray(v), casting="unsafe")

    def compute_update(self, grads: np.ndarray) -> np.ndarray:
        """The update Δw (n,) for ``grads`` (n,), advancing the optimizer's state but not
        touching the parameters (the trainer checks it is finite before applying it).

        The returned array is a buffer owned by the optimizer (valid until the next call).
        """
        self.iterations += 1
        return self._update(grads)

    def step(self, params: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """Apply one update to ``params`` (n,) from ``grads`` (n,); returns the update Δw."""
        delta = self.compute_update(grads)
        np.add(params, delta, out=params)
        return delta

    def _update(self, grads: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class SGD(Optimizer):
    """The seed's rule, Δw = -α ∂E/∂w."""

    name = "sgd"

    def _update(self, grads: np.ndarray) -> np.ndarray:
        return np.multiply(grads, -self.learning_rate, out=self._tmp)


class Momentum(Optimizer):
    """Heavy-ball momentum v = μv - α g, Δw = v; Nesterov looks ahead: Δw = μv - α g."""

    name = "momentum"
    state_slots = {"velocity": "_velocity"}

    def _init_state(self, size: int, dtype: np.dtype) -> None:
        self._velocity = np.zeros(size, dtype=dtype)
        self._step = np.zeros(size, dtype=dtype)

    def _update(self, grads: np.ndarray) -> np.ndarray:
        v, tmp = self._velocity, self._tmp
        np.multiply(grads, -self.learning_rate, out=tmp)
        np.multiply(v, self.momentum, out=v)
        np.add(v, tmp, out=v)
        if not self.nesterov:
            return v
        np.multiply(v, self.momentum, out=self._step)
        return np.add(self._step, tmp, out=self._step)


class RMSprop(Optimizer):
    """s = ρ s + (1-ρ) g², Δw = -α g / (√s + ε)."""

    name = "rmsprop"
    state_slots = {"sq": "_sq"}

    def _init_state(self, size: int, dtype: np.dtype) -> None:
        self._sq = np.zeros(size, dtype=dtype)

    def _update(self, grads: np.ndarray) -> np.ndarray:
        sq, tmp = self._sq, self._tmp
        np.multiply(grads, grads, out=tmp)
        np.multiply(tmp, 1.0 - self.rho, out=tmp)
        np.multiply(sq, self.rho, out=sq)
        np.add(sq, tmp, out=sq)
        np.sqrt(sq, out=tmp)
        np.add(tmp, self.epsilon, out=tmp)
        np.divide(grads, tmp, out=tmp)
        return np.multiply(tmp, -self.learning_rate, out=tmp)


class Adam(Optimizer):
    """Adam with bias correction: moments m, v of g and g²."""

    name = "adam"
    state_slots = {"m": "_m", "v": "_v"}

    def _init_state(self, size: int, dtype: np.dtype) -> None:
        self._m = np.zeros(size, dtype=dtype)
        self._v = np.zeros(size, dtype=dtype)

    def _update(self, grads: np.ndarray) -> np.ndarray:
        m, v, tmp = self._m, self._v, self._tmp
        b1, b2, t = self.beta1, self.beta2, self.iterations
        np.multiply(m, b1, out=m)
        np.multiply(grads, 1.0 - b1, out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(v, b2, out=v)
        np.multiply(grads, grads, out=tmp)
        np.multiply(tmp, 1.0 - b2, out=tmp)
        np.add(v, tmp, out=v)
        # Fold both bias corrections into the step size and epsilon: one fewer pass.
        step = self.learning_rate * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        eps = self.epsilon * math.sqrt(1.0 - b2**t)
        np.sqrt(v, out=tmp)
        np.add(tmp, eps, out=tmp)
        np.divide(m, tmp, out=tmp)
        return np.multiply(tmp, -step, out=tmp)


_CLASSES: dict[str, type[Optimizer]] = {c.name: c for c in (SGD, Momentum, RMSprop, Adam)}

OPTIMIZERS: dict[str, OptimizerInfo] = {
    i.name: i
    for i in (
        OptimizerInfo(
            "sgd", "SGD",
            "Plain gradient descent: every weight moves by -learning rate x its gradient.",
            ("learning_rate",),
        ),
        OptimizerInfo(
            "momentum", "SGD with momentum",
            "Keeps a running velocity of past updates, so steps build up along consistent "
            "directions and damp zig-zags. Nesterov evaluates the step one look ahead.",
            ("learning_rate", "momentum", "nesterov"),
        ),
        OptimizerInfo(
            "rmsprop", "RMSprop",
            "Divides each weight's step by a running average of its squared gradient: "
            "large steps for rarely-moving weights, small ones for noisy weights.",
            ("learning_rate", "rho", "epsilon"),
        ),
        OptimizerInfo(
            "adam", "Adam",
            "Momentum and RMSprop together, with bias correction: a robust default.",
            ("learning_rate", "beta1", "beta2", "epsilon"),
        ),
    )
}


def make_optimizer(name: str, size: int, dtype: np.dtype, **settings: float) -> Optimizer:
    """Create the optimizer ``name`` for a parameter vector of ``size`` elements."""
    try:
        cls = _CLASSES[name]
    except KeyError:
        raise KeyError(f"unknown optimizer {name!r}; choose one of {', '.join(_CLASSES)}") from None
    return cls(size, np.dtype(dtype), **settings)


def apply_penalties(
    params: np.ndarray, grads: np.ndarray, decay_mask: np.ndarray, l2: float, l1: float
) -> float:
    """Add the L2 and L1 penalties' gradients to ``grads`` in place; return the penalty.

    The penalty is ``l2/2 * sum(w^2) + l1 * sum(|w|)`` over the weights selected by
    ``decay_mask`` (n,) of 0/1 (weight matrices only: biases and batch-norm scales are
    not penalised). Its gradient, ``l2 * w + l1 * sign(w)``, is what makes L2 'weight
    decay'. ``params`` and ``grads`` have shape (n,).
    """
    penalty = 0.0
    if l2:
        w = params * decay_mask
        penalty += 0.5 * l2 * float(np.dot(w, w))
        w *= l2
        grads += w
    if l1:
        s = np.sign(params) * decay_mask
        penalty += l1 * float(np.dot(s, params))
        s *= l1
        grads += s
    return penalty


def clip_gradients(grads: np.ndarray, max_norm: float, max_value: float,
                   norm: float | None = None) -> float:
    """Clip ``grads`` (n,) in place: each element to ±``max_value``, then the whole vector to
    global L2 norm ``max_norm`` (0 disables either). Returns the norm before clipping;
    pass ``norm`` when it is already known."""
    if norm is None:
        norm = stable_norm(grads)
    if max_value:
        np.clip(grads, -max_value, max_value, out=grads)
    if max_norm and norm > max_norm:
        clipped = math.sqrt(float(np.dot(grads, grads))) if max_value else norm
        if clipped > max_norm:
            grads *= max_norm / clipped
    return norm
