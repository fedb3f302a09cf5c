"""ONNX export: every design exports, passes onnx.checker and matches our predictions in
ONNX Runtime, overall and per layer; the known pitfalls are tested one by one."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import numpy_helper

from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    FlattenSpec,
    NetworkSpec,
)
from core.export import onnx_export
from core.export.formats import EXPORT_FORMATS
from core.export.source import ExportError, source_of
from core.export.verify import verification_inputs
from tests.core.export.designs import redrawn, sources

SOURCES = sources()


def _session(path):
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_design_exports_checks_and_verifies(name, tmp_path):
    source = SOURCES[name]
    fmt = EXPORT_FORMATS["onnx"]
    paths = fmt.write(source, tmp_path / "model.onnx")
    assert paths == [tmp_path / "model.onnx"]
    onnx.checker.check_model(onnx.load(str(paths[0])), full_check=True)
    x = verification_inputs(source.network(), None, samples=32)
    result = fmt.verify(source, paths, x)
    assert result.ok is True, result.summary()
    assert result.samples == 32
    net = source.network()
    assert [d.name for d in result.layers] == [layer.name for layer in net.layers]
    # The file alone, in a fresh session, gives our predictions.
    feed = onnx_export.model_input(net, x)
    (out,) = _session(paths[0]).run(["output"], {"input": feed})
    np.testing.assert_allclose(out, net.predict(x), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("opset", [13, 17])
@pytest.mark.parametrize("name", ["dense, every hidden activation",
                                  "image residual blocks with a 1x1 projection"])
def test_older_opsets_verify_too(name, opset):
    """Before opset 20 GELU is written in basic operators; it must match ours as well."""
    source = SOURCES[name]
    model = onnx_export.build_model(source, opset)
    assert model.opset_import[0].version == opset
    ops = {n.op_type for n in model.graph.node}
    assert "Gelu" not in ops
    x = verification_inputs(source.network(), None, samples=32)
    assert onnx_export.verify_model(source, model, x).ok is True


def test_the_opset_is_the_newest_both_support_and_is_recorded(tmp_path):
    opset = onnx_export.choose_opset()
    runtime = onnx_export.runtime_opset()
    assert runtime is not None
    assert opset == min(onnx.defs.onnx_opset_version(), runtime) >= onnx_export.MIN_OPSET
    source = SOURCES["xor.json"]
    path = onnx_export.write(source, tmp_path / "xor.onnx")[0]
    model = onnx.load(str(path))
    assert [(o.domain, o.version) for o in model.opset_import] == [("", opset)]
    props = {p.key: p.value for p in model.metadata_props}
    assert props == {"producer": "Backprop Studio", "design": source.name,
                     "weights": "trained", "opset": str(opset), "input_layout": "features"}
    assert model.producer_name == "Backprop Studio"


def test_initial_weights_are_recorded_as_initial():
    design = Design(NetworkSpec(2, (DenseSpec(3), ActivationSpec("sigmoid"))), name="tiny")
    model = onnx_export.build_model(source_of(design, None, allow_initial=True))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["weights"] == "initial" and props["design"] == "tiny"
    assert "initial (untrained)" in model.doc_string


def test_names_follow_ours_and_the_batch_axis_is_dynamic():
    source = SOURCES["image residual blocks with a 1x1 projection"]
    model = onnx_export.build_model(source)
    graph = model.graph
    (inp,), (out,) = graph.input, graph.output
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert (inp.name, dims) == ("input", ["batch", 2, 7, 7])  # NCHW input
    dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    assert (out.name, dims) == ("output", ["batch", 2])
    nodes = {n.name: n.op_type for n in graph.node}
    assert nodes["layers.0"] == "Conv" and nodes["layers.1.layers.0"] == "Conv"
    assert nodes["layers.2.projection"] == "Conv" and nodes["layers.2"] == "Add"
    assert nodes["layers.2.layers.1"] == "BatchNormalization"
    assert {i.name for i in graph.initializer} == set(source.weights)
    x = verification_inputs(source.network(), None, samples=5)
    for batch in (1, 5):  # the same file runs any batch size
        (y,) = _session_bytes(model).run(None, {"input": onnx_export.model_input(
            source.network(), x[:batch])})
        assert y.shape == (batch, 2)


def _session_bytes(model):
    return onnxruntime.InferenceSession(model.SerializeToString(),
                                        providers=["CPUExecutionProvider"])


def test_batch_norm_and_dropout_export_in_evaluation_mode():
    """Pitfall (onnxruntime#4589, pytorch#75252): a model exported in training mode uses
    batch statistics and random masks. Here training-mode outputs differ from predict's,
    and the export must give predict's."""
    design = Design(NetworkSpec(4, (DenseSpec(8), BatchNormSpec(), ActivationSpec("relu"),
                                    DropoutSpec(0.5), DenseSpec(3))))
    source = redrawn(design, seed=3)
    net = source.network()
    x = verification_inputs(net, None, samples=16)
    evaluation = net.predict(x)
    training = net.forward(x, training=True)
    assert np.abs(training - evaluation).max() > 0.1  # the pitfall would show
    model = onnx_export.build_model(source)
    ops = {n.name: n.op_type for n in model.graph.node}
    assert ops["layers.1"] == "BatchNormalization" and ops["layers.3"] == "Identity"
    (y,) = _session_bytes(model).run(None, {"input": x})
    np.testing.assert_allclose(y, evaluation, atol=1e-5, rtol=1e-4)
    (y_again,) = _session_bytes(model).run(None, {"input": x})
    np.testing.assert_array_equal(y, y_again)  # no random dropout


def test_softmax_is_over_each_row():
    """Pitfall: Softmax's default axis changed at opset 13; several rows must each sum
    to 1 and match ours, at the oldest opset we write and the newest."""
    source = SOURCES["dense, every hidden activation"]
    net = source.network()
    x = verification_inputs(net, None, samples=9)
    for opset in (onnx_export.MIN_OPSET, None):
        model = onnx_export.build_model(source, opset)
        (softmax,) = [n for n in model.graph.node if n.op_type == "Softmax"]
        assert [(a.name, a.i) for a in softmax.attribute] == [("axis", 1)]
        (y,) = _session_bytes(model).run(None, {"input": x})
        assert y.shape == (9, 3)
        np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-6)
        np.testing.assert_allclose(y, net.predict(x), atol=1e-5, rtol=1e-4)


def test_flatten_keeps_channels_first_order():
    """Pitfall: flattening NHWC instead of NCHW scrambles the Dense weights' inputs.
    With several channels and a non-square map, an NHWC flatten gives other numbers."""
    design = Design(NetworkSpec(2 * 3 * 4, (Conv2DSpec(3, kernel=3), ActivationSpec("tanh"),
                                            FlattenSpec(), DenseSpec(5)),
                                input_shape=(2, 3, 4)))
    source = redrawn(design, seed=3)
    net = source.network()
    x = verification_inputs(net, None, samples=8)
    model = onnx_export.build_model(source)
    (y,) = _session_bytes(model).run(None, {"input": onnx_export.model_input(net, x)})
    np.testing.assert_allclose(y, net.predict(x), atol=1e-5, rtol=1e-4)
    # The same weights read in channels-last order would not match.
    maps = net.layers[1].forward(net.layers[0].forward(x.reshape(8, 2, 3, 4), False), False)
    nhwc = maps.transpose(0, 2, 3, 1).reshape(8, -1) @ source.weights["layers.3.weight"]
    assert np.abs(nhwc + source.weights["layers.3.bias"] - y).max() > 0.1


def test_asymmetric_same_padding_is_written_as_pads():
    """Stride 2 "same" padding on an odd size puts the extra row after (smaller half
    before), which ONNX pads [top, left, bottom, right] express exactly."""
    source = SOURCES["conv valid and strided, avg pool, global pool"]
    model = onnx_export.build_model(source)
    conv = next(n for n in model.graph.node if n.name == "layers.2")
    pads = next(a.ints for a in conv.attribute if a.name == "pads")
    assert list(pads) == [0, 0, 1, 1]


def test_a_tampered_initializer_fails_verification_and_names_the_layer():
    source = SOURCES["conv same, batch norm, max pool, flatten"]
    model = onnx_export.build_model(source)
    x = verification_inputs(source.network(), None, samples=16)
    assert onnx_export.verify_model(source, model, x).ok is True
    tensor = next(t for t in model.graph.initializer if t.name == "layers.0.weight")
    value = numpy_helper.to_array(tensor).copy()
    value[0, 0, 1, 1] += 0.5
    tensor.CopyFrom(numpy_helper.from_array(value, tensor.name))
    result = onnx_export.verify_model(source, model, x)
    assert result.ok is False
    assert "FAILED" in result.summary()
    bad = [d.name for d in result.layers if not d.ok]
    assert bad[0] == "layers.0" and not result.output.ok


def test_per_layer_outputs_leave_the_written_file_alone(tmp_path):
    source = SOURCES["residual with and without projection"]
    path = onnx_export.write(source, tmp_path / "m.onnx")[0]
    before = path.read_bytes()
    x = verification_inputs(source.network(), None, samples=4)
    assert onnx_export.verify(source, [path], x).ok is True
    assert path.read_bytes() == before
    assert [o.name for o in onnx.load(str(path)).graph.output] == ["output"]


def test_a_truncated_file_is_refused_in_words(tmp_path):
    source = SOURCES["xor.json"]
    path = onnx_export.write(source, tmp_path / "xor.onnx")[0]
    path.write_bytes(path.read_bytes()[:40])
    x = verification_inputs(source.network(), None, samples=4)
    with pytest.raises(ExportError, match="xor.onnx"):
        onnx_export.verify(source, [path], x)


def test_a_read_only_folder_leaves_nothing(tmp_path, monkeypatch):
    import errno
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError, match="read-only"):
        onnx_export.write(SOURCES["xor.json"], tmp_path / "xor.onnx")
    assert list(tmp_path.iterdir()) == []


def test_without_onnxruntime_the_check_is_skipped_and_says_why(monkeypatch):
    import sys

    source = SOURCES["xor.json"]
    model = onnx_export.build_model(source)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if absent
    x = verification_inputs(source.network(), None, samples=4)
    result = onnx_export.verify_model(source, model, x)
    assert result.ok is None
    assert "onnxruntime is not installed" in result.summary()
