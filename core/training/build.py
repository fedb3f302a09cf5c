"""``build_network``: the only path from a design to a runtime network.

It validates the spec, creates the runtime layers, lays every parameter out in one flat
buffer (each layer's parameters contiguous, in layer order) and draws the initial
weights from a generator seeded with ``seed``, so the same design and seed always give
the same network.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from core.design.layer_specs import projection_stride
from core.design.limits import parameter_problems
from core.design.shapes import Shape, is_image, size
from core.design.spec import (
    ActivationSpec,
    AvgPool2DSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    DropoutSpec,
    FlattenSpec,
    GlobalAvgPoolSpec,
    LayerSpec,
    MaxPool2DSpec,
    NetworkSpec,
    ResidualSpec,
)
from core.engine.activations import ACTIVATIONS
from core.engine.conv import Conv2D
from core.engine.initializers import INITIALIZERS
from core.engine.layers import Activation, BatchNorm, Dense, Dropout, Initializer, Layer, Residual
from core.engine.losses import LOSSES
from core.engine.network import Network, ParamGroup
from core.engine.pooling import AvgPool2D, Flatten, GlobalAvgPool, MaxPool2D
from core.errors import DesignError

_FUSABLE = {info.fused_activation for info in LOSSES.values() if info.fused_activation}


def _initializer(name: str, gain: float) -> Initializer:
    draw = INITIALIZERS[name].draw

    def init(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        if len(shape) == 2:  # a Dense weight (fan_in, fan_out)
            return draw(rng, shape[0], shape[1]) * gain
        # A convolution weight (F, C, kh, kw): each output sees C·kh·kw inputs, and each
        # input reaches F·kh·kw outputs (PyTorch's fan rule for convolutions).
        f, c, kh, kw = shape
        return draw(rng, c * kh * kw, f * kh * kw, shape) * gain

    return init


def build_network(spec: NetworkSpec, seed: int = 0,
                  dtype: type | np.dtype = np.float32) -> Network:
    """Build a runtime ``Network`` from ``spec`` with weights drawn from ``seed``.

    Raises ``DesignError`` listing every problem if the spec is not trainable.
    """
    problems = spec.validate()
    if not problems:  # before anything is allocated
        # The parameter cap; paths relative to the network, like validate()'s.
        problems = [dataclasses.replace(p, path=p.path.removeprefix("network."))
                    for p in parameter_problems(spec)]
    if problems:
        raise DesignError(problems)
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise DesignError(f"dtype must be float32 or float64, got {dt}")
    # Separate streams: adding a dropout layer must not change the initial weights.
    init_rng = np.random.default_rng([seed, 0])
    dropout_rng = np.random.default_rng([seed, 1])

    def make(layer: LayerSpec, name: str, shape: Shape) -> Layer:
        n_in = size(shape)
        if isinstance(layer, DenseSpec | Conv2DSpec):
            init = _initializer(spec.default_init if layer.init == "default" else layer.init,
                                layer.gain)
            if isinstance(layer, DenseSpec):
                return Dense(name, n_in, layer.units, dt, layer.bias, init)
            return Conv2D(name, shape, layer.filters, layer.kernel, layer.stride,
                          layer.padding, layer.bias, dt, init)
        if isinstance(layer, ActivationSpec):
            return Activation(name, n_in, dt, ACTIVATIONS[layer.function])
        if isinstance(layer, DropoutSpec):
            return Dropout(name, n_in, dt, layer.rate, dropout_rng)
        if isinstance(layer, BatchNormSpec):
            return BatchNorm(name, n_in, dt, layer.momentum, layer.epsilon,
                             shape[0] if is_image(shape) else None)
        if isinstance(layer, MaxPool2DSpec | AvgPool2DSpec):
            pool = MaxPool2D if isinstance(layer, MaxPool2DSpec) else AvgPool2D
            return pool(name, shape, layer.size, layer.stride, dt)
        if isinstance(layer, FlattenSpec):
            return Flatten(name, shape, dt)
        if isinstance(layer, GlobalAvgPoolSpec):
            return GlobalAvgPool(name, shape, dt)
        if isinstance(layer, ResidualSpec):
            children, out = [], shape
            for j, child in enumerate(layer.layers):
                children.append(make(child, f"{name}.layers.{j}", out))
                out = child.output_shape(out)
            if not layer.projection or out == shape:
                return Residual(name, n_in, size(out), dt, children, None)
            if not is_image(shape):
                return Residual(name, n_in, size(out), dt, children,
                                _initializer("glorot_uniform", 1.0))
            projection = Conv2D(f"{name}.projection", shape, out[0], 1,
                                projection_stride(shape, out), "valid", False, dt,
                                _initializer("glorot_uniform", 1.0))
            return Residual(name, n_in, size(out), dt, children, None, projection)
        raise DesignError(f"{name}: unknown layer kind {type(layer).__name__}")

    layers: list[Layer] = []
    shape = spec.in_shape
    for i, layer_spec in enumerate(spec.layers):
        layers.append(make(layer_spec, f"layers.{i}", shape))
        shape = layer_spec.output_shape(shape)

    # Lay out parameters: walk layers in order, each layer's parameters contiguous.
    owners: list[tuple[Layer, list]] = []

    def collect(ls: list[Layer]) -> None:
        for layer in ls:
            decls = layer.declare()
            if decls:
                owners.append((layer, decls))
            collect(layer.children())

    collect(layers)
    total = sum(int(np.prod(d.shape)) for _, decls in owners for d in decls)
    flat_params = np.zeros(total, dtype=dt)
    flat_grads = np.zeros(total, dtype=dt)
    decay_mask = np.zeros(total, dtype=dt)
    param_index: dict[str, tuple[Layer, str]] = {}
    groups: list[ParamGroup] = []
    offset = 0
    for layer, decls in owners:
        start = offset
        params, grads = {}, {}
        for d in decls:
            count = int(np.prod(d.shape))
            sl = slice(offset, offset + count)
            params[d.name] = flat_params[sl].reshape(d.shape)
            grads[d.name] = flat_grads[sl].reshape(d.shape)
            params[d.name][...] = d.init(init_rng, d.shape)
            if d.decay:
                decay_mask[sl] = 1.0
            param_index[f"{layer.name}.{d.name}"] = (layer, d.name)
            offset += count
        layer.bind(params, grads)
        groups.append(ParamGroup(layer.name, start, offset))

    # A final sigmoid/softmax can be absorbed by a fused loss (forward(..., logits=True)).
    fused = None
    if layers and isinstance(layers[-1], Activation) and layers[-1].info.name in _FUSABLE:
        fused = layers[-1]
    return Network(layers, spec.inputs, dt, flat_params, flat_grads, param_index, groups,
                   decay_mask, fused, spec.in_shape if is_image(spec.in_shape) else ())
