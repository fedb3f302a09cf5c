"""File > Export Model…: the dialog's choices, the export off the GUI thread with its
verification shown, failures and Cancel; the real ONNX format and a stand-in one."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.datasets import DatasetSpec, load_dataset
from core.design.spec import ActivationSpec, BatchNormSpec, DenseSpec, Design, NetworkSpec
from core.export.run import data_inputs
from core.export.source import source_of
from core.files.project import Project
from gui.panels.export_dialog import FAILED, UNVERIFIED, VERIFIED, ExportDialog
from tests.core.export import fake_format

DESIGN = Design(NetworkSpec(2, (DenseSpec(6), BatchNormSpec(), ActivationSpec("tanh"),
                                DenseSpec(2), ActivationSpec("softmax"))),
                dataset=DatasetSpec.synthetic("circle").to_dict(), name="circle net")
WEIGHTS = {k: v + 0.25 for k, v in source_of(DESIGN, None, True).weights.items()}


@pytest.fixture
def fake(monkeypatch):
    fake_format.install(monkeypatch)
    return fake_format


def make_dialog(qtbot, tmp_path, weights=WEIGHTS, x=None, words="no dataset is loaded"):
    dialog = ExportDialog(DESIGN, weights, tmp_path / "circle.bpsproj", x, words)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def export(qtbot, dialog):
    with qtbot.waitSignal(dialog.finished_export, timeout=60_000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_formats_are_offered_with_their_descriptions_and_default_targets(qtbot, tmp_path):
    dialog = make_dialog(qtbot, tmp_path)
    assert list(dialog.format_buttons) == ["pytorch", "onnx", "numpy"]
    assert "nn.Module" in dialog.format_buttons["pytorch"].toolTip()
    assert dialog.target.text() == str(tmp_path / "circle-pytorch")
    dialog.choose_format("onnx")
    assert dialog.target.text() == str(tmp_path / "circle.onnx")
    assert dialog.target_label.text() == "File:"
    dialog.target.setText("")
    assert not dialog.export_button.isEnabled()
    assert dialog.status.text().startswith("Export writes the files, then runs the "
                                           "exported model on 256 seeded random inputs "
                                           "(no dataset is loaded)")
    untitled = ExportDialog(DESIGN, WEIGHTS, None, None, "")
    qtbot.addWidget(untitled)
    assert untitled.target.text() == str(Path.home() / "circle-net-pytorch")


def test_onnx_export_is_verified_per_layer_on_the_validation_inputs(qtbot, tmp_path):
    data = load_dataset(DatasetSpec.from_dict(DESIGN.dataset))
    x, words = data_inputs(data, DESIGN)
    dialog = make_dialog(qtbot, tmp_path, x=x, words=words)
    assert not dialog.initial.isVisible() and dialog.export_button.isEnabled()
    assert "model on the first 100 validation inputs of circle" in dialog.status.text()
    dialog.choose_format("onnx")
    result = export(qtbot, dialog)
    assert result.ok is True and result.trained
    assert result.paths == (tmp_path / "circle.onnx",) and result.paths[0].is_file()
    text = dialog.status.text()
    assert text.startswith("ONNX export verified: largest difference")
    assert "Compared on the first 100 validation inputs of circle; a value fails beyond" in text
    assert VERIFIED in dialog.status.styleSheet()
    assert dialog.table.rowCount() == len(DESIGN.network.layers) + 1
    assert dialog.table.item(0, 0).text() == "layers.0"
    assert dialog.table.item(0, 1).text() == "Dense 6"
    assert dialog.table.item(5, 0).text() == "output"
    assert str(tmp_path / "circle.onnx") in dialog.files.text()
    assert dialog.open_folder.isVisible() and dialog.folder() == tmp_path
    assert dialog.close_button.text() == "Close"


def test_without_trained_weights_export_waits_for_the_initial_choice(fake, qtbot, tmp_path):
    dialog = make_dialog(qtbot, tmp_path, weights=None)
    assert dialog.no_weights.isVisible() and "no trained weights" in dialog.no_weights.text()
    assert not dialog.initial.isChecked() and not dialog.export_button.isEnabled()
    dialog.initial.setChecked(True)
    assert dialog.export_button.isEnabled()
    dialog.choose_format("fake")
    result = export(qtbot, dialog)
    assert result.ok is True and not result.trained
    assert "initial (untrained) weights were exported" in dialog.status.text()
    assert "seeded random inputs (no dataset is loaded)" in dialog.status.text()


def test_a_failed_verification_is_red_and_names_the_layers(fake, qtbot, tmp_path):
    fake.ERROR["value"] = 0.01
    dialog = make_dialog(qtbot, tmp_path)
    dialog.choose_format("fake")
    result = export(qtbot, dialog)
    assert result.ok is False
    assert "FAILED verification" in dialog.status.text()
    assert FAILED in dialog.status.styleSheet()
    assert dialog.table.item(0, 2).foreground().color().name() == FAILED
    assert all(p.is_file() for p in result.paths)  # kept, marked failed


def test_an_export_error_is_shown_and_the_dialog_stays_usable(fake, qtbot, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    dialog = make_dialog(qtbot, tmp_path)
    dialog.choose_format("fake")
    dialog.target.setText(str(tmp_path / "mine"))
    export(qtbot, dialog)
    assert dialog.status.text().startswith("Could not export: ")
    assert "already holds other files" in dialog.status.text()
    assert (tmp_path / "mine" / "notes.txt").read_text() == "mine"
    assert dialog.export_button.isEnabled() and not dialog.table.isVisible()
    dialog.target.setText(str(tmp_path / "new"))
    assert export(qtbot, dialog).ok is True


def test_cancel_during_writing_skips_verification(fake, qtbot, tmp_path, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    write = fake_format.write

    def slow_write(source, target: Path):
        entered.set()
        release.wait(30)
        return write(source, target)

    monkeypatch.setattr(fake_format, "write", slow_write)
    dialog = make_dialog(qtbot, tmp_path)
    dialog.choose_format("fake")
    with qtbot.waitSignal(dialog.finished_export, timeout=60_000) as blocker:
        dialog.start()
        assert dialog.busy and dialog.close_button.text() == "Cancel"
        assert not dialog.export_button.isEnabled()
        assert entered.wait(30)  # the worker is writing: past the last point to stop
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
        assert not dialog.close_button.isEnabled()  # cancelling
        assert dialog.isVisible()  # closes only once the worker has stopped
        release.set()
    result = blocker.args[0]
    assert result.ok is None and "cancelled" in result.verification.skipped
    assert dialog.status.text().startswith("Fake export written, not verified: cancelled")
    assert UNVERIFIED in dialog.status.styleSheet()


def test_cancel_before_writing_writes_nothing(fake, qtbot, tmp_path, monkeypatch):
    import gui.panels.export_dialog as module

    entered, release = threading.Event(), threading.Event()

    def slow_source(*args, **kwargs):
        entered.set()
        release.wait(30)
        return source_of(*args, **kwargs)

    monkeypatch.setattr(module, "source_of", slow_source)
    dialog = make_dialog(qtbot, tmp_path)
    dialog.choose_format("fake")
    with qtbot.waitSignal(dialog.finished_export, timeout=60_000):
        dialog.start()
        assert entered.wait(30)
        dialog.reject()  # Escape: cancels, does not close
        assert dialog.isVisible()
        release.set()
    assert dialog.status.text() == "Cancelled: nothing was written."
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert dialog.export_button.isEnabled()


def test_file_menu_opens_the_dialog_with_the_documents_weights(shown_window, qtbot):
    window = shown_window
    action = window.export_model_action
    assert action.shortcut().toString() == "Ctrl+Shift+E"
    assert "Ctrl+Shift+E" in action.toolTip()
    file_menu = window.menuBar().actions()[0].menu()
    assert action in file_menu.actions()
    window.document.load(DESIGN, None)
    dialog = window.open_export_dialog()
    qtbot.addWidget(dialog)
    assert dialog.weights is None and not dialog.export_button.isEnabled()
    dialog.close()
    window.document.load_project(Project(DESIGN, WEIGHTS, [], np.zeros((0, 2))), None)
    dialog = window.open_export_dialog()
    qtbot.addWidget(dialog)
    assert dialog.weights is not None and dialog.export_button.isEnabled()
    np.testing.assert_array_equal(dialog.weights["layers.0.weight"],
                                  WEIGHTS["layers.0.weight"])
