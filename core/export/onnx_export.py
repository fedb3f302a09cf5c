"""ONNX export: one ``.onnx`` file built with the ``onnx`` package (not through torch),
verified with ONNX Runtime against our own predictions.

The graph (evaluation mode: dropout off, batch norm on its running statistics):

- input ``"input"``: (batch, inputs) float32 for feature networks; for image networks
  (batch, C, H, W) NCHW. Image tools and model zoos feed NCHW tensors, so that is the
  input an image model is expected to have; a flat input with a Reshape would mirror our
  data rows, but a user's row becomes the image with ``x.reshape(-1, C, H, W)`` anyway
  (C slowest, exactly our row order). ``batch`` is a dynamic axis.
- output ``"output"``: (batch, outputs), the design's final activation included (a
  softmax is written with axis 1).
- node and initializer names are ours (``layers.3``, ``layers.3.weight``), see
  ``core.export.onnx_layers``.

The opset is the newest that both the installed ``onnx`` and ONNX Runtime support (at
least 13), recorded in ``opset_import`` and in the metadata with the producer, the
design's name and whether the weights are trained or initial.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from core.engine.network import Network
from core.export.onnx_layers import GraphParts, add_layer
from core.export.output import write_staged
from core.export.source import ExportError, ExportSource
from core.export.verify import Verification, compare, layer_outputs

MIN_OPSET = 13  # Softmax's axis semantics and Gemm/BatchNormalization as we write them
PRODUCER = "Backprop Studio"
INPUT, OUTPUT, BATCH = "input", "output", "batch"
FORMAT = "onnx"  # the key in core.export.formats.EXPORT_FORMATS


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX export needs the onnx package, which is not installed "
                          "(pip install onnx)") from None
    return onnx


@lru_cache(maxsize=1)
def runtime_opset() -> int | None:
    """The newest ai.onnx opset the installed ONNX Runtime knows (the newest version of
    any operator schema it carries), or None without ONNX Runtime."""
    try:
        from onnxruntime.capi import _pybind_state
    except ImportError:
        return None
    try:
        schemas = _pybind_state.get_all_operator_schema()
    except AttributeError:  # a build without the schema list: the opset every
        return MIN_OPSET     # onnxruntime we accept (>= 1.18, pyproject) runs
    return max(s.since_version for s in schemas if s.domain in ("", "ai.onnx"))


def choose_opset() -> int:
    """min(installed onnx's opset, ONNX Runtime's), refused below ``MIN_OPSET``."""
    onnx = _onnx()
    opset = onnx.defs.onnx_opset_version()
    runtime = runtime_opset()
    if runtime is not None:
        opset = min(opset, runtime)
    if opset < MIN_OPSET:
        raise ExportError(f"ONNX export needs opset {MIN_OPSET} or newer, but the installed "
                          f"onnx/onnxruntime support only opset {opset}; update them")
    return opset


def build_model(source: ExportSource, opset: int | None = None):
    """The ``onnx.ModelProto`` of ``source`` at ``opset`` (default ``choose_opset()``),
    checked with ``onnx.checker``."""
    onnx = _onnx()
    from onnx import TensorProto, helper

    opset = choose_opset() if opset is None else opset
    network = source.network(np.float32)
    parts = GraphParts(source.weights, opset)
    h = INPUT  # (a design always has a layer: validate() refuses an empty one)
    for i, layer in enumerate(network.layers):
        last = i == len(network.layers) - 1
        h = add_layer(parts, layer, h, OUTPUT if last else layer.name)
    in_dims = [BATCH, *(network.input_shape or (network.inputs,))]
    graph = helper.make_graph(
        parts.nodes, source.name,
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, in_dims)],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT,
                                       [BATCH, network.layers[-1].n_out])],
        initializer=parts.initializers)
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name=PRODUCER,
                              ir_version=helper.find_min_ir_version_for(opsets))
    model.doc_string = (f"{source.name}: exported by {PRODUCER} with "
                        f"{'trained' if source.trained else 'initial (untrained)'} weights; "
                        "evaluation mode (dropout off, running batch-norm statistics).")
    helper.set_model_props(model, {
        "producer": PRODUCER,
        "design": source.name,
        "weights": "trained" if source.trained else "initial",
        "opset": str(opset),
        "input_layout": "NCHW" if network.input_shape else "features",
    })
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as e:  # a bug of ours, said plainly
        raise ExportError(f"the ONNX model of {source.name} is not valid: {e}") from None
    return model


def write(source: ExportSource, target: Path) -> list[Path]:
    """Write ``source`` as the ONNX file ``target``; returns [target]."""
    model = build_model(source)
    data = model.SerializeToString()

    def fill(staging: Path) -> list[Path]:
        staging.write_bytes(data)
        return [staging]

    return write_staged(Path(target), fill, folder=False)


def model_input(network: Network, x: np.ndarray) -> np.ndarray:
    """Our data rows ``x`` (n, inputs) as the model's input: float32, and (n, C, H, W)
    for an image network."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    return x.reshape(len(x), *network.input_shape) if network.input_shape else x


def verify(source: ExportSource, paths: list[Path], x: np.ndarray) -> Verification:
    """Load the written file back and ``verify_model`` it on ``x`` (n, inputs)."""
    onnx = _onnx()
    path = Path(paths[0])
    try:
        # Our file has no external data; never follow a path from a file we read.
        model = onnx.load(str(path), load_external_data=False)
    except Exception as e:  # noqa: BLE001 - any protobuf failure means the file is bad
        raise ExportError(f"cannot read back {path}: {e}") from None
    return verify_model(source, model, x)


def verify_model(source: ExportSource, model, x: np.ndarray) -> Verification:
    """Run ``model`` in ONNX Runtime (CPU) on ``x`` (n, inputs) and compare its output
    with our float32 ``predict``, and each top-level layer's output with ours (exposed
    as extra graph outputs in a copy of the model; the file is not changed)."""
    onnx = _onnx()
    try:
        import onnxruntime  # noqa: F401 - only to say plainly when it is missing
    except ImportError:
        return Verification(FORMAT, len(x), skipped="onnxruntime is not installed")
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as e:
        raise ExportError(f"the ONNX model of {source.name} is not valid: {e}") from None
    network = source.network(np.float32)
    feed = {INPUT: model_input(network, x)}
    ours = layer_outputs(network, x)
    (theirs,) = _run(model, feed, [OUTPUT])
    overall = compare("output", network.predict(x), theirs)

    # Every top-level layer's output tensor is named after the layer, except the last
    # one's, which is "output"; expose the others as outputs of an in-memory copy.
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    last = network.layers[-1].name
    inner = [n for n in ours if n != last]
    for n in inner:
        probe.graph.output.append(
            onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None))
    theirs_by_layer = dict(zip([*inner, last], _run(probe, feed, [*inner, OUTPUT]),
                               strict=True))
    layers = tuple(compare(n, ours[n], theirs_by_layer[n]) for n in ours)
    return Verification(FORMAT, len(x), overall, layers)


def _run(model, feed: dict[str, np.ndarray], outputs: list[str]) -> list[np.ndarray]:
    """``outputs`` of ``model`` on ``feed`` in a fresh CPU session."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: no start-up chatter in the terminal
    # The graph as written, node by node: ONNX Runtime's rewrites (batch norm folded into
    # the convolution before it, ...) would round differently in the run with per-layer
    # outputs (which blocks some of them) than in the run without, and they add float32
    # rounding of their own to a comparison that is meant to test the translation.
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                               providers=["CPUExecutionProvider"])
        return session.run(outputs, feed)
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own error types
        raise ExportError(f"ONNX Runtime could not run the exported model: {e}") from None
