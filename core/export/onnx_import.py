"""ONNX import: a design and its weights from an ``.onnx`` file made of the operators we
export (and that ``torch.onnx.export`` writes for an equivalent ``nn.Sequential``).

The graph (``core.export.onnx_graph.read_graph``: size limit, no external data, every
unsupported operator listed) is walked from its input to its output, one operator after
another, and each becomes a layer in order (ONNX node names are not kept: our layers have
none). A tensor read by two nodes starts a residual block: one path is the branch, the
other goes straight (or through a 1×1 convolution or a MatMul, the projection) to the
Add that ends it. Anything the walk cannot place is refused with the node and operator
named, and nothing is returned half-built: the design is validated and every weight's
shape checked against what ``core.training.build`` would make of it.

Choices: an ONNX ``Dropout`` becomes our Dropout with its ratio (0.5 when the file gives
none, ONNX's default); a model exported in evaluation mode has no Dropout node at all
(PyTorch leaves it out; our own export writes an ``Identity``), so no dropout comes
back. An ``Identity`` becomes a Linear activation, which passes its input through as it
does, so every node keeps its place and a round trip keeps every weight's name. Batch
norm keeps the file's momentum (ONNX's default 0.9 when it has none, ours too).
``Gelu`` is taken only with ``approximate="tanh"``: our GELU is the tanh approximation,
and the exact one (``Erf``) differs by more than the verify rule. LeakyRelu and Elu are
taken only at the slope/alpha our activations use.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from core.design.layer_specs import projection_stride
from core.design.limits import state_shapes
from core.design.shapes import Shape, ShapeError, is_image, shape_words
from core.design.spec import (
    MAX_DEPTH,
    ActivationSpec,
    AvgPool2DSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    FlattenSpec,
    GlobalAvgPoolSpec,
    LayerSpec,
    MaxPool2DSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.engine.activations import ELU_ALPHA, LEAKY_SLOPE
from core.engine.image_shapes import same_padding
from core.errors import DesignError, FileFormatError, printable
from core.export.onnx_graph import OnnxGraph, read_graph

Weights = dict[str, np.ndarray]
Layer = tuple[LayerSpec, Weights]  # a layer and its weights by local name ("weight")

_PLAIN = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softplus"}
_LOSS_FOR = {"softmax": "softmax_cross_entropy", "sigmoid": "binary_cross_entropy"}


class _Refused(Exception):
    """Why the walk cannot place a node (words without the file name)."""


def import_onnx(path: str | Path) -> tuple[Design, Weights]:
    """The design and weights (``state_dict`` names, float32) of the model in ``path``.

    ``FileFormatError`` names the node and operator it cannot translate, or what else is
    wrong; nothing is returned unless the whole model was translated and checked."""
    p = Path(path)
    graph = read_graph(p)
    try:
        walk = _Walk(graph)
        layers, _, _ = walk.chain(graph.input_name, walk.in_shape, None)
        unused = [graph.node_words(n) for n in graph.nodes if id(n) not in walk.seen]
        if unused:
            raise _Refused("these operators are not on the path from the input to the "
                           "output: " + ", ".join(unused))
        if not layers:
            raise _Refused("the model has no layers between its input and output")
        spec = NetworkSpec(walk.inputs, tuple(s for s, _ in layers),
                           input_shape=walk.input_shape)
        problems = spec.validate()
        if problems:
            raise _Refused("the layers it holds do not make a design this app can train: "
                           + str(DesignError(problems)))
        weights = _named(layers, "layers")
        _check_shapes(spec, weights)
    except _Refused as e:
        raise FileFormatError(f"cannot import {printable(p.name)}: {e}") from None
    final = spec.final_activation()
    training = TrainConfig(loss=_LOSS_FOR.get(final or "", "mse"))
    return Design(spec, training, name=p.stem), weights


def _named(layers: list[Layer], prefix: str) -> Weights:
    return {f"{prefix}.{i}.{k}": v for i, (_, w) in enumerate(layers) for k, v in w.items()}


def _check_shapes(spec: NetworkSpec, weights: Weights) -> None:
    """Every weight present with the shape the built network gives it (``state_shapes``)."""
    params, buffers = state_shapes(spec)
    expected = {**params, **buffers}
    for name, shape in expected.items():
        if name not in weights:
            raise _Refused(f"no weights for {name}")
        if tuple(weights[name].shape) != shape:
            raise _Refused(f"the weights for {name} have shape {weights[name].shape}, but "
                           f"the layer needs {shape}")
    extra = sorted(set(weights) - set(expected))
    if extra:
        raise _Refused(f"weights that no layer uses: {', '.join(extra)}")


def _floats(array: np.ndarray, what: str) -> np.ndarray:
    if array.dtype.kind != "f":
        raise _Refused(f"{what} is of type {array.dtype}, not floating point")
    out = np.ascontiguousarray(array, dtype=np.float32)
    if not np.all(np.isfinite(out)):
        raise _Refused(f"{what} holds NaN or infinite values")
    return out


class _Walk:
    """The walk over one graph: which nodes it placed, and the input it found."""

    def __init__(self, graph: OnnxGraph) -> None:
        self.g = graph
        self.seen: set[int] = set()
        dims = graph.input_dims
        if len(dims) not in (2, 4) or any(d is None or d < 1 for d in dims[1:]):
            raise _Refused(f"its input '{printable(graph.input_name)}' has shape "
                           f"{_dims_words(dims)}; a model to import takes (batch, features) "
                           "or (batch, channels, height, width) with fixed sizes")
        self.input_shape: tuple[int, ...] = tuple(dims[1:]) if len(dims) == 4 else ()
        self.in_shape: Shape = tuple(dims[1:])  # type: ignore[assignment]
        self.inputs = math.prod(self.in_shape)
        self.depth = 0  # residual blocks the walk is inside

    # ------------------------------------------------------------------ graph walking
    def chain(self, tensor: str, shape: Shape, stop: Any, first: Any = None
              ) -> tuple[list[Layer], str, Shape]:
        """Layers from ``tensor`` (of ``shape``) until the node ``stop`` (None: the
        graph's output), starting with node ``first`` when given (a branch's first);
        returns them, the tensor they end at and its shape."""
        layers: list[Layer] = []
        while True:
            readers = self.g.readers.get(tensor, [])
            if first is not None:
                node, first = first, None
            elif stop is not None and readers == [stop]:
                return layers, tensor, shape
            elif not readers:
                if stop is None and tensor == self.g.output_name:
                    return layers, tensor, shape
                raise _Refused(f"the tensor '{printable(tensor)}' leads nowhere")
            elif tensor == self.g.output_name and stop is None:
                raise _Refused("the model's output is also read by other operators")
            elif len(readers) == 2:
                layer, tensor, shape = self.residual(tensor, shape, readers)
                layers.append(layer)
                continue
            elif len(readers) > 2:
                raise _Refused(f"the tensor '{printable(tensor)}' is read by "
                               f"{len(readers)} operators; only residual blocks branch")
            else:
                node = readers[0]
            self.mark(node)
            layer, tensor, shape = self.translate(node, shape)
            if layer is not None:
                layers.append(layer)

    def mark(self, node: Any) -> None:
        if id(node) in self.seen:
            raise _Refused(f"{self.g.node_words(node)} is reached twice (a cycle)")
        self.seen.add(id(node))

    def residual(self, x: str, shape: Shape, readers: list[Any]
                 ) -> tuple[Layer, str, Shape]:
        """The residual block starting at tensor ``x``, read by the two ``readers``."""
        self.depth += 1
        try:
            return self._residual(x, shape, readers)
        finally:
            self.depth -= 1

    def _residual(self, x: str, shape: Shape, readers: list[Any]
                  ) -> tuple[Layer, str, Shape]:
        if self.depth > MAX_DEPTH:  # before a hostile file nests deep enough to overflow
            raise _Refused(f"residual blocks are nested more than {MAX_DEPTH} deep")
        failure: _Refused | None = None
        for skip, branch in ((readers[0], readers[1]), (readers[1], readers[0])):
            projection = None
            add = skip
            if skip.op_type in ("Conv", "MatMul", "Gemm"):
                after = self.g.readers.get(skip.output[0], [])
                if len(after) != 1 or after[0].op_type != "Add":
                    continue
                projection, add = skip, after[0]
            elif skip.op_type != "Add":
                continue
            seen = set(self.seen)
            try:
                children, tail, out = self.chain(x, shape, add, first=branch)
                skip_out = projection.output[0] if projection is not None else x
                if sorted(add.input) != sorted([tail, skip_out]):
                    raise _Refused(f"{self.g.node_words(add)} does not add the block's "
                                   "input to its branch")
                weights = _named(children, "layers")
                if projection is not None:
                    self.mark(projection)
                    weights.update(self.projection(projection, shape, out))
                self.mark(add)
            except _Refused as e:
                self.seen = seen
                failure = failure or e
                continue
            spec = ResidualSpec(tuple(s for s, _ in children), projection=projection
                                is not None)
            return (spec, weights), add.output[0], out
        raise failure or _Refused(
            f"the tensor '{printable(x)}' is read by {self.g.node_words(readers[0])} and "
            f"{self.g.node_words(readers[1])}, which is not a residual block")

    def projection(self, node: Any, shape: Shape, out: Shape) -> Weights:
        """The weights of a residual block's projection ``node``."""
        where = self.g.node_words(node)
        if out == shape:
            raise _Refused(f"{where} projects a block that keeps its shape; leave it out")
        if node.op_type == "Conv":
            if not is_image(shape):
                raise _Refused(f"{where} projects features; use MatMul")
            w = self.const(node, 1, "weight")
            a = self.g.attrs(node)
            stride = tuple(a.get("strides", (1, 1)))
            if (len(node.input) > 2 and node.input[2]) or w.shape[2:] != (1, 1) \
                    or any(a.get("pads", ())) or stride != projection_stride(shape, out):
                raise _Refused(f"{where} is not a projection this app has: a 1×1 "
                               f"convolution without bias or padding, stride "
                               f"{projection_stride(shape, out)}")
            return {"projection.weight": w}
        layer, _, _ = self.dense(node, shape, bias_allowed=False)
        return {"projection": layer[1]["weight"]}

    # ---------------------------------------------------------------- one operator
    def const(self, node: Any, index: int, what: str, required: bool = True
              ) -> np.ndarray | None:
        """Input ``index`` of ``node``, which must be a stored tensor."""
        name = node.input[index] if len(node.input) > index else ""
        if not name:
            if required:
                raise _Refused(f"{self.g.node_words(node)} has no {what}")
            return None
        if name not in self.g.constants:
            raise _Refused(f"the {what} of {self.g.node_words(node)} is computed in the "
                           "graph, not stored; only stored weights can be imported")
        return _floats(self.g.constants[name], f"the {what} of {self.g.node_words(node)}")

    def only_first_output(self, node: Any) -> None:
        if any(self.g.readers.get(o) for o in node.output[1:] if o):
            raise _Refused(f"{self.g.node_words(node)}: only its first output can be used")

    def translate(self, node: Any, shape: Shape) -> tuple[Layer | None, str, Shape]:
        """The layer ``node`` is (None for an operator that changes nothing here), the
        tensor after it (and the nodes it absorbed) and that tensor's shape."""
        op, where, a = node.op_type, self.g.node_words(node), self.g.attrs(node)
        out = node.output[0]
        try:
            if op in ("Gemm", "MatMul"):
                layer, out, shape = self.dense(node, shape)
                return layer, out, shape
            if op in _PLAIN:
                return (ActivationSpec(_PLAIN[op]), {}), out, shape
            if op == "Softmax":
                axis = a.get("axis", -1 if self._opset13 else 1)
                if is_image(shape) or axis not in (1, -1):
                    raise _Refused(f"{where} takes the softmax over axis {axis} of "
                                   f"{shape_words(shape)}; only over the features of a "
                                   "flat row")
                return (ActivationSpec("softmax"), {}), out, shape
            if op == "LeakyRelu":
                self.setting(where, "alpha", a.get("alpha", 0.01), LEAKY_SLOPE)
                return (ActivationSpec("leaky_relu"), {}), out, shape
            if op == "Elu":
                self.setting(where, "alpha", a.get("alpha", 1.0), ELU_ALPHA)
                return (ActivationSpec("elu"), {}), out, shape
            if op == "Gelu":
                if a.get("approximate", b"none") not in (b"tanh", "tanh"):
                    raise _Refused(f"{where} is the exact GELU; this app's GELU is the "
                                   "tanh approximation (approximate='tanh')")
                return (ActivationSpec("gelu"), {}), out, shape
            if op == "Identity":  # a layer that passes its input through: keep its place
                return (ActivationSpec("linear"), {}), out, shape
            if op == "Dropout":
                return self.dropout(node, a), out, shape
            if op == "Conv":
                return self.conv(node, a, shape)
            if op in ("MaxPool", "AveragePool"):
                return self.pool(node, a, shape)
            if op == "GlobalAveragePool":
                return (GlobalAvgPoolSpec(), {}), out, GlobalAvgPoolSpec().output_shape(shape)
            if op in ("Flatten", "Reshape", "Squeeze"):
                return self.flatten(node, a, shape)
            if op == "BatchNormalization":
                return self.batchnorm(node, a, shape, node)
            if op == "Unsqueeze":
                return self.unsqueezed_batchnorm(node, shape)
        except ShapeError as e:
            raise _Refused(f"{where}: {e}") from None
        raise _Refused(f"{where} is not where this app can place it (an Add must end a "
                       "residual block or add a Dense layer's bias)")

    @property
    def _opset13(self) -> bool:
        return self.g.opset >= 13  # Softmax's default axis changed from 1 to -1

    def setting(self, where: str, name: str, value: float, ours: float) -> None:
        if not math.isclose(value, ours, rel_tol=1e-6):
            raise _Refused(f"{where} has {name} {value:g}; this app's uses {ours:g}")

    def dense(self, node: Any, shape: Shape, bias_allowed: bool = True
              ) -> tuple[Layer, str, Shape]:
        """A Gemm, or a MatMul with the Add of a stored bias after it."""
        where = self.g.node_words(node)
        if is_image(shape):
            raise _Refused(f"{where} takes {shape_words(shape)}; flatten it first")
        w = self.const(node, 1, "weight")
        bias = None
        out = node.output[0]
        if node.op_type == "Gemm":
            a = self.g.attrs(node)
            if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                raise _Refused(f"{where} uses transA, alpha or beta; only y = x·W + b "
                               "can be imported")
            if a.get("transB", 0):
                w = w.T
            bias = self.const(node, 2, "bias", required=False)
        elif bias_allowed:
            after = self.g.readers.get(out, [])
            if len(after) == 1 and after[0].op_type == "Add":
                other = [i for i in after[0].input if i != out]
                if len(other) == 1 and other[0] in self.g.constants:
                    add = after[0]
                    self.mark(add)
                    bias = _floats(self.g.constants[other[0]], f"the bias of {where}")
                    out = add.output[0]
        if w.ndim != 2 or w.shape[0] != shape[0]:
            raise _Refused(f"{where} has a weight of shape {w.shape} for "
                           f"{shape_words(shape)}")
        weights = {"weight": np.ascontiguousarray(w)}
        if bias is not None:
            bias = bias.reshape(-1)
            if bias.shape != (w.shape[1],):
                raise _Refused(f"{where} has a bias of shape {bias.shape} for "
                               f"{w.shape[1]} outputs")
            weights["bias"] = bias
        if not bias_allowed and bias is not None:
            raise _Refused(f"{where} is a projection with a bias; ours has none")
        return (DenseSpec(int(w.shape[1]), bias=bias is not None), weights), out, \
            (int(w.shape[1]),)

    def dropout(self, node: Any, a: dict[str, Any]) -> Layer:
        self.only_first_output(node)
        if len(node.input) > 2 and node.input[2]:
            mode = self.g.constants.get(node.input[2])
            if mode is None or bool(np.asarray(mode).reshape(-1)[0]):
                raise _Refused(f"{self.g.node_words(node)} is in training mode")
        ratio = a.get("ratio", 0.5)
        if len(node.input) > 1 and node.input[1]:
            ratio = float(self.const(node, 1, "ratio").reshape(-1)[0])
        return DropoutSpec(min(max(_decimal(ratio), 0.0), 0.99)), {}

    def conv(self, node: Any, a: dict[str, Any], shape: Shape) -> tuple[Layer, str, Shape]:
        where = self.g.node_words(node)
        if not is_image(shape):
            raise _Refused(f"{where} takes {shape_words(shape)}; it needs images")
        w = self.const(node, 1, "weight")
        bias = self.const(node, 2, "bias", required=False)
        f, c, kh, kw = w.shape if w.ndim == 4 else (0, 0, 0, 0)
        strides = tuple(a.get("strides", (1, 1)))
        if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", (1, 1))) \
                or len(strides) != 2 or strides[0] != strides[1]:
            raise _Refused(f"{where} uses groups, dilation or unequal strides {strides}")
        if w.ndim != 4 or c != shape[0] or kh != kw:
            raise _Refused(f"{where} has a weight of shape {w.shape} for "
                           f"{shape_words(shape)}; a square kernel over every channel")
        k, s = kh, strides[0]
        padding = self.padding(where, a, shape, k, s)
        spec = Conv2DSpec(int(f), int(k), int(s), padding, bias=bias is not None)
        weights = {"weight": w} if bias is None else {"weight": w, "bias": bias}
        return (spec, weights), node.output[0], spec.output_shape(shape)

    def padding(self, where: str, a: dict[str, Any], shape: Shape, k: int, s: int) -> str:
        """"same" or "valid" for a Conv's ``pads``/``auto_pad`` on ``shape``."""
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        (top, bottom), (left, right) = (same_padding(shape[1], k, s),
                                        same_padding(shape[2], k, s))
        same = [top, left, bottom, right]
        if auto == "VALID":
            return "valid"
        if auto == "SAME_UPPER" or (auto == "SAME_LOWER" and top == bottom
                                    and left == right):
            return "same"
        pads = list(a.get("pads", (0, 0, 0, 0)))
        if auto == "NOTSET" and pads == same:
            return "same"
        if auto == "NOTSET" and not any(pads):
            return "valid"
        raise _Refused(f"{where} pads {pads} ({auto}); this app pads nothing or "
                       f"{same} here ('same': the smaller half before)")

    def pool(self, node: Any, a: dict[str, Any], shape: Shape) -> tuple[Layer, str, Shape]:
        where = self.g.node_words(node)
        self.only_first_output(node)
        kernel = tuple(a.get("kernel_shape", ()))
        strides = tuple(a.get("strides", (1, 1)))
        if len(kernel) != 2 or kernel[0] != kernel[1] or len(strides) != 2 \
                or strides[0] != strides[1]:
            raise _Refused(f"{where} has window {kernel} and strides {strides}; only "
                           "square windows with equal strides")
        if any(a.get("pads", ())) or a.get("ceil_mode", 0) \
                or any(d != 1 for d in a.get("dilations", (1, 1))) \
                or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
            raise _Refused(f"{where} pads, dilates or rounds up; this app's pools do not")
        kind = MaxPool2DSpec if node.op_type == "MaxPool" else AvgPool2DSpec
        spec = kind(int(kernel[0]), int(strides[0]))
        if not is_image(shape):
            raise _Refused(f"{where} takes {shape_words(shape)}; it needs images")
        return (spec, {}), node.output[0], spec.output_shape(shape)

    def flatten(self, node: Any, a: dict[str, Any], shape: Shape
                ) -> tuple[Layer | None, str, Shape]:
        """Flatten, a Reshape to (batch, -1) or a Squeeze of 1×1 pixels: our Flatten on
        images, nothing on features; a first Reshape of flat rows to images sets the
        design's input shape."""
        where, out, op = self.g.node_words(node), node.output[0], node.op_type
        target: list[int] = []
        if op == "Reshape":
            raw = self.g.constants.get(node.input[1])
            if raw is None:
                raise _Refused(f"the shape of {where} is computed; only stored shapes")
            target = [int(v) for v in np.asarray(raw).reshape(-1)]
            if len(target) == 4 and not is_image(shape) and node.input[0] == \
                    self.g.input_name and target[0] in (0, -1) and \
                    math.prod(target[1:]) == shape[0] and min(target[1:]) > 0:
                self.input_shape = tuple(target[1:])
                self.in_shape = self.input_shape
                return None, out, self.input_shape
            if len(target) != 2 or target[0] not in (0, -1) or \
                    target[1] not in (-1, math.prod(shape)):
                raise _Refused(f"{where} reshapes to {target}; only to (batch, -1)")
        if op == "Flatten" and a.get("axis", 1) != 1:
            raise _Refused(f"{where} flattens from axis {a['axis']}; only from axis 1")
        if op == "Squeeze" and is_image(shape) and shape[1:] != (1, 1):
            raise _Refused(f"{where} squeezes {shape_words(shape)}; only 1×1 images")
        if not is_image(shape):
            return None, out, shape
        return (FlattenSpec(), {}), out, FlattenSpec().output_shape(shape)

    def batchnorm(self, node: Any, a: dict[str, Any], shape: Shape, last: Any
                  ) -> tuple[Layer, str, Shape]:
        where = self.g.node_words(node)
        self.only_first_output(node)
        if a.get("training_mode", 0):
            raise _Refused(f"{where} is in training mode")
        names = ("scale", "bias", "mean", "var")
        scale, bias, mean, var = (self.const(node, i + 1, n) for i, n in enumerate(names))
        for n, v in zip(names, (scale, bias, mean, var), strict=True):
            if v.shape != (shape[0],):
                raise _Refused(f"the {n} of {where} has shape {v.shape} for "
                               f"{shape_words(shape)}")
        if np.any(var < 0):
            raise _Refused(f"the running variance of {where} has negative values")
        eps, momentum = _decimal(a.get("epsilon", 1e-5)), _decimal(a.get("momentum", 0.9))
        if not (0 < eps <= 1 and 0 <= momentum <= 1):
            raise _Refused(f"{where} has epsilon {eps:g} and momentum {momentum:g}, "
                           "outside (0, 1] and [0, 1]")
        spec = BatchNormSpec(momentum=momentum, epsilon=eps)
        weights = {"weight": scale, "bias": bias, "running_mean": mean, "running_var": var}
        return (spec, weights), last.output[0], shape

    def unsqueezed_batchnorm(self, node: Any, shape: Shape) -> tuple[Layer, str, Shape]:
        """Unsqueeze → BatchNormalization → Squeeze: a batch norm on features."""
        after = self.g.readers.get(node.output[0], [])
        bn = after[0] if len(after) == 1 else None
        sq = self.g.readers.get(bn.output[0], []) if bn is not None else []
        if is_image(shape) or bn is None or bn.op_type != "BatchNormalization" \
                or len(sq) != 1 or sq[0].op_type != "Squeeze":
            raise _Refused(f"{self.g.node_words(node)} is imported only around a batch "
                           "norm on features (Unsqueeze, BatchNormalization, Squeeze)")
        self.mark(bn)
        self.mark(sq[0])
        return self.batchnorm(bn, self.g.attrs(bn), shape, sq[0])


def _decimal(value: float) -> float:
    """A float32 setting as the decimal it was written as (1e-3, not 0.0010000000475)."""
    return float(str(np.float32(value)))


def _dims_words(dims: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in dims) + ")"
