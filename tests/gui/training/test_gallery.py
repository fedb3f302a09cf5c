"""The gallery of misclassified validation samples: it shows the core's list (cards for
images, rows for tables), says why it is empty, and choosing a sample emits its network
input (and reaches the diagram's ``show_sample`` in the window)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.resources import resource_path
from core.training.misclassified import MAX_SHOWN, Misclassified
from core.training.progress import ProgressBatcher
from core.training.trainer import Trainer
from gui.training.gallery import MisclassifiedGallery, column_decimals
from gui.training.plots import TrainingPlots


def trained(dataset: str, epochs: int = 1, learning_rate: float = 1e-3):
    """A trainer of the digits example's network (output sized for ``dataset``) after
    ``epochs`` epochs, with the batch a window receives from it."""
    d = load_design(resource_path("examples", "digits.json"))
    data = load_dataset(DatasetSpec.builtin(dataset, seed=0, val_fraction=0.3))
    layers = list(d.network.layers)
    layers[2] = replace(layers[2], units=data.n_classes)
    d = replace(d, network=replace(d.network, inputs=data.n_features, layers=tuple(layers)),
                training=replace(d.training, epochs=epochs, learning_rate=learning_rate))
    trainer = Trainer(d, data)
    batcher = ProgressBatcher(trainer.layer_names)
    for snap in trainer.run():
        batcher.add(snap)
    batch = batcher.take()
    batch.misclassified = trainer.misclassified(trainer.val_outputs)  # as the child sends it
    return trainer, data, batch


@pytest.fixture(scope="module")
def digits():
    return trained("digits")


@pytest.fixture(scope="module")
def iris():
    return trained("iris", epochs=2, learning_rate=0.01)


def expected_entries(wrong: Misclassified, data) -> list[tuple]:
    names = data.class_names
    return [(int(i), names[int(t)], names[int(p)], float(q)) for i, t, p, q in
            zip(wrong.index, wrong.true, wrong.predicted, wrong.probability, strict=True)]


@pytest.fixture
def gallery(qtbot):
    g = MisclassifiedGallery()
    qtbot.addWidget(g)
    g.resize(700, 500)
    g.show()
    return g


def shown(gallery: MisclassifiedGallery, run, view: str) -> tuple:
    """Show a trained run's list; checks it is shown on ``view`` as the core made it."""
    _trainer, data, batch = run
    wrong = batch.misclassified
    assert wrong.total > 0
    gallery.set_dataset(data)
    gallery.set_misclassified(wrong)
    assert gallery.stack.currentWidget() is getattr(gallery, view)
    assert gallery.entries() == expected_entries(wrong, data)
    return data, wrong


def test_digits_are_cards_with_the_core_list_and_a_click_emits_the_sample(qtbot, gallery,
                                                                           digits):
    data, wrong = shown(gallery, digits, "cards")
    assert len(gallery.entries()) == min(wrong.total, MAX_SHOWN)
    assert f"{wrong.total:,} of {data.n_val:,}" in gallery.header.text()
    k = min(2, len(wrong) - 1)
    item = gallery.cards.item(k)
    where = gallery.cards.visualItemRect(item).center()
    with qtbot.waitSignal(gallery.sample_chosen) as blocker:
        qtbot.mouseClick(gallery.cards.viewport(), Qt.MouseButton.LeftButton, pos=where)
    row = int(wrong.index[k])
    np.testing.assert_array_equal(blocker.args[0], data.x_val[row])
    assert gallery.chosen == row
    # A newer list keeps the chosen sample selected without choosing it again.
    emitted = []
    gallery.sample_chosen.connect(emitted.append)
    gallery.set_misclassified(replace(wrong, probability=wrong.probability * 0.5))
    assert gallery.cards.currentRow() == k and emitted == []
    # A new run forgets it and tells the diagram so.
    gallery.set_dataset(data)
    assert emitted == [None] and gallery.entries() == []


def test_tables_are_rows_of_feature_values_and_a_click_emits_the_sample(qtbot, gallery,
                                                                         iris):
    data, wrong = shown(gallery, iris, "table")
    t = gallery.table
    headers = [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
    assert headers == ["true", "predicted", "probability", *data.raw_feature_names]
    first = int(wrong.index[0])
    assert [float(t.item(0, 3 + j).text()) for j in range(data.x_val_raw.shape[1])] == \
        pytest.approx(data.x_val_raw[first])
    k = len(wrong) - 1
    where = t.visualItemRect(t.item(k, 3)).center()
    with qtbot.waitSignal(gallery.sample_chosen) as blocker:
        qtbot.mouseClick(t.viewport(), Qt.MouseButton.LeftButton, pos=where)
    np.testing.assert_array_equal(blocker.args[0], data.x_val[int(wrong.index[k])])


def test_every_empty_page_says_why(gallery, digits):
    _trainer, data, _batch = digits
    gallery.set_dataset(None)
    assert "No dataset" in gallery.message.text()
    sine = load_dataset(DatasetSpec.builtin("diabetes", seed=0))
    gallery.set_dataset(sine)
    assert "Not a classification task" in gallery.message.text()
    no_val = load_dataset(DatasetSpec.builtin("iris", seed=0, val_fraction=0.0))
    gallery.set_dataset(no_val)
    assert "No validation samples" in gallery.message.text()
    gallery.set_dataset(data)
    assert "Train to see" in gallery.message.text()
    assert gallery.stack.currentWidget() is gallery.message
    none = np.zeros(0, dtype=np.int64)
    gallery.set_misclassified(Misclassified(none, none, none, np.zeros(0), 0))
    assert "No misclassified validation samples" in gallery.message.text()
    assert f"all {data.n_val:,} right" in gallery.message.text()
    # A list that cannot belong to this dataset is not shown.
    gallery.set_dataset(data)
    bad = np.array([data.n_val + 5])
    gallery.set_misclassified(Misclassified(bad, np.array([0]), np.array([1]),
                                            np.array([0.9]), 1))
    assert gallery.entries() == [] and "Train to see" in gallery.message.text()


def test_the_plots_hand_the_newest_list_to_the_gallery_on_its_page(qtbot, digits):
    trainer, data, batch = digits
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.show()
    plots.start_run(trainer.layer_names, trainer.layer_names, "classification", data)
    plots.add_batch(batch)
    plots.redraw_visible()  # the first page is visible: the gallery waits
    assert plots.gallery.entries() == []
    plots.tabs.setCurrentWidget(plots.gallery)
    qtbot.waitUntil(lambda: plots.gallery.entries() != [], timeout=5000)  # on the clock
    assert plots.gallery.entries() == expected_entries(batch.misclassified, data)
    plots.start_run(trainer.layer_names, trainer.layer_names, "classification", data)
    assert plots.gallery.entries() == []


def test_table_columns_use_the_decimals_their_values_need():
    values = np.array([[3.0, 6.1, 0.25, 1 / 3], [2.0, 5.0, 0.5, 2.0]])
    assert column_decimals(values) == [0, 1, 2, 4]


def test_after_training_digits_the_window_shows_the_list_of_the_final_weights(
        qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from gui.diagram.view import NetworkDiagram
    from gui.main_window import MainWindow
    shown: list = []
    # The diagram's one-sample forward pass (another branch adds it): record the calls.
    monkeypatch.setattr(NetworkDiagram, "show_sample", lambda self, x: shown.append(x),
                        raising=False)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    w = MainWindow()  # built after the patch, so the wiring finds show_sample
    qtbot.addWidget(w)
    w.show()
    try:
        w.open_example("digits.json")
        d = w.document.design
        w.document.set_design(replace(d, training=replace(d.training, epochs=1)), "epochs")
        with qtbot.waitSignal(w.training.controller.run_finished, timeout=60000):
            w.training.train()
        w.plots.tabs.setCurrentWidget(w.plots.gallery)
        qtbot.waitUntil(lambda: w.plots.gallery.entries() != [], timeout=5000)
        # The core's list from the run's final weights, computed here afresh.
        data = w.dataset_state.dataset
        trainer = Trainer(w.document.design, data)
        trainer.network.set_parameters(w.document.model.latest.weights)
        expected = expected_entries(trainer.misclassified(), data)
        got = w.plots.gallery.entries()
        assert [e[:3] for e in got] == [e[:3] for e in expected]
        np.testing.assert_allclose([e[3] for e in got], [e[3] for e in expected], rtol=1e-5)
        cards = w.plots.gallery.cards
        qtbot.mouseClick(cards.viewport(), Qt.MouseButton.LeftButton,
                         pos=cards.visualItemRect(cards.item(0)).center())
        assert len(shown) == 1
        np.testing.assert_array_equal(shown[0], data.x_val[got[0][0]])
        # Saved and reopened: the same list, from the saved weights.
        target = tmp_path / "digits.bpsproj"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
        assert w.files.save_as()
        again = MainWindow()
        qtbot.addWidget(again)
        again.show()
        try:
            again.open_startup_file(target)
            again.plots.tabs.setCurrentWidget(again.plots.gallery)
            reopened = again.plots.gallery.entries()
            # Computed in this process, the live list in the training process: the same
            # float32 sums, perhaps in another order (BLAS threads), so to rounding.
            assert [e[:3] for e in reopened] == [e[:3] for e in got]
            np.testing.assert_allclose([e[3] for e in reopened], [e[3] for e in got],
                                       rtol=1e-5)
        finally:
            again.training.shutdown()
    finally:
        w.training.shutdown()
