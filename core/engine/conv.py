"""Conv2D: a 2-D convolution (cross-correlation, as PyTorch) on (batch, C, H, W) images.

Both passes are "im2col": every kernel window is copied into a column buffer (one
copy of a strided view) and the convolution becomes matrix products; the bias rides in
them as a row of ones in the columns. The input gradient is summed back from the column
gradient ("col2im"), or, in the batch-last layout at stride 1, computed as a convolution
of the zero-padded output gradient with the flipped kernels. Images arrive and leave as
(N, C, H, W); inside, a layer uses one of two layouts, chosen by shape when it is built
(``path``):

- ``"batch_last"`` (any stride): the padded input is copied to (C, Hp, Wp, N), so a
  kernel offset's windows of the whole batch are runs of Wo*N contiguous values, and
  forward, weight gradient and column gradient are each ONE matrix product over all
  Ho*Wo*N output positions. It pays for two transposing copies each way; small maps
  (the 8×8 digits, inner layers) gain most, since a product per sample would be tiny.
- ``"wide"`` (stride 1, maps of at least ``WIDE_MIN_POSITIONS`` outputs): each sample's
  padded image stays (C, Hp*Wp) and output position (r, c) sits at r*Wp + c, so each
  kernel offset's windows are ONE contiguous slice per sample, copied without
  transposing; the products run per sample (batched matmul) and compute Wp - Wo spare
  columns per row that are dropped. Large first layers (28×28) gain most.

Every buffer is kept per batch size, so a training step allocates almost nothing.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from core.engine.image_shapes import (
    ImageShape,
    check_image,
    check_windows,
    pair,
    same_padding,
)
from core.engine.layers import Initializer, Layer, ParamDecl, _PerBatch
from core.errors import DesignError

PADDINGS = ("valid", "same")
PATHS = ("batch_last", "wide")
# Output positions per sample from which the wide layout wins (measured with
# bench/conv_layers.py: 26×26 maps 1.6x faster wide, 8×8 and 4×4 maps 1.5-2x faster
# batch-last, 11×11 about even).
WIDE_MIN_POSITIONS = 100


def to_batch_last(src: np.ndarray, dst: np.ndarray, scratch: np.ndarray) -> None:
    """Copy src (N, F, P) into dst (F, P, N).

    A direct copy reads src with a stride of F*P values from one sample to the next;
    when that stride is a multiple of 2 KiB, the reads of one output row all land in a
    few L1 cache sets and the copy runs 3-5x slower. Then it goes through ``scratch``
    (F, N, P): swap the outer axes (runs of P), then transpose each (N, P) block."""
    if src.strides[0] % 2048 == 0:
        np.copyto(scratch, src.transpose(1, 0, 2))
        np.copyto(dst, scratch.transpose(0, 2, 1))
    else:
        np.copyto(dst, src.transpose(1, 2, 0))


class Conv2D(Layer):
    """y[n, f] = sum_c x[n, c] ⋆ weight[f, c] + bias[f].

    Shapes: input (N, C, H, W); weight (F, C, kh, kw) as PyTorch; bias (F,);
    output (N, F, Ho, Wo). Padding ``valid`` adds none (Ho = (H - kh) // stride + 1);
    ``same`` pads with zeros so Ho = ceil(H / stride), the smaller half before.
    ``path`` forces a layout (``"batch_last"`` or ``"wide"``, see the module); None
    chooses by shape. Both give the same values up to float rounding.
    """

    label = "Conv2D"

    def __init__(self, name: str, in_shape: tuple[int, int, int], filters: int,
                 kernel: int | tuple[int, int], stride: int | tuple[int, int],
                 padding: str, bias: bool, dtype: np.dtype, init: Initializer,
                 path: str | None = None) -> None:
        c, h, w = check_image(name, self.label, in_shape)
        self.kernel, self.stride = pair(kernel), pair(stride)
        if filters < 1:
            raise DesignError(f"{name} ({self.label}): needs at least 1 filter, got {filters}")
        if padding not in PADDINGS:
            raise DesignError(f"{name} ({self.label}): padding must be 'valid' or 'same', "
                              f"got {padding!r}")
        kh, kw = self.kernel
        if padding == "same":
            self.pad_h = same_padding(h, kh, self.stride[0])
            self.pad_w = same_padding(w, kw, self.stride[1])
        else:
            self.pad_h = self.pad_w = (0, 0)
        hp, wp = h + sum(self.pad_h), w + sum(self.pad_w)
        ho, wo = check_windows(name, self.label, "kernel", (hp, wp), self.kernel, self.stride)
        self.in_shape: ImageShape = (c, h, w)
        self.out_shape: ImageShape = (filters, ho, wo)
        super().__init__(name, c * h * w, filters * ho * wo, np.dtype(dtype))
        self.filters, self.padding, self.has_bias = filters, padding, bias
        self._init = init
        self._padded = (hp, wp) != (h, w)
        if path is None:
            wide = self.stride == (1, 1) and ho * wo >= WIDE_MIN_POSITIONS
            path = "wide" if wide else "batch_last"
        if path not in PATHS or (path == "wide" and self.stride != (1, 1)):
            raise ValueError(f"{name}: path must be one of {PATHS} ('wide' needs stride 1), "
                             f"got {path!r} with stride {self.stride}")
        self.path = path
        dt, k = self.dtype, c * kh * kw
        self._out = _PerBatch(lambda n: np.empty((n, filters, ho, wo), dtype=dt))
        self._gin = _PerBatch(lambda n: np.empty((n, c, h, w), dtype=dt))
        self._cols_now: np.ndarray | None = None
        # The bias rides in the products: the columns get a row of ones and the weights
        # a column holding the bias, so the forward product adds it and the weight-gradient
        # product yields its gradient (no passes of their own, which cost more than the
        # extra row: dropping the wide columns and adding the bias took 2x a plain copy).
        self._rows = k + 1 if bias else k
        self._w_b = np.empty((filters, self._rows), dtype=dt)  # [W | b]
        if path == "wide":
            self._init_wide(c, hp, wp, k)
        else:
            self._init_batch_last(c, hp, wp, k)

    def _init_wide(self, c: int, hp: int, wp: int, k: int) -> None:
        (kh, kw), (f, ho, wo), dt = self.kernel, self.out_shape, self.dtype
        # The wp - wo extra columns per output row are computed and dropped (their
        # gradient is kept at zero).
        span = (ho - 1) * wp + wo
        self._span, self._wp = span, wp

        def padded(n: int) -> np.ndarray:
            return np.zeros((n, c, hp, wp), dtype=dt)  # borders stay zero for good

        def columns(n: int) -> np.ndarray:
            cols = np.empty((n, self._rows, span), dtype=dt)
            cols[:, k:] = 1.0  # the bias row, never overwritten
            return cols

        self._xp = _PerBatch(padded)
        self._cols = _PerBatch(columns)
        # Input gradient: the column gradient laid out (C*kh*kw, batch, hp*wp) and summed
        # into (C, batch*hp*wp + spill), so each kernel offset is ONE long contiguous
        # add over the whole batch (short rows cost NumPy ~50 ns each).
        plane = hp * wp
        spill = (kh - 1) * wp + kw - 1
        self._dcols_t = _PerBatch(lambda n: np.empty((k, n, plane), dtype=dt))
        self._sums = _PerBatch(lambda n: np.empty((c, n * plane + spill), dtype=dt))
        # Wide products and the wide gradient; the gradient's extra columns stay zero.
        self._out_wide = _PerBatch(lambda n: np.empty((n, f, ho * wp), dtype=dt))
        self._g_wide = _PerBatch(lambda n: np.zeros((n, f, hp * wp), dtype=dt))
        self._dw_each = _PerBatch(lambda n: np.empty((n, f, self._rows), dtype=dt))
        self._dw_b = np.empty((f, self._rows), dtype=dt)  # [dW | db]

    def _init_batch_last(self, c: int, hp: int, wp: int, k: int) -> None:
        (f, ho, wo), dt = self.out_shape, self.dtype
        positions, rows = ho * wo, self._rows

        def padded(n: int) -> tuple[np.ndarray, np.ndarray]:
            # Borders stay zero for good. The windows view is kept with its image: making
            # a strided view costs several µs, a tenth of a small layer's im2col.
            image = np.zeros((c, hp, wp, n), dtype=dt)
            return image, self._all_windows(image)

        def columns(n: int) -> np.ndarray:
            cols = np.empty((rows, positions * n), dtype=dt)
            cols[k:] = 1.0  # the bias row, never overwritten
            return cols

        self._xt = _PerBatch(padded)
        self._dxt = _PerBatch(lambda n: np.empty((c, hp, wp, n), dtype=dt))
        self._cols = _PerBatch(columns)
        self._dcols = _PerBatch(lambda n: np.empty((k, positions * n), dtype=dt))
        self._out_t = _PerBatch(lambda n: np.empty((f, positions * n), dtype=dt))
        self._g_t = _PerBatch(lambda n: np.empty((f, positions * n), dtype=dt))
        self._g_scratch = _PerBatch(lambda n: np.empty((f, n, positions), dtype=dt))
        self._dw_t = np.empty((rows, f), dtype=dt)  # [dW | db] transposed
        if self.stride == (1, 1):  # the input gradient as a convolution
            (kh, kw), (_, h, w) = self.kernel, self.in_shape
            gh, gw = h + kh - 1, w + kw - 1

            def padded_grad(n: int) -> tuple[np.ndarray, np.ndarray]:
                image = np.zeros((f, gh, gw, n), dtype=dt)  # borders stay zero for good
                return image, self._all_windows(image, (h, w), (1, 1))

            self._g_pad = _PerBatch(padded_grad)
            self._cols_g = _PerBatch(lambda n: np.empty((f * kh * kw, h * w * n), dtype=dt))
            self._dx_t = _PerBatch(lambda n: np.empty((c, h * w * n), dtype=dt))
            self._w_flip = np.empty((c, f * kh * kw), dtype=dt)

    def declare(self) -> list[ParamDecl]:
        shape = (self.filters, self.in_shape[0], *self.kernel)
        decls = [ParamDecl("weight", shape, True, self._init)]
        if self.has_bias:
            decls.append(ParamDecl("bias", (self.filters,), False,
                                   lambda rng, shape: np.zeros(shape)))
        return decls

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        super().bind(params, grads)
        f = self.filters
        # (F, C, kh, kw) flat-buffer views seen as (F, C*kh*kw) matrices: no copies.
        self.W = params["weight"].reshape(f, -1)
        self.dW = grads["weight"].reshape(f, -1)
        assert np.shares_memory(self.W, params["weight"])
        assert np.shares_memory(self.dW, grads["weight"])
        self.b = params.get("bias")
        self.db = grads.get("bias")

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        """x: (N, C, H, W) -> (N, F, Ho, Wo), the layer's own buffer."""
        if x.shape[1:] != self.in_shape:
            raise DesignError(f"{self.name} ({self.label}): expects images of shape "
                              f"{self.in_shape}, got {tuple(x.shape[1:])}")
        if self.path == "wide":
            return self._forward_wide(x)
        return self._forward_batch_last(x)

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        """g: (N, F, Ho, Wo) -> dE/dx (N, C, H, W); fills weight and bias gradients."""
        if self.path == "wide":
            return self._backward_wide(g, need_input_grad)
        return self._backward_batch_last(g, need_input_grad)

    # ------------------------------------------------------------- batch-last
    def _windows(self, image: np.ndarray, i: int, j: int) -> np.ndarray:
        """Kernel offset (i, j) of every window of image (C, Hp, Wp, N): (C, Ho, Wo, N)."""
        (sh, sw), (_, ho, wo) = self.stride, self.out_shape
        return image[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]

    def _weights(self) -> np.ndarray:
        """The (F, C*kh*kw) weight matrix, with the bias as one more column if any."""
        if self.b is None:
            return self.W
        k = self.W.shape[1]
        np.copyto(self._w_b[:, :k], self.W)
        np.copyto(self._w_b[:, k], self.b)
        return self._w_b

    def _all_windows(self, image: np.ndarray, out_hw: tuple[int, int] | None = None,
                     stride: tuple[int, int] | None = None) -> np.ndarray:
        """Every kernel offset's windows of image (C, Hp, Wp, N) as one read-only view
        (C, kh, kw, Ho, Wo, N): im2col is then one copy, not kh*kw calls. ``out_hw`` and
        ``stride`` default to the layer's own."""
        (kh, kw), (sh, sw) = self.kernel, stride or self.stride
        ho, wo = out_hw or self.out_shape[1:]
        c, row, col, one = image.strides
        return as_strided(image, (image.shape[0], kh, kw, ho, wo, image.shape[3]),
                          (c, row, col, row * sh, col * sw, one), writeable=False)

    def _forward_batch_last(self, x: np.ndarray) -> np.ndarray:
        n, (c, h, w), (kh, kw) = x.shape[0], self.in_shape, self.kernel
        f, (_, ho, wo) = self.filters, self.out_shape
        k = c * kh * kw
        xt, windows = self._xt.get(n)
        (t, _), (le, _) = self.pad_h, self.pad_w
        np.copyto(xt[:, t:t + h, le:le + w], x.transpose(1, 2, 3, 0))
        cols = self._cols_now = self._cols.get(n)
        np.copyto(cols[:k].reshape(c, kh, kw, ho, wo, n), windows)
        out_t = np.dot(self._weights(), cols, out=self._out_t.get(n))  # (F, Ho*Wo*N)
        out = self._out.get(n)
        np.copyto(out, out_t.reshape(f, ho, wo, n).transpose(3, 0, 1, 2))
        return out

    def _backward_batch_last(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        n, (c, h, w), (kh, kw) = g.shape[0], self.in_shape, self.kernel
        f, (_, ho, wo) = self.filters, self.out_shape
        k = c * kh * kw
        g_t = self._g_t.get(n)  # (F, Ho*Wo*N)
        to_batch_last(g.reshape(n, f, -1), g_t.reshape(f, -1, n), self._g_scratch.get(n))
        # [dW | db]^T = cols g_t^T: of the two orders, the one OpenBLAS runs fastest here.
        np.dot(self._cols_now, g_t.T, out=self._dw_t)
        np.copyto(self.dW, self._dw_t[:k].T)
        if self.db is not None:
            np.copyto(self.db, self._dw_t[k])
        if not need_input_grad:
            return None
        if self.stride == (1, 1):
            return self._input_grad_stride1(g_t, n)
        dcols = np.dot(self.W.T, g_t, out=self._dcols.get(n))
        d6 = dcols.reshape(c, kh, kw, ho, wo, n)
        dxt = self._dxt.get(n)
        overlap = self.stride[0] < kh or self.stride[1] < kw
        dxt.fill(0.0)
        for i in range(kh):
            for j in range(kw):
                view = self._windows(dxt, i, j)
                if overlap:
                    np.add(view, d6[:, i, j], out=view)
                else:  # windows do not overlap: each pixel gets at most one value
                    np.copyto(view, d6[:, i, j])
        (t, _), (le, _) = self.pad_h, self.pad_w
        gin = self._gin.get(n)
        np.copyto(gin, dxt[:, t:t + h, le:le + w].transpose(3, 0, 1, 2))
        return gin

    def _input_grad_stride1(self, g_t: np.ndarray, n: int) -> np.ndarray:
        """Stride 1: dE/dx as the convolution of the zero-padded output gradient with the
        kernels flipped and channels swapped: an im2col copy and one product, where
        col2im would add kh*kw strided blocks (about 2x the time on 4×4 maps)."""
        (c, h, w), (kh, kw), (f, ho, wo) = self.in_shape, self.kernel, self.out_shape
        top, left = kh - 1 - self.pad_h[0], kw - 1 - self.pad_w[0]
        gp, windows = self._g_pad.get(n)  # gp: (F, H + kh - 1, W + kw - 1, N)
        np.copyto(gp[:, top:top + ho, left:left + wo], g_t.reshape(f, ho, wo, n))
        cols = self._cols_g.get(n)  # (F*kh*kw, H*W*N)
        np.copyto(cols.reshape(f, kh, kw, h, w, n), windows)
        flipped = self._w_flip  # (C, F*kh*kw): w_flip[c, f, i, j] = W[f, c, -1-i, -1-j]
        np.copyto(flipped.reshape(c, f, kh, kw),
                  self.W.reshape(f, c, kh, kw).transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
        dx_t = np.dot(flipped, cols, out=self._dx_t.get(n))
        gin = self._gin.get(n)
        np.copyto(gin, dx_t.reshape(c, h, w, n).transpose(3, 0, 1, 2))
        return gin

    # ------------------------------------------------------------------- wide
    def _forward_wide(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        if self._padded:
            xp = self._xp.get(n)
            (t, _), (le, _) = self.pad_h, self.pad_w
            xp[:, :, t:t + x.shape[2], le:le + x.shape[3]] = x
        else:
            xp = x
        cols = self._cols_now = self._cols.get(n)
        c, (kh, kw) = xp.shape[1], self.kernel
        flat = xp.reshape(n, c, -1)
        # Offset (i, j)'s windows start at i*wp + j: all of them as one view, one copy.
        sn, sc, one = flat.strides
        windows = as_strided(flat, (n, c, kh, kw, self._span),
                             (sn, sc, self._wp * one, one, one), writeable=False)
        k = c * kh * kw
        np.copyto(cols[:, :k].reshape(n, c, kh, kw, self._span), windows)
        f, (_, ho, wo) = self.filters, self.out_shape
        out = self._out.get(n)
        wide = self._out_wide.get(n)
        np.matmul(self._weights(), cols, out=wide[:, :, :self._span])
        np.copyto(out, wide.reshape(n, f, ho, -1)[:, :, :, :wo])  # drop the extra columns
        return out

    def _backward_wide(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        n, f, (_, ho, wo) = g.shape[0], self.filters, self.out_shape
        wide = self._g_wide.get(n)
        np.copyto(wide[:, :, :ho * self._wp].reshape(n, f, ho, -1)[:, :, :, :wo], g)
        g3 = wide[:, :, :self._span]
        # Per-sample [dW | db] products with the columns read transposed (BLAS does that
        # without a copy), then one sum over the batch.
        each = np.matmul(g3, self._cols_now.transpose(0, 2, 1), out=self._dw_each.get(n))
        k = self.W.shape[1]
        if self.db is None:
            np.add.reduce(each, axis=0, out=self.dW)
        else:
            np.add.reduce(each, axis=0, out=self._dw_b)
            np.copyto(self.dW, self._dw_b[:, :k])
            np.copyto(self.db, self._dw_b[:, k])
        if not need_input_grad:
            return None
        return self._col2im_wide(wide, n)

    def _col2im_wide(self, g_wide: np.ndarray, n: int) -> np.ndarray:
        """dE/dx (N, C, H, W) from the wide output gradient (N, F, hp*wp)."""
        c, h, w = self.in_shape
        kh, kw = self.kernel
        dcols = self._dcols_t.get(n)  # (C*kh*kw, N, hp*wp), written sample by sample
        np.matmul(self.W.T, g_wide, out=dcols.transpose(1, 0, 2))
        plane = dcols.shape[2]
        runs = dcols.reshape(c, kh, kw, n * plane)
        sums = self._sums.get(n)
        sums.fill(0.0)
        # Offset (i, j) moves every value by i*wp + j within its own sample's plane
        # (values that would cross into the next sample are the zero spare columns).
        for i in range(kh):
            for j in range(kw):
                start = i * self._wp + j
                view = sums[:, start:start + n * plane]
                np.add(view, runs[:, i, j], out=view)
        planes = sums[:, :n * plane].reshape(c, n, -1, self._wp).transpose(1, 0, 2, 3)
        (t, _), (le, _) = self.pad_h, self.pad_w
        gin = self._gin.get(n)
        np.copyto(gin, planes[:, :, t:t + h, le:le + w])
        return gin


__all__ = ["PADDINGS", "PATHS", "WIDE_MIN_POSITIONS", "Conv2D", "to_batch_last"]
