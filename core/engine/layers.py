"""Runtime layers: forward and backward passes on (batch, features) arrays.

A layer declares its parameters (``declare``); the network then allocates one flat
buffer for all parameters and one for all gradients and hands each layer views into
them (``bind``). Outputs and input-gradients go into per-batch-size buffers the layer
keeps, so a training step allocates almost nothing.

Conventions: ``forward(x, training)`` may keep a reference to ``x`` for the backward
pass; ``backward(g, need_input_grad)`` fills the layer's gradients (overwriting them)
and returns dE/dx, or None when ``need_input_grad`` is false. It may overwrite ``g``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.engine.activations import ActivationInfo

Initializer = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


@dataclass(frozen=True)
class ParamDecl:
    """A parameter a layer needs: local name, shape, whether L2/L1 apply, how to start it."""

    name: str
    shape: tuple[int, ...]
    decay: bool
    init: Initializer


class _PerBatch:
    """Arrays keyed by batch size, made on first use (training sees at most two sizes
    per epoch: full batches and the last, shorter one)."""

    __slots__ = ("_by_n", "_make")

    def __init__(self, make: Callable[[int], np.ndarray]) -> None:
        self._by_n: dict[int, np.ndarray] = {}
        self._make = make

    def get(self, n: int) -> np.ndarray:
        buf = self._by_n.get(n)
        if buf is None:
            if len(self._by_n) > 4:
                self._by_n.clear()
            buf = self._by_n[n] = self._make(n)
        return buf


def _Buffers(width: int, dtype: np.dtype) -> _PerBatch:  # noqa: N802 - reads as a type
    """Output buffers of shape (batch, width)."""
    return _PerBatch(lambda n: np.empty((n, width), dtype=dtype))


def _Ones(dtype: np.dtype) -> _PerBatch:  # noqa: N802 - reads as a type
    """Vectors of ones by length, for summing over the batch with one BLAS call."""
    return _PerBatch(lambda n: np.ones(n, dtype=dtype))


class Layer:
    """Base runtime layer. ``name`` is its dotted path, e.g. ``layers.3``."""

    label = "Layer"

    def __init__(self, name: str, n_in: int, n_out: int, dtype: np.dtype) -> None:
        self.name = name
        self.n_in = n_in
        self.n_out = n_out
        self.dtype = dtype
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def declare(self) -> list[ParamDecl]:
        """Parameters this layer owns (none by default)."""
        return []

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Receive views into the network's flat buffers, keyed by local name."""
        self.params, self.grads = params, grads

    def children(self) -> list[Layer]:
        """Layers nested inside this one (residual blocks)."""
        return []

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        raise NotImplementedError

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.params.items())
        sep = "; " if shapes else ""
        return f"{type(self).__name__}({self.name}: {self.n_in}->{self.n_out}{sep}{shapes})"


class Dense(Layer):
    """y = x W + b with W of shape (n_in, n_out) and b of shape (n_out,)."""

    label = "Dense"

    def __init__(self, name: str, n_in: int, n_out: int, dtype: np.dtype, bias: bool,
                 init: Initializer) -> None:
        super().__init__(name, n_in, n_out, dtype)
        self.has_bias = bias
        self._init = init
        self._out = _Buffers(n_out, dtype)
        self._gin = _Buffers(n_in, dtype)
        self._ones = _Ones(dtype)
        self._x: np.ndarray | None = None

    def declare(self) -> list[ParamDecl]:
        decls = [ParamDecl("weight", (self.n_in, self.n_out), True, self._init)]
        if self.has_bias:
            decls.append(ParamDecl("bias", (self.n_out,), False,
                                   lambda rng, shape: np.zeros(shape)))
        return decls

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        super().bind(params, grads)
        self.W, self.dW = params["weight"], grads["weight"]
        self.b = params.get("bias")
        self.db = grads.get("bias")

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        self._x = x
        # np.dot costs half of np.matmul's overhead on tiny arrays (same BLAS call).
        out = np.dot(x, self.W, out=self._out.get(x.shape[0]))
        if self.b is not None:
            np.add(out, self.b, out=out)
        return out

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        np.dot(self._x.T, g, out=self.dW)
        if self.db is not None:
            # A product with a ones vector is half the cost of add.reduce(axis=0).
            np.dot(self._ones.get(g.shape[0]), g, out=self.db)
        if not need_input_grad:
            return None
        return np.dot(g, self.W.T, out=self._gin.get(g.shape[0]))


class Activation(Layer):
    """Element-wise f(x) from the activations table."""

    def __init__(self, name: str, n: int, dtype: np.dtype, info: ActivationInfo) -> None:
        super().__init__(name, n, n, dtype)
        self.info = info
        self.label = info.label
        self._out = _Buffers(n, dtype)
        self._scratch = _Buffers(n, dtype)
        self._x: np.ndarray | None = None
        self.last_output: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        self._x = x
        out = self._out.get(x.shape[0])
        if x.ndim != 2:  # images (N, C, H, W): the same buffer seen in their shape
            out = out.reshape(x.shape)
        y = self.info.forward(x, out)
        self.last_output = y
        return y

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        if not need_input_grad:
            return None
        scratch = self._scratch.get(g.shape[0])
        if g.ndim != 2:
            scratch = scratch.reshape(g.shape)
        return self.info.backward(self._x, self.last_output, g, g, scratch)


class Dropout(Layer):
    """Inverted dropout: keeps each value with probability 1 - rate and scales it by
    1 / (1 - rate) while training, so evaluation needs no rescaling."""

    label = "Dropout"

    def __init__(self, name: str, n: int, dtype: np.dtype, rate: float,
                 rng: np.random.Generator) -> None:
        super().__init__(name, n, n, dtype)
        self.rate = rate
        self.rng = rng
        self.freeze_mask = False  # gradient checks reuse one mask across evaluations
        self.mask: np.ndarray | None = None
        self._out = _Buffers(n, dtype)

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        if not training or self.rate == 0.0:
            self.mask = None
            return x
        if not (self.freeze_mask and self.mask is not None and self.mask.shape == x.shape):
            u = self.rng.random(x.shape, dtype=self.dtype)
            self.mask = (u >= self.rate).astype(self.dtype)
            self.mask *= self.dtype.type(1.0 / (1.0 - self.rate))
        out = self._out.get(x.shape[0])
        return np.multiply(x, self.mask, out=out if x.ndim == 2 else out.reshape(x.shape))

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        if not need_input_grad:
            return None
        if self.mask is None:
            return g
        return np.multiply(g, self.mask, out=g)


class BatchNorm(Layer):
    """Normalise each feature over the batch, then scale by ``weight`` and shift by ``bias``.

    Training uses the batch's mean and (biased) variance and updates running statistics
    (with the unbiased variance, as PyTorch does); evaluation uses the running ones.
    """

    label = "BatchNorm"

    def __init__(self, name: str, n: int, dtype: np.dtype, momentum: float,
                 epsilon: float) -> None:
        super().__init__(name, n, n, dtype)
        self.momentum = momentum
        self.epsilon = epsilon
        self.running_mean = np.zeros(n, dtype=dtype)
        self.running_var = np.ones(n, dtype=dtype)
        self._out = _Buffers(n, dtype)
        self._xhat: np.ndarray | None = None
        self._inv_std: np.ndarray | None = None

    def declare(self) -> list[ParamDecl]:
        return [
            ParamDecl("weight", (self.n_in,), False, lambda rng, shape: np.ones(shape)),
            ParamDecl("bias", (self.n_in,), False, lambda rng, shape: np.zeros(shape)),
        ]

    def buffers(self) -> dict[str, np.ndarray]:
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        gamma, beta = self.params["weight"], self.params["bias"]
        out = self._out.get(x.shape[0])
        if training:
            n = x.shape[0]
            mean = np.add.reduce(x, axis=0) / n
            np.subtract(x, mean, out=out)
            var = np.add.reduce(out * out, axis=0) / n
            inv = 1.0 / np.sqrt(var + self.epsilon)
            np.multiply(out, inv, out=out)
            self._xhat = out.copy()
            self._inv_std = inv
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1.0 - m) * mean
            self.running_var *= m
            self.running_var += (1.0 - m) * (var * (n / (n - 1)) if n > 1 else var)
        else:
            np.subtract(x, self.running_mean, out=out)
            np.multiply(out, 1.0 / np.sqrt(self.running_var + self.epsilon), out=out)
        np.multiply(out, gamma, out=out)
        return np.add(out, beta, out=out)

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        xhat, inv = self._xhat, self._inv_std
        np.add.reduce(g * xhat, axis=0, out=self.grads["weight"])
        np.add.reduce(g, axis=0, out=self.grads["bias"])
        if not need_input_grad:
            return None
        n = g.shape[0]
        dxhat = g * self.params["weight"]
        # dx = inv/n * (n dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
        s1 = np.add.reduce(dxhat, axis=0)
        s2 = np.add.reduce(dxhat * xhat, axis=0)
        np.multiply(dxhat, n, out=dxhat)
        dxhat -= s1
        dxhat -= xhat * s2
        dxhat *= inv / n
        return dxhat


class Residual(Layer):
    """y = f(x) + x, or f(x) + x P with a learned projection P when widths differ."""

    label = "Residual"

    def __init__(self, name: str, n_in: int, n_out: int, dtype: np.dtype,
                 layers: list[Layer], init: Initializer | None) -> None:
        super().__init__(name, n_in, n_out, dtype)
        self.layers = layers
        self._proj_init = init
        self._out = _Buffers(n_out, dtype)
        self._gin = _Buffers(n_in, dtype)
        self._x: np.ndarray | None = None

    @property
    def has_projection(self) -> bool:
        return self._proj_init is not None

    def declare(self) -> list[ParamDecl]:
        if self._proj_init is None:
            return []
        return [ParamDecl("projection", (self.n_in, self.n_out), True, self._proj_init)]

    def children(self) -> list[Layer]:
        return self.layers

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        self._x = x
        h = x
        for layer in self.layers:
            h = layer.forward(h, training)
        out = self._out.get(x.shape[0])
        if self.has_projection:
            np.dot(x, self.params["projection"], out=out)
            return np.add(out, h, out=out)
        return np.add(h, x, out=out)

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        skip = None
        if self.has_projection:
            np.dot(self._x.T, g, out=self.grads["projection"])
            if need_input_grad:
                skip = np.dot(g, self.params["projection"].T, out=self._gin.get(g.shape[0]))
        elif need_input_grad:
            skip = self._gin.get(g.shape[0])
            np.copyto(skip, g)
        # g is no longer needed by the skip path, so the branch may overwrite it.
        gb: np.ndarray | None = g
        for i in range(len(self.layers) - 1, -1, -1):
            gb = self.layers[i].backward(gb, need_input_grad or i > 0)
        if not need_input_grad:
            return None
        return np.add(skip, gb, out=skip)
