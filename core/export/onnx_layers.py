"""One runtime layer at a time into ONNX nodes (evaluation mode), for ``onnx_export``.

``GraphParts`` collects the nodes and initializers of the graph being built; ``add_layer``
appends the nodes of one layer of ``core.engine`` and returns the name of its output
tensor. Each layer's main node is named after the layer (``layers.3``,
``layers.2.layers.0``) so Netron shows our names, helper nodes get ``<layer>/<what>``,
and initializers keep our weight names (``layers.3.weight``, ``layers.1.running_var``).

Tensors flow as ours do: features (batch, n), images (batch, C, H, W) (NCHW).
Dense weights stay (in, out) as we store them, so Gemm needs no transpose (transB 0).
"""

from __future__ import annotations

import math

import numpy as np

from core.engine.activations import ELU_ALPHA, LEAKY_SLOPE
from core.engine.conv import Conv2D
from core.engine.layers import Activation, BatchNorm, Dense, Dropout, Layer, Residual
from core.engine.pooling import AvgPool2D, Flatten, GlobalAvgPool, MaxPool2D
from core.export.source import ExportError

GELU_OPSET = 20  # Gelu (with approximate="tanh") is an operator from this opset on
_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715

# Activations that are one ONNX operator with fixed attributes.
_SIMPLE_ACTIVATIONS: dict[str, tuple[str, dict[str, float | int]]] = {
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "relu": ("Relu", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": LEAKY_SLOPE}),
    "elu": ("Elu", {"alpha": ELU_ALPHA}),
    "softplus": ("Softplus", {}),
    "linear": ("Identity", {}),
    # The axis is written out: its default changed from 1 to -1 at opset 13; for our
    # (batch, classes) rows both mean "over the classes", but a reader should not need
    # to know which default applies.
    "softmax": ("Softmax", {"axis": 1}),
}


class GraphParts:
    """The nodes and initializers of a graph being built from ``weights`` (our state
    dict, by dotted name) at ``opset``."""

    def __init__(self, weights: dict[str, np.ndarray], opset: int) -> None:
        self.weights = weights
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self._stored: set[str] = set()

    def weight(self, name: str) -> str:
        """The initializer holding our weight ``name`` (float32), added once."""
        from onnx import numpy_helper

        if name not in self._stored:
            if name not in self.weights:
                raise ExportError(f"the weights have no {name}; they do not fit the design")
            value = np.ascontiguousarray(self.weights[name], dtype=np.float32)
            self.initializers.append(numpy_helper.from_array(value, name))
            self._stored.add(name)
        return name

    def constant(self, name: str, value: float) -> str:
        """A float32 scalar initializer (for the GELU formula before opset 20)."""
        from onnx import numpy_helper

        if name not in self._stored:
            self.initializers.append(numpy_helper.from_array(np.array(value, np.float32), name))
            self._stored.add(name)
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, **attrs) -> str:
        """Append one node; returns its output tensor's name."""
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output


def add_layer(g: GraphParts, layer: Layer, x: str, out: str) -> str:
    """Append ``layer``'s nodes reading tensor ``x``; its output tensor is ``out``."""
    name = layer.name
    if isinstance(layer, Dense):
        inputs = [x, g.weight(f"{name}.weight")]
        if layer.has_bias:
            inputs.append(g.weight(f"{name}.bias"))
        return g.node("Gemm", inputs, out, name)
    if isinstance(layer, Activation):
        return _activation(g, layer, x, out)
    if isinstance(layer, Dropout):
        # Evaluation mode: dropout passes its input through. An Identity (not nothing)
        # keeps the layer visible in Netron and its output comparable with ours.
        return g.node("Identity", [x], out, name)
    if isinstance(layer, BatchNorm):
        # Running statistics (training_mode 0, the default). BatchNormalization takes
        # (N, C) as well as (N, C, H, W): C is axis 1 in both, as our features/channels.
        return g.node("BatchNormalization",
                      [x, g.weight(f"{name}.weight"), g.weight(f"{name}.bias"),
                       g.weight(f"{name}.running_mean"), g.weight(f"{name}.running_var")],
                      out, name, epsilon=float(layer.epsilon))
    if isinstance(layer, Conv2D):
        return _conv(g, layer, x, out)
    if isinstance(layer, MaxPool2D | AvgPool2D):
        op = "MaxPool" if isinstance(layer, MaxPool2D) else "AveragePool"
        # No padding in our pools, so AveragePool's count_include_pad cannot matter.
        return g.node(op, [x], out, name, kernel_shape=list(layer.size),
                      strides=list(layer.stride))
    if isinstance(layer, GlobalAvgPool):
        pooled = g.node("GlobalAveragePool", [x], f"{name}/pooled", f"{name}/pool")
        return g.node("Flatten", [pooled], out, name, axis=1)  # (N, C, 1, 1) -> (N, C)
    if isinstance(layer, Flatten):
        # axis 1 keeps NCHW order (channel slowest), exactly our rows' order.
        return g.node("Flatten", [x], out, name, axis=1)
    if isinstance(layer, Residual):
        return _residual(g, layer, x, out)
    raise ExportError(f"{name}: ONNX export has no translation for a {layer.label} layer")


def _activation(g: GraphParts, layer: Activation, x: str, out: str) -> str:
    fn, name = layer.info.name, layer.name
    if fn == "gelu":
        # Our GELU is the tanh approximation (see core.engine.activations), not erf.
        if g.opset >= GELU_OPSET:
            return g.node("Gelu", [x], out, name, approximate="tanh")
        return _gelu_tanh(g, name, x, out)
    if fn not in _SIMPLE_ACTIVATIONS:
        raise ExportError(f"{name}: ONNX export has no translation for the {fn} activation")
    op, attrs = _SIMPLE_ACTIVATIONS[fn]
    return g.node(op, [x], out, name, **attrs)


def _gelu_tanh(g: GraphParts, name: str, x: str, out: str) -> str:
    """0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) in basic operators (opset < 20)."""
    c, cubic = g.constant("gelu.c", _GELU_C), g.constant("gelu.cubic", _GELU_CUBIC)
    one, half = g.constant("gelu.one", 1.0), g.constant("gelu.half", 0.5)
    x2 = g.node("Mul", [x, x], f"{name}/x2", f"{name}/x2")
    x3 = g.node("Mul", [x2, x], f"{name}/x3", f"{name}/x3")
    inner = g.node("Mul", [x3, cubic], f"{name}/cubic", f"{name}/cubic")
    inner = g.node("Add", [x, inner], f"{name}/inner", f"{name}/inner")
    inner = g.node("Mul", [inner, c], f"{name}/scaled", f"{name}/scaled")
    t = g.node("Tanh", [inner], f"{name}/tanh", f"{name}/tanh")
    t = g.node("Add", [t, one], f"{name}/one_plus", f"{name}/one_plus")
    t = g.node("Mul", [t, x], f"{name}/times_x", f"{name}/times_x")
    return g.node("Mul", [t, half], out, name)


def _conv(g: GraphParts, layer: Conv2D, x: str, out: str) -> str:
    """Conv with our padding written as ONNX pads [top, left, bottom, right]: "same"
    puts the smaller half before, which can be asymmetric at stride > 1."""
    name = layer.name
    inputs = [x, g.weight(f"{name}.weight")]
    if layer.has_bias:
        inputs.append(g.weight(f"{name}.bias"))
    (top, bottom), (left, right) = layer.pad_h, layer.pad_w
    return g.node("Conv", inputs, out, name, kernel_shape=list(layer.kernel),
                  strides=list(layer.stride), pads=[top, left, bottom, right])


def _residual(g: GraphParts, layer: Residual, x: str, out: str) -> str:
    """The branch's layers in order, then Add with the input or its projection (a
    MatMul by ``<block>.projection`` for features, the 1×1 ``<block>.projection`` Conv
    child for images)."""
    name = layer.name
    h = x
    for child in layer.layers:
        h = add_layer(g, child, h, child.name)
    skip = x
    projection = [c for c in layer.children() if c not in layer.layers]
    if projection:  # the image projection: a Conv2D child named <block>.projection
        skip = _conv(g, projection[0], x, projection[0].name)
    elif layer.has_projection:
        # The output tensor cannot share the weight's name (tensor names are unique).
        skip = g.node("MatMul", [x, g.weight(f"{name}.projection")], f"{name}/projected",
                      f"{name}.projection")
    return g.node("Add", [h, skip], out, name)
