"""``build_network``: the only path from a design to a runtime network.

It validates the spec, creates the runtime layers, lays every parameter out in one flat
buffer (each layer's parameters contiguous, in layer order) and draws the initial
weights from a generator seeded with ``seed``, so the same design and seed always give
the same network.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from core.design.limits import parameter_problems
from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    LayerSpec,
    NetworkSpec,
    ResidualSpec,
)
from core.engine.activations import ACTIVATIONS
from core.engine.initializers import INITIALIZERS
from core.engine.layers import Activation, BatchNorm, Dense, Dropout, Initializer, Layer, Residual
from core.engine.losses import LOSSES
from core.engine.network import Network, ParamGroup
from core.errors import DesignError

_FUSABLE = {info.fused_activation for info in LOSSES.values() if info.fused_activation}


def _initializer(name: str, gain: float) -> Initializer:
    draw = INITIALIZERS[name].draw

    def init(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return draw(rng, shape[0], shape[1]) * gain

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

    def make(layer: LayerSpec, name: str, n_in: int) -> Layer:
        if isinstance(layer, DenseSpec):
            init = spec.default_init if layer.init == "default" else layer.init
            return Dense(name, n_in, layer.units, dt, layer.bias,
                         _initializer(init, layer.gain))
        if isinstance(layer, ActivationSpec):
            return Activation(name, n_in, dt, ACTIVATIONS[layer.function])
        if isinstance(layer, DropoutSpec):
            return Dropout(name, n_in, dt, layer.rate, dropout_rng)
        if isinstance(layer, BatchNormSpec):
            return BatchNorm(name, n_in, dt, layer.momentum, layer.epsilon)
        if isinstance(layer, ResidualSpec):
            children, n = [], n_in
            for j, child in enumerate(layer.layers):
                built = make(child, f"{name}.layers.{j}", n)
                children.append(built)
                n = built.n_out
            proj = _initializer("glorot_uniform", 1.0) if layer.projection and n != n_in else None
            return Residual(name, n_in, n, dt, children, proj)
        raise DesignError(f"{name}: unknown layer kind {type(layer).__name__}")

    layers: list[Layer] = []
    n = spec.inputs
    for i, layer_spec in enumerate(spec.layers):
        built = make(layer_spec, f"layers.{i}", n)
        layers.append(built)
        n = built.n_out

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
            size = int(np.prod(d.shape))
            sl = slice(offset, offset + size)
            params[d.name] = flat_params[sl].reshape(d.shape)
            grads[d.name] = flat_grads[sl].reshape(d.shape)
            params[d.name][...] = d.init(init_rng, d.shape)
            if d.decay:
                decay_mask[sl] = 1.0
            param_index[f"{layer.name}.{d.name}"] = (layer, d.name)
            offset += size
        layer.bind(params, grads)
        groups.append(ParamGroup(layer.name, start, offset))

    # A final sigmoid/softmax can be absorbed by a fused loss (forward(..., logits=True)).
    fused = None
    if layers and isinstance(layers[-1], Activation) and layers[-1].info.name in _FUSABLE:
        fused = layers[-1]
    return Network(layers, spec.inputs, dt, flat_params, flat_grads, param_index, groups,
                   decay_mask, fused)
