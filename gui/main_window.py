"""The main window's frame: menus, the open design's layer table, and the status bar.

The builder panels (palette, editor, inspector) and live training plots are composed
here as they are built; for now the window opens a design and shows its layers, shapes
and problems so a design can be inspected before training from the command line.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core import Design, StudioError
from core.io import load_design
from core.resources import resource_path

EXAMPLE = "xor.json"


class MainWindow(QMainWindow):
    """Backprop Studio's main window."""

    def __init__(self) -> None:
        super().__init__()
        self.design: Design | None = None
        self.path: Path | None = None
        self.resize(900, 600)
        central = QWidget()
        layout = QVBoxLayout(central)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Layer", "Settings", "Output shape", "Parameters"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #b00020;")
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problems)
        self.setCentralWidget(central)
        self._build_menus()
        self._update_title()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open Design…", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.setStatusTip("Open a design file (.json)")
        open_action.triggered.connect(self._on_open_triggered)
        file_menu.addAction(open_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Backprop Studio", self)
        about.triggered.connect(self._on_about_triggered)
        help_menu.addAction(about)

    def _update_title(self) -> None:
        name = self.path.name if self.path else "Untitled"
        self.setWindowTitle(f"{name} — Backprop Studio")

    def open_example(self) -> None:
        """Open the built-in example design."""
        self.open_path(resource_path("examples", EXAMPLE))

    def open_path(self, path: str | Path) -> bool:
        """Open a design file; on failure show why and keep the current design."""
        try:
            design = load_design(path)
        except StudioError as exc:
            self.statusBar().showMessage(f"Could not open {Path(path).name}", 10000)
            QMessageBox.warning(self, "Could not open the file", str(exc))
            return False
        self.design, self.path = design, Path(path)
        self._show_design()
        self._update_title()
        self.statusBar().showMessage(f"Opened {self.path.name}", 5000)
        return True

    def _show_design(self) -> None:
        design = self.design
        assert design is not None
        net = design.network
        self.heading.setText(
            f"<b>{design.name or self.path.stem}</b>: {net.inputs} inputs → {net.outputs} "
            f"outputs, {net.parameter_count():,} parameters; loss "
            f"{design.training.loss}, optimizer {design.training.optimizer}, learning rate "
            f"{design.training.learning_rate:g}")
        self.table.setRowCount(len(net.layers))
        n = net.inputs
        for row, layer in enumerate(net.layers):
            out = layer.output_features(n)
            cells = [layer.kind, layer.summary(), f"(batch, {out})",
                     f"{layer.parameter_count(n):,}"]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
            n = out
        self.table.resizeColumnsToContents()
        problems = design.validate()
        self.problems.setText("\n".join(f"⚠ {p}" for p in problems))

    def _on_open_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open design", "",
                                              "Designs (*.json);;All files (*)")
        if path:
            self.open_path(path)

    def _on_about_triggered(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("backprop-studio")
        except PackageNotFoundError:
            v = "development checkout"
        QMessageBox.about(self, "About Backprop Studio",
                          f"<b>Backprop Studio</b> {v}<br>Point-and-click experiments with "
                          "neural networks: watch backpropagation work.")
