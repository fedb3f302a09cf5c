"""Conv2D (core.engine.conv): gradients against float64 central differences, forward and
backward against torch.nn.functional.conv2d in float32 and float64, shapes and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from core.engine.conv import WIDE_MIN_POSITIONS, Conv2D, to_batch_last
from core.engine.image_shapes import same_padding
from core.errors import DesignError

PIECE_TOL = 1e-7  # as tests/core/engine/test_gradients.py for one piece

# (channels, height, width), filters, kernel, stride, padding, bias: square and
# non-square inputs and kernels, strides 1-3 (stride 2 on odd sizes), both paddings.
CASES = [
    ((2, 7, 6), 3, 3, 1, "valid", True),
    ((2, 7, 6), 3, 3, 1, "same", True),
    ((1, 9, 7), 2, (3, 2), 2, "valid", False),
    ((2, 9, 7), 3, 3, 2, "same", True),
    ((3, 5, 8), 2, (2, 4), 1, "same", True),
    ((2, 7, 7), 4, 1, 1, "valid", True),
    ((2, 8, 9), 2, 2, 2, "valid", True),
    ((1, 10, 7), 3, (4, 3), (3, 2), "same", False),
    ((2, 6, 5), 2, 5, 1, "same", True),
    ((2, 7, 9), 2, 3, (1, 2), "same", True),
    ((2, 9, 6), 3, (2, 3), (2, 1), "valid", True),
]
# Every case in each layout it can run in ("wide" needs stride 1): the layouts are two
# implementations of one layer, so each is checked on its own.
PATH_CASES = [(case, path) for case in CASES for path in ("batch_last", "wide")
              if path == "batch_last" or case[3] == 1]


def case_id(item) -> str:
    c, path = item
    return f"{c[0]}-k{c[2]}-s{c[3]}-{c[4]}-{path}"


def make(rng, in_shape, filters, kernel, stride, padding, bias, dtype, image_layers,
         path=None):
    layer = Conv2D("layers.0", in_shape, filters, kernel, stride, padding, bias, dtype,
                   init=None, path=path)
    image_layers.bind(layer, rng)
    return layer


def torch_conv(layer: Conv2D, x: np.ndarray, g: np.ndarray):
    """PyTorch's output and gradients for the same weights, input and output gradient.
    Padding goes through F.pad with our (before, after) split; stride-1 'same' uses
    PyTorch's own padding='same', so our split is checked against theirs too."""
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.params["weight"], requires_grad=True)
    bt = torch.tensor(layer.params["bias"], requires_grad=True) if layer.has_bias else None
    if layer.padding == "same" and layer.stride == (1, 1):
        y = F.conv2d(xt, wt, bt, padding="same")
    else:
        y = F.conv2d(F.pad(xt, (*layer.pad_w, *layer.pad_h)), wt, bt, stride=layer.stride)
    y.backward(torch.tensor(g))
    return y, xt.grad, wt.grad, None if bt is None else bt.grad


@pytest.mark.parametrize("item", PATH_CASES, ids=case_id)
def test_conv2d_gradients_match_central_differences(item, gradcheck, image_layers):
    case, path = item
    rng = np.random.default_rng(1)
    layer = make(rng, *case, np.float64, image_layers, path)
    assert layer.path == path
    x = rng.normal(size=(2, *case[0]))
    errors = image_layers.check_gradients(layer, x, gradcheck)
    assert set(errors) == {"input", "weight"} | ({"bias"} if case[-1] else set())
    for name, err in errors.items():
        assert err < PIECE_TOL, (name, err)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("item", PATH_CASES, ids=case_id)
def test_conv2d_matches_pytorch(item, dtype, image_layers):
    case, path = item
    rng = np.random.default_rng(2)
    layer = make(rng, *case, dtype, image_layers, path)
    # Two batch sizes and back: buffers are kept per batch size and must not leak
    # values (the zero padding, the wide gradient's spare columns) between calls.
    for n in (4, 3, 4):
        x = rng.normal(size=(n, *case[0])).astype(dtype)
        y = layer.forward(x, True).copy()
        g = rng.normal(size=y.shape).astype(dtype)
        gx = layer.backward(g.copy(), True)
        yt, gxt, gwt, gbt = torch_conv(layer, x, g)
        assert y.dtype == gx.dtype == layer.grads["weight"].dtype == dtype
        image_layers.assert_torch_close(y, yt, "output")
        image_layers.assert_torch_close(gx, gxt, "input gradient")
        image_layers.assert_torch_close(layer.grads["weight"], gwt, "weight gradient")
        if gbt is not None:
            image_layers.assert_torch_close(layer.grads["bias"], gbt, "bias gradient")


@pytest.mark.parametrize("path", ["batch_last", "wide"])
def test_conv2d_without_input_gradient_still_fills_parameter_gradients(path, image_layers):
    rng = np.random.default_rng(3)
    layer = make(rng, (1, 12, 12), 4, 3, 1, "valid", True, np.float64, image_layers, path)
    x = rng.normal(size=(5, 1, 12, 12))
    g = rng.normal(size=(5, 4, 10, 10))
    layer.forward(x, True)
    assert layer.backward(g.copy(), False) is None
    _, _, gwt, gbt = torch_conv(layer, x, g)
    image_layers.assert_torch_close(layer.grads["weight"], gwt, "weight gradient")
    image_layers.assert_torch_close(layer.grads["bias"], gbt, "bias gradient")


@pytest.mark.parametrize(("size", "kernel", "stride"),
                         [(28, 3, 1), (13, 3, 2), (8, 2, 1), (7, 4, 3), (5, 1, 2), (6, 5, 2)])
def test_same_padding_gives_ceil_size_and_pytorch_split(size, kernel, stride):
    before, after = same_padding(size, kernel, stride)
    out = (size + before + after - kernel) // stride + 1
    assert out == -(-size // stride)
    assert after - before in (0, 1)  # the smaller half before, as PyTorch
    if stride == 1:
        assert (before, after) == ((kernel - 1) // 2, kernel - 1 - (kernel - 1) // 2)


def test_conv2d_shapes_follow_pytorch():
    layer = Conv2D("layers.2", (8, 13, 11), 16, (3, 5), 2, "valid", True, np.float32, None)
    decls = {d.name: d for d in layer.declare()}
    assert decls["weight"].shape == (16, 8, 3, 5)  # (filters, channels, kh, kw)
    assert decls["bias"].shape == (16,)
    assert decls["weight"].decay and not decls["bias"].decay
    assert layer.out_shape == (16, 6, 4)
    assert (layer.n_in, layer.n_out) == (8 * 13 * 11, 16 * 6 * 4)
    same = Conv2D("layers.2", (8, 13, 11), 4, 3, 2, "same", False, np.float32, None)
    assert same.out_shape == (4, 7, 6)
    assert [d.name for d in same.declare()] == ["weight"]


@pytest.mark.parametrize(("in_shape", "kernel", "stride", "padding", "words"), [
    ((1, 4, 9), 5, 1, "valid", "5×5 is larger than its input 4×9"),
    ((1, 9, 4), (3, 6), 1, "valid", "3×6 is larger than its input 9×4"),
    ((1, 8, 8), 3, 0, "valid", "at least 1"),
    ((1, 8, 8), 3, 1, "full", "padding must be 'valid' or 'same'"),
    ((1, 0, 8), 3, 1, "same", "every size at least 1"),
    ((8, 8), 3, 1, "same", "needs an image input"),
])
def test_conv2d_refuses_impossible_shapes_naming_the_layer(in_shape, kernel, stride,
                                                           padding, words):
    with pytest.raises(DesignError) as err:
        Conv2D("layers.4", in_shape, 2, kernel, stride, padding, True, np.float64, None)
    assert "layers.4 (Conv2D)" in str(err.value)
    assert words in str(err.value)


def test_conv2d_same_padding_fits_a_kernel_larger_than_the_input():
    # 'same' pads a 2×2 image to fit a 3×3 kernel, as PyTorch does.
    layer = Conv2D("layers.0", (1, 2, 2), 1, 3, 1, "same", False, np.float64, None)
    assert layer.out_shape == (1, 2, 2)


def test_conv2d_forward_refuses_images_of_another_shape(image_layers):
    layer = make(np.random.default_rng(0), (3, 8, 8), 2, 3, 1, "valid", True, np.float32,
                 image_layers)
    with pytest.raises(DesignError, match=r"layers\.0 \(Conv2D\): expects images of shape "
                                          r"\(3, 8, 8\), got \(3, 8, 9\)"):
        layer.forward(np.zeros((2, 3, 8, 9), dtype=np.float32), True)


def test_conv2d_parameters_are_views_of_the_bound_arrays(image_layers):
    """The network hands out views of its flat buffer; the layer must compute with them
    (not copies), so optimizer updates reach the convolution."""
    rng = np.random.default_rng(4)
    layer = make(rng, (2, 6, 6), 3, 3, 1, "valid", True, np.float64, image_layers)
    x = rng.normal(size=(2, 2, 6, 6))
    before = layer.forward(x, True).copy()
    layer.params["weight"] *= 2.0
    layer.params["bias"][...] = 0.0
    after = layer.forward(x, True)
    y, *_ = torch_conv(layer, x, np.zeros_like(before))
    np.testing.assert_allclose(after, y.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert not np.allclose(after, before)


@pytest.mark.parametrize(("in_shape", "stride", "padding", "path"), [
    ((1, 28, 28), 1, "valid", "wide"),        # 26×26 outputs
    ((8, 13, 13), 1, "valid", "wide"),        # 11×11 = 121 >= WIDE_MIN_POSITIONS
    ((1, 8, 8), 1, "same", "batch_last"),     # 8×8 = 64 outputs
    ((16, 4, 4), 1, "same", "batch_last"),
    ((1, 28, 28), 2, "same", "batch_last"),   # the wide layout needs stride 1
])
def test_conv2d_chooses_its_layout_by_shape(in_shape, stride, padding, path):
    layer = Conv2D("layers.0", in_shape, 4, 3, stride, padding, True, np.float32, None)
    assert layer.path == path
    positions = layer.out_shape[1] * layer.out_shape[2]
    assert (path == "wide") == (stride == 1 and positions >= WIDE_MIN_POSITIONS)


def test_conv2d_refuses_an_unknown_or_impossible_layout():
    with pytest.raises(ValueError, match="path must be one of"):
        Conv2D("layers.0", (1, 8, 8), 2, 3, 1, "valid", True, np.float32, None, path="fft")
    with pytest.raises(ValueError, match="'wide' needs stride 1"):
        Conv2D("layers.0", (1, 8, 8), 2, 3, 2, "valid", True, np.float32, None, path="wide")


@pytest.mark.parametrize("shape", [(32, 16, 8, 8), (32, 16, 4, 4), (3, 2, 5, 7)])
def test_to_batch_last_moves_the_batch_axis_last(shape):
    """(N, F, P) -> (F, P, N), through the direct copy or the two-step one (taken when
    the per-sample stride is a multiple of 2 KiB, as 16*8*8 float32 values are)."""
    rng = np.random.default_rng(5)
    src = rng.normal(size=shape).astype(np.float32).reshape(shape[0], shape[1], -1)
    dst = np.full((shape[1], src.shape[2], shape[0]), np.nan, dtype=np.float32)
    scratch = np.empty((shape[1], shape[0], src.shape[2]), dtype=np.float32)
    to_batch_last(src, dst, scratch)
    np.testing.assert_array_equal(dst, src.transpose(1, 2, 0))
