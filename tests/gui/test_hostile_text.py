"""User text that is hostile to the window: names that cannot be encoded, markup in file
names and design names. Each is shown or written as plain text, never interpreted."""

from __future__ import annotations

import csv

from PySide6.QtWidgets import QFileDialog

from core.io import load_design
from core.resources import resource_path
from core.runs import RunRecord
from gui.runs_panel import RunsPanel


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
