"""The PyTorch export: for every design, the written model.py is ruff-clean, loads its
weights strictly and computes what our network computes, both through ``verify`` (a
subprocess) and loaded here with torch; a tampered weight fails verification, and without
PyTorch verification says it was skipped."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from core.design.spec import BatchNormSpec, DenseSpec, Design, NetworkSpec
from core.export import pytorch_export
from core.export.pytorch_code import class_name, final_activation
from core.export.source import ExportError, source_of
from core.export.verify import compare, layer_outputs, verification_inputs
from core.files.safetensors import encode, load_safetensors
from tests.core.export.designs import sources

SOURCES = sources()
ROOT = Path(__file__).resolve().parents[3]


def _inputs(source, samples: int = 32) -> np.ndarray:
    return verification_inputs(source.network(), None, samples=samples, seed=3)


def _load_module(folder: Path, name: str) -> torch.nn.Module:
    spec = importlib.util.spec_from_file_location(f"exported_{abs(hash(folder))}",
                                                  folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = getattr(module, class_name(name))()
    model.load_state_dict(load_file(str(folder / "weights.safetensors")), strict=True)
    return model.eval()


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, list[Path]]:
    base = tmp_path_factory.mktemp("torch")
    return {key: pytorch_export.write(source, base / f"export{i}")
            for i, (key, source) in enumerate(SOURCES.items())}


def _assert_ruff_clean(model_py: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                           "--config", str(ROOT / "pyproject.toml"), str(model_py)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("key", list(SOURCES))
def test_written_model_is_ruff_clean(exported, key):
    model_py = exported[key][0]
    assert [p.name for p in exported[key]] == ["model.py", "weights.safetensors"]
    _assert_ruff_clean(model_py)
    text = model_py.read_text(encoding="utf-8")
    assert "eval(" not in text.replace(".eval()", "") and "exec(" not in text
    assert f"class {class_name(SOURCES[key].name)}(nn.Module):" in text


@pytest.mark.parametrize("key", list(SOURCES))
def test_verification_passes_for_every_design(exported, key):
    source = SOURCES[key]
    result = pytorch_export.verify(source, exported[key], _inputs(source))
    assert result.ok, result.summary()
    assert result.samples == 32 and result.output is not None
    # every top-level layer compared, except a final softmax/sigmoid the module leaves out
    names = [layer.name for layer in source.network().layers]
    assert [d.name for d in result.layers] == names[:len(result.layers)]
    assert len(result.layers) >= len(names) - 1


@pytest.mark.parametrize("key", list(SOURCES))
def test_loaded_in_process_it_computes_our_outputs(exported, key):
    source = SOURCES[key]
    folder = exported[key][0].parent
    model = _load_module(folder, source.name)
    network = source.network(np.float64)
    x = _inputs(source, 64)
    ours = layer_outputs(network, x.astype(np.float64))
    images = x.reshape(len(x), *network.input_shape) if network.input_shape else x
    with torch.no_grad():
        out = model(torch.from_numpy(images)).numpy()
    if final_activation(network):  # left out: the module returns the layer before's logits
        assert len(model.layers) == len(network.layers) - 1
        assert compare("logits", ours[network.layers[-2].name], out).ok
    else:
        assert compare("output", ours[network.layers[-1].name], out).ok


def test_dense_weights_are_transposed_and_batch_norm_settings_carried(tmp_path):
    design = Design(NetworkSpec(3, (DenseSpec(4), BatchNormSpec(momentum=0.8, epsilon=1e-3),
                                    DenseSpec(2))), name="tiny")
    source = source_of(design, None, allow_initial=True)
    paths = pytorch_export.write(source, tmp_path / "tiny")
    model = _load_module(tmp_path / "tiny", "tiny")
    np.testing.assert_array_equal(model.layers[0].weight.detach().numpy(),
                                  source.weights["layers.0.weight"].T)
    bn = model.layers[1]
    assert bn.eps == pytest.approx(1e-3) and bn.momentum == pytest.approx(0.2)
    stored, meta = load_safetensors(paths[1])
    assert stored["layers.1.num_batches_tracked"].dtype == np.int64
    assert meta["trained"] == "false"
    assert "holds its initial (untrained) weights" in " ".join(paths[0].read_text().split())


def test_a_name_with_quotes_and_backslashes_still_gives_clean_code(tmp_path):
    name = 'say "hi" \\ """ then a very long name ' + "that goes on and on " * 5
    design = Design(NetworkSpec(2, (DenseSpec(3),)), name=name)
    source = source_of(design, None, allow_initial=True)
    paths = pytorch_export.write(source, tmp_path / "odd")
    _assert_ruff_clean(paths[0])
    model = _load_module(tmp_path / "odd", name)
    assert type(model).__name__ == "SayHiThenAVeryLong"


def test_a_feature_projection_is_a_bias_free_linear_under_its_own_key(exported):
    key = "residual with and without projection"
    source = SOURCES[key]
    model = _load_module(exported[key][0].parent, source.name)
    np.testing.assert_array_equal(model.layers[2].projection.weight.detach().numpy(),
                                  source.weights["layers.2.projection"].T)
    assert model.layers[2].projection.bias is None
    assert "layers.2.projection.weight here" in exported[key][0].read_text()


def test_uneven_same_padding_uses_an_explicit_pad(exported):
    text = exported["conv valid and strided, avg pool, global pool"][0].read_text()
    # a 2x2 kernel, stride 2 on 7x7 pads 0 before and 1 after: padding= cannot say it
    assert "PaddedConv2d(5, 6, 2, stride=2, pad=(0, 1, 0, 1))" in text
    assert "F.pad(" in text


def test_softmax_designs_return_logits_and_say_how_to_get_probabilities(exported):
    text = exported["conv_digits.json"][0].read_text()
    assert "nn.Softmax" not in text and "nn.CrossEntropyLoss" in text
    assert "torch.softmax(model(x), dim=1)" in text
    assert "x.reshape(-1, 1, 8, 8)" in text
    assert "holds its trained weights" in " ".join(text.split())
    sigmoid = exported["dense without bias, sigmoid output"][0].read_text()
    assert "nn.BCEWithLogitsLoss" in sigmoid and "torch.sigmoid(model(x))" in sigmoid


def test_a_tampered_weight_fails_verification(exported, tmp_path):
    key = "conv same, batch norm, max pool, flatten"
    source = SOURCES[key]
    folder = tmp_path / "copy"
    paths = pytorch_export.write(source, folder)
    tensors, meta = load_safetensors(paths[1])
    tensors["layers.1.running_mean"] = tensors["layers.1.running_mean"] + np.float32(0.01)
    paths[1].write_bytes(encode(tensors, meta))
    result = pytorch_export.verify(source, paths, _inputs(source))
    assert result.ok is False
    assert [d.name for d in result.layers if not d.ok][0] == "layers.1"
    assert "FAILED" in result.summary()


def test_a_missing_weight_is_reported_with_the_file(exported, tmp_path):
    source = SOURCES["xor.json"]
    paths = pytorch_export.write(source, tmp_path / "xor")
    tensors, meta = load_safetensors(paths[1])
    del tensors["layers.0.bias"]
    paths[1].write_bytes(encode(tensors, meta))
    with pytest.raises(ExportError, match="could not run .*model.py.*layers.0.bias"):
        pytorch_export.verify(source, paths, _inputs(source))


def test_without_pytorch_verification_is_skipped(exported, monkeypatch):
    source = SOURCES["xor.json"]
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    result = pytorch_export.verify(source, exported["xor.json"], _inputs(source))
    assert result.ok is None and result.skipped == "PyTorch is not installed"
    assert "not verified (PyTorch is not installed)" in result.summary()


def test_a_frozen_app_does_not_try_to_run_pytorch(exported, monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    source = SOURCES["xor.json"]
    result = pytorch_export.verify(source, exported["xor.json"], _inputs(source))
    assert result.skipped == "PyTorch is not installed"


@pytest.mark.parametrize("name, expected", [
    ("Conv net on handwritten digits (8x8): 99 % in 15 epochs", "ConvNetOnHandwrittenDigits"),
    ("LeNet-style conv net", "LeNetStyleConvNet"),
    ("8x8 digits", "Model8x8Digits"),
    ("", "Model"),
    ("(((", "Model"),
    ("true", "ModelTrue"),
])
def test_class_names_are_identifiers(name, expected):
    got = class_name(name)
    assert got == expected and got.isidentifier()
