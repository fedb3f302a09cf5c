"""User text that is hostile to the window: names that cannot be encoded, markup in file
names and design names. Each is shown or written as plain text, never interpreted."""

from __future__ import annotations

import csv

from PySide6.QtWidgets import QFileDialog

from core.files.design_file import load_design
from core.records.record import RunRecord
from core.records.table import RUN_COLUMNS
from core.resources import resource_path
from gui.panels.runs import RunsPanel


def test_export_csv_with_a_lone_surrogate_in_a_run_name(qtbot, tmp_path, monkeypatch):
    panel = RunsPanel()
    qtbot.addWidget(panel)
    xor = load_design(resource_path("examples", "xor.json"))
    panel.add_run(RunRecord(xor, name="bad \ud800 name", note="note \udfff"))
    target = tmp_path / "runs.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "CSV files (*.csv)")))
    panel.export_csv()
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["name"] for r in rows] == ["bad ? name"] and rows[0]["note"] == "note ?"


MARKUP_NAME = "<h1>BIG<h1>.json"


def test_banner_shows_a_markup_file_name_as_plain_text(qtbot, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from gui.main_window import MainWindow

    bad = tmp_path / MARKUP_NAME
    bad.write_text("{not json")
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    w.open_startup_file(bad)
    qtbot.waitUntil(lambda: w.banner.isVisible())
    banner = w.banner
    assert banner.textFormat() == Qt.TextFormat.PlainText
    assert f"Could not open {bad}" in banner.text()
    # As rich text the <h1> would make the rest of the banner a heading: taller.
    rich = QLabel(banner.text())
    rich.setTextFormat(Qt.TextFormat.RichText)
    rich.setWordWrap(True)
    rich.setFont(banner.font())
    assert banner.heightForWidth(1000) < rich.heightForWidth(1000)
    banner.grab().save(str(tmp_path.parent / "hostile_banner.png"))


def test_message_boxes_show_a_markup_file_name_verbatim(shown_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda parent, title, text, *a: shown.append(text))
    bad = tmp_path / "<b>bold<b>.json"
    bad.write_text("{not json")
    assert shown_window.open_path(bad) is False
    text = shown[-1]
    assert "&lt;b&gt;bold&lt;b&gt;.json" in text and "<b>" not in text
    # Qt displays it as the original characters.
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(text)
    assert "<b>bold<b>.json" in doc.toPlainText()


def test_design_name_with_markup_is_escaped_in_the_inspector(shown_window):
    from dataclasses import replace

    w = shown_window
    w.document.set_design(replace(w.document.design, name="<h1>Big</h1> & co"), "Rename")
    w.selection.select(None)
    assert w.inspector.title_label.text() == "&lt;h1&gt;Big&lt;/h1&gt; &amp; co"


def test_run_tooltips_show_markup_names_and_notes_verbatim(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextDocument

    panel = RunsPanel()
    qtbot.addWidget(panel)
    xor = load_design(resource_path("examples", "xor.json"))
    panel.add_run(RunRecord(xor, name="<h1>Big</h1>", note="<i>why</i> & how",
                            end_message="<b>done</b>"))
    for column, wanted in ((0, "<h1>Big</h1>\n<i>why</i> & how"), (None, "<b>done</b>")):
        if column is None:
            column = [key for key, _ in RUN_COLUMNS].index("ended")
        tip = panel.proxy.index(0, column).data(Qt.ItemDataRole.ToolTipRole)
        doc = QTextDocument()
        doc.setHtml(tip)
        assert doc.toPlainText() == wanted


def test_huge_project_as_startup_file_is_reported_in_the_banner(qtbot, tmp_path):
    import json

    import numpy as np

    from core.design.spec import Design
    from core.files.project import Project, project_bytes
    from core.files.safetensors import decode, encode
    from gui.main_window import MainWindow

    d = json.loads(resource_path("examples", "xor.json").read_text())
    d["network"]["layers"] = [{"kind": "dense", "units": 100_000} for _ in range(3)] + [
        {"kind": "dense", "units": 1}, {"kind": "activation", "function": "sigmoid"}]
    meta = decode(project_bytes(Project(Design.from_dict(d))), "x")[1]
    path = tmp_path / "huge.bpsproj"
    path.write_bytes(encode({"weights.layers.0.weight": np.zeros((2, 100_000), np.float32),
                             "history.steps": np.zeros((0, 2))}, meta))
    w = MainWindow()
    qtbot.addWidget(w)
    w.open_startup_file(path)
    assert not w.banner.isHidden()
    assert "more than the cap of 50,000,000" in w.banner.text()
    assert w.document.design.network.parameter_count() < 1000  # the example instead
