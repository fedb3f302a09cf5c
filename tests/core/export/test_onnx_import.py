"""ONNX import: models written by PyTorch's exporter and by hand open as designs whose
predictions match onnxruntime's under the one verify rule, train further, and bad files
are refused with the node and operator named."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    DropoutSpec,
    ResidualSpec,
)
from core.errors import FileFormatError
from core.export import onnx_export
from core.export.onnx_import import import_onnx
from core.export.source import source_of
from core.export.verify import compare, verification_inputs
from core.training.build import build_network
from core.training.step import TrainStep
from tests.core.export.designs import sources

SOURCES = sources()

nn = torch.nn


def _torch_export(model: nn.Module, example: torch.Tensor, path: Path) -> Path:
    model.eval()
    torch.onnx.export(model, (example,), str(path), dynamo=False, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}})
    return path


def _redraw_statistics(model: nn.Module, seed: int = 0) -> None:
    """Batch-norm statistics that are not the defaults, so dropping one shows."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.normal_(0, 0.5, generator=g)
                m.running_var.uniform_(0.5, 2.0, generator=g)
                m.weight.normal_(1, 0.3, generator=g)
                m.bias.normal_(0, 0.3, generator=g)


def _ours_vs_onnxruntime(path: Path, x: np.ndarray):
    """(our predictions, onnxruntime's) for flat rows ``x`` (n, inputs)."""
    design, weights = import_onnx(path)
    net = source_of(design, weights).network()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0]
    shaped = x.reshape(len(x), *[int(d) for d in feed.shape[1:]])
    theirs = session.run(None, {feed.name: shaped})[0]
    return design, net, net.predict(x), theirs.reshape(len(x), -1)


TORCH_MODELS = {
    "mlp relu softmax dropout": (lambda: nn.Sequential(
        nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 8), nn.Tanh(),
        nn.Linear(8, 3), nn.Softmax(dim=1)), (6,)),
    "mlp batchnorm1d sigmoid": (lambda: nn.Sequential(
        nn.Linear(4, 10), nn.BatchNorm1d(10), nn.ReLU(), nn.Linear(10, 1), nn.Sigmoid()),
        (4,)),
    "cnn conv bn maxpool flatten": (lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 5), nn.Softmax(dim=1)), (1, 8, 8)),
    "cnn valid strided avgpool global pool": (lambda: nn.Sequential(
        nn.Conv2d(3, 6, 3, bias=False), nn.Tanh(), nn.Conv2d(6, 5, 2, stride=2),
        nn.AvgPool2d(2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5),
        nn.Linear(5, 2)), (3, 9, 9)),
}


@pytest.mark.parametrize("fresh", [False, True], ids=["trained", "fresh batch norm"])
@pytest.mark.parametrize("name", list(TORCH_MODELS))
def test_a_pytorch_sequential_opens_with_the_same_predictions(name, fresh, tmp_path):
    make, shape = TORCH_MODELS[name]
    torch.manual_seed(0)
    model = make()
    if not fresh:  # fresh: PyTorch stores equal tensors once, behind Identity nodes
        _redraw_statistics(model)
    path = _torch_export(model, torch.randn(2, *shape), tmp_path / "m.onnx")
    x = np.random.default_rng(1).standard_normal((64, int(np.prod(shape)))).astype(
        np.float32)
    design, net, ours, theirs = _ours_vs_onnxruntime(path, x)
    difference = compare("output", ours, theirs)
    assert difference.ok, difference
    with torch.no_grad():  # and PyTorch itself agrees, so the file was read right
        torch_out = model(torch.from_numpy(x.reshape(len(x), *shape))).numpy()
    assert compare("output", torch_out, ours).ok
    assert design.network.input_shape == (shape if len(shape) == 3 else ())
    kinds = [type(layer).__name__ for layer in design.network.layers]
    # PyTorch folds a BatchNorm2d into the Conv2d before it; a BatchNorm1d stays.
    assert ("BatchNormSpec" in kinds) == ("batchnorm1d" in name)


def test_an_imported_pytorch_model_trains_further_and_its_loss_falls(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3),
                          nn.Softmax(dim=1))
    _redraw_statistics(model)
    design, weights = import_onnx(_torch_export(model, torch.randn(2, 1, 8, 8),
                                                tmp_path / "cnn.onnx"))
    assert design.training.loss == "softmax_cross_entropy"
    assert design.network.validate() == []
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 64)).astype(np.float32)
    labels = (x[:, :32].mean(axis=1) > x[:, 32:].mean(axis=1)).astype(int)
    y = np.eye(3, dtype=np.float32)[labels]
    config = dataclasses.replace(design.training, optimizer="adam", learning_rate=0.01)
    net = build_network(design.network, seed=0)
    net.set_parameters(weights)
    before = {k: v.copy() for k, v in net.state_dict().items()}
    step = TrainStep(net, config)
    losses = [step.run(x, y).loss for _ in range(40)]
    assert all(np.isfinite(losses))
    assert min(losses[-5:]) < 0.7 * losses[0]
    assert not np.allclose(before["layers.0.weight"], net.state_dict()["layers.0.weight"])


# ------------------------------------------------------------------ hand-built graphs
def _write(path: Path, nodes, inits, in_shape, out_shape=None, opset: int = 17) -> Path:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, str(path))
    return path


def _w(rng, *shape):
    return rng.normal(0, 0.5, shape).astype(np.float32)


def test_residual_blocks_with_and_without_projection_and_a_matmul_dense(tmp_path):
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("MatMul", ["input", "w0"], ["m0"]),
        helper.make_node("Add", ["m0", "b0"], ["h0"]),
        # identity skip: h0 -> Gemm -> Relu -> Add(h0)
        helper.make_node("Gemm", ["h0", "w1", "b1"], ["g1"], transB=1),
        helper.make_node("Relu", ["g1"], ["r1"]),
        helper.make_node("Add", ["h0", "r1"], ["h1"]),
        # projected skip: h1 -> MatMul(9) -> Tanh -> Add(h1 @ P)
        helper.make_node("MatMul", ["h1", "w2"], ["m2"]),
        helper.make_node("Tanh", ["m2"], ["t2"]),
        helper.make_node("MatMul", ["h1", "p2"], ["s2"]),
        helper.make_node("Add", ["t2", "s2"], ["h2"]),
        helper.make_node("LeakyRelu", ["h2"], ["output"], alpha=0.01),
    ]
    inits = {"w0": _w(rng, 4, 6), "b0": _w(rng, 6), "w1": _w(rng, 6, 6), "b1": _w(rng, 6),
             "w2": _w(rng, 6, 9), "p2": _w(rng, 6, 9)}
    path = _write(tmp_path / "res.onnx", nodes, inits, ["batch", 4])
    x = rng.standard_normal((32, 4)).astype(np.float32)
    design, _, ours, theirs = _ours_vs_onnxruntime(path, x)
    assert compare("output", ours, theirs).ok
    blocks = [s for s in design.network.layers if isinstance(s, ResidualSpec)]
    assert [b.projection for b in blocks] == [False, True]


def test_image_residual_with_a_1x1_projection_and_flat_input_reshaped(tmp_path):
    rng = np.random.default_rng(2)
    nodes = [
        helper.make_node("Reshape", ["input", "shape"], ["img"]),
        helper.make_node("Conv", ["img", "c0"], ["a"], pads=[0, 0, 1, 1], strides=[2, 2],
                         kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["a", "s", "b", "m", "v"], ["bn"],
                         epsilon=1e-3),
        helper.make_node("Conv", ["img", "proj"], ["skip"], strides=[2, 2]),
        helper.make_node("Add", ["bn", "skip"], ["sum"]),
        helper.make_node("GlobalAveragePool", ["sum"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["output"]),
    ]
    inits = {"shape": np.array([-1, 2, 8, 8]), "c0": _w(rng, 5, 2, 3, 3),
             "s": _w(rng, 5), "b": _w(rng, 5), "m": _w(rng, 5),
             "v": np.abs(_w(rng, 5)) + 0.5, "proj": _w(rng, 5, 2, 1, 1)}
    nodes_inits = dict(inits)
    graph_inits = [numpy_helper.from_array(np.asarray(v, np.float32), k)
                   for k, v in nodes_inits.items() if k != "shape"]
    graph_inits.append(numpy_helper.from_array(np.array([-1, 2, 8, 8], np.int64), "shape"))
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 128])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)], graph_inits)
    path = tmp_path / "img.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              str(path))
    x = rng.standard_normal((16, 128)).astype(np.float32)
    design, _, ours, theirs = _ours_vs_onnxruntime(path, x)
    assert compare("output", ours, theirs).ok
    assert design.network.input_shape == (2, 8, 8)
    block = design.network.layers[0]
    assert isinstance(block, ResidualSpec) and block.projection
    assert block.layers[0] == Conv2DSpec(5, 3, 2, "same", bias=False)
    assert isinstance(block.layers[1], BatchNormSpec) and block.layers[1].epsilon == 1e-3


# ------------------------------------------------------------------------ bad input
def test_every_unsupported_operator_is_listed_and_nothing_is_loaded(tmp_path):
    nodes = [helper.make_node("LSTM", ["input", "w"], ["a"], name="lstm_1"),
             helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Erf", ["b"], ["output"], name="erf_3")]
    path = _write(tmp_path / "bad.onnx", nodes, {"w": np.ones((1, 4, 4))}, ["n", 4])
    with pytest.raises(FileFormatError) as info:
        import_onnx(path)
    message = str(info.value)
    assert "Unsupported operators: LSTM (node 'lstm_1'), Erf (node 'erf_3')" in message
    assert "bad.onnx" in message


def test_an_operator_in_the_wrong_place_is_named(tmp_path):
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Relu", ["input"], ["a"]),
             helper.make_node("Conv", ["a", "k"], ["output"], name="conv_7")]
    path = _write(tmp_path / "c.onnx", nodes, {"k": _w(rng, 2, 4, 1, 1)}, ["n", 4])
    with pytest.raises(FileFormatError, match=r"Conv \(node 'conv_7'\) takes 4 features"):
        import_onnx(path)


def test_a_leaky_relu_slope_other_than_ours_and_exact_gelu_are_refused(tmp_path):
    nodes = [helper.make_node("LeakyRelu", ["input"], ["output"], alpha=0.2, name="lr")]
    with pytest.raises(FileFormatError, match="alpha 0.2; this app's uses 0.01"):
        import_onnx(_write(tmp_path / "l.onnx", nodes, {}, ["n", 3]))
    nodes = [helper.make_node("Gelu", ["input"], ["output"], name="g")]
    with pytest.raises(FileFormatError, match="exact GELU"):
        import_onnx(_write(tmp_path / "g.onnx", nodes, {}, ["n", 3], opset=20))


@pytest.mark.parametrize("content", [b"", b"not a protobuf at all \xff\xfe" * 10])
def test_a_wrong_protobuf_is_refused(tmp_path, content):
    path = tmp_path / "junk.onnx"
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match="junk.onnx"):
        import_onnx(path)


def test_a_truncated_file_is_refused(tmp_path):
    torch.manual_seed(0)
    full = _torch_export(nn.Sequential(nn.Linear(50, 40), nn.ReLU(), nn.Linear(40, 2)),
                         torch.randn(2, 50), tmp_path / "full.onnx").read_bytes()
    for cut in (len(full) // 3, len(full) // 2, len(full) - 7):
        path = tmp_path / f"cut{cut}.onnx"
        path.write_bytes(full[:cut])
        with pytest.raises(FileFormatError, match=f"cut{cut}.onnx"):
            import_onnx(path)


def test_external_data_is_refused_without_opening_any_path(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Gemm", ["input", "w"], ["output"])]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(_w(rng, 3, 2), "w")])
    model = helper.make_model(graph)
    tensor = model.graph.initializer[0]
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    path = tmp_path / "ext.onnx"
    path.write_bytes(model.SerializeToString())
    opened: list[str] = []
    real_open = open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spy)
    with pytest.raises(FileFormatError, match="external data"):
        import_onnx(path)
    assert not any("passwd" in f for f in opened)


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path, monkeypatch):
    from core.export import onnx_graph

    path = tmp_path / "big.onnx"
    path.write_bytes(b"\x00" * 2048)
    monkeypatch.setattr(onnx, "load_model_from_string",
                        lambda *a, **k: pytest.fail("parsed a file over the limit"))
    with pytest.raises(FileFormatError, match="over the"):
        onnx_graph.read_graph(path, limit=1024)


def test_weights_that_do_not_fit_the_layers_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("BatchNormalization", ["input", "s", "b", "m", "v"],
                              ["output"], name="bn")]
    inits = {"s": _w(rng, 3), "b": _w(rng, 3), "m": _w(rng, 4), "v": np.ones(3)}
    with pytest.raises(FileFormatError, match=r"the mean of BatchNormalization \(node 'bn'\)"
                                              r" has shape \(4,\)"):
        import_onnx(_write(tmp_path / "bn.onnx", nodes, inits, ["n", 3]))


def test_a_model_without_parameters_is_refused_as_no_trainable_design(tmp_path):
    nodes = [helper.make_node("Elu", ["input"], ["output"])]
    with pytest.raises(FileFormatError, match="no learnable parameters"):
        import_onnx(_write(tmp_path / "e.onnx", nodes, {}, ["n", 3]))


def test_a_node_off_the_path_from_input_to_output_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Gemm", ["input", "w"], ["output"]),
             helper.make_node("Relu", ["w"], ["side"], name="side_relu")]
    with pytest.raises(FileFormatError, match=r"not on the path.*Relu \(node 'side_relu'\)"):
        import_onnx(_write(tmp_path / "s.onnx", nodes, {"w": _w(rng, 3, 2)}, ["n", 3]))


# ------------------------------------------------------------------------ round trip
def _settings_onnx_holds(spec):
    """``spec`` without what a model file in evaluation mode has no place for: how weights
    were drawn, and dropout (an Identity there, a Linear activation back here)."""
    def plain(layer):
        if isinstance(layer, DropoutSpec):
            return ActivationSpec("linear")
        if isinstance(layer, ResidualSpec):
            return replace(layer, layers=tuple(plain(child) for child in layer.layers))
        if isinstance(layer, DenseSpec | Conv2DSpec):
            return replace(layer, init="default", gain=1.0)
        return layer

    return replace(spec, layers=tuple(plain(layer) for layer in spec.layers),
                   default_init="glorot_uniform")


@pytest.mark.parametrize("name", list(SOURCES))
def test_design_to_onnx_and_back_gives_the_same_design_and_predictions(name, tmp_path):
    source = SOURCES[name]
    path = tmp_path / "model.onnx"
    onnx_export.write(source, path)
    design, weights = import_onnx(path)
    assert _settings_onnx_holds(design.network) == _settings_onnx_holds(
        source.design.network)
    assert set(weights) == set(source.weights)
    for key, value in source.weights.items():
        np.testing.assert_array_equal(weights[key], value.astype(np.float32), err_msg=key)
    ours = source.network()
    x = verification_inputs(ours, None, samples=64)
    back = source_of(design, weights).network()
    assert compare("output", ours.predict(x), back.predict(x)).ok
    np.testing.assert_array_equal(ours.predict(x), back.predict(x))


@pytest.mark.parametrize("model, shape, words", [
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.Flatten(),
                           nn.Linear(32, 2)), (1, 8, 8),
     r"Conv \(node '/0/Conv'\) pads \[1, 1, 1, 1\].*\[0, 0, 1, 1\]"),
    (lambda: nn.Sequential(nn.Conv2d(2, 2, 3, groups=2), nn.Flatten(), nn.Linear(8, 2)),
     (2, 4, 4), "groups, dilation"),
    (lambda: nn.Sequential(nn.AvgPool2d(2, padding=1), nn.Flatten(), nn.Linear(25, 2)),
     (1, 8, 8), "pads, dilates or rounds up"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2)), (3,), "alpha 0.2"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.GELU()), (3,),
     r"Gelu \(node '/1/Gelu'\) is the exact GELU"),
])
def test_pytorch_layers_that_differ_from_ours_are_refused_by_name(model, shape, words,
                                                                  tmp_path):
    torch.manual_seed(0)
    path = _torch_export(model(), torch.randn(2, *shape), tmp_path / "m.onnx")
    with pytest.raises(FileFormatError, match=words):
        import_onnx(path)


def test_residual_blocks_nested_too_deep_are_refused_without_overflowing(tmp_path):
    nodes, x = [], "input"
    for i in range(400):  # x -> Relu -> ... each Add closes the block opened at its x
        nodes.insert(len(nodes) // 2, helper.make_node("Relu", [x], [f"r{i}"]))
        x = f"r{i}"
    # the innermost first: close block i with Add(r_{i} branch end, input of block i)
    y = x
    for i in reversed(range(400)):
        start = "input" if i == 0 else f"r{i - 1}"
        nodes.append(helper.make_node("Add", [y, start], [f"a{i}"]))
        y = f"a{i}"
    nodes.append(helper.make_node("Identity", [y], ["output"]))
    path = _write(tmp_path / "deep.onnx", nodes, {}, ["n", 3])
    with pytest.raises(FileFormatError, match="nested more than"):
        import_onnx(path)
