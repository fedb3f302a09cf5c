"""Pooling and reshaping layers for (batch, C, H, W) images.

``MaxPool2D`` and ``AvgPool2D`` slide a window with no padding (PyTorch's defaults,
floor mode); each pass is one NumPy call per window offset (size*size calls), never a
loop over pixels. ``GlobalAvgPool`` averages each channel's map, ``Flatten`` turns
images into (batch, C*H*W) rows in C order, as ``torch.flatten(x, 1)``.
"""

from __future__ import annotations

import numpy as np

from core.engine.image_shapes import (
    ImageShape,
    check_image,
    check_windows,
    pair,
    strided_window,
)
from core.engine.layers import Layer, _PerBatch
from core.errors import DesignError


class _ImageLayer(Layer):
    """A parameter-free layer from images of ``in_shape`` to ``out_shape`` per sample."""

    def __init__(self, name: str, in_shape: tuple[int, int, int],
                 out_shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.in_shape: ImageShape = check_image(name, self.label, in_shape)
        self.out_shape = out_shape
        super().__init__(name, int(np.prod(in_shape)), int(np.prod(out_shape)),
                         np.dtype(dtype))

    def _check(self, x: np.ndarray) -> None:
        if x.shape[1:] != self.in_shape:
            raise DesignError(f"{self.name} ({self.label}): expects images of shape "
                              f"{self.in_shape}, got {tuple(x.shape[1:])}")


class _Pool2D(_ImageLayer):
    """Shared geometry of the windowed pools: window ``size``, ``stride`` (default: size)."""

    def __init__(self, name: str, in_shape: tuple[int, int, int],
                 size: int | tuple[int, int], stride: int | tuple[int, int] | None,
                 dtype: np.dtype) -> None:
        c, h, w = check_image(name, self.label, in_shape)
        self.size = pair(size)
        self.stride = self.size if stride is None else pair(stride)
        ho, wo = check_windows(name, self.label, "window", (h, w), self.size, self.stride)
        super().__init__(name, (c, h, w), (c, ho, wo), dtype)
        dt = self.dtype
        self._out = _PerBatch(lambda n: np.empty((n, c, ho, wo), dtype=dt))
        self._gin = _PerBatch(lambda n: np.empty((n, c, h, w), dtype=dt))
        # Windows that neither overlap nor leave pixels out let backward assign, not add.
        self._tiles = self.stride == self.size and h == self.size[0] * ho \
            and w == self.size[1] * wo

    def _offsets(self) -> list[tuple[int, int]]:
        return [(i, j) for i in range(self.size[0]) for j in range(self.size[1])]

    def _window(self, x: np.ndarray, i: int, j: int) -> np.ndarray:
        return strided_window(x, i, j, self.out_shape[1:], self.stride)


class MaxPool2D(_Pool2D):
    """y = the largest value of each window. Shapes: (N, C, H, W) -> (N, C, Ho, Wo) with
    Ho = (H - size) // stride + 1. The gradient goes to the window's maximum; of equal
    maxima, to the first in row-major order (as PyTorch)."""

    label = "MaxPool2D"

    def __init__(self, name: str, in_shape: tuple[int, int, int],
                 size: int | tuple[int, int], stride: int | tuple[int, int] | None,
                 dtype: np.dtype) -> None:
        super().__init__(name, in_shape, size, stride, dtype)
        shape, k = self.out_shape, self.size[0] * self.size[1]
        # One boolean "this offset is the window's first maximum" map per offset. Masks,
        # not an argmax index: selecting by index (copyto/where) is branchy and several
        # times slower than multiplying by a mask.
        self._masks = _PerBatch(lambda n: np.empty((k, n, *shape), dtype=bool))
        self._taken = _PerBatch(lambda n: np.empty((n, *shape), dtype=bool))
        self._scratch = _PerBatch(lambda n: np.empty((n, *shape), dtype=self.dtype))
        size = int(np.prod(in_shape))
        self._runs = _PerBatch(lambda n: np.empty(n * size, dtype=self.dtype))
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        """x: (N, C, H, W) -> (N, C, Ho, Wo), the layer's own buffer."""
        self._check(x)
        n = x.shape[0]
        out = self._out.get(n)
        kh, kw = self.size
        rows = x
        if kw > 1 and x.flags.c_contiguous:
            # Strided NumPy passes cost ~1 ns a value, contiguous ones a tenth of that:
            # take the max of each run of kw neighbours with contiguous passes over the
            # flat batch (rows[..., c] = max x[..., c:c+kw]; runs that cross a row end
            # are never read), then only kh strided passes pick the windows' rows.
            flat, run = x.reshape(-1), self._runs.get(n)
            m = flat.size - kw + 1
            np.maximum(flat[:m], flat[1:m + 1], out=run[:m])
            for j in range(2, kw):
                np.maximum(run[:m], flat[j:m + j], out=run[:m])
            rows, kw = run.reshape(x.shape), 1
        windows = [self._window(rows, i, j) for i in range(kh) for j in range(kw)]
        if len(windows) == 1:
            np.copyto(out, windows[0])
        else:
            np.maximum(windows[0], windows[1], out=out)
        for view in windows[2:]:
            np.maximum(out, view, out=out)
        self._x = x  # the masks are made in backward: evaluation never pays for them
        return out

    def _first_maxima(self, n: int) -> np.ndarray:
        """(size*size, N, C, Ho, Wo) booleans: offset k holds its window's first maximum."""
        x, out = self._x, self._out.get(n)
        hits, taken = self._masks.get(n), self._taken.get(n)
        for k, (i, j) in enumerate(self._offsets()):
            np.equal(self._window(x, i, j), out, out=hits[k])
            if k == 0:
                np.copyto(taken, hits[0])
            else:
                # Keep only maxima no earlier offset claimed: ties go to the first, as
                # PyTorch's. On booleans, a > b is a and not b.
                np.greater(hits[k], taken, out=hits[k])
                np.logical_or(taken, hits[k], out=taken)
        return hits

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        """g: (N, C, Ho, Wo) -> dE/dx (N, C, H, W), zero off the maxima."""
        if not need_input_grad:
            return None
        n = g.shape[0]
        gin, hits = self._gin.get(n), self._first_maxima(n)
        if self._tiles:
            # Every pixel lies in exactly one window: write each once, no zeroing.
            for k, (i, j) in enumerate(self._offsets()):
                np.multiply(g, hits[k], out=self._window(gin, i, j))
            return gin
        gin.fill(0.0)
        part = self._scratch.get(n)
        for k, (i, j) in enumerate(self._offsets()):
            view = self._window(gin, i, j)
            np.multiply(g, hits[k], out=part)
            np.add(view, part, out=view)  # overlapping windows: a pixel may win several
        return gin


class AvgPool2D(_Pool2D):
    """y = the mean of each window. Shapes: (N, C, H, W) -> (N, C, Ho, Wo) with
    Ho = (H - size) // stride + 1."""

    label = "AvgPool2D"

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        """x: (N, C, H, W) -> (N, C, Ho, Wo), the layer's own buffer."""
        self._check(x)
        out = self._out.get(x.shape[0])
        offsets = self._offsets()
        np.copyto(out, self._window(x, *offsets[0]))
        for i, j in offsets[1:]:
            np.add(out, self._window(x, i, j), out=out)
        out *= self.dtype.type(1.0 / len(offsets))
        return out

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        """g: (N, C, Ho, Wo) -> dE/dx (N, C, H, W)."""
        if not need_input_grad:
            return None
        gin = self._gin.get(g.shape[0])
        offsets = self._offsets()
        # g may be overwritten (layer protocol): scale it once.
        share = np.multiply(g, self.dtype.type(1.0 / len(offsets)), out=g)
        if not self._tiles:
            gin.fill(0.0)
        for i, j in offsets:
            view = self._window(gin, i, j)
            if self._tiles:
                np.copyto(view, share)
            else:
                np.add(view, share, out=view)
        return gin


class GlobalAvgPool(_ImageLayer):
    """The mean of each channel's map: (N, C, H, W) -> (N, C)."""

    label = "GlobalAvgPool"

    def __init__(self, name: str, in_shape: tuple[int, int, int], dtype: np.dtype) -> None:
        c, h, w = check_image(name, self.label, in_shape)
        super().__init__(name, (c, h, w), (c,), dtype)
        dt = self.dtype
        self._out = _PerBatch(lambda n: np.empty((n, c), dtype=dt))
        self._gin = _PerBatch(lambda n: np.empty((n, c, h, w), dtype=dt))
        # Means and their gradient as BLAS products with a (H*W,) vector of 1/(H*W):
        # 5-8x faster than add.reduce and a broadcast multiply over short rows.
        self._share = np.full(h * w, 1.0 / (h * w), dtype=dt)

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        """x: (N, C, H, W) -> (N, C), the layer's own buffer."""
        self._check(x)
        n, c = x.shape[:2]
        out = self._out.get(n)
        np.dot(x.reshape(n * c, -1), self._share, out=out.reshape(-1))
        return out

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        """g: (N, C) -> dE/dx (N, C, H, W): each pixel gets g / (H*W)."""
        if not need_input_grad:
            return None
        gin = self._gin.get(g.shape[0])
        n, c = g.shape
        # The outer product g (N*C, 1) x share (1, H*W), straight into gin.
        np.dot(g.reshape(n * c, 1), self._share[None, :], out=gin.reshape(n * c, -1))
        return gin


class Flatten(_ImageLayer):
    """(N, C, H, W) -> (N, C*H*W) rows in C order (channel slowest), as
    ``torch.flatten(x, 1)``. A view when the input is contiguous."""

    label = "Flatten"

    def __init__(self, name: str, in_shape: tuple[int, int, int], dtype: np.dtype) -> None:
        c, h, w = check_image(name, self.label, in_shape)
        super().__init__(name, (c, h, w), (c * h * w,), dtype)

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        self._check(x)
        return x.reshape(x.shape[0], -1)

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        if not need_input_grad:
            return None
        return g.reshape(g.shape[0], *self.in_shape)


__all__ = ["AvgPool2D", "Flatten", "GlobalAvgPool", "MaxPool2D"]
