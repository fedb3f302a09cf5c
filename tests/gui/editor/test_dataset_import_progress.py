"""CSV import in the dataset panel: progress with Cancel (the worker stops, the design
keeps its dataset), completion, and values that overflow in the training precision."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog

from core import Design, NetworkSpec
from core.datasets import DatasetSpec
from core.design.check import check
from gui.editor.dataset_panel import DatasetPanel
from gui.project.dataset_state import DatasetState
from gui.project.document import Document


def write_big_csv(path: Path, rows: int) -> Path:
    """``rows`` rows of two inputs and a 0/1 class: long enough to read for a while."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    lines = [f"{a:.4f},{b:.4f},{c}" for (a, b), c in zip(x.tolist(), y.tolist(), strict=True)]
    path.write_text("x1,x2,y\n" + "\n".join(lines) + "\n")
    return path


def make_panel(qtbot, design: Design):
    doc = Document()
    doc.load(design, None)
    state = DatasetState(doc)
    panel = DatasetPanel(doc, state)
    qtbot.addWidget(panel)
    return doc, state, panel


def spiral_design(**training) -> Design:
    design = Design(NetworkSpec(inputs=2),
                    dataset=DatasetSpec.synthetic("spiral", samples=500).to_dict())
    return replace(design, training=replace(design.training, **training))


def test_cancel_keeps_the_previous_dataset_and_stops_the_reader(qtbot, tmp_path):
    path = write_big_csv(tmp_path / "big.csv", 300_000)
    doc, state, panel = make_panel(qtbot, spiral_design())
    before, spiral = doc.design, state.dataset
    panel.import_csv(path)
    progress = panel.import_progress.progress
    assert progress is not None and panel.import_progress.isVisibleTo(panel)
    assert "Reading big.csv" in panel.import_progress.bar.format()
    panel.import_progress.cancel_button.click()
    assert progress.cancelled
    assert panel.import_progress.cancel_button.text() == "Cancelling…"
    qtbot.waitUntil(lambda: panel.import_progress.progress is None, timeout=20000)
    assert not panel.import_progress.isVisibleTo(panel)
    # The reader stopped early: it never reported the whole file.
    assert progress.fraction < 1.0
    assert doc.design == before and doc.undo_stack.count() == 0
    assert state.dataset is spiral
    assert panel.error_label.isHidden()
    assert "Import of big.csv cancelled" in panel.summary_label.text()
    assert panel.dataset_combo.currentData() == "spiral"


def test_completed_import_sets_the_new_dataset(qtbot, tmp_path):
    path = write_big_csv(tmp_path / "big.csv", 100_000)
    doc, state, panel = make_panel(qtbot, spiral_design())
    fractions: list[float] = []
    panel.import_csv(path)
    progress = panel.import_progress.progress
    assert progress is not None
    qtbot.waitUntil(lambda: (fractions.append(progress.fraction) or
                             doc.design.dataset["kind"] == "csv"), timeout=30000)
    assert not panel.import_progress.isVisibleTo(panel)
    assert progress.fraction == 1.0 and fractions == sorted(fractions)
    assert state.dataset is not None and state.dataset.n_train + state.dataset.n_val == 100_000
    assert doc.undo_stack.undoText() == "Import dataset big.csv"


def test_a_new_import_cancels_the_one_under_way(qtbot, tmp_path):
    big = write_big_csv(tmp_path / "big.csv", 300_000)
    small = write_big_csv(tmp_path / "small.csv", 50)
    doc, state, panel = make_panel(qtbot, spiral_design())
    panel.import_csv(big)
    first = panel.import_progress.progress
    panel.import_csv(small)
    assert first is not None and first.cancelled
    qtbot.waitUntil(lambda: doc.design.dataset["kind"] == "csv", timeout=20000)
    assert doc.design.dataset["path"].endswith("small.csv")


def target_csv(tmp_path: Path, big_target: str) -> Path:
    rows = "".join(f"{i * 0.1:.1f},{big_target if i == 7 else i * 0.5}\n" for i in range(40))
    path = tmp_path / "huge_target.csv"
    path.write_text("x,y\n" + rows)
    return path


def marked(panel) -> set[tuple[int, int]]:
    """(row, column) of the preview cells marked as named by the error."""
    table = panel.preview.table
    return {(r, c) for r in range(table.rowCount()) for c in range(table.columnCount())
            if table.item(r, c).toolTip() == "This cell is named in the error message."}


def test_target_too_large_for_float32_is_refused_in_the_panel(qtbot, tmp_path):
    path = target_csv(tmp_path, "1e39")  # line 9: the eighth data row
    doc, state, panel = make_panel(qtbot, spiral_design(dtype="float32"))
    before = doc.design
    panel.import_csv(path)
    qtbot.waitUntil(lambda: not panel.error_label.isHidden(), timeout=10000)
    message = panel.error_label.text()
    assert 'huge_target.csv, line 9, column 2 "y": the target 1e+39 is too large for float32' \
        in message
    assert doc.design == before and state.dataset.name == "spiral"
    assert "Not imported" in panel.summary_label.text()
    # The error's cell (line 9, column 2: preview row 7, column 1) is marked, no other.
    qtbot.waitUntil(lambda: panel.preview.mode == "table", timeout=10000)
    assert marked(panel) == {(7, 1)}


def test_switching_to_float32_lists_the_overflowing_target(qtbot, tmp_path, monkeypatch):
    path = target_csv(tmp_path, "1e30")  # fine in float64, overflows float32 losses
    doc, state, panel = make_panel(qtbot, spiral_design(dtype="float64"))
    panel.import_csv(path)
    qtbot.waitUntil(lambda: doc.design.dataset["kind"] == "csv", timeout=10000)
    assert panel.error_label.isHidden()
    assert not [p for p in check(doc.design, state.shape) if p.path == "training.dtype"]
    design = doc.design
    doc.set_design(replace(design, training=replace(design.training, dtype="float32")),
                   "Change precision")
    problems = [p for p in check(doc.design, state.shape) if p.path == "training.dtype"]
    assert len(problems) == 1 and 'line 9, column 2 "y"' in problems[0].message
    assert 'line 9, column 2 "y"' in panel.error_label.text()
    assert not panel.error_label.isHidden()
    assert marked(panel) == {(7, 1)}
    doc.undo_stack.undo()
    assert panel.error_label.isHidden()
    assert marked(panel) == set()


def test_browse_dialog_import_shows_progress(qtbot, tmp_path, monkeypatch):
    path = write_big_csv(tmp_path / "big.csv", 2000)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    doc, _, panel = make_panel(qtbot, spiral_design())
    panel.browse_button.click()
    assert panel.import_progress.progress is not None
    qtbot.waitUntil(lambda: doc.design.dataset["kind"] == "csv", timeout=10000)
    assert panel.import_progress.progress is None
