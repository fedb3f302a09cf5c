"""The Import Image Folder dialog (worker-thread read, progress, Cancel, the non-image
question, refusals) and image folders in the dataset panel (undoable choice,
augmentation options)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_dataset_panel import make_panel  # the panel's own test helper (same folder)

import core.datasets.image_folder as image_folder
import gui.editor.dataset_panel as dataset_panel
from core import Design, NetworkSpec
from core.datasets import Augmentation, DatasetSpec, load_dataset
from gui.editor.image_folder_dialog import ImageFolderDialog


def make_folder(root: Path, classes: tuple[str, ...] = ("cats", "dogs"), count: int = 4,
                size: tuple[int, int] = (10, 12)) -> Path:
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 255, (*size, 3)).astype(np.uint8)
            Image.fromarray(pixels, "RGB").save(root / name / f"{i:03d}.png")
    return root


def dialog(qtbot, folder: Path | None = None, **options) -> ImageFolderDialog:
    d = ImageFolderDialog(**options)
    qtbot.addWidget(d)
    if folder is not None:
        d.folder_edit.setText(str(folder))
    return d


def finished(d: ImageFolderDialog) -> bool:
    return not d.importing


def test_import_reads_the_folder_with_the_options_and_accepts(qtbot, tmp_path):
    d = dialog(qtbot, make_folder(tmp_path / "pets"))
    d.height_spin.setValue(8)
    d.width_spin.setValue(6)
    d.colour_combo.setCurrentIndex(1)  # grayscale
    d.val_spin.setValue(0.25)
    with qtbot.waitSignal(d.accepted, timeout=10000):
        d.import_button.click()
    assert d.spec == DatasetSpec.images(str(tmp_path / "pets"), (8, 6), True, 0, 0.25)
    assert d.dataset is not None and d.dataset.image_shape == (1, 8, 6)
    assert d.dataset.class_names == ("cats", "dogs") and d.dataset.n_val == 2


def test_a_refusal_is_shown_plainly_and_the_dialog_stays_open(qtbot, tmp_path):
    d = dialog(qtbot, make_folder(tmp_path / "one", classes=("<b>only",)))
    d.show()
    d.import_button.click()
    qtbot.waitUntil(lambda: finished(d) and d.error_label.isVisible(), timeout=10000)
    assert "only one class folder (<b>only/)" in d.error_label.text()
    assert d.error_label.textFormat().name == "PlainText"
    assert d.isVisible() and d.result() == 0 and d.dataset is None
    assert d.import_button.isEnabled() and d.folder_edit.isEnabled()


@pytest.mark.parametrize("agree", [True, False])
def test_non_image_files_are_listed_and_skipped_only_if_the_user_agrees(
        qtbot, tmp_path, monkeypatch, agree):
    folder = make_folder(tmp_path / "pets")
    (folder / "cats" / "notes.txt").write_text("not an image")
    asked: list[tuple[str, ...]] = []

    def ask(self, spec, files):
        asked.append(files)
        return agree

    monkeypatch.setattr(ImageFolderDialog, "ask_skip", ask)
    d = dialog(qtbot, folder)
    d.show()
    d.import_button.click()
    if agree:
        qtbot.waitUntil(lambda: d.dataset is not None, timeout=10000)
        assert d.spec is not None and d.spec.skip_non_images
        assert d.dataset.n_train + d.dataset.n_val == 8
    else:
        qtbot.waitUntil(lambda: finished(d) and d.error_label.isVisible(), timeout=10000)
        assert "1 file is not a PNG or JPEG image: cats/notes.txt" in d.error_label.text()
        assert d.dataset is None
    assert asked == [("cats/notes.txt",)]


@pytest.fixture
def held(monkeypatch):
    """Hold the reader before its third image until ``release`` is set."""
    release, reached = threading.Event(), threading.Event()
    read = image_folder._read_image
    count = [0]

    def slow(*args, **kwargs):
        count[0] += 1
        if count[0] == 3:
            reached.set()
            release.wait(10)
        return read(*args, **kwargs)

    monkeypatch.setattr(image_folder, "_read_image", slow)
    yield reached, release
    release.set()


def test_progress_shows_and_cancel_stops_the_read(qtbot, tmp_path, held):
    reached, release = held
    d = dialog(qtbot, make_folder(tmp_path / "pets"))
    d.show()
    d.import_button.click()
    assert reached.wait(10)
    qtbot.waitUntil(lambda: d.progress_bar.bar.value() > 0, timeout=5000)
    assert d.progress_bar.isVisible() and "Reading pets" in d.progress_bar.bar.format()
    assert not d.import_button.isEnabled() and not d.folder_edit.isEnabled()
    d.progress_bar.cancel_button.click()
    release.set()
    qtbot.waitUntil(lambda: finished(d), timeout=10000)
    assert d.error_label.text() == "Import cancelled; nothing was imported."
    assert d.dataset is None and not d.progress_bar.isVisible()
    assert d.import_button.isEnabled()


def test_the_dialog_starts_from_the_designs_image_folder(qtbot, tmp_path):
    spec = DatasetSpec.images(str(tmp_path / "x"), None, True, seed=4, val_fraction=0.3)
    d = dialog(qtbot, start=spec)
    assert d.folder_edit.text() == str(tmp_path / "x")
    assert not d.resize_box.isChecked() and not d.height_spin.isEnabled()
    assert d.colour_combo.currentData() is True
    assert d.val_spin.value() == pytest.approx(0.3)
    assert d.current_spec() == spec


# ---------------------------------------------------------------- the dataset panel
def test_choosing_an_image_folder_is_one_undoable_edit_with_augmentation_options(
        qtbot, tmp_path, monkeypatch):
    folder = make_folder(tmp_path / "pets")
    spec = DatasetSpec.images(str(folder), (6, 6), grayscale=True)
    imported = (spec, load_dataset(spec))
    monkeypatch.setattr(dataset_panel, "ask_image_folder", lambda current, parent: imported)
    start = Design(NetworkSpec(inputs=2), dataset=DatasetSpec.synthetic("xor").to_dict())
    doc, state, panel = make_panel(qtbot, start)
    panel.show()
    assert not panel.augment_controls.isVisibleTo(panel)
    panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData("images"))
    assert doc.design.dataset == spec.to_dict()
    assert doc.design.network.inputs == 36
    assert doc.undo_stack.undoText() == "Import images pets"
    assert state.dataset is imported[1]  # from the cache: read once
    assert panel.augment_controls.isVisibleTo(panel)
    assert panel.path_edit.text() == str(folder)

    # Augmentation edits are undoable and do not read the folder again.
    panel.augment_controls.flip_box.setChecked(True)
    assert doc.design.dataset["augment"] == {"shift": 0, "flip": True}
    assert not state.loading and state.dataset is imported[1]
    panel.augment_controls.shift_spin.setValue(1)
    panel.augment_controls.shift_spin.setValue(2)  # merges with the step before
    assert doc.design.dataset["augment"] == {"shift": 2, "flip": True}
    doc.undo_stack.undo()
    assert doc.design.dataset["augment"] == {"shift": 0, "flip": True}
    assert panel.augment_controls.augmentation() == Augmentation(0, True)
    doc.undo_stack.undo()
    assert "augment" not in doc.design.dataset
    assert panel.augment_controls.augmentation() is None
    doc.undo_stack.undo()
    assert doc.design == start

    # A validation-share edit reads the folder again off the GUI thread.
    doc.undo_stack.redo()
    panel.val_spin.setValue(0.5)
    qtbot.waitUntil(lambda: doc.design.dataset.get("val_fraction") == 0.5, timeout=10000)
    qtbot.waitUntil(lambda: state.dataset is not None and state.dataset.n_val == 4,
                    timeout=10000)


def test_a_design_with_an_image_folder_loads_it_relative_to_its_file(qtbot, tmp_path):
    make_folder(tmp_path / "pets")
    design = Design(NetworkSpec(inputs=360),
                    dataset=DatasetSpec.images("pets").to_dict())
    doc, state, panel = make_panel(qtbot, design, tmp_path / "design.json")
    qtbot.waitUntil(lambda: state.dataset is not None, timeout=10000)
    assert state.dataset.image_shape == (3, 10, 12)
    assert panel.dataset_combo.currentData() == "images"


def test_augmentation_is_offered_for_shipped_images_only(qtbot):
    doc, _, panel = make_panel(qtbot, Design(NetworkSpec(inputs=4), dataset=DatasetSpec
                                             .builtin("iris").to_dict()))
    panel.show()
    assert not panel.augment_controls.isVisibleTo(panel)
    panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData("digits"))
    assert panel.augment_controls.isVisibleTo(panel)
    panel.augment_controls.shift_spin.setValue(1)
    assert doc.design.dataset == {"kind": "builtin", "name": "digits", "seed": 0,
                                  "val_fraction": 0.2, "augment": {"shift": 1, "flip": False}}
