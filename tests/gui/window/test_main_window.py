"""The main window as a user meets it: examples, files, undo, the unsaved-changes
question, bad files, and the network check gating training."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core import DenseSpec, StudioError
from core.design.edit import insert_layer
from core.files.design_file import load_design
from core.files.project import load_project
from gui.main_window import MainWindow, example_paths

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def messages(monkeypatch):
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda parent, title, text, *a: shown.append((title, text)))
    return shown


@pytest.fixture
def window(shown_window, messages):
    shown_window.open_example()
    return shown_window


def add_layer(window: MainWindow) -> None:
    d = window.document.design
    net = insert_layer(d.network, (0,), DenseSpec(5))
    window.document.set_design(d.__class__(net, d.training, d.dataset, d.name), "Add")


def test_starts_on_the_example_ready_to_train(window):
    assert window.document.design.name == "XOR with two tanh layers"
    assert window.document.path is None  # an example is an untitled copy
    assert window.check_panel.ready
    assert window.editor.model.rowCount() == len(window.document.design.network.layers)
    assert not window.isWindowModified()


def test_every_example_opens_from_the_menu(window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "E&xamples")
    titles = [a.text() for a in menu.actions()]
    assert len(titles) == len(example_paths()) >= 5
    for action in menu.actions():
        action.trigger()
        assert window.document.design.name == action.text()
        if window.document.design.dataset.get("name") == "mnist":
            continue  # downloaded on request; tests run offline, so it has no data here
        assert window.check_panel.ready, (action.text(), window.check_panel.problems)


def test_edit_marks_modified_and_undo_restores(window):
    before = window.document.design
    add_layer(window)
    assert window.isWindowModified()
    assert window.undo_action.isEnabled()
    window.undo_action.trigger()
    assert window.document.design == before
    assert not window.isWindowModified()
    window.redo_action.trigger()
    assert window.document.design != before


def test_save_reopen_equal_and_recent_files(window, tmp_path, monkeypatch):
    target = tmp_path / "mine.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    add_layer(window)
    assert window.save_action.isEnabled()
    window.save_as_action.trigger()
    assert target.exists() and not window.isWindowModified()
    assert "mine.json" in window.windowTitle()
    assert load_design(target) == window.document.design
    assert window.files.recent_files()[0] == str(target.resolve())
    saved = window.document.design
    window.new_action.trigger()
    assert window.document.design != saved
    assert window.recent_menu.actions()[0].text().endswith("mine.json")
    window.recent_menu.actions()[0].trigger()
    assert window.document.design == saved and window.document.path == target


def test_save_as_project_keeps_design(window, tmp_path, monkeypatch):
    target = tmp_path / "exp.bpsproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.save_as_action.trigger()
    assert load_project(target).design == window.document.design
    window.new_action.trigger()
    assert window.open_path(target)
    assert window.document.path == target


@pytest.mark.parametrize("answer, closes, saved", [
    (QMessageBox.StandardButton.Cancel, False, False),
    (QMessageBox.StandardButton.Discard, True, False),
    (QMessageBox.StandardButton.Save, True, True),
])
def test_close_with_unsaved_changes_asks(window, tmp_path, monkeypatch, answer, closes, saved):
    target = tmp_path / "asked.json"
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or answer)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    add_layer(window)
    window.show()
    assert window.close() is closes
    assert len(asked) == 1
    assert target.exists() is saved


def test_corrupt_file_shows_error_and_keeps_document(window, tmp_path, messages):
    before = window.document.design
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "backprop-studio-design", "version": 1, "network": '
                   '{"inputs": 2, "layers": [{"kind": "dense", "units": -2}]}}')
    assert window.open_path(bad) is False
    assert window.document.design is before
    assert "layers[0].units" in messages[-1][1] and "bad.json" in messages[-1][1]
    truncated = tmp_path / "cut.bpsproj"
    truncated.write_bytes(b"\x10\x00\x00")
    assert window.open_path(truncated) is False
    assert "truncated" in messages[-1][1]
    assert window.document.design is before


def test_failed_save_says_so_and_stays_unsaved(window, tmp_path, monkeypatch, messages):
    locked = tmp_path / "locked"
    locked.mkdir()
    target = locked / "x.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    monkeypatch.setattr("core.storage.checked_io.tempfile.mkstemp",
                        lambda **k: (_ for _ in ()).throw(PermissionError(13, "Permission "
                                                                             "denied")))
    add_layer(window)
    assert window.files.save_as() is False
    assert window.isWindowModified()
    assert "Permission denied" in messages[-1][1]


def test_startup_with_a_bad_file_shows_the_error_in_the_window(qtbot, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    w = MainWindow()
    qtbot.addWidget(w)
    w.open_startup_file(bad)
    assert not w.banner.isHidden()
    assert "broken.json" in w.banner.text() and "not valid JSON" in w.banner.text()
    assert w.document.design.name  # the example opened instead
    w.open_example("spiral.json")
    assert w.banner.isHidden()


def test_check_panel_flags_problems_and_selects_the_layer(window):
    d = window.document.design
    net = insert_layer(d.network, (1,), DenseSpec(3))  # breaks nothing...
    net = insert_layer(net, (len(net.layers),), DenseSpec(4))  # ...but 4 outputs do
    window.document.set_design(d.__class__(net, d.training, d.dataset, d.name), "Edit")
    panel = window.check_panel
    assert not panel.ready
    assert any("units" in p.path for p in panel.problems)
    items = [panel.list.item(i) for i in range(panel.list.count())]
    units = next(i for i in items if ".units" in i.text())
    panel.list.itemClicked.emit(units)
    assert window.selection.path == (len(net.layers) - 1,)
    window.undo_action.trigger()
    assert panel.ready


def test_export_diagram(window, tmp_path, monkeypatch):
    target = tmp_path / "net.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.export_action.trigger()
    assert target.stat().st_size > 1000


def test_headless_commands_do_not_need_qt():
    code = ("import sys, main; rc = main.main(['datasets']); "
            "assert 'PySide6' not in sys.modules; sys.exit(rc)")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "digits" in out.stdout


def test_read_document_rejects_unknown_files(tmp_path):
    from gui.project.files import read_document

    p = tmp_path / "x.json"
    p.write_text('{"format": "something-else"}')
    with pytest.raises(StudioError, match="not a Backprop Studio design"):
        read_document(p)
