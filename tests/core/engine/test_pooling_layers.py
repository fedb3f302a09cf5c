"""MaxPool2D, AvgPool2D, GlobalAvgPool and Flatten (core.engine.pooling): gradients
against float64 central differences, forward and backward against torch.nn.functional
in float32 and float64, shapes and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from core.engine.pooling import AvgPool2D, Flatten, GlobalAvgPool, MaxPool2D
from core.errors import DesignError

PIECE_TOL = 1e-7

# (channels, height, width), size, stride (None: the size). Tiling windows, windows
# that leave the last rows/columns out, overlapping windows, non-square everything.
WINDOWS = [
    ((2, 8, 6), 2, None),
    ((2, 7, 9), 2, None),
    ((1, 9, 7), 3, 2),
    ((2, 6, 7), 2, 1),
    ((3, 9, 8), (3, 2), (2, 3)),
    ((1, 5, 5), 5, None),
]
POOLS = {"max": (MaxPool2D, F.max_pool2d), "avg": (AvgPool2D, F.avg_pool2d)}


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values 0.01 apart in random order: no two tie, so no window's maximum sits within
    a finite-difference step of another value."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.01 - n * 0.005).reshape(shape)


def window_id(case) -> str:
    return f"{case[0]}-size{case[1]}-stride{case[2]}"


@pytest.mark.parametrize("kind", list(POOLS))
@pytest.mark.parametrize("case", WINDOWS, ids=window_id)
def test_pool_gradients_match_central_differences(kind, case, gradcheck, image_layers):
    layer = POOLS[kind][0]("layers.1", *case, np.float64)
    x = distinct(np.random.default_rng(0), (2, *case[0]))
    errors = image_layers.check_gradients(layer, x, gradcheck)
    assert errors["input"] < PIECE_TOL, errors


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", list(POOLS))
@pytest.mark.parametrize("case", WINDOWS, ids=window_id)
def test_pool_matches_pytorch(kind, case, dtype, image_layers):
    cls, reference = POOLS[kind]
    layer = cls("layers.1", *case, dtype)
    rng = np.random.default_rng(1)
    for n in (3, 2, 3):  # buffers per batch size must not leak between calls
        # Rounded values after a ReLU: many ties, which the max pool must break as
        # PyTorch does (the gradient goes to the first maximum in row-major order).
        x = np.maximum(np.round(rng.normal(size=(n, *case[0])) * 2) / 2, 0).astype(dtype)
        y = layer.forward(x, True).copy()
        g = rng.normal(size=y.shape).astype(dtype)
        gx = layer.backward(g.copy(), True)
        xt = torch.tensor(x, requires_grad=True)
        yt = reference(xt, case[1], case[2])
        yt.backward(torch.tensor(g))
        assert y.dtype == gx.dtype == dtype
        image_layers.assert_torch_close(y, yt, "output")
        image_layers.assert_torch_close(gx, xt.grad, "input gradient")


def test_maxpool_gives_a_tied_window_gradient_to_its_first_maximum():
    layer = MaxPool2D("layers.1", (1, 2, 4), 2, None, np.float64)
    x = np.array([[[[1.0, 3.0, 0.0, 0.0],
                    [3.0, 2.0, 0.0, 0.0]]]])
    np.testing.assert_array_equal(layer.forward(x, True), [[[[3.0, 0.0]]]])
    gx = layer.backward(np.array([[[[5.0, 7.0]]]]), True)
    np.testing.assert_array_equal(gx, [[[[0.0, 5.0, 7.0, 0.0],
                                          [0.0, 0.0, 0.0, 0.0]]]])


# Layer, its per-sample output shape, and the same operation in PyTorch.
RESHAPES = {
    "global_avgpool": (lambda dt: GlobalAvgPool("layers.5", (3, 5, 7), dt), (3,),
                       lambda t: F.adaptive_avg_pool2d(t, 1).flatten(1)),
    "flatten": (lambda dt: Flatten("layers.6", (3, 5, 7), dt), (105,),
                lambda t: torch.flatten(t, 1)),  # C order: channel slowest
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", list(RESHAPES))
def test_global_avgpool_and_flatten_match_pytorch(kind, dtype, gradcheck, image_layers):
    make, out_shape, reference = RESHAPES[kind]
    layer = make(np.dtype(dtype))
    assert (layer.n_in, layer.n_out, layer.out_shape) == (105, np.prod(out_shape), out_shape)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 3, 5, 7)).astype(dtype)
    g = rng.normal(size=(4, *out_shape)).astype(dtype)
    y = layer.forward(x, True).copy()
    gx = layer.backward(g.copy(), True)
    xt = torch.tensor(x, requires_grad=True)
    yt = reference(xt)
    yt.backward(torch.tensor(g))
    image_layers.assert_torch_close(y, yt, "output")
    image_layers.assert_torch_close(gx, xt.grad, "input gradient")
    if dtype == np.float64:
        errors = image_layers.check_gradients(layer, x, gradcheck)
        assert errors["input"] < PIECE_TOL, errors


def test_pool_shapes_follow_pytorch_floor_mode():
    assert MaxPool2D("p", (8, 26, 26), 2, None, np.float32).out_shape == (8, 13, 13)
    assert MaxPool2D("p", (16, 11, 11), 2, None, np.float32).out_shape == (16, 5, 5)
    assert AvgPool2D("p", (4, 9, 7), 3, 2, np.float32).out_shape == (4, 4, 3)
    assert AvgPool2D("p", (4, 9, 7), (3, 2), (1, 2), np.float32).out_shape == (4, 7, 3)
    assert MaxPool2D("p", (2, 6, 6), 2, None, np.float32).declare() == []


@pytest.mark.parametrize(("cls", "label"), [(MaxPool2D, "MaxPool2D"), (AvgPool2D, "AvgPool2D")])
def test_pool_refuses_a_window_larger_than_its_input(cls, label):
    with pytest.raises(DesignError) as err:
        cls("layers.3", (8, 3, 5), 4, None, np.float32)
    assert str(err.value) == (f"layers.3 ({label}): the window 4×4 is larger than its "
                              f"input 3×5")
    with pytest.raises(DesignError, match=r"layers\.3 .*at least 1"):
        cls("layers.3", (8, 6, 6), 2, 0, np.float32)


@pytest.mark.parametrize("make", [
    lambda: GlobalAvgPool("layers.7", (4, 0, 3), np.float32),
    lambda: Flatten("layers.7", (12,), np.float32),
    lambda: MaxPool2D("layers.7", (0, 4, 4), 2, None, np.float32),
])
def test_image_layers_refuse_non_image_inputs_naming_the_layer(make):
    with pytest.raises(DesignError, match=r"layers\.7 \(\w+\): needs an image input"):
        make()


def test_pool_forward_refuses_images_of_another_shape():
    layer = AvgPool2D("layers.1", (2, 6, 6), 2, None, np.float64)
    with pytest.raises(DesignError, match=r"layers\.1 \(AvgPool2D\): expects images"):
        layer.forward(np.zeros((1, 3, 6, 6)), True)


@pytest.mark.parametrize("size", [2, (2, 1), (1, 3), (3, 2)])
def test_maxpool_takes_the_same_maxima_from_a_non_contiguous_input(size):
    """A contiguous input goes through running maxima along its rows (flat passes); any
    other input through the windows directly: both give PyTorch's values."""
    rng = np.random.default_rng(6)
    x = np.round(rng.normal(size=(3, 2, 9, 8)) * 2).astype(np.float32)
    strided = np.swapaxes(np.swapaxes(x, 2, 3).copy(), 2, 3)  # same values, F-ordered maps
    assert not strided.flags.c_contiguous
    layer = MaxPool2D("layers.1", (2, 9, 8), size, None, np.float32)
    expected = F.max_pool2d(torch.tensor(x), size).numpy()
    np.testing.assert_array_equal(layer.forward(x, True), expected)
    np.testing.assert_array_equal(layer.forward(strided, True), expected)
