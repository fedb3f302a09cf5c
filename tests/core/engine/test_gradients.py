"""Gradient checks by central differences in float64.

Each smooth piece in isolation (one activation function, one loss, one runtime layer)
must match finite differences to a relative error of 1e-7; whole networks of up to six
layers to 1e-5. The tests loop over the tables (ACTIVATIONS, LOSSES, INITIALIZERS,
LAYER_KINDS) so a new entry is checked without editing this file (LAYER_KINDS needs an
example spec below; a test fails until it has one).

Relative error: ||analytic - numeric|| / max(||analytic||, ||numeric||) over the whole
gradient, with step h = 1e-6. ReLU/leaky-ReLU pre-activations closer than 1e-3 to the kink
are avoided by construction (inputs) or asserted away (networks).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import core
from core.design.spec import (
    ActivationSpec,
    AvgPool2DSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    DropoutSpec,
    FlattenSpec,
    GlobalAvgPoolSpec,
    MaxPool2DSpec,
    NetworkSpec,
    ResidualSpec,
)
from core.engine.layers import Activation, Dropout
from core.training.step import TrainStep

PIECE_TOL = 1e-7
NETWORK_TOL = 1e-5
F64 = np.float64


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0,
                   margin: float = 0.05) -> np.ndarray:
    """Normal samples with every |value| >= margin (so no input sits on a ReLU kink)."""
    x = rng.normal(scale=scale, size=shape)
    return np.where(np.abs(x) < margin, np.copysign(margin + np.abs(x), x + 1e-300), x)


# ----------------------------------------------------------------- activations


@pytest.mark.parametrize("name", list(core.ACTIVATIONS))
def test_activation_backward_matches_central_differences(name, gradcheck):
    info = core.ACTIVATIONS[name]
    rng = np.random.default_rng(1)
    x = away_from_zero(rng, (5, 4), scale=1.5)
    assert np.min(np.abs(x)) >= 1e-3
    R = rng.normal(size=x.shape)

    def f() -> float:
        return float(np.sum(R * info.forward(x, np.empty_like(x))))

    y = info.forward(x, np.empty_like(x))
    analytic = info.backward(x, y, R.copy(), np.empty_like(x))
    numeric = gradcheck.numeric_grad(f, x)
    assert gradcheck.rel_error(analytic, numeric) <= PIECE_TOL
    # ``out`` may alias ``g`` (the layer does this to save memory): same result.
    g = R.copy()
    aliased = info.backward(x, y, g, g)
    np.testing.assert_allclose(aliased, analytic, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", list(core.ACTIVATIONS))
def test_activation_layer_input_gradient(name, gradcheck):
    """The runtime Activation layer (as build_network makes it) in isolation."""
    spec = NetworkSpec(4, (DenseSpec(4), ActivationSpec(name)))
    net = core.build_network(spec, dtype=F64)
    layer = net.layers[1]
    assert isinstance(layer, Activation) and layer.info.name == name
    rng = np.random.default_rng(2)
    x = away_from_zero(rng, (6, 4))
    R = rng.normal(size=x.shape)

    def f() -> float:
        return float(np.sum(R * layer.forward(x, True)))

    f()
    analytic = layer.backward(R.copy(), True).copy()
    assert gradcheck.rel_error(analytic, gradcheck.numeric_grad(f, x)) <= PIECE_TOL


# Independent reference formulas, written out here (not taken from the engine).
ACTIVATION_REFERENCE = {
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "relu": lambda x: np.where(x > 0, x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1.0),
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    "softplus": lambda x: np.log(1.0 + np.exp(x)),
    "linear": lambda x: x,
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True),
}


def test_every_activation_has_a_reference_formula():
    missing = set(core.ACTIVATIONS) - set(ACTIVATION_REFERENCE)
    assert not missing, f"add reference formulas for {missing} to ACTIVATION_REFERENCE"


@pytest.mark.parametrize("name", sorted(set(ACTIVATION_REFERENCE) & set(core.ACTIVATIONS)))
def test_activation_values_match_reference(name):
    x = np.linspace(-6, 6, 24).reshape(4, 6)
    got = core.ACTIVATIONS[name].forward(x, np.empty_like(x))
    np.testing.assert_allclose(got, ACTIVATION_REFERENCE[name](x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(core.ACTIVATIONS))
def test_activation_finite_for_extreme_inputs(name, dtype):
    x = np.array([[-1e4, -80.0, -1e-3, 0.0, 1e-3, 80.0, 1e4]], dtype=dtype)
    info = core.ACTIVATIONS[name]
    y = info.forward(x, np.empty_like(x))
    g = info.backward(x, y, np.ones_like(x), np.empty_like(x))
    assert y.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))


# ---------------------------------------------------------------------- losses

HUBER_DELTA = 1.0


def loss_case(name: str, rng: np.random.Generator, shape=(5, 3)):
    """A (output, target) pair suited to the loss, away from its kinks."""
    info = core.LOSSES[name]
    out = rng.normal(size=shape)
    if info.fused_activation == "softmax":
        target = np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]
    elif info.fused_activation == "sigmoid":
        target = rng.uniform(0, 1, size=shape)  # soft labels: the general case
        target[0] = (target[0] > 0.5).astype(float)
    else:
        # |output - target| in [0.05, 0.9] or [1.1, 2.5]: away from 0 (MAE) and the
        # Huber threshold.
        mag = np.where(rng.random(shape) < 0.5, rng.uniform(0.05, 0.9, shape),
                       rng.uniform(1.1, 2.5, shape))
        target = out - np.where(rng.random(shape) < 0.5, -mag, mag)
    return out, target


@pytest.mark.parametrize("name", list(core.LOSSES))
def test_loss_gradient_matches_central_differences(name, gradcheck):
    info = core.LOSSES[name]
    out, target = loss_case(name, np.random.default_rng(3))
    out0, target0 = out.copy(), target.copy()
    value, grad = info.value_and_grad(out, target)
    # value_and_grad leaves its inputs alone (the network's buffers are passed in).
    np.testing.assert_array_equal(out, out0)
    np.testing.assert_array_equal(target, target0)
    assert isinstance(value, float) and grad.shape == out.shape
    assert info.value(out, target) == value
    np.testing.assert_array_equal(info.gradient(out, target), grad)
    numeric = gradcheck.numeric_grad(lambda: info.value(out, target), out)
    assert gradcheck.rel_error(grad, numeric) <= PIECE_TOL


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# Loss values written out independently. Fused losses take logits.
LOSS_REFERENCE = {
    "mse": lambda o, t: np.mean((o - t) ** 2),
    "mae": lambda o, t: np.mean(np.abs(o - t)),
    "huber": lambda o, t: np.mean(np.where(np.abs(o - t) <= HUBER_DELTA, 0.5 * (o - t) ** 2,
                                           HUBER_DELTA * (np.abs(o - t) - 0.5 * HUBER_DELTA))),
    "binary_cross_entropy": lambda z, t: np.mean(
        -(t * np.log(_sigmoid(z)) + (1 - t) * np.log(1 - _sigmoid(z)))),
    "softmax_cross_entropy": lambda z, t: -np.sum(t * np.log(_softmax(z))) / z.shape[0],
}


def test_every_loss_has_a_reference_formula():
    missing = set(core.LOSSES) - set(LOSS_REFERENCE)
    assert not missing, f"add reference formulas for {missing} to LOSS_REFERENCE"


@pytest.mark.parametrize("name", sorted(set(LOSS_REFERENCE) & set(core.LOSSES)))
def test_loss_values_match_reference(name):
    out, target = loss_case(name, np.random.default_rng(4), shape=(7, 4))
    got = core.LOSSES[name].value(out, target)
    assert got == pytest.approx(float(LOSS_REFERENCE[name](out, target)), rel=1e-12)


# ---------------------------------------------------------------- fused losses

FUSED = {"binary_cross_entropy": "sigmoid", "softmax_cross_entropy": "softmax"}


def test_fused_losses_are_the_ones_the_table_marks():
    marked = {n: i.fused_activation for n, i in core.LOSSES.items() if i.fused_activation}
    assert marked == FUSED


def _prob_loss(name: str, p: np.ndarray, t: np.ndarray) -> float:
    """The loss computed on probabilities, the textbook way."""
    if name == "binary_cross_entropy":
        return float(np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p))))
    return float(-np.sum(t * np.log(p)) / p.shape[0])


@pytest.mark.parametrize("name", list(FUSED))
def test_fused_loss_on_logits_equals_loss_on_probabilities(name, gradcheck):
    classes = 3
    spec = NetworkSpec(4, (DenseSpec(6), ActivationSpec("tanh"), DenseSpec(classes),
                           ActivationSpec(FUSED[name])))
    net = core.build_network(spec, seed=5, dtype=F64)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(8, 4))
    if name == "softmax_cross_entropy":
        Y = np.eye(classes)[rng.integers(0, classes, 8)]
    else:
        Y = (rng.random((8, classes)) < 0.5).astype(float)
    probs = net.forward(X)
    logits = net.forward(X, logits=True)
    assert np.all(np.abs(logits) < 10) and np.all((probs > 0) & (probs < 1))
    act = core.ACTIVATIONS[FUSED[name]]
    np.testing.assert_allclose(act.forward(logits, np.empty_like(logits)), probs, rtol=1e-14)
    info = core.LOSSES[name]
    value, grad = info.value_and_grad(logits, Y)
    assert value == pytest.approx(_prob_loss(name, probs, Y), rel=1e-12)

    # d(loss on probabilities)/d(logits) by finite differences = the fused gradient.
    z = logits.copy()
    numeric = gradcheck.numeric_grad(
        lambda: _prob_loss(name, act.forward(z, np.empty_like(z)), Y), z)
    assert gradcheck.rel_error(grad, numeric) <= PIECE_TOL

    # Training on logits gives the same parameter gradients as back-propagating the
    # probability loss through the final activation.
    net.backward(grad.copy())
    fused_grads = net.flat_grads.copy()
    net.forward(X)
    if name == "binary_cross_entropy":
        dp = (probs - Y) / (probs * (1 - probs)) / probs.size
    else:
        dp = -Y / probs / X.shape[0]
    net.backward(dp)
    np.testing.assert_allclose(net.flat_grads, fused_grads, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_losses_stable_for_huge_logits(dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning either (errstate is on already)
        _check_huge_logits(dtype)


def _check_huge_logits(dtype):
    bce = core.LOSSES["binary_cross_entropy"]
    z = np.array([[1e4, -1e4], [1e4, -1e4]], dtype=dtype)
    y = np.array([[0.0, 0.0], [1.0, 1.0]], dtype=dtype)
    value, grad = bce.value_and_grad(z, y)
    # Row 0: wrong by 1e4 once, right once; row 1 likewise -> (1e4 + 1e4) / 4.
    assert value == pytest.approx(5000.0, rel=1e-6)
    np.testing.assert_allclose(grad, [[0.25, 0.0], [0.0, -0.25]], atol=1e-7)
    assert grad.dtype == dtype

    sce = core.LOSSES["softmax_cross_entropy"]
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    y = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], dtype=dtype)
    value, grad = sce.value_and_grad(z, y)
    # Row 0: -log p = 2e4; row 1: two equal top logits -> -log(1/2).
    assert value == pytest.approx((2e4 + np.log(2)) / 2, rel=1e-6)
    np.testing.assert_allclose(grad, [[0.5, -0.5, 0.0], [0.0, -0.25, 0.25]], atol=1e-7)
    assert np.all(np.isfinite(grad)) and grad.dtype == dtype


@pytest.mark.parametrize("name", list(FUSED))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_step_with_huge_logits_stays_finite(name, dtype):
    spec = NetworkSpec(2, (DenseSpec(3), ActivationSpec(FUSED[name])))
    net = core.build_network(spec, dtype=dtype)
    net.set_parameters({"layers.0.weight": np.array([[1e4, -1e4, 5e3], [-1e4, 1e4, 0.0]]),
                        "layers.0.bias": np.zeros(3)})
    X = np.array([[1, 0], [0, 1], [1, 1]], dtype=dtype)
    Y = np.eye(3, dtype=dtype)[[2, 0, 1]]  # every sample confidently wrong somewhere
    step = TrainStep(net, core.TrainConfig(loss=name, learning_rate=0.1))
    result = step.run(X, Y)
    assert np.isfinite(result.loss) and result.loss > 1.0
    assert np.isfinite(result.grad_norm)
    assert np.all(np.isfinite(net.flat_params))


# ---------------------------------------------------------- layers in isolation

N = 4  # features into the layer under test
LAYER_EXAMPLES = {
    "dense": [DenseSpec(5), DenseSpec(3, bias=False), DenseSpec(6, init="he_normal", gain=0.5)],
    "activation": [ActivationSpec(name) for name in core.ACTIVATIONS],
    "dropout": [DropoutSpec(0.5), DropoutSpec(0.0), DropoutSpec(0.9)],
    "batchnorm": [BatchNormSpec(), BatchNormSpec(momentum=0.5, epsilon=1e-3)],
    "residual": [
        ResidualSpec((DenseSpec(N), ActivationSpec("tanh"))),
        ResidualSpec((DenseSpec(3), ActivationSpec("relu")), projection=True),
        ResidualSpec((ResidualSpec((DenseSpec(N), BatchNormSpec())), ActivationSpec("elu"))),
        ResidualSpec((ResidualSpec((DenseSpec(7),), projection=True), ActivationSpec("gelu"),
                      DenseSpec(2)), projection=True),
        ResidualSpec((ActivationSpec("sigmoid"),)),
    ],
}


# Image layers (and the layers that also take images) inside a small image network.
IMAGE_INPUT = (2, 6, 6)
IMAGE_LAYER_EXAMPLES = {
    "conv2d": [Conv2DSpec(3), Conv2DSpec(2, kernel=2, stride=2, padding="valid", bias=False),
               Conv2DSpec(4, stride=2, init="he_normal", gain=0.5)],
    "maxpool2d": [MaxPool2DSpec(), MaxPool2DSpec(3, 1)],
    "avgpool2d": [AvgPool2DSpec(), AvgPool2DSpec(3, 2)],
    "flatten": [FlattenSpec()],
    "global_avgpool": [GlobalAvgPoolSpec()],
    "batchnorm": [BatchNormSpec(momentum=0.5)],
    "dropout": [DropoutSpec(0.3)],
    "activation": [ActivationSpec("sigmoid")],
    "residual": [ResidualSpec((Conv2DSpec(2), ActivationSpec("tanh"))),
                 ResidualSpec((Conv2DSpec(5, stride=2),), projection=True),
                 ResidualSpec((Conv2DSpec(3, kernel=2, stride=2, padding="valid"),),
                              projection=True)],
}


def test_every_layer_kind_has_examples():
    assert set(LAYER_EXAMPLES) | set(IMAGE_LAYER_EXAMPLES) == set(core.LAYER_KINDS), (
        "add example specs for every layer kind to LAYER_EXAMPLES or IMAGE_LAYER_EXAMPLES")


IMAGE_CASES = [(kind, spec) for kind, specs in IMAGE_LAYER_EXAMPLES.items() for spec in specs]


@pytest.mark.parametrize(("kind", "spec"), IMAGE_CASES,
                         ids=[f"{k}-{i}" for i, (k, _) in enumerate(IMAGE_CASES)])
def test_image_layer_in_a_network(kind, spec, gradcheck):
    """A design with the layer between a convolution and a Dense output, built by
    build_network: every parameter and input gradient against central differences."""
    layers = (Conv2DSpec(2), ActivationSpec("tanh"), spec)
    net = NetworkSpec(72, layers, input_shape=IMAGE_INPUT)
    if len(net.out_shape) == 3:
        layers += (FlattenSpec(),)
    net = NetworkSpec(72, (*layers, DenseSpec(3)), input_shape=IMAGE_INPUT)
    assert net.validate() == []
    per_name = _check_network(net, gradcheck, seed=21)
    assert any(name.startswith("layers.0.") for name in per_name)


LAYER_CASES = [(kind, spec) for kind, specs in LAYER_EXAMPLES.items() for spec in specs]


@pytest.mark.parametrize(("kind", "spec"), LAYER_CASES,
                         ids=[f"{k}-{i}" for i, (k, _) in enumerate(LAYER_CASES)])
def test_layer_in_isolation(kind, spec, gradcheck):
    """One runtime layer (made by build_network after a Dense) checked on its own:
    input gradient and every parameter gradient, including nested children's."""
    net = core.build_network(NetworkSpec(3, (DenseSpec(N), spec)), seed=7, dtype=F64)
    layer = net.layers[1]
    gradcheck.freeze_dropout(net)
    rng = np.random.default_rng(8)
    own = {k: v for k, v in net.parameters().items() if k.startswith("layers.1.")}
    for p in own.values():  # random values: biases, BN scale/shift are not left trivial
        p[...] = rng.normal(scale=0.8, size=p.shape)
    x = away_from_zero(rng, (6, N))
    out = layer.forward(x, True)
    R = rng.normal(size=out.shape)

    def f() -> float:
        return float(np.sum(R * layer.forward(x, True)))

    f()
    assert gradcheck.kink_distance(net) > gradcheck.KINK_MARGIN
    analytic_x = layer.backward(R.copy(), True).copy()
    assert analytic_x.shape == x.shape
    assert gradcheck.rel_error(analytic_x, gradcheck.numeric_grad(f, x)) <= PIECE_TOL
    grads = net.gradients()
    numeric = {name: gradcheck.numeric_grad(f, p) for name, p in own.items()}
    if own:
        every = np.concatenate([grads[k].ravel() for k in own])
        assert gradcheck.rel_error(every, np.concatenate(
            [v.ravel() for v in numeric.values()])) <= PIECE_TOL
        floor = 1e-3 * float(np.linalg.norm(every))
        for name in own:
            assert gradcheck.rel_error(grads[name], numeric[name], floor) <= PIECE_TOL, name
    # Without the input gradient the parameter gradients are the same.
    f()
    before = {k: grads[k].copy() for k in own}
    assert layer.backward(R.copy(), False) is None
    for name in own:
        np.testing.assert_allclose(grads[name], before[name], rtol=1e-14, atol=1e-15)


def test_dropout_mask_scales_and_evaluation_is_identity():
    net = core.build_network(NetworkSpec(3, (DenseSpec(400), DropoutSpec(0.25))), dtype=F64)
    drop = net.layers[1]
    assert isinstance(drop, Dropout)
    x = np.ones((50, 400))
    y = drop.forward(x, True)
    kept = y != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    np.testing.assert_array_equal(drop.forward(x, False), x)
    # A frozen mask is reused; an unfrozen one is redrawn.
    drop.freeze_mask = True
    y1 = drop.forward(x, True).copy()
    np.testing.assert_array_equal(drop.forward(x, True), y1)
    drop.freeze_mask = False
    assert not np.array_equal(drop.forward(x, True), y1)


def test_batchnorm_running_statistics():
    net = core.build_network(NetworkSpec(2, (BatchNormSpec(momentum=0.0),)), dtype=F64)
    bn = net.layers[0]
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]])
    y = net.forward(X)
    # Training: each column to zero mean, unit (biased) variance.
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), X.var(axis=0) / (X.var(axis=0) + 1e-5))
    # momentum 0: running stats are the batch's, with the unbiased variance.
    np.testing.assert_allclose(bn.running_mean, [3.0, 12.0])
    np.testing.assert_allclose(bn.running_var, [4.0, 12.0])
    ev = net.predict(np.array([[3.0, 12.0], [5.0, 12.0]]))
    np.testing.assert_allclose(ev, [[0, 0], [2 / np.sqrt(4 + 1e-5), 0]])


# ---------------------------------------------------------------- whole networks


def _network_for_loss(name: str, hidden: tuple) -> tuple[NetworkSpec, int]:
    info = core.LOSSES[name]
    outputs = 3
    tail = (DenseSpec(outputs),)
    if info.fused_activation:
        tail += (ActivationSpec(info.fused_activation),)
    return NetworkSpec(4, hidden + tail), outputs


def _targets(name: str, rng: np.random.Generator, n: int, outputs: int) -> np.ndarray:
    info = core.LOSSES[name]
    if info.fused_activation == "softmax":
        return np.eye(outputs)[rng.integers(0, outputs, n)]
    if info.fused_activation == "sigmoid":
        return (rng.random((n, outputs)) < 0.5).astype(float)
    return rng.normal(size=(n, outputs))


def _check_network(spec: NetworkSpec, gradcheck, loss: str | None = None, seed: int = 0,
                   n: int = 6) -> dict[str, float]:
    net = core.build_network(spec, seed=seed, dtype=F64)
    gradcheck.freeze_dropout(net)
    fused = bool(loss and core.LOSSES[loss].fused_activation)
    # Reject inputs (and targets) that put a ReLU pre-activation, or an MAE/Huber
    # residual, within 1e-3 of a kink: redraw until none does.
    for attempt in range(50):
        rng = np.random.default_rng([seed, attempt])
        X = rng.normal(size=(n, spec.inputs))
        Y = _targets(loss, rng, n, net.outputs) if loss else None
        out = net.forward(X, logits=fused)
        ok = gradcheck.kink_distance(net) > gradcheck.KINK_MARGIN
        if loss in ("mae", "huber"):
            d = np.abs(out - Y)
            ok = ok and d.min() > 1e-3 and np.abs(d - HUBER_DELTA).min() > 1e-3
        if ok:
            break
    else:
        pytest.fail("no input away from the kinks in 50 draws")
    err, err_x, per_name = gradcheck.network_check(net, X, loss, Y, seed=seed)
    assert err <= NETWORK_TOL, per_name
    assert err_x <= NETWORK_TOL
    assert max(per_name.values()) <= NETWORK_TOL, per_name
    return per_name


HIDDEN = (DenseSpec(6), BatchNormSpec(), ActivationSpec("tanh"), DropoutSpec(0.3))


@pytest.mark.parametrize("loss", list(core.LOSSES))
def test_network_with_every_loss(loss, gradcheck):
    spec, _ = _network_for_loss(loss, HIDDEN)
    assert len(spec.layers) <= 6
    _check_network(spec, gradcheck, loss, seed=11)


@pytest.mark.parametrize("name", list(core.ACTIVATIONS))
def test_network_with_every_activation(name, gradcheck):
    if core.ACTIVATIONS[name].output_only:
        layers = (DenseSpec(5), ActivationSpec("tanh"), DenseSpec(3), ActivationSpec(name))
    else:
        layers = (DenseSpec(5), ActivationSpec(name), DropoutSpec(0.2),
                  ResidualSpec((DenseSpec(5), ActivationSpec(name))), DenseSpec(2))
    _check_network(NetworkSpec(3, layers), gradcheck, seed=12)


@pytest.mark.parametrize("name", list(core.INITIALIZERS))
def test_network_with_every_initializer(name, gradcheck):
    spec = NetworkSpec(3, (DenseSpec(5, init=name), ActivationSpec("softplus"),
                           DenseSpec(2, init=name)), default_init=name)
    _check_network(spec, gradcheck, "mse", seed=13)


COMBINATIONS = {
    "dropout-batchnorm": (DenseSpec(6), DropoutSpec(0.5), BatchNormSpec(), ActivationSpec("elu"),
                          DenseSpec(4), BatchNormSpec()),
    "nested-residual": (DenseSpec(5), ResidualSpec((
        DenseSpec(5), ActivationSpec("tanh"),
        ResidualSpec((DenseSpec(5), BatchNormSpec(), ActivationSpec("gelu"))))),
        DenseSpec(2)),
    "nested-residual-projection": (ResidualSpec((
        DenseSpec(7), ActivationSpec("tanh"),
        ResidualSpec((DenseSpec(3), ActivationSpec("sigmoid")), projection=True)),
        projection=True), DenseSpec(2)),
    "residual-first-without-params": (ResidualSpec((ActivationSpec("tanh"),)), DenseSpec(3),
                                       ActivationSpec("softplus"), DenseSpec(2)),
    "activation-first": (ActivationSpec("sigmoid"), DropoutSpec(0.4), DenseSpec(4),
                         ActivationSpec("leaky_relu"), DenseSpec(2)),
    "parameter-free-residual-then-batchnorm": (
        ResidualSpec((ActivationSpec("elu"), ActivationSpec("gelu"))), BatchNormSpec(),
        DenseSpec(2)),
    "parameter-free-residual-then-dense": (
        ResidualSpec((ActivationSpec("tanh"), DropoutSpec(0.2), ActivationSpec("elu"))),
        DenseSpec(2)),
    "six-dense": tuple(DenseSpec(w) for w in (5, 4, 6, 3, 5, 2)),
    "relu-stack": (DenseSpec(6), ActivationSpec("relu"), DenseSpec(6), ActivationSpec("relu"),
                   DenseSpec(3), ActivationSpec("softmax")),
}


@pytest.mark.parametrize("name", list(COMBINATIONS))
def test_network_combinations(name, gradcheck):
    spec = NetworkSpec(3, COMBINATIONS[name])
    assert spec.validate() == []
    per_name = _check_network(spec, gradcheck, seed=14)
    assert set(per_name) == set(core.build_network(spec).parameters())


def test_nested_parameter_names_are_dotted_paths():
    spec = NetworkSpec(3, COMBINATIONS["nested-residual-projection"]
                       + (ResidualSpec((DenseSpec(4),), projection=True),))
    names = set(core.build_network(spec).parameters())
    assert names == {
        "layers.2.projection", "layers.2.layers.0.weight", "layers.2.layers.0.bias",
        "layers.0.layers.0.weight", "layers.0.layers.0.bias",
        "layers.0.layers.2.projection",
        "layers.0.layers.2.layers.0.weight", "layers.0.layers.2.layers.0.bias",
        "layers.1.weight", "layers.1.bias",
    }
    net = core.build_network(spec)
    assert net.parameters()["layers.2.projection"].shape == (2, 4)
    assert net.parameters()["layers.0.layers.2.projection"].shape == (7, 3)


def test_backward_overwrites_gradients_instead_of_accumulating():
    spec = NetworkSpec(3, COMBINATIONS["nested-residual"])
    net = core.build_network(spec, dtype=F64)
    X = np.random.default_rng(0).normal(size=(5, 3))
    out = net.forward(X)
    net.backward(np.ones_like(out))
    first = net.flat_grads.copy()
    assert np.any(first != 0)
    net.forward(X)
    net.backward(np.ones_like(out))
    np.testing.assert_array_equal(net.flat_grads, first)
    # input_grad=False fills the same parameter gradients and returns None.
    net.forward(X)
    assert net.backward(np.ones_like(out), input_grad=False) is None
    np.testing.assert_array_equal(net.flat_grads, first)


@pytest.mark.parametrize("name", list(COMBINATIONS))
def test_backward_without_input_gradient(name):
    """backward(input_grad=False) fills the same parameter gradients (the network skips
    input gradients no earlier layer needs) and returns None."""
    net = core.build_network(NetworkSpec(3, COMBINATIONS[name]), dtype=F64)
    for layer in net.all_layers():
        if isinstance(layer, Dropout):
            layer.freeze_mask = True
    X = np.random.default_rng(1).normal(size=(5, 3))
    out = net.forward(X)
    R = np.random.default_rng(2).normal(size=out.shape)
    gx = net.backward(R.copy(), input_grad=True)
    assert gx.shape == X.shape
    with_input = net.flat_grads.copy()
    net.flat_grads[:] = np.nan  # every gradient must be written again
    net.forward(X)
    assert net.backward(R.copy()) is None
    np.testing.assert_allclose(net.flat_grads, with_input, rtol=1e-13, atol=1e-15)
