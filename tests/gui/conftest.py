"""GUI test set-up: settings (recent files, layout) go to a throw-away location."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QStandardPaths


@pytest.fixture(autouse=True)
def isolated_settings(qapp, tmp_path, monkeypatch):
    QStandardPaths.setTestModeEnabled(True)
    qapp.setOrganizationName("Backprop Studio Tests")
    qapp.setApplicationName("Backprop Studio Tests")
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    QSettings().clear()
    yield
    QSettings().clear()


@pytest.fixture
def shown_window(qtbot, monkeypatch):
    """The real main window, shown; unsaved-changes questions answer Discard, and any
    training run is stopped and joined at the end."""
    from PySide6.QtWidgets import QMessageBox

    from gui.main_window import MainWindow

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.training.shutdown()


@pytest.fixture
def conv_design():
    """A small conv net for the 8×8 digits as images (issue 14): input (1, 8, 8), Conv2D
    8@3×3 same, ReLU, MaxPool 2, Flatten, Dense 10, Softmax."""
    from core.datasets import DatasetSpec
    from core.design.spec import (
        ActivationSpec,
        Conv2DSpec,
        DenseSpec,
        Design,
        FlattenSpec,
        MaxPool2DSpec,
        NetworkSpec,
        TrainConfig,
    )

    net = NetworkSpec(inputs=64, input_shape=(1, 8, 8), layers=(
        Conv2DSpec(filters=8, kernel=3, padding="same"), ActivationSpec("relu"),
        MaxPool2DSpec(size=2, stride=2), FlattenSpec(), DenseSpec(10),
        ActivationSpec("softmax")))
    return Design(net, TrainConfig(loss="softmax_cross_entropy", optimizer="adam",
                                   learning_rate=0.003),
                  DatasetSpec.builtin("digits").to_dict(), name="Digits conv net")
