"""Conv2D: a 2-D convolution (cross-correlation, as PyTorch) on (batch, C, H, W) images.

The forward pass copies every kernel window into a column buffer ("im2col") of shape
(batch, C*kh*kw, Ho*Wo) and multiplies it by the weight matrix (F, C*kh*kw) in one
batched matrix product, whose result already is (batch, F, Ho*Wo): no transpose of the
output. The backward pass reuses the columns for dW (one batched product, then a sum over
the batch) and scatters the column gradient back onto the input with one strided add
per kernel offset ("col2im": kh*kw NumPy calls, no loop over pixels). Every buffer is
kept per batch size, so a training step allocates almost nothing.
"""

from __future__ import annotations

import numpy as np

from core.engine.image_shapes import (
    ImageShape,
    check_image,
    check_windows,
    pair,
    same_padding,
    strided_window,
)
from core.engine.layers import Initializer, Layer, ParamDecl, _PerBatch
from core.errors import DesignError

PADDINGS = ("valid", "same")


class Conv2D(Layer):
    """y[n, f] = sum_c x[n, c] ⋆ weight[f, c] + bias[f].

    Shapes: input (N, C, H, W); weight (F, C, kh, kw) as PyTorch; bias (F,);
    output (N, F, Ho, Wo). Padding ``valid`` adds none (Ho = (H - kh) // stride + 1);
    ``same`` pads with zeros so Ho = ceil(H / stride), the smaller half before.
    """

    label = "Conv2D"

    def __init__(self, name: str, in_shape: tuple[int, int, int], filters: int,
                 kernel: int | tuple[int, int], stride: int | tuple[int, int],
                 padding: str, bias: bool, dtype: np.dtype, init: Initializer) -> None:
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
        # Stride 1 uses "wide rows": output position (r, c) sits at r*wp + c, so each
        # kernel offset's windows are ONE contiguous slice of the flattened padded image
        # and im2col/col2im move long runs instead of ho*wo short rows. The wp - wo extra
        # columns per row are computed and dropped (their gradient is kept at zero).
        self._wide = self.stride == (1, 1)
        k = c * kh * kw
        span = (ho - 1) * wp + wo if self._wide else ho * wo
        self._span, self._wp = span, wp
        dt = self.dtype

        def padded(n: int) -> np.ndarray:
            return np.zeros((n, c, hp, wp), dtype=dt)  # borders stay zero for good

        self._xp = _PerBatch(padded)
        self._dxp = _PerBatch(padded)
        self._cols = _PerBatch(lambda n: np.empty((n, k, span), dtype=dt))
        self._dcols = _PerBatch(lambda n: np.empty((n, k, span), dtype=dt))
        # Stride 1, input gradient: the column gradient laid out (C*kh*kw, batch, hp*wp)
        # and summed into (C, batch*hp*wp + spill), so each kernel offset is ONE long
        # contiguous add over the whole batch (short rows cost NumPy ~50 ns each).
        plane = hp * wp
        spill = (kh - 1) * wp + kw - 1
        self._dcols_t = _PerBatch(lambda n: np.empty((k, n, plane), dtype=dt))
        self._sums = _PerBatch(lambda n: np.empty((c, n * plane + spill), dtype=dt))
        self._out = _PerBatch(lambda n: np.empty((n, filters, ho, wo), dtype=dt))
        # Wide products and the wide gradient; the gradient's extra columns stay zero.
        self._out_wide = _PerBatch(lambda n: np.empty((n, filters, ho * wp), dtype=dt))
        self._g_wide = _PerBatch(lambda n: np.zeros((n, filters, hp * wp), dtype=dt))
        self._dw_each = _PerBatch(lambda n: np.empty((n, filters, k), dtype=dt))
        self._ones = _PerBatch(lambda n: np.ones(n, dtype=dt))
        self._gin = _PerBatch(lambda n: np.empty((n, c, h, w), dtype=dt))
        self._cols_now: np.ndarray | None = None

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
        n = x.shape[0]
        if self._padded:
            xp = self._xp.get(n)
            (t, _), (le, _) = self.pad_h, self.pad_w
            xp[:, :, t:t + x.shape[2], le:le + x.shape[3]] = x
        else:
            xp = x
        cols = self._cols.get(n)
        self._im2col(xp, cols)
        self._cols_now = cols
        f, (_, ho, wo) = self.filters, self.out_shape
        out = self._out.get(n)
        if self._wide:
            wide = self._out_wide.get(n)
            np.matmul(self.W, cols, out=wide[:, :, :self._span])
            rows = wide.reshape(n, f, ho, -1)[:, :, :, :wo]
            if self.b is not None:  # drop the extra columns and add the bias in one pass
                np.add(rows, self.b[:, None, None], out=out)
            else:
                np.copyto(out, rows)
            return out
        out3 = out.reshape(n, f, -1)
        np.matmul(self.W, cols, out=out3)
        if self.b is not None:
            out3 += self.b[:, None]
        return out

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        """g: (N, F, Ho, Wo) -> dE/dx (N, C, H, W); fills weight and bias gradients."""
        n, f, (_, ho, wo) = g.shape[0], self.filters, self.out_shape
        g3 = g.reshape(n, f, -1)
        if self.db is not None:
            # Row sums as a matrix-vector product, then over the batch with ones: two
            # BLAS calls beat add.reduce over two axes.
            rows = np.matmul(g3, self._ones.get(g3.shape[2]))
            np.dot(self._ones.get(n), rows, out=self.db)
        if self._wide:
            wide = self._g_wide.get(n)
            np.copyto(wide[:, :, :ho * self._wp].reshape(n, f, ho, -1)[:, :, :, :wo], g)
            g3 = wide[:, :, :self._span]
        cols = self._cols_now
        # Per-sample dW (F, K) products with the columns read transposed (BLAS does that
        # without a copy), then one sum over the batch.
        each = np.matmul(g3, cols.transpose(0, 2, 1), out=self._dw_each.get(n))
        np.add.reduce(each, axis=0, out=self.dW)
        if not need_input_grad:
            return None
        if self._wide:
            return self._col2im_wide(wide, n)
        dcols = np.matmul(self.W.T, g3, out=self._dcols.get(n))
        return self._col2im(dcols, n)

    # ------------------------------------------------------------------ helpers
    def _im2col(self, xp: np.ndarray, cols: np.ndarray) -> None:
        """Copy every window of xp (N, C, Hp, Wp) into cols (N, C*kh*kw, Ho*Wo)."""
        n, c = xp.shape[:2]
        kh, kw = self.kernel
        _, ho, wo = self.out_shape
        if self._wide:
            flat = xp.reshape(n, c, -1)
            wp, span = xp.shape[3], self._span
            cols5 = cols.reshape(n, c, kh, kw, span)
            for i in range(kh):
                for j in range(kw):
                    cols5[:, :, i, j] = flat[:, :, i * wp + j:i * wp + j + span]
            return
        cols6 = cols.reshape(n, c, kh, kw, ho, wo)
        for i in range(kh):
            for j in range(kw):
                cols6[:, :, i, j] = strided_window(xp, i, j, (ho, wo), self.stride)

    def _col2im_wide(self, g_wide: np.ndarray, n: int) -> np.ndarray:
        """Stride 1: dE/dx (N, C, H, W) from the wide output gradient (N, F, hp*wp)."""
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

    def _col2im(self, dcols: np.ndarray, n: int) -> np.ndarray:
        """Sum the column gradient (N, C*kh*kw, Ho*Wo) back onto (N, C, H, W)."""
        c, h, w = self.in_shape
        kh, kw = self.kernel
        _, ho, wo = self.out_shape
        sh, sw = self.stride
        gin = self._gin.get(n)
        target = self._dxp.get(n) if self._padded else gin
        target.fill(0.0)
        d6 = dcols.reshape(n, c, kh, kw, ho, wo)
        overlap = sh < kh or sw < kw
        for i in range(kh):
            for j in range(kw):
                view = strided_window(target, i, j, (ho, wo), self.stride)
                if overlap:
                    np.add(view, d6[:, :, i, j], out=view)
                else:  # windows do not overlap: each pixel gets at most one value
                    np.copyto(view, d6[:, :, i, j])
        return self._unpad(target, gin)

    def _unpad(self, target: np.ndarray, gin: np.ndarray) -> np.ndarray:
        """The input gradient (N, C, H, W): ``target`` itself, or its unpadded interior."""
        if not self._padded:
            return target
        _, h, w = self.in_shape
        (t, _), (le, _) = self.pad_h, self.pad_w
        np.copyto(gin, target[:, :, t:t + h, le:le + w])
        return gin


__all__ = ["PADDINGS", "Conv2D"]
