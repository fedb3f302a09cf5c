"""The live views of image networks: the first convolution's filters and a chosen
validation sample's feature maps (shown for image networks only, drawn from the weights
the progress batches carry), the misclassified digits as images and the 10-class
confusion matrix of a conv run, and all of them back after a project is reopened."""

from __future__ import annotations

import numpy as np
import pytest

from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.resources import resource_path
from core.training.image_views import sample_maps
from core.training.neuron_maps import network_with
from core.training.progress import ProgressBatcher
from core.training.trainer import Trainer
from gui.training.plots import TrainingPlots
from tests.scripts.conv_digits import conv_digits_design

FILTERS, MAPS = 4, 5  # the plots' tab indices of the two pages


@pytest.fixture(scope="module")
def conv_run():
    """The conv digits net after one epoch, and the batch a window receives from it
    (weights, confusion matrix and misclassified samples as the training process sends
    them)."""
    design = conv_digits_design(epochs=1)
    data = load_dataset(DatasetSpec.from_dict(design.dataset))
    trainer = Trainer(design, data)
    batcher = ProgressBatcher(trainer.layer_names)
    for snap in trainer.run():
        batcher.add(snap)
    batch = batcher.take()
    batch.weights = trainer.network.state_dict()
    batch.misclassified = trainer.misclassified(trainer.val_outputs)
    return design, data, trainer, batch


@pytest.fixture
def plots(qtbot, conv_run):
    design, data, trainer, batch = conv_run
    p = TrainingPlots()
    qtbot.addWidget(p)
    p.resize(1000, 700)
    p.show()
    p.start_run(trainer.layer_names, trainer.layer_names, "classification", data, design)
    p.add_batch(batch)
    return p


def show_page(plots: TrainingPlots, qtbot, index: int) -> None:
    plots.tabs.setCurrentIndex(index)
    qtbot.waitUntil(lambda: not (plots._dirty & {"filters", "maps"}
                                 & ({"filters"} if index == FILTERS else {"maps"})))


def test_the_image_pages_show_for_image_networks_only(plots, conv_run, qtbot):
    design, data, trainer, _ = conv_run
    assert plots.tabs.isTabVisible(FILTERS) and plots.tabs.isTabVisible(MAPS)
    dense = load_design(resource_path("examples", "digits.json"))
    plots.start_run(("layers.0", "layers.2"), ("a", "b"), "classification", data, dense)
    assert not plots.tabs.isTabVisible(FILTERS) and not plots.tabs.isTabVisible(MAPS)
    plots.start_run(trainer.layer_names, trainer.layer_names, "classification", data,
                    design)
    assert plots.tabs.isTabVisible(FILTERS) and plots.tabs.isTabVisible(MAPS)
    plots.start_run((), (), "classification", data)  # no design (between runs)
    assert not plots.tabs.isTabVisible(FILTERS)


def test_the_filters_page_draws_the_newest_first_layer_weights(plots, conv_run, qtbot):
    _, _, trainer, batch = conv_run
    page = plots.filters_page
    show_page(plots, qtbot, FILTERS)
    weights = batch.weights["layers.0.weight"]
    np.testing.assert_allclose(page.filters, weights, rtol=1e-6)
    assert page.grid.count == 8
    assert page.scale == pytest.approx(float(np.abs(weights).max()), rel=1e-6)
    assert "8 filters of 3×3" in page.header.text()
    assert "one scale" in page.toolTip().lower()
    # The next view message's weights replace them at the next frame.
    newer = {k: v * 2 for k, v in batch.weights.items()}
    later = ProgressBatcher(trainer.layer_names).take()
    later.weights = newer
    plots.add_batch(later)
    qtbot.waitUntil(lambda: np.allclose(page.filters, 2 * weights, rtol=1e-6))
    assert page.scale == pytest.approx(2 * float(np.abs(weights).max()), rel=1e-6)


def test_the_feature_maps_page_follows_the_chosen_sample_at_once(plots, conv_run, qtbot):
    design, data, _, batch = conv_run
    page = plots.maps_page
    show_page(plots, qtbot, MAPS)
    net = network_with(design.network, batch.weights, 0)
    assert page.row == 0 and page.maps is not None
    page.choose(5)  # drawn now, from the last weights: no new batch needed
    expected = sample_maps(net, data.x_val[5])
    assert [m.name for m in page.maps.layers] == [m.name for m in expected.layers]
    for got, want in zip(page.maps.layers, expected.layers, strict=True):
        np.testing.assert_allclose(got.maps, want.maps, rtol=1e-5, atol=1e-6)
    true = data.class_names[int(data.y_val[5])]
    predicted = data.class_names[int(np.argmax(expected.output))]
    assert page.info.text().startswith(f"class {true} · predicted {predicted}")
    titles = [s.title.text() for s in page._sections if s.isVisible()]
    assert len(titles) == 6
    assert "8×8×8" in titles[1] and "16×4×4" in titles[4]
    assert page.image.pixmap() is not None and not page.image.pixmap().isNull()
    page.next.click()
    assert page.row == 6
    np.testing.assert_allclose(page.maps.output, sample_maps(net, data.x_val[6]).output,
                               rtol=1e-5)
    page.previous.click()
    page.previous.click()
    assert page.row == 4
    assert page.spin.maximum() == data.n_val and page.spin.suffix() == f" of {data.n_val:,}"


def test_choosing_a_misclassified_digit_shows_its_feature_maps(plots, conv_run, qtbot):
    _, _, _, batch = conv_run
    plots.tabs.setCurrentIndex(3)
    qtbot.waitUntil(lambda: plots.gallery.shown is not None)
    wrong = batch.misclassified
    assert len(wrong) > 2
    plots.gallery.cards.setCurrentRow(2)
    assert plots.maps_page.row == int(wrong.index[2])


def test_a_conv_run_shows_misclassified_digits_as_images_and_a_10_class_confusion(
        plots, conv_run, qtbot):
    _, data, trainer, batch = conv_run
    plots.tabs.setCurrentIndex(3)
    qtbot.waitUntil(lambda: plots.gallery.shown is not None)
    gallery = plots.gallery
    assert gallery.images
    assert gallery.stack.currentWidget() is gallery.cards
    wrong = batch.misclassified
    assert gallery.cards.count() == len(wrong)
    first = gallery.entries()[0]
    assert first[:3] == (int(wrong.index[0]), data.class_names[int(wrong.true[0])],
                         data.class_names[int(wrong.predicted[0])])
    plots.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: plots.model_view.confusion_view.matrix is not None)
    matrix = plots.model_view.confusion_view.matrix
    assert matrix.shape == (10, 10)
    np.testing.assert_array_equal(matrix, trainer.confusion(trainer.val_outputs))


def test_a_reopened_conv_project_shows_its_filters_and_feature_maps(qtbot, shown_window,
                                                                     monkeypatch, tmp_path):
    from tests.gui.training.test_reopen_and_save import reopened, save_to, train_to_end

    window = shown_window
    window.document.load(conv_digits_design(epochs=1), None)
    qtbot.waitUntil(lambda: window.dataset_state.dataset is not None, timeout=20000)
    train_to_end(qtbot, window)
    saved = window.document.model.latest.weights["layers.0.weight"]
    target = tmp_path / "conv.bpsproj"
    save_to(window, monkeypatch, target)
    again = reopened(qtbot, target)
    try:
        plots = again.plots
        qtbot.waitUntil(lambda: again.dataset_state.dataset is not None, timeout=20000)
        qtbot.waitUntil(lambda: plots.built and plots.tabs.isTabVisible(FILTERS))
        show_page(plots, qtbot, FILTERS)
        np.testing.assert_allclose(plots.filters_page.filters, saved, rtol=1e-6)
        show_page(plots, qtbot, MAPS)
        assert plots.maps_page.maps is not None
        assert len(plots.maps_page.maps.layers) == 6
    finally:
        again.training.shutdown()
