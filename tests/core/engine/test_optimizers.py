"""Optimizers against straightforward reference formulas, penalties and clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest

import core
from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.engine.optimizers import apply_penalties, clip_gradients, make_optimizer
from core.training.step import TrainStep

SETTINGS = dict(momentum=0.8, beta1=0.85, beta2=0.97, rho=0.75, epsilon=1e-3)


class RefSGD:
    def __init__(self, n, s):
        pass

    def step(self, w, g, lr, s):
        return w - lr * g


class RefMomentum:
    def __init__(self, n, s):
        self.v = np.zeros(n)

    def step(self, w, g, lr, s):
        self.v = s["momentum"] * self.v - lr * g
        if s.get("nesterov"):
            return w + s["momentum"] * self.v - lr * g
        return w + self.v


class RefRMSprop:
    def __init__(self, n, s):
        self.s = np.zeros(n)

    def step(self, w, g, lr, s):
        self.s = s["rho"] * self.s + (1 - s["rho"]) * g * g
        return w - lr * g / (np.sqrt(self.s) + s["epsilon"])


class RefAdam:
    def __init__(self, n, s):
        self.m, self.v, self.t = np.zeros(n), np.zeros(n), 0

    def step(self, w, g, lr, s):
        b1, b2 = s["beta1"], s["beta2"]
        self.t += 1
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        m_hat = self.m / (1 - b1**self.t)
        v_hat = self.v / (1 - b2**self.t)
        return w - lr * m_hat / (np.sqrt(v_hat) + s["epsilon"])


REFERENCES = {"sgd": RefSGD, "momentum": RefMomentum, "rmsprop": RefRMSprop, "adam": RefAdam}


def test_every_optimizer_has_a_reference():
    missing = set(core.OPTIMIZERS) - set(REFERENCES)
    assert not missing, f"add a reference implementation for {missing}"


CASES = [(name, {}) for name in REFERENCES] + [("momentum", {"nesterov": True})]


@pytest.mark.parametrize(("name", "extra"), CASES, ids=[n + ("-nesterov" if e else "")
                                                        for n, e in CASES])
def test_optimizer_matches_reference_over_several_steps(name, extra):
    if name not in core.OPTIMIZERS:
        pytest.skip(f"{name} is no longer an optimizer")
    rng = np.random.default_rng(0)
    n = 7
    settings = {**SETTINGS, **extra}
    opt = make_optimizer(name, n, np.float64, learning_rate=0.1, **settings)
    ref = REFERENCES[name](n, settings)
    w = rng.normal(size=n)
    w_ref = w.copy()
    # The learning rate changes between steps and must take effect at the next one.
    for lr in (0.1, 0.1, 0.02, 0.3, 0.3, 0.001):
        opt.learning_rate = lr
        g = rng.normal(size=n)
        before = w.copy()
        delta = opt.step(w, g.copy())
        w_ref = ref.step(w_ref, g, lr, settings)
        np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(delta, w - before, rtol=1e-12, atol=1e-15)
    assert opt.iterations == 6


def test_sgd_step_is_exactly_minus_alpha_g():
    rng = np.random.default_rng(1)
    w = rng.normal(size=11)
    g = rng.normal(size=11)
    opt = make_optimizer("sgd", 11, np.float64, learning_rate=0.05)
    w0 = w.copy()
    delta = opt.step(w, g)
    assert np.array_equal(delta, -0.05 * g)
    assert np.array_equal(w, w0 + (-0.05 * g))
    opt.learning_rate = 0.5  # the next step uses the new rate
    delta = opt.step(w, g)
    assert np.array_equal(delta, -0.5 * g)


@pytest.mark.parametrize("name", list(core.OPTIMIZERS))
def test_every_setting_it_reads_changes_the_next_step(name):
    """Each setting an optimizer lists takes effect when changed between steps."""
    info = core.OPTIMIZERS[name]
    rng = np.random.default_rng(2)
    grads = [rng.normal(size=5) for _ in range(3)]
    changed = {"learning_rate": 0.01, "momentum": 0.3, "nesterov": True, "beta1": 0.5,
               "beta2": 0.9, "rho": 0.5, "epsilon": 0.5}
    assert set(info.settings) <= set(changed)
    for setting in info.settings:
        assert setting in core.TrainConfig.__dataclass_fields__
        deltas = []
        for change in (False, True):
            opt = make_optimizer(name, 5, np.float64, learning_rate=0.1, **SETTINGS)
            w = np.zeros(5)
            opt.step(w, grads[0])
            opt.step(w, grads[1])
            if change:
                setattr(opt, setting, changed[setting])
            deltas.append(opt.step(w, grads[2]).copy())
        assert not np.allclose(deltas[0], deltas[1]), setting


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(core.OPTIMIZERS))
def test_every_optimizer_minimises_a_quadratic(name, dtype):
    target = np.array([1.0, -2.0, 0.5, 3.0], dtype=dtype)
    w = np.zeros(4, dtype=dtype)
    opt = make_optimizer(name, 4, dtype, learning_rate=0.05)
    for _ in range(2000):
        delta = opt.step(w, w - target)  # gradient of 0.5 * ||w - target||^2
    assert delta.dtype == dtype and w.dtype == dtype
    np.testing.assert_allclose(w, target, atol=2e-2)


@pytest.mark.parametrize("name", list(core.OPTIMIZERS))
def test_reset_forgets_state(name):
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=6) for _ in range(4)]
    opt = make_optimizer(name, 6, np.float64, learning_rate=0.1)
    w = np.zeros(6)
    first = [opt.step(w, g).copy() for g in grads]
    opt.reset()
    assert opt.iterations == 0
    w = np.zeros(6)
    again = [opt.step(w, g).copy() for g in grads]
    np.testing.assert_array_equal(np.array(first), np.array(again))


def test_unknown_optimizer_names_the_choices():
    with pytest.raises(KeyError, match="adam"):
        make_optimizer("adagrad", 3, np.float64)


def test_train_step_learning_rate_change_takes_effect_next_step():
    spec = NetworkSpec(2, (DenseSpec(3), ActivationSpec("tanh"), DenseSpec(1)))
    net = core.build_network(spec, dtype=np.float64)
    X = np.random.default_rng(0).normal(size=(5, 2))
    Y = np.random.default_rng(1).normal(size=(5, 1))
    step = TrainStep(net, TrainConfig(optimizer="sgd", learning_rate=0.1))
    step.run(X, Y)
    np.testing.assert_allclose(step.last_delta, -0.1 * net.flat_grads, rtol=1e-15)
    step.optimizer.learning_rate = 0.003
    step.run(X, Y)
    np.testing.assert_allclose(step.last_delta, -0.003 * net.flat_grads, rtol=1e-15)


# -------------------------------------------------------------------------- penalties

PENALTY_SPEC = NetworkSpec(3, (DenseSpec(4), BatchNormSpec(), ActivationSpec("tanh"),
                               ResidualSpec((DenseSpec(5, bias=False),), projection=True),
                               DenseSpec(2)))
DECAYED = {"layers.0.weight", "layers.3.projection", "layers.3.layers.0.weight",
           "layers.4.weight"}


def _penalty_net():
    net = core.build_network(PENALTY_SPEC, seed=4, dtype=np.float64)
    rng = np.random.default_rng(4)
    for p in net.parameters().values():  # biases and BN parameters non-zero too
        p[...] = rng.normal(size=p.shape)
    return net


def test_decay_mask_selects_weights_only():
    net = _penalty_net()
    names = set(net.parameters())
    assert names > DECAYED
    base = net.flat_params.__array_interface__["data"][0]
    for name, p in net.parameters().items():
        start = (p.__array_interface__["data"][0] - base) // p.itemsize
        mask = net.decay_mask[start:start + p.size]
        assert np.all(mask == (1.0 if name in DECAYED else 0.0)), name


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_penalty_value_and_gradient(kind):
    net = _penalty_net()
    l2, l1 = (0.3, 0.0) if kind == "l2" else (0.0, 0.07)
    params = net.parameters()
    grads = np.random.default_rng(5).normal(size=net.flat_grads.size)
    net.flat_grads[:] = grads
    before = {k: v.copy() for k, v in net.gradients().items()}
    flat_before = net.flat_params.copy()
    penalty = apply_penalties(net.flat_params, net.flat_grads, net.decay_mask, l2, l1)
    np.testing.assert_array_equal(net.flat_params, flat_before)  # only grads change
    weights = [params[k] for k in DECAYED]
    if kind == "l2":
        expected = 0.5 * l2 * sum(float(np.sum(w * w)) for w in weights)
    else:
        expected = l1 * sum(float(np.sum(np.abs(w))) for w in weights)
    assert penalty == pytest.approx(expected, rel=1e-12)
    for name, g in net.gradients().items():
        if name in DECAYED:
            extra = l2 * params[name] if kind == "l2" else l1 * np.sign(params[name])
            np.testing.assert_allclose(g, before[name] + extra, rtol=1e-14, atol=1e-15)
        else:
            np.testing.assert_array_equal(g, before[name])


@pytest.mark.parametrize(("l2", "l1"), [(0.3, 0.0), (0.0, 0.07), (0.2, 0.05)])
def test_penalty_gradient_is_the_derivative_of_the_penalty(l2, l1, gradcheck):
    net = _penalty_net()
    assert np.min(np.abs(net.flat_params)) > 1e-3  # no |w| kink

    def value() -> float:
        return apply_penalties(net.flat_params, np.zeros_like(net.flat_grads),
                               net.decay_mask, l2, l1)

    net.flat_grads[:] = 0.0
    apply_penalties(net.flat_params, net.flat_grads, net.decay_mask, l2, l1)
    numeric = gradcheck.numeric_grad(value, net.flat_params)
    assert gradcheck.rel_error(net.flat_grads, numeric) <= 1e-7


def test_zero_penalties_change_nothing():
    net = _penalty_net()
    net.flat_grads[:] = 1.0
    assert apply_penalties(net.flat_params, net.flat_grads, net.decay_mask, 0.0, 0.0) == 0.0
    assert np.all(net.flat_grads == 1.0)


# ---------------------------------------------------------------------------- clipping


def test_clip_by_global_norm():
    g = np.array([3.0, 0.0, 4.0])
    assert clip_gradients(g, 1.0, 0.0) == pytest.approx(5.0)
    np.testing.assert_allclose(g, [0.6, 0.0, 0.8], rtol=1e-15)
    # Under the limit: untouched.
    g = np.array([3.0, 0.0, 4.0])
    assert clip_gradients(g, 10.0, 0.0) == pytest.approx(5.0)
    np.testing.assert_array_equal(g, [3.0, 0.0, 4.0])


def test_clip_by_value():
    g = np.array([-3.0, 0.5, 2.0, -0.25])
    norm = clip_gradients(g, 0.0, 1.0)
    assert norm == pytest.approx(math.sqrt(9 + 0.25 + 4 + 0.0625))
    np.testing.assert_array_equal(g, [-1.0, 0.5, 1.0, -0.25])


def test_clip_by_value_then_norm():
    g = np.array([-3.0, 0.5, 2.0])
    norm = clip_gradients(g, 0.75, 1.0)
    assert norm == pytest.approx(math.sqrt(13.25))  # reported before any clipping
    # by value: [-1, 0.5, 1] (norm 1.5), then scaled by 0.75 / 1.5 = 0.5
    np.testing.assert_allclose(g, [-0.5, 0.25, 0.5], rtol=1e-15)


def test_clipping_off_changes_nothing():
    g = np.array([100.0, -200.0])
    assert clip_gradients(g, 0.0, 0.0) == pytest.approx(math.sqrt(50000))
    np.testing.assert_array_equal(g, [100.0, -200.0])


def test_train_step_clips_the_whole_network_gradient():
    spec = NetworkSpec(2, (DenseSpec(3), ActivationSpec("tanh"), DenseSpec(1)))
    net = core.build_network(spec, dtype=np.float64)
    X = np.random.default_rng(0).normal(size=(5, 2))
    Y = 100 * np.ones((5, 1))
    step = TrainStep(net, TrainConfig(clip_value=0.01))
    result = step.run(X, Y)
    assert result.grad_norm > 1.0
    assert np.max(np.abs(net.flat_grads)) <= 0.01
