"""Choosing MNIST in the dataset panel: the download dialog (progress, Cancel), the
offline message, and image datasets previewed as images. A local HTTP server started by
the tests stands in for the public mirrors."""

from __future__ import annotations

import os

import pytest
import shiboken6

from core import Design, NetworkSpec
from core.datasets import DatasetSpec
from core.datasets import downloaded as dl
from gui.editor.dataset_panel import DatasetPanel
from gui.project.dataset_state import DatasetState
from gui.project.document import Document
from tests.core.datasets.idx_server import closed_port_url, fake_mirror, serve


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    return fake_mirror(tmp_path, monkeypatch, n_train=200, n_test=50)


def make_panel(qtbot, dataset: DatasetSpec | None = None):
    doc = Document()
    spec = dataset or DatasetSpec.builtin("iris")
    doc.load(Design(NetworkSpec(inputs=4), dataset=spec.to_dict()), None)
    state = DatasetState(doc)
    panel = DatasetPanel(doc, state)
    qtbot.addWidget(panel)
    panel.show()
    return doc, state, panel


def select(panel: DatasetPanel, name: str) -> None:
    panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData(name))


def test_choosing_mnist_downloads_then_commits_and_previews_images(qtbot, mirror,
                                                                   monkeypatch):
    doc, state, panel = make_panel(qtbot)
    with serve(mirror, pause_s=0.0005) as url:
        monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", url)
        select(panel, "mnist")
        dialog = panel.downloads.dialog
        assert dialog is not None and dialog.isVisible()
        assert doc.design.dataset["name"] == "iris"  # not committed until it has loaded
        qtbot.waitUntil(lambda: dialog.state.done > 0, timeout=10000)
        qtbot.waitUntil(lambda: doc.design.dataset["name"] == "mnist", timeout=20000)
    assert panel.downloads.dialog is None
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=5000)  # closed, freed
    assert doc.design.network.inputs == 784
    qtbot.waitUntil(lambda: state.dataset is not None, timeout=10000)
    assert state.dataset.image_shape == (1, 28, 28)
    assert panel.preview.mode == "images"
    labels = [label for _, label in panel.preview.images.thumbnails]
    assert set(labels) == set("0123456789")
    assert "1×28×28 images" in panel.summary_label.text()
    assert not panel.val_spin.isVisibleTo(panel)  # the standard split: no share to choose
    doc.undo()
    assert doc.design.dataset["name"] == "iris" and doc.design.network.inputs == 4


def test_cancel_keeps_the_dataset_and_leaves_nothing(qtbot, mirror, monkeypatch):
    doc, state, panel = make_panel(qtbot)
    with serve(mirror, pause_s=0.005) as url:
        monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", url)
        select(panel, "mnist")
        dialog = panel.downloads.dialog
        qtbot.waitUntil(lambda: dialog.state.done > 0, timeout=10000)
        dialog.cancel_button.click()
        assert dialog.cancel_button.text() == "Cancelling…"
        qtbot.waitUntil(lambda: panel.downloads.dialog is None, timeout=10000)
    assert doc.design.dataset["name"] == "iris" and doc.design.network.inputs == 4
    assert panel.dataset_combo.currentData() == "iris"
    folder = dl.dataset_folder("mnist")
    assert not folder.exists() or os.listdir(folder) == []
    assert not panel.error_label.isVisibleTo(panel)


def test_offline_says_so_and_the_panel_stays_usable(qtbot, mirror, monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", closed_port_url())
    doc, state, panel = make_panel(qtbot)
    select(panel, "mnist")
    qtbot.waitUntil(lambda: panel.downloads.message_box is not None, timeout=10000)
    box = panel.downloads.message_box
    assert box.isVisible()
    assert "Could not reach 127.0.0.1:" in box.text()
    assert "shipped datasets" in box.text()
    assert doc.design.dataset["name"] == "iris"
    assert panel.dataset_combo.currentData() == "iris"
    box.close()
    select(panel, "digits")  # still usable
    assert doc.design.dataset["name"] == "digits"


def test_a_design_naming_mnist_offers_the_download(qtbot, mirror, monkeypatch):
    doc, state, panel = make_panel(qtbot, DatasetSpec.builtin("mnist"))
    qtbot.waitUntil(lambda: bool(state.error), timeout=10000)
    assert "not downloaded yet" in state.error
    qtbot.waitUntil(lambda: panel.downloads.button.isVisibleTo(panel), timeout=10000)
    assert panel.downloads.button.text() == "Download MNIST…"
    with serve(mirror) as url:
        monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", url)
        panel.downloads.button.click()
        qtbot.waitUntil(lambda: state.dataset is not None, timeout=20000)
    assert not panel.downloads.button.isVisibleTo(panel)
    assert panel.preview.mode == "images" and not state.error


def test_digits_preview_as_images_with_class_names(qtbot):
    doc, state, panel = make_panel(qtbot)
    select(panel, "digits")
    assert state.dataset.image_shape == (1, 8, 8)
    assert panel.preview.mode == "images"
    thumbs = panel.preview.images.thumbnails
    assert len(thumbs) == 48
    assert [label for _, label in thumbs[:10]] == [str(d) for d in range(10)]
    assert all(image.width() == 8 and image.height() == 8 for image, _ in thumbs)


def test_closing_mid_download_stops_the_worker(qtbot, mirror, monkeypatch):
    """A dialog destroyed with its window (the app quitting) cancels the download, so
    the worker thread stops at its next chunk and leaves nothing behind."""
    doc, state, panel = make_panel(qtbot)
    with serve(mirror, pause_s=0.02) as url:
        monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", url)
        select(panel, "mnist")
        dialog = panel.downloads.dialog
        download = dialog.state
        qtbot.waitUntil(lambda: download.done > 0, timeout=10000)
        dialog.deleteLater()
        qtbot.waitUntil(lambda: download.cancelled, timeout=5000)
        folder = dl.dataset_folder("mnist")
        qtbot.waitUntil(lambda: os.listdir(folder) == [], timeout=10000)
    assert doc.design.dataset["name"] == "iris"
