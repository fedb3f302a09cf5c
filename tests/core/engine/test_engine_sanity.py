"""Sanity of the engine as a whole: starting loss, learning, determinism, a hand-worked
example, dtypes, and the network's diagnostics and parameter plumbing."""

from __future__ import annotations

import math

import numpy as np
import pytest

import core
from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.training.step import TrainStep


def test_floating_point_errors_raise_in_this_suite():
    """tests/core/conftest.py turns overflow, invalid and divide-by-zero into errors."""
    with pytest.raises(FloatingPointError):
        np.array([1.0]) / np.array([0.0])
    with pytest.raises(FloatingPointError):
        np.exp(np.array([1e4]))
    with pytest.raises(FloatingPointError):
        np.sqrt(np.array([-1.0]))


# ------------------------------------------------------------------ start of training


@pytest.mark.parametrize("classes", [2, 4, 10])
def test_first_softmax_cross_entropy_is_about_ln_classes(classes):
    spec = NetworkSpec(5, (DenseSpec(16), ActivationSpec("tanh"),
                           DenseSpec(classes, init="small_normal"), ActivationSpec("softmax")))
    net = core.build_network(spec, seed=3)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(256, 5)).astype(np.float32)
    Y = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, 256)]
    step = TrainStep(net, TrainConfig(loss="softmax_cross_entropy"))
    first = step.run(X, Y).loss
    assert first == pytest.approx(math.log(classes), abs=0.02)
    # And the probabilities start nearly uniform.
    np.testing.assert_allclose(core.build_network(spec, seed=3).predict(X), 1 / classes,
                               atol=0.02)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_network_fits_twenty_samples(dtype):
    """Adam fits 20 points. Judged over the last 200 steps, not the last one: float32
    round-off differs between OpenBLAS kernels, and near zero loss Adam's trajectory has
    isolated spikes (one reached 1.8e-3 exactly at the final step on AMD's kernels)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (20, 2)).astype(dtype)
    Y = (np.sin(2 * X[:, :1]) * X[:, 1:]).astype(dtype)
    spec = NetworkSpec(2, (DenseSpec(16), ActivationSpec("tanh"), DenseSpec(16),
                           ActivationSpec("tanh"), DenseSpec(1)))
    net = core.build_network(spec, seed=0, dtype=dtype)
    step = TrainStep(net, TrainConfig(optimizer="adam", learning_rate=0.01))
    losses = np.array([step.run(X, Y).loss for _ in range(2001)])
    first, tail = losses[0], losses[-200:]
    assert first > 0.05
    # Measured under five kernels: first 0.30; over the tail median and minimum about
    # 2e-6, single spikes up to 5e-3; the prediction error after the last step <= 2e-3.
    assert np.median(tail) < 1e-3 * first
    assert tail.min() < 1e-4 * first
    # The trained network predicts what it was trained on (any spike stays far below
    # the starting error).
    mse = float(np.mean((net.predict(X) - Y) ** 2))
    assert mse < 0.05 * first


# ---------------------------------------------------------------------- determinism

DETERMINISM_SPEC = NetworkSpec(3, (DenseSpec(8), BatchNormSpec(), ActivationSpec("relu"),
                                   DropoutSpec(0.3), ResidualSpec((DenseSpec(8),
                                                                   ActivationSpec("tanh"))),
                                   DenseSpec(2)))


def _train(seed: int, steps: int = 100) -> np.ndarray:
    net = core.build_network(DETERMINISM_SPEC, seed=seed)
    step = TrainStep(net, TrainConfig(optimizer="adam", learning_rate=0.01, l2=1e-3))
    rng = np.random.default_rng(42)  # the data is the same for every seed
    X = rng.normal(size=(16, 3)).astype(np.float32)
    Y = rng.normal(size=(16, 2)).astype(np.float32)
    for _ in range(steps):
        step.run(X, Y)
    return net.flat_params.copy()


def test_same_seed_gives_bit_identical_parameters_after_100_steps():
    a, b = _train(7), _train(7)
    assert a.tobytes() == b.tobytes()


def test_different_seed_gives_different_parameters():
    a, b = _train(7), _train(8)
    assert not np.array_equal(a, b)
    assert not np.array_equal(core.build_network(DETERMINISM_SPEC, seed=7).flat_params,
                              core.build_network(DETERMINISM_SPEC, seed=8).flat_params)


def test_dropout_does_not_change_initial_weights():
    plain = NetworkSpec(3, (DenseSpec(8), ActivationSpec("relu"), DenseSpec(2)))
    dropped = NetworkSpec(3, (DenseSpec(8), ActivationSpec("relu"), DropoutSpec(0.5),
                              DenseSpec(2)))
    a, b = core.build_network(plain, seed=1), core.build_network(dropped, seed=1)
    np.testing.assert_array_equal(a.parameters()["layers.0.weight"],
                                  b.parameters()["layers.0.weight"])
    np.testing.assert_array_equal(a.parameters()["layers.2.weight"],
                                  b.parameters()["layers.3.weight"])


# ---------------------------------------------------------------- hand-worked example


def test_mse_matches_hand_computation():
    out = np.array([[1.0, 2.0], [3.0, 4.0]])
    target = np.array([[0.0, 2.0], [3.0, 6.0]])
    # diffs 1, 0, 0, -2 -> squares 1 + 0 + 0 + 4 = 5 over 4 entries -> 1.25
    # dE/dout = 2 * diff / 4 = [[0.5, 0], [0, -1]]
    value, grad = core.LOSSES["mse"].value_and_grad(out, target)
    assert value == pytest.approx(1.25, rel=1e-15)
    np.testing.assert_allclose(grad, [[0.5, 0.0], [0.0, -1.0]], rtol=1e-15)


def test_two_two_one_network_one_sgd_step_by_hand():
    spec = NetworkSpec(2, (DenseSpec(2), ActivationSpec("relu"), DenseSpec(1)))
    net = core.build_network(spec, dtype=np.float64)
    net.set_parameters({
        "layers.0.weight": np.array([[0.1, 0.2], [0.3, 0.4]]),  # (inputs, units)
        "layers.0.bias": np.array([0.0, 0.1]),
        "layers.2.weight": np.array([[0.5], [-0.5]]),
        "layers.2.bias": np.array([0.2]),
    })
    x = np.array([[1.0, 2.0]])
    t = np.array([[1.0]])
    # Forward:
    #   z1 = x W1 + b1 = [1*0.1 + 2*0.3, 1*0.2 + 2*0.4] + [0, 0.1] = [0.7, 1.1]
    #   h  = relu(z1) = [0.7, 1.1]
    #   y  = h W2 + b2 = 0.7*0.5 + 1.1*(-0.5) + 0.2 = 0.35 - 0.55 + 0.2 = 0.0
    np.testing.assert_allclose(net.forward(x), [[0.0]], atol=1e-15)
    # Loss: E = (y - t)^2 = (0 - 1)^2 = 1; dE/dy = 2 (y - t) = -2
    # Backward:
    #   dW2 = h^T dE/dy = [[0.7 * -2], [1.1 * -2]] = [[-1.4], [-2.2]];  db2 = [-2]
    #   dh  = dE/dy W2^T = [-2 * 0.5, -2 * -0.5] = [-1, 1]; relu' = 1 (z1 > 0)
    #   dW1 = x^T dh = [[1*-1, 1*1], [2*-1, 2*1]] = [[-1, 1], [-2, 2]];  db1 = [-1, 1]
    step = TrainStep(net, TrainConfig(loss="mse", optimizer="sgd", learning_rate=0.1))
    result = step.compute_gradients(x, t)
    assert result[0] == pytest.approx(1.0, rel=1e-15)
    g = net.gradients()
    np.testing.assert_allclose(g["layers.2.weight"], [[-1.4], [-2.2]], rtol=1e-14)
    np.testing.assert_allclose(g["layers.2.bias"], [-2.0], rtol=1e-14)
    np.testing.assert_allclose(g["layers.0.weight"], [[-1.0, 1.0], [-2.0, 2.0]], rtol=1e-14)
    np.testing.assert_allclose(g["layers.0.bias"], [-1.0, 1.0], rtol=1e-14)
    # One SGD step with alpha = 0.1 (w <- w - 0.1 g):
    #   W1 = [[0.1 + 0.1, 0.2 - 0.1], [0.3 + 0.2, 0.4 - 0.2]] = [[0.2, 0.1], [0.5, 0.2]]
    #   b1 = [0.0 + 0.1, 0.1 - 0.1] = [0.1, 0.0]
    #   W2 = [[0.5 + 0.14], [-0.5 + 0.22]] = [[0.64], [-0.28]];  b2 = 0.2 + 0.2 = 0.4
    net2 = core.build_network(spec, dtype=np.float64)
    net2.set_parameters({k: v.copy() for k, v in net.parameters().items()})
    step2 = TrainStep(net2, TrainConfig(loss="mse", optimizer="sgd", learning_rate=0.1))
    assert step2.run(x, t).loss == pytest.approx(1.0, rel=1e-15)
    p = net2.parameters()
    np.testing.assert_allclose(p["layers.0.weight"], [[0.2, 0.1], [0.5, 0.2]], rtol=1e-14)
    np.testing.assert_allclose(p["layers.0.bias"], [0.1, 0.0], atol=1e-15)
    np.testing.assert_allclose(p["layers.2.weight"], [[0.64], [-0.28]], rtol=1e-14)
    np.testing.assert_allclose(p["layers.2.bias"], [0.4], rtol=1e-14)
    # After the step: z1 = [1*0.2 + 2*0.5 + 0.1, 1*0.1 + 2*0.2 + 0] = [1.3, 0.5]
    #   y = 1.3*0.64 + 0.5*(-0.28) + 0.4 = 0.832 - 0.14 + 0.4 = 1.092
    #   E = (1.092 - 1)^2 = 0.008464
    np.testing.assert_allclose(net2.forward(x), [[1.092]], rtol=1e-14)
    assert step2.run(x, t).loss == pytest.approx(0.008464, rel=1e-12)


# ---------------------------------------------------------------------------- dtypes

SMALL = NetworkSpec(3, (DenseSpec(4), BatchNormSpec(), ActivationSpec("tanh"), DenseSpec(2)))


def test_float32_by_default():
    net = core.build_network(SMALL)
    assert net.dtype == np.float32
    assert net.flat_params.dtype == np.float32 and net.flat_grads.dtype == np.float32
    out = net.forward(np.ones((3, 3)))  # float64 input is converted
    assert out.dtype == np.float32
    net.backward(np.ones_like(out))
    assert all(g.dtype == np.float32 for g in net.gradients().values())
    assert all(p.dtype == np.float32 for p in net.parameters().values())


def test_float64_on_request():
    net = core.build_network(SMALL, dtype=np.float64)
    out = net.forward(np.ones((3, 3), dtype=np.float32))
    assert out.dtype == np.float64 and net.flat_params.dtype == np.float64
    gx = net.backward(np.ones_like(out), input_grad=True)
    assert gx.dtype == np.float64 and gx.shape == (3, 3)
    # Same seed: the float32 network holds the float64 weights rounded.
    np.testing.assert_array_equal(core.build_network(SMALL).flat_params,
                                  net.flat_params.astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.complex128])
def test_other_dtypes_are_refused(dtype):
    with pytest.raises(core.DesignError, match="dtype"):
        core.build_network(SMALL, dtype=dtype)


# ------------------------------------------------------------ parameters and buffers


def test_parameters_are_views_into_the_flat_buffers():
    net = core.build_network(DETERMINISM_SPEC)
    total = 0
    for name, p in net.parameters().items():
        assert np.shares_memory(p, net.flat_params), name
        assert np.shares_memory(net.gradients()[name], net.flat_grads), name
        total += p.size
    assert total == net.flat_params.size == net.parameter_count
    assert net.parameter_count == DETERMINISM_SPEC.parameter_count()
    net.flat_params[:] = 0.5
    assert all(np.all(p == 0.5) for p in net.parameters().values())


def test_set_parameters_checks_everything_before_changing_anything():
    net = core.build_network(SMALL, dtype=np.float64)
    before = net.flat_params.copy()
    bad = {k: np.zeros_like(v) for k, v in net.parameters().items()}
    bad["layers.0.weight"] = np.zeros((4, 3))  # transposed
    with pytest.raises(ValueError, match=r"layers\.0\.weight"):
        net.set_parameters(bad)
    np.testing.assert_array_equal(net.flat_params, before)
    with pytest.raises(ValueError, match="no such parameter"):
        net.set_parameters({"layers.9.weight": np.zeros(2)}, strict=False)
    with pytest.raises(ValueError, match="missing"):
        net.set_parameters({"layers.0.bias": np.zeros(4)})
    with pytest.raises(ValueError, match="NaN"):
        net.set_parameters({"layers.0.bias": np.array([0, np.nan, 0, 0])}, strict=False)
    np.testing.assert_array_equal(net.flat_params, before)
    # A state_dict round trip restores weights and batch-norm statistics.
    state = net.state_dict()
    assert "layers.1.running_mean" in state
    net.forward(np.random.default_rng(0).normal(size=(5, 3)))
    net.flat_params += 1.0
    net.set_parameters(state)
    np.testing.assert_array_equal(net.flat_params, before)
    np.testing.assert_array_equal(net.buffers()["layers.1.running_mean"], 0.0)


def test_forward_returns_a_copy_and_predict_evaluates():
    spec = NetworkSpec(3, (DenseSpec(50), DropoutSpec(0.5), DenseSpec(2)))
    net = core.build_network(spec, dtype=np.float64)
    X = np.random.default_rng(0).normal(size=(4, 3))
    out = net.predict(X)
    out[:] = 99.0
    np.testing.assert_array_equal(net.predict(X), net.predict(X))
    assert not np.any(net.predict(X) == 99.0)
    # Evaluation is deterministic; training mode draws dropout masks.
    assert not np.array_equal(net.forward(X, training=True), net.predict(X))


def test_layer_norms_match_the_named_gradients():
    net = core.build_network(DETERMINISM_SPEC, dtype=np.float64)
    X = np.random.default_rng(1).normal(size=(6, 3))
    out = net.forward(X)
    net.backward(np.random.default_rng(2).normal(size=out.shape))
    expected_g: dict[str, float] = {}
    expected_w: dict[str, float] = {}
    for name, g in net.gradients().items():
        layer = name.rsplit(".", 1)[0]
        expected_g[layer] = expected_g.get(layer, 0.0) + float(np.sum(g * g))
        w = net.parameters()[name]
        expected_w[layer] = expected_w.get(layer, 0.0) + float(np.sum(w * w))
    got_g, got_w = net.layer_grad_norms(), net.layer_weight_norms()
    assert list(got_g) == list(expected_g)
    for layer, sq in expected_g.items():
        assert got_g[layer] == pytest.approx(math.sqrt(sq), rel=1e-12)
        assert got_w[layer] == pytest.approx(math.sqrt(expected_w[layer]), rel=1e-12)
    assert set(got_g) == {"layers.0", "layers.1", "layers.4.layers.0", "layers.5"}


def test_activation_stats_report_dead_relus():
    spec = NetworkSpec(2, (DenseSpec(4), ActivationSpec("relu"), DenseSpec(1)))
    net = core.build_network(spec, dtype=np.float64)
    net.set_parameters({"layers.0.weight": np.array([[1.0, -1.0, 0.5, 0.0],
                                                     [1.0, 1.0, 0.5, 0.0]]),
                        "layers.0.bias": np.array([0.0, 0.0, 0.0, -1.0])}, strict=False)
    X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0]])
    net.forward(X)
    stats = net.activation_stats()
    assert set(stats) == {"layers.1"}
    # Unit 3 is -1 for every sample: dead. The others fire for some sample.
    y = np.maximum(X @ net.parameters()["layers.0.weight"] + [0, 0, 0, -1], 0)
    s = stats["layers.1"]
    assert s.dead_fraction == pytest.approx(0.25)
    assert s.mean == pytest.approx(y.mean()) and s.std == pytest.approx(y.std())


def test_train_step_reports_penalty_and_norm_and_changes_settings():
    net = core.build_network(SMALL, dtype=np.float64)
    X = np.random.default_rng(0).normal(size=(8, 3))
    Y = np.random.default_rng(1).normal(size=(8, 2))
    step = TrainStep(net, TrainConfig(l2=0.5, clip_norm=1e-3))
    weights = net.flat_params * net.decay_mask
    loss, penalty, norm = step.compute_gradients(X, Y)
    assert penalty == pytest.approx(0.25 * float(weights @ weights), rel=1e-12)
    assert norm > 1e-3
    assert np.linalg.norm(net.flat_grads) == pytest.approx(1e-3, rel=1e-9)
    step.apply_settings(TrainConfig(learning_rate=0.5))
    assert step.optimizer.learning_rate == 0.5 and step.l2 == 0.0 and step.clip_norm == 0.0
    before = net.flat_params.copy()
    step.run(X, Y)
    np.testing.assert_allclose(step.last_delta, -0.5 * net.flat_grads, rtol=1e-15)
    np.testing.assert_allclose(net.flat_params, before + step.last_delta, rtol=1e-15)


# ----------------------------------------------------------------------- initialisers

# The standard deviation each documented initialiser should give, for fan_in, fan_out.
INIT_STD = {
    "glorot_uniform": lambda fi, fo: math.sqrt(2.0 / (fi + fo)),  # limit sqrt(6/(fi+fo))
    "glorot_normal": lambda fi, fo: math.sqrt(2.0 / (fi + fo)),
    "he_uniform": lambda fi, fo: math.sqrt(2.0 / fi),  # limit sqrt(6/fi)
    "he_normal": lambda fi, fo: math.sqrt(2.0 / fi),
    "lecun_normal": lambda fi, fo: math.sqrt(1.0 / fi),
    "small_normal": lambda fi, fo: 0.01,
    "zeros": lambda fi, fo: 0.0,
}


@pytest.mark.parametrize("name", list(core.INITIALIZERS))
def test_every_initializer_is_seeded_shaped_and_scaled_by_gain(name):
    spec = NetworkSpec(60, (DenseSpec(40, init=name), ActivationSpec("tanh"),
                            DenseSpec(3, init="default")), default_init=name)
    a = core.build_network(spec, seed=5, dtype=np.float64)
    b = core.build_network(spec, seed=5, dtype=np.float64)
    w = a.parameters()["layers.0.weight"]
    assert w.shape == (60, 40) and np.all(np.isfinite(w))
    assert a.flat_params.tobytes() == b.flat_params.tobytes()
    # "default" means the network's default initialiser: same draws as naming it.
    named = core.build_network(NetworkSpec(60, spec.layers[:2] + (DenseSpec(3, init=name),)),
                               seed=5, dtype=np.float64)
    assert named.flat_params.tobytes() == a.flat_params.tobytes()
    doubled = core.build_network(
        NetworkSpec(60, (DenseSpec(40, init=name, gain=2.0),) + spec.layers[1:],
                    default_init=name), seed=5, dtype=np.float64)
    np.testing.assert_array_equal(doubled.parameters()["layers.0.weight"], 2.0 * w)
    # Biases start at zero whatever the initialiser.
    assert np.all(a.parameters()["layers.0.bias"] == 0.0)


@pytest.mark.parametrize("name", sorted(set(INIT_STD) & set(core.INITIALIZERS)))
def test_initializer_scale(name):
    fi, fo = 200, 300
    spec = NetworkSpec(fi, (DenseSpec(fo, init=name),))
    w = core.build_network(spec, seed=1, dtype=np.float64).parameters()["layers.0.weight"]
    expected = INIT_STD[name](fi, fo)
    assert float(w.std()) == pytest.approx(expected, rel=0.02, abs=1e-12)
    assert abs(float(w.mean())) <= 0.1 * expected + 1e-12
    if name.endswith("_uniform"):
        assert np.max(np.abs(w)) <= expected * math.sqrt(3) + 1e-12


def test_float32_gradients_agree_with_float64():
    spec = DETERMINISM_SPEC
    X = np.random.default_rng(3).normal(size=(12, 3))
    R = np.random.default_rng(4).normal(size=(12, 2))
    grads = []
    for dtype in (np.float32, np.float64):
        net = core.build_network(spec, seed=2, dtype=dtype)
        for layer in net.all_layers():
            if hasattr(layer, "freeze_mask"):
                layer.rate = 0.0  # no dropout noise: compare like with like
        net.forward(X)
        net.backward(R.copy())
        grads.append(net.flat_grads.astype(np.float64))
    scale = np.linalg.norm(grads[1])
    assert np.linalg.norm(grads[0] - grads[1]) <= 1e-4 * scale
