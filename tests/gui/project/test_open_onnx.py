"""Opening an ONNX model in the window: a new untitled document with the model's design
and weights, which Train continues from once a dataset is chosen; a bad file keeps the
open document and says why."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QMessageBox

from core.datasets import DatasetSpec
from core.export.onnx_import import import_onnx
from gui.project.files import FILE_FILTER

nn = torch.nn


@pytest.fixture
def digits_onnx(tmp_path):
    """A PyTorch conv net for the 8×8 digits, exported with torch.onnx.export."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 4 * 4, 10), nn.Softmax(dim=1)).eval()
    path = tmp_path / "digits_cnn.onnx"
    torch.onnx.export(model, (torch.randn(2, 1, 8, 8),), str(path), dynamo=False,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}})
    return path


def test_the_open_dialog_offers_onnx_models():
    assert "*.onnx" in FILE_FILTER.split(";;")[0] and "ONNX models (*.onnx)" in FILE_FILTER


def test_an_onnx_model_opens_untitled_with_its_weights_and_trains_on(qtbot, shown_window,
                                                                     digits_onnx):
    window = shown_window
    assert window.files.open_path(digits_onnx, ask=False)
    design, weights = import_onnx(digits_onnx)
    assert window.document.design == design
    assert window.document.path is None  # Save asks where: never over the .onnx
    latest = window.document.model.latest
    assert latest is not None and set(latest.weights) == set(weights)
    np.testing.assert_array_equal(latest.weights["layers.0.weight"], weights["layers.0.weight"])

    asked = []
    window.training.ask_continue = lambda words: asked.append(words) or "continue"
    window.document.set_design(
        replace(design, dataset=DatasetSpec.builtin("digits").to_dict()), "Dataset")
    qtbot.waitUntil(lambda: window.training.train_action.isEnabled(), timeout=20000)
    window.training.train()
    qtbot.waitUntil(lambda: window.plots.history_points() >= 3, timeout=30000)
    window.training.stop_action.trigger()
    assert asked and asked[0].startswith("Continue from epoch 0")
    assert "Continued from the saved weights" in window.training._run_note


def test_a_bad_onnx_file_keeps_the_open_document(shown_window, tmp_path, monkeypatch):
    window = shown_window
    window.open_example("xor.json")
    before = window.document.design
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    assert not window.files.open_path(bad, ask=False)
    assert window.document.design == before
    assert "broken.onnx" in warned[0]


def test_the_command_line_hands_an_onnx_file_to_the_window(monkeypatch, tmp_path):
    import gui.app
    import main

    opened = []
    monkeypatch.setattr(gui.app, "run_gui", lambda args, started: opened.append(args) or 0)
    missing = str(tmp_path.name) + ".onnx"  # not there: the window's banner says so
    assert main.main([missing]) == 0
    assert opened == [[missing]]


def test_the_window_opens_an_onnx_file_given_on_the_command_line(shown_window, digits_onnx):
    window = shown_window
    window.open_startup_file(str(digits_onnx))
    assert window.document.path is None
    assert window.document.design.network.input_shape == (1, 8, 8)
    assert window.banner.isHidden()
    truncated = digits_onnx.with_name("cut.onnx")
    truncated.write_bytes(digits_onnx.read_bytes()[:300])
    window.open_startup_file(str(truncated))
    assert "cut.onnx" in window.banner.text() and not window.banner.isHidden()
