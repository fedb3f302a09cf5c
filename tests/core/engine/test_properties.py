"""Property-based tests (hypothesis): gradient checks of random small architectures, and
design round trips / parsing robustness over random designs built from the field tables."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import core
from core.design.fields import field_infos
from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.engine.layers import BatchNorm
from core.files.design_file import design_to_json
from core.storage.checked_io import parse_json

NETWORK_TOL = 1e-5
SMOOTH_OR_KINKED = sorted(n for n, a in core.ACTIVATIONS.items() if not a.output_only)
OUTPUT_ONLY = sorted(n for n, a in core.ACTIVATIONS.items() if a.output_only)

GRADCHECK = settings(max_examples=80, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow])
FAST = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------ random architectures


@st.composite
def blocks(draw, width: int, depth: int):
    """One layer taking ``width`` features: (spec, output width)."""
    kinds = ["dense", "activation", "batchnorm", "dropout"] + (["residual"] if depth < 2 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "dense":
        units = draw(st.integers(1, 6))
        return DenseSpec(units, bias=draw(st.booleans()),
                         init=draw(st.sampled_from(["default", *core.INITIALIZERS])),
                         gain=draw(st.sampled_from([0.5, 1.0, 1.5]))), units
    if kind == "activation":
        return ActivationSpec(draw(st.sampled_from(SMOOTH_OR_KINKED))), width
    if kind == "batchnorm":
        return BatchNormSpec(momentum=draw(st.sampled_from([0.0, 0.9])),
                             epsilon=draw(st.sampled_from([1e-5, 1e-3]))), width
    if kind == "dropout":
        return DropoutSpec(draw(st.sampled_from([0.0, 0.3, 0.6]))), width
    children, n = [], width
    for _ in range(draw(st.integers(1, 3))):
        child, n = draw(blocks(n, depth + 1))
        children.append(child)
    projection = draw(st.booleans())
    if n != width and not projection:
        children.append(DenseSpec(width))  # make the block's widths match
        n = width
    return ResidualSpec(tuple(children), projection=projection), n


@st.composite
def architectures(draw) -> NetworkSpec:
    inputs = draw(st.integers(1, 4))
    layers, n = [], inputs
    for _ in range(draw(st.integers(1, 6))):
        layer, n = draw(blocks(n, 0))
        layers.append(layer)
    if n >= 2 and len(layers) < 6 and draw(st.booleans()):
        layers.append(ActivationSpec(draw(st.sampled_from(OUTPUT_ONLY))))
    spec = NetworkSpec(inputs, tuple(layers))
    assume(spec.validate() == [])  # e.g. only activations and dropout: no parameters
    return spec


def _well_conditioned(net: core.Network, gradcheck) -> bool:
    """No ReLU pre-activation within 1e-3 of its kink, and no BatchNorm feature of nearly
    zero variance (there finite differences lose their accuracy, not the engine)."""
    if gradcheck.kink_distance(net) <= gradcheck.KINK_MARGIN:
        return False
    for layer in net.all_layers():
        if isinstance(layer, BatchNorm) and np.max(layer._inv_std) > 10.0:
            return False
    return True


@GRADCHECK
@given(spec=architectures(), seed=st.integers(0, 2**16), batch=st.integers(4, 8),
       loss=st.sampled_from(sorted(core.LOSSES)))
def test_random_architecture_gradients(spec, seed, batch, loss, gradcheck):
    assert 1 <= len(spec.layers) <= 6
    info = core.LOSSES[loss]
    final = spec.final_activation()
    if info.fused_activation and final != info.fused_activation:
        loss = None  # a fused loss needs its activation: use a random projection instead
    elif loss in ("mae", "huber"):
        loss = "mse"  # kinks at random residuals; both are checked alone in test_gradients
    net = core.build_network(spec, seed=seed, dtype=np.float64)
    gradcheck.freeze_dropout(net)
    fused = bool(loss and core.LOSSES[loss].fused_activation)
    for attempt in range(10):
        rng = np.random.default_rng([seed, attempt])
        X = rng.normal(size=(batch, spec.inputs))
        out = net.forward(X, logits=fused)
        if _well_conditioned(net, gradcheck):
            break
    else:
        assume(False)
    Y = None
    if loss == "softmax_cross_entropy":
        Y = np.eye(out.shape[1])[rng.integers(0, out.shape[1], batch)]
    elif loss == "binary_cross_entropy":
        Y = (rng.random(out.shape) < 0.5).astype(float)
    elif loss is not None:
        Y = rng.normal(size=out.shape)
    err, err_x, per_name = gradcheck.network_check(net, X, loss, Y, seed=seed)
    assert err <= NETWORK_TOL, (err, per_name)
    assert err_x <= NETWORK_TOL, err_x
    assert all(e <= NETWORK_TOL for e in per_name.values()), per_name


@FAST
@given(spec=architectures(), seed=st.integers(0, 2**32 - 1))
def test_random_architecture_builds_consistently(spec, seed):
    """The spec's counts match the built network; float32 forward/backward stay finite;
    the same seed gives the same weights."""
    net = core.build_network(spec, seed=seed)
    assert net.parameter_count == spec.parameter_count()
    assert net.outputs == spec.outputs
    X = np.random.default_rng(seed).normal(size=(5, spec.inputs))
    out = net.forward(X)
    assert out.shape == (5, spec.outputs) and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    net.backward(np.ones_like(out))
    assert np.all(np.isfinite(net.flat_grads))
    assert set(net.layer_grad_norms()) == {name.rsplit(".", 1)[0] for name in net.parameters()}
    again = core.build_network(Design.from_dict(Design(spec).to_dict()).network, seed=seed)
    assert net.flat_params.tobytes() == again.flat_params.tobytes()


# ----------------------------------------------------------------- random designs


def _value(info) -> st.SearchStrategy:
    if info.type == "bool":
        return st.booleans()
    if info.type == "int":
        lo = int(info.minimum) if info.minimum is not None else -(2**31)
        hi = int(info.maximum) if info.maximum is not None else 2**31
        return st.integers(lo + (1 if info.exclusive_min else 0), hi)
    if info.type == "float":
        lo = info.minimum if info.minimum is not None else -1e9
        hi = info.maximum if info.maximum is not None else 1e9
        return st.floats(lo, hi, exclude_min=info.exclusive_min, allow_nan=False,
                         allow_infinity=False)
    if info.type == "choice":
        return st.sampled_from(sorted(info.choices()))
    return st.text(max_size=20)


def fields_of(cls) -> st.SearchStrategy:
    return st.fixed_dictionaries({name: _value(info) for name, info in field_infos(cls).items()})


def layer_specs(depth: int = 0) -> st.SearchStrategy:
    plain = [fields_of(c).map(lambda kw, c=c: c(**kw))
             for c in (DenseSpec, ActivationSpec, DropoutSpec, BatchNormSpec)]
    if depth >= 3:
        return st.one_of(plain)
    residual = st.builds(
        lambda kw, children: ResidualSpec(tuple(children), **kw),
        fields_of(ResidualSpec), st.lists(st.deferred(lambda: layer_specs(depth + 1)),
                                          max_size=3))
    return st.one_of(*plain, residual)


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)

designs = st.builds(
    lambda net_kw, layers, train_kw, dataset, name: Design(
        NetworkSpec(layers=tuple(layers), **net_kw), TrainConfig(**train_kw), dataset, name),
    fields_of(NetworkSpec), st.lists(layer_specs(), max_size=6), fields_of(TrainConfig),
    st.none() | st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4),
    st.text(max_size=30))


@FAST
@given(design=designs)
def test_design_dict_round_trip(design):
    d = design.to_dict()
    assert Design.from_dict(d) == design
    # Through the JSON text a file holds, too.
    text = design_to_json(design)
    again = Design.from_dict(parse_json(text.encode("utf-8"), "memory"))
    assert again == design
    assert design_to_json(again) == text


@FAST
@given(spec=architectures(), config=fields_of(TrainConfig))
def test_valid_design_round_trip_keeps_validity(spec, config):
    design = Design(spec, TrainConfig(**config))
    again = Design.from_dict(design.to_dict())
    assert again == design
    assert again.validate() == design.validate()
    assert again.network.validate() == []


def _paths(d, prefix=()):
    """Every (path, container) position in a nested dict/list."""
    if isinstance(d, dict):
        for k, v in d.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


@FAST
@given(design=designs, data=st.data())
def test_from_dict_fails_only_with_design_error(design, data):
    """Replace any value of a valid design dict with any JSON value: from_dict either
    returns a Design or raises DesignError, and validate() never crashes on the result."""
    d = design.to_dict()
    positions = list(_paths(d))
    path = data.draw(st.sampled_from(positions))
    target = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(JSON_VALUES)
    try:
        parsed = Design.from_dict(d)
    except core.DesignError as exc:
        assert exc.problems and all(isinstance(p, core.Problem) for p in exc.problems)
        return
    for problem in parsed.validate():
        assert isinstance(problem.message, str) and problem.message


@FAST
@given(config=fields_of(TrainConfig), name=st.sampled_from(sorted(field_infos(TrainConfig))),
       value=JSON_SCALARS)
def test_python_constructed_configs_never_crash_validate(config, name, value):
    cfg = dataclasses.replace(TrainConfig(**config), **{name: value})
    problems = cfg.validate()
    info = field_infos(TrainConfig)[name]
    if info.check(value) is None:
        assert all(p.path != name for p in problems)
    else:
        assert name in [p.path for p in problems]
