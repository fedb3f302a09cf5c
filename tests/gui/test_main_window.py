"""The main window frame opens the built-in example and survives bad files."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from gui.main_window import MainWindow


@pytest.fixture
def window(qtbot, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    w = MainWindow()
    qtbot.addWidget(w)
    w.warnings = shown
    return w


def test_example_opens_with_its_layers(window):
    window.open_example()
    assert window.design is not None
    assert window.table.rowCount() == len(window.design.network.layers)
    assert window.table.item(0, 1).text() == "Dense 8"
    assert "xor.json" in window.windowTitle()
    assert window.problems.text() == ""


def test_corrupt_file_shows_error_and_keeps_document(window, tmp_path):
    window.open_example()
    before = window.design
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "backprop-studio-design", "version": 1, "network": {"inputs": 2,'
                   ' "layers": [{"kind": "dense", "units": -2}]}}')
    assert window.open_path(bad) is False
    assert window.design is before
    assert len(window.warnings) == 1
    assert "layers[0].units" in window.warnings[0]
    assert "bad.json" in window.warnings[0]


def test_missing_file_says_so(window, tmp_path):
    assert window.open_path(tmp_path / "nope.json") is False
    assert "no such file" in window.warnings[0]
