"""Runtime layers: forward and backward passes on (batch, features) arrays.

Dropout and BatchNorm also take images, (batch, channels, height, width).

A layer declares its parameters (``declare``); the network then allocates one flat
buffer for all parameters and one for all gradients and hands each layer views into
them (``bind``). Outputs and input-gradients go into per-batch-size buffers the layer
keeps, so a training step allocates almost nothing.

Conventions: ``forward(x, training)`` may keep a reference to ``x`` for the backward
pass; ``backward(g, need_input_grad)`` fills the layer's gradients (overwriting them)
and returns dE/dx, or None when ``need_input_grad`` is false. It may overwrite ``g``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
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
    """Arrays keyed by batch size (or by whole shape), made on first use (training sees
    at most two sizes per epoch: full batches and the last, shorter one)."""

    __slots__ = ("_by_n", "_make")

    def __init__(self, make: Callable[[Hashable], np.ndarray]) -> None:
        self._by_n: dict[Hashable, np.ndarray] = {}
        self._make = make

    def get(self, n: Hashable) -> np.ndarray:
        buf = self._by_n.get(n)
        if buf is None:
            if len(self._by_n) > 4:
                self._by_n.clear()
            buf = self._by_n[n] = self._make(n)
        return buf


def _Buffers(width: int, dtype: np.dtype) -> _PerBatch:  # noqa: N802 - reads as a type
    """Output buffers of shape (batch, width)."""
    return _PerBatch(lambda n: np.empty((n, width), dtype=dtype))


def _Shaped(dtype: np.dtype) -> _PerBatch:  # noqa: N802 - reads as a type
    """Buffers keyed by their whole shape, for inputs of any rank (images)."""
    return _PerBatch(lambda shape: np.empty(shape, dtype=dtype))


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
    1 / (1 - rate) while training, so evaluation needs no rescaling.

    Element-wise on any shape: on images (batch, C, H, W) each pixel of each channel is
    dropped on its own (as ``torch.nn.functional.dropout``, not whole maps as Dropout2d).
    """

    label = "Dropout"

    def __init__(self, name: str, n: int, dtype: np.dtype, rate: float,
                 rng: np.random.Generator) -> None:
        super().__init__(name, n, n, dtype)
        self.rate = rate
        self.rng = rng
        self.freeze_mask = False  # gradient checks reuse one mask across evaluations
        self.mask: np.ndarray | None = None
        self._out = _Buffers(n, dtype)
        self._out_nd = _Shaped(dtype)

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        if not training or self.rate == 0.0:
            self.mask = None
            return x
        if not (self.freeze_mask and self.mask is not None and self.mask.shape == x.shape):
            u = self.rng.random(x.shape, dtype=self.dtype)
            self.mask = (u >= self.rate).astype(self.dtype)
            self.mask *= self.dtype.type(1.0 / (1.0 - self.rate))
        out = self._out.get(x.shape[0]) if x.ndim == 2 else self._out_nd.get(x.shape)
        return np.multiply(x, self.mask, out=out)

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
    ``running = momentum * running + (1 - momentum) * batch``: PyTorch's momentum is
    1 - ours. Inputs are (batch, n), or images (batch, channels, H, W) normalised per
    channel over (batch, H, W) as ``torch.nn.BatchNorm2d``; ``channels`` (None for
    (batch, n) inputs) sets how many, and ``weight``, ``bias`` and the running
    statistics then have shape (channels,) while ``n`` stays the layer's width.
    """

    label = "BatchNorm"

    def __init__(self, name: str, n: int, dtype: np.dtype, momentum: float,
                 epsilon: float, channels: int | None = None) -> None:
        super().__init__(name, n, n, dtype)
        self.momentum = momentum
        self.epsilon = epsilon
        self.features = n if channels is None else channels
        self.running_mean = np.zeros(self.features, dtype=dtype)
        self.running_var = np.ones(self.features, dtype=dtype)
        self._out = _Buffers(n, dtype)
        self._out_nd = _Shaped(dtype)
        self._xhat: np.ndarray | None = None
        self._inv_std: np.ndarray | None = None

    def declare(self) -> list[ParamDecl]:
        return [
            ParamDecl("weight", (self.features,), False, lambda rng, shape: np.ones(shape)),
            ParamDecl("bias", (self.features,), False, lambda rng, shape: np.zeros(shape)),
        ]

    def buffers(self) -> dict[str, np.ndarray]:
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        gamma, beta = self.params["weight"], self.params["bias"]
        # Images are worked on through channels-last views (no copies), so the per-channel
        # statistics broadcast along the last axis exactly as for (batch, n) inputs.
        if x.ndim == 2:
            out = self._out.get(x.shape[0])
            xv, ov, axes, n = x, out, 0, x.shape[0]
        else:
            out = self._out_nd.get(x.shape)
            xv, ov = np.moveaxis(x, 1, -1), np.moveaxis(out, 1, -1)
            axes, n = tuple(range(x.ndim - 1)), x.size // x.shape[1]  # n: batch x H x W
        if training:
            mean = np.add.reduce(xv, axis=axes) / n
            np.subtract(xv, mean, out=ov)
            var = np.add.reduce(ov * ov, axis=axes) / n
            inv = 1.0 / np.sqrt(var + self.epsilon)
            np.multiply(ov, inv, out=ov)
            xhat = out.copy()
            self._xhat = xhat if x.ndim == 2 else np.moveaxis(xhat, 1, -1)
            self._inv_std = inv
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1.0 - m) * mean
            self.running_var *= m
            self.running_var += (1.0 - m) * (var * (n / (n - 1)) if n > 1 else var)
        else:
            np.subtract(xv, self.running_mean, out=ov)
            np.multiply(ov, 1.0 / np.sqrt(self.running_var + self.epsilon), out=ov)
        np.multiply(ov, gamma, out=ov)
        np.add(ov, beta, out=ov)
        return out

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        xhat, inv = self._xhat, self._inv_std
        if g.ndim == 2:
            gv, axes, n = g, 0, g.shape[0]
        else:
            gv, axes, n = np.moveaxis(g, 1, -1), tuple(range(g.ndim - 1)), g.size // g.shape[1]
        np.add.reduce(gv * xhat, axis=axes, out=self.grads["weight"])
        np.add.reduce(gv, axis=axes, out=self.grads["bias"])
        if not need_input_grad:
            return None
        dxhat = gv * self.params["weight"]
        # dx = inv/n * (n dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
        s1 = np.add.reduce(dxhat, axis=axes)
        s2 = np.add.reduce(dxhat * xhat, axis=axes)
        np.multiply(dxhat, n, out=dxhat)
        dxhat -= s1
        dxhat -= xhat * s2
        dxhat *= inv / n
        # Element-wise results keep g's memory order, so this view is (N, C, H, W) contiguous.
        return dxhat if g.ndim == 2 else np.moveaxis(dxhat, -1, 1)


class Residual(Layer):
    """y = f(x) + x, or f(x) + proj(x) with a learned projection when shapes differ.

    Features (batch, n): the projection is a matrix P of shape (n_in, n_out) (no bias).
    Images (batch, C, H, W): it is ``projection_layer``, a 1×1 convolution without bias
    (its stride matches the branch's output size), kept as the block's first child so its
    parameters are laid out and named like any layer's (``<block>.projection.weight``),
    where a matrix projection would be.
    """

    label = "Residual"

    def __init__(self, name: str, n_in: int, n_out: int, dtype: np.dtype,
                 layers: list[Layer], init: Initializer | None,
                 projection_layer: Layer | None = None) -> None:
        super().__init__(name, n_in, n_out, dtype)
        self.layers = layers
        self._proj_init = init
        self._proj_layer = projection_layer
        self._out = _Shaped(dtype)
        self._gin = _Shaped(dtype)
        self._x: np.ndarray | None = None

    @property
    def has_projection(self) -> bool:
        return self._proj_init is not None or self._proj_layer is not None

    def declare(self) -> list[ParamDecl]:
        if self._proj_init is None:
            return []
        return [ParamDecl("projection", (self.n_in, self.n_out), True, self._proj_init)]

    def children(self) -> list[Layer]:
        return self.layers if self._proj_layer is None else [self._proj_layer, *self.layers]

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        self._x = x
        h = x
        for layer in self.layers:
            h = layer.forward(h, training)
        out = self._out.get(h.shape)
        if self._proj_layer is not None:
            return np.add(self._proj_layer.forward(x, training), h, out=out)
        if self._proj_init is not None:
            np.dot(x, self.params["projection"], out=out)
            return np.add(out, h, out=out)
        return np.add(h, x, out=out)

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        skip = None
        if self._proj_layer is not None:
            gp = self._proj_layer.backward(g, need_input_grad)
            if need_input_grad:
                skip = self._gin.get(gp.shape)
                np.copyto(skip, gp)
        elif self._proj_init is not None:
            np.dot(self._x.T, g, out=self.grads["projection"])
            if need_input_grad:
                skip = np.dot(g, self.params["projection"].T,
                              out=self._gin.get((g.shape[0], self.n_in)))
        elif need_input_grad:
            skip = self._gin.get(g.shape)
            np.copyto(skip, g)
        # g is no longer needed by the skip path, so the branch may overwrite it.
        gb: np.ndarray | None = g
        for i in range(len(self.layers) - 1, -1, -1):
            gb = self.layers[i].backward(gb, need_input_grad or i > 0)
        if not need_input_grad:
            return None
        return np.add(skip, gb, out=skip)
