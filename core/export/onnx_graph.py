"""Reading an ``.onnx`` file safely, before anything is translated: a size limit checked
before parsing, the protobuf parsed from bytes (``onnx`` never opens another file),
external data refused, and every operator we cannot translate listed at once.

Nothing in the file is executed: the graph is only read as data. Tensors stored in
external files (``data_location: EXTERNAL``) are refused without being opened, so no
path in the file is ever followed, inside the file's folder or out of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import FileFormatError, printable

MAX_ONNX_BYTES = 256 * 1024 * 1024  # far above any network this app can train

# The operators ``core.export.onnx_import`` translates (default ONNX domain only).
SUPPORTED_OPS = frozenset({
    "Gemm", "MatMul", "Add", "Relu", "Sigmoid", "Tanh", "Softmax", "LeakyRelu", "Elu",
    "Softplus", "Gelu", "Identity", "Dropout", "Conv", "MaxPool", "AveragePool",
    "GlobalAveragePool", "Flatten", "Reshape", "BatchNormalization", "Unsqueeze",
    "Squeeze", "Constant",
})


@dataclass
class OnnxGraph:
    """One model's graph as plain data: its nodes in order, constant tensors (initializers
    and ``Constant`` nodes) by name, who reads each tensor, the one input (name and dims,
    None for a symbolic dim) and the one output name."""

    name: str
    nodes: list[Any]
    constants: dict[str, np.ndarray]
    input_name: str
    input_dims: tuple[int | None, ...]
    output_name: str
    readers: dict[str, list[Any]] = field(default_factory=dict)
    opset: int = 13

    def node_words(self, node: Any) -> str:
        """How a message names a node: ``Conv (node 'conv_1')``."""
        label = node.name or (node.output[0] if node.output else "?")
        return f"{node.op_type} (node '{printable(label)}')"

    def attrs(self, node: Any) -> dict[str, Any]:
        """The node's attributes as Python values."""
        import onnx

        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _refuse(path: Path, why: str) -> FileFormatError:
    return FileFormatError(f"cannot import {printable(path.name)}: {why}")


def _has_external(model: Any) -> list[str]:
    """Names of tensors anywhere in the model (subgraphs included) stored outside it."""
    import onnx

    found = []
    for tensor in onnx.external_data_helper._get_all_tensors(model):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
            found.append(tensor.name)
    return found


def read_graph(path: str | Path, limit: int = MAX_ONNX_BYTES) -> OnnxGraph:
    """The graph of the ``.onnx`` file at ``path``; ``FileFormatError`` when it is too large
    (``limit`` bytes, checked before reading), not an ONNX model (a wrong or truncated
    protobuf), stores tensors outside the file, uses operators we cannot translate (all
    listed), or has other than one input and one output."""
    import onnx
    from google.protobuf.message import DecodeError

    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limit:
            raise _refuse(p, f"the file is {size / 2**20:.0f} MB, over the "
                             f"{limit / 2**20:.0f} MB limit for an ONNX model")
        data = p.read_bytes()
    except OSError as e:
        raise _refuse(p, e.strerror or str(e)) from None
    try:
        model = onnx.load_model_from_string(data)  # bytes only: no external data is read
    except (DecodeError, ValueError, RuntimeError) as e:
        raise _refuse(p, f"it is not a valid ONNX model (wrong or truncated protobuf: "
                         f"{printable(str(e))[:120]})") from None
    graph = model.graph
    if not graph.node:
        raise _refuse(p, "it is not an ONNX model, or it is truncated: its graph has no "
                         "operators")
    external = _has_external(model)
    if external:
        names = ", ".join(f"'{printable(n)}'" for n in external[:5])
        raise _refuse(p, f"its weights are stored in external data files ({names}"
                         f"{', ...' if len(external) > 5 else ''}); external data is never "
                         "loaded, so save the model as one self-contained .onnx file")
    words = OnnxGraph("", [], {}, "", (), "")
    unsupported = [words.node_words(n) for n in graph.node
                   if n.op_type not in SUPPORTED_OPS or n.domain not in ("", "ai.onnx")]
    if unsupported:
        raise _refuse(p, "Unsupported operators: " + ", ".join(unsupported) + ". Only "
                         "the layers this app has can be imported.")
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    opset = versions[0] if versions else 13
    if opset < 7:
        raise _refuse(p, f"it uses ONNX opset {opset}; 7 or later is needed")
    try:
        constants = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
        folded = set()  # indices of Constant nodes, and of Identity nodes of a constant
        for index, node in enumerate(graph.node):
            if node.op_type == "Constant":
                value = words.attrs(node).get("value")
                if value is None:
                    raise _refuse(p, f"{words.node_words(node)} holds no tensor value")
                constants[node.output[0]] = onnx.numpy_helper.to_array(value)
                folded.add(index)
            elif node.op_type == "Identity" and node.input and node.input[0] in constants:
                # PyTorch stores equal tensors once (a fresh batch norm's running_var and
                # weight are both ones) and names the copy with an Identity.
                constants[node.output[0]] = constants[node.input[0]]
                folded.add(index)
    except (ValueError, TypeError) as e:
        raise _refuse(p, f"a weight tensor cannot be read ({printable(str(e))[:120]})"
                      ) from None
    inputs = [i for i in graph.input if i.name not in constants]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise _refuse(p, f"it has {len(inputs)} inputs and {len(graph.output)} outputs; "
                         "a model to import has one of each")
    dims = tuple(d.dim_value if d.HasField("dim_value") else None
                 for d in inputs[0].type.tensor_type.shape.dim)
    nodes = [n for i, n in enumerate(graph.node) if i not in folded]
    readers: dict[str, list[Any]] = {}
    for node in nodes:
        for name in node.input:
            if name and name not in constants:
                readers.setdefault(name, []).append(node)
    return OnnxGraph(graph.name or p.stem, nodes, constants, inputs[0].name, dims,
                     graph.output[0].name, readers, opset)
