"""The diagram's neuron heatmaps (each neuron's output over the input plane) and one
sample's forward pass: the values it draws are the network's outputs, the pixels are
the colour map of those values, the switch works, and a live run delivers them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QSize
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtWidgets import QApplication, QCheckBox, QToolTip

import core
from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.records.snapshots import RunEnd
from core.resources import resource_path
from core.training.model_views import model_views
from core.training.neuron_maps import INPUT
from core.training.trainer import Trainer
from gui.colors import class_color
from gui.diagram.heatmap_style import column_scale, neuron_rgb, ramp, signed_rgb
from gui.diagram.layout import BIG_RADIUS, MAX_RADIUS

SIZE = QSize(900, 520)


def xor64() -> core.Design:
    """The XOR example (2-8-8-1, tanh, sigmoid) in float64."""
    d = load_design(resource_path("examples", "xor.json"))
    return dataclasses.replace(d, training=dataclasses.replace(d.training, dtype="float64"))


def trained(design: core.Design, steps: int = 60) -> tuple[Trainer, object]:
    data = load_dataset(DatasetSpec.from_dict(design.dataset))
    trainer = Trainer(design, data)
    for i, snap in enumerate(trainer.run()):
        if i >= steps or isinstance(snap, RunEnd):
            break
    return trainer, data


def plain_forward(params: dict[str, np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """The XOR example's columns by hand: inputs, tanh, tanh, sigmoid (n, units)."""
    h1 = np.tanh(x @ params["layers.0.weight"] + params["layers.0.bias"])
    h2 = np.tanh(h1 @ params["layers.2.weight"] + params["layers.2.bias"])
    out = 1 / (1 + np.exp(-(h2 @ params["layers.4.weight"] + params["layers.4.bias"])))
    return [x, h1, h2, out]


def grid_points(data, maps) -> np.ndarray:
    r = maps.resolution
    gx, gy = np.meshgrid(np.linspace(*maps.x_range, r), np.linspace(*maps.y_range, r))
    return data.transform(np.column_stack([gx.ravel(), gy.ravel()]))


def pixel(image, x: float, y: float) -> tuple[int, int, int]:
    c = QColor(image.pixel(int(x), int(y)))
    return c.red(), c.green(), c.blue()


def strongest_texel(values: np.ndarray) -> tuple[int, int]:
    """(row, column) in the drawn image (row 0 at the top) of the interior point with
    the largest |value|: a clearly coloured pixel, away from the border."""
    drawn = values[::-1]
    inner = np.abs(drawn[2:-2, 2:-2])
    a, b = np.unravel_index(np.argmax(inner), inner.shape)
    return int(a) + 2, int(b) + 2


# ------------------------------------------------------------------ colours (pure)


def test_the_colour_scales():
    assert tuple(signed_rgb(np.array(0.0), 1.0)) == (255, 255, 255)
    assert tuple(signed_rgb(np.array(2.0), 2.0)) == (0x2E, 0x6F, 0xBA)  # the weights' blue
    assert tuple(signed_rgb(np.array(-5.0), 2.0)) == (0xD1, 0x49, 0x5B)  # clipped red
    grey = [(0, 0, 0), (255, 255, 255)]
    assert tuple(ramp(np.array(np.nan), grey)) == tuple(ramp(np.array(0.5), grey))
    assert tuple(ramp(np.array(0.5), grey)) == (128, 128, 128)
    assert column_scale(np.zeros(3)) > 0 and column_scale(np.array([1, -3, np.inf])) == 3
    blue, red = (1, 2, 3), (200, 100, 50)
    # One sigmoid output: P(class 1) from class 0's colour through white to class 1's.
    assert tuple(neuron_rgb(np.array(0.0), 0, 1, True, 1.0, [blue, red])) == blue
    assert tuple(neuron_rgb(np.array(0.5), 0, 1, True, 1.0, [blue, red])) == (255, 255, 255)
    # Two softmax outputs: each neuron high in its own class's colour.
    assert tuple(neuron_rgb(np.array(1.0), 0, 2, True, 1.0, [blue, red])) == blue
    assert tuple(neuron_rgb(np.array(1.0), 1, 2, True, 1.0, [blue, red])) == red
    # More classes: white to the class colour.
    assert tuple(neuron_rgb(np.array(0.0), 2, 3, True, 1.0, [blue, red, red])) == (255,) * 3


# ----------------------------------------------------------------- the widget


def test_the_diagram_draws_the_maps_it_receives(make):
    design = xor64()
    trainer, data = trained(design)
    maps = model_views(trainer, data)["neurons"]
    w, _, _ = make(design)
    w.set_neuron_maps(trainer.network.state_dict(), maps)
    assert w.neurons.maps is maps and w.showing_neuron_outputs
    image = w.render_image(SIZE)  # paints without error
    layout = w.layout_at(SIZE.width(), SIZE.height())
    assert MAX_RADIUS < layout.radius <= BIG_RADIUS  # squares big enough for a picture
    s = w.structure
    classes = [(c.red(), c.green(), c.blue()) for c in map(class_color, range(2))]
    checked = 0
    for i, col in enumerate(s.columns):
        cm = maps.columns[INPUT if col.path is None else f"layers.{col.path[0]}"]
        scale = column_scale(cm.values)
        place_, r = layout.columns[i], layout.radius
        for k, neuron in enumerate(col.shown[:3]):
            values = cm.map_of(neuron)
            a, b = strongest_texel(values)
            step = 2 * r / values.shape[0]
            x = place_.x - r + (b + 0.5) * step
            y = place_.ys[k] - r + (a + 0.5) * step
            want = neuron_rgb(values[::-1][a, b], neuron, col.units, cm.probability, scale,
                              classes)
            got = pixel(image, x, y)
            assert np.abs(np.array(got) - want.astype(int)).max() <= 24, (i, k, got, want)
            checked += 1
    assert checked == 2 + 3 + 3 + 1
    # Switched off: plain circles again (the centre is the background's colour).
    w.show_neuron_outputs(False)
    assert not w.showing_neuron_outputs and not w.neuron_outputs_action.isChecked()
    plain = w.render_image(SIZE)
    small = w.layout_at(SIZE.width(), SIZE.height())
    assert small.radius <= MAX_RADIUS
    c = small.columns[1]
    assert pixel(plain, c.x, c.ys[0]) == pixel(plain, 2, 2)


def test_maps_computed_from_the_weights_are_the_networks_outputs(make):
    """Weights without maps (between runs) and no weights (the initial network): the
    diagram computes the maps through the core, equal to a plain forward pass."""
    design = xor64()
    trainer, data = trained(design)
    w, _, _ = make(design)
    params = trainer.network.state_dict()
    for weights in (params, None):
        w.set_weights(weights)
        w.render_image(SIZE)
        maps = w.neurons.maps
        assert maps is not None
        used = params if weights is not None else core.build_network(
            design.network, seed=design.training.seed, dtype=np.float64).state_dict()
        expected = plain_forward(used, grid_points(data, maps))
        r = maps.resolution
        for name, values in zip((INPUT, "layers.0", "layers.2", "layers.4"), expected,
                                strict=True):
            np.testing.assert_allclose(maps.columns[name].values,
                                       values.T.reshape(-1, r, r), rtol=1e-9, atol=1e-12)


def test_the_switch_is_in_view_only_for_two_input_data(make, monkeypatch):
    shown = []
    monkeypatch.setattr(QToolTip, "showText", lambda pos, text, widget=None: shown.append(text))
    w, doc, _ = make(xor64())
    pos = w.item_rect((0,)).center().toPoint()
    QApplication.sendEvent(w, QHelpEvent(QEvent.Type.ToolTip, pos, w.mapToGlobal(pos)))
    assert "output over the input plane (x1 to the right, x2 up)" in shown[-1]
    box = w.findChild(QCheckBox, "neuron_outputs_box")
    assert box.isVisible() and box.toolTip() and w.neuron_outputs_action.toolTip()
    box.setChecked(False)
    assert not w.neurons.enabled and not w.neuron_outputs_action.isChecked()
    w.neuron_outputs_action.setChecked(True)
    assert w.neurons.enabled and box.isChecked()
    # Remembered: a new diagram starts as this one was left.
    box.setChecked(False)
    again, _, _ = make(xor64())
    assert not again.neurons.enabled and not again.neuron_outputs_action.isChecked()
    again.show_neuron_outputs(True)
    assert box.isChecked() is False  # the first one is not switched by the second
    w.show_neuron_outputs(True)
    digits = load_design(resource_path("examples", "digits.json"))
    doc.set_design(digits, "digits")
    assert not box.isVisible() and not w.showing_neuron_outputs
    w.render_image(SIZE)
    assert w.neurons.maps is None  # nothing computed for data that is not a plane


def test_show_sample_colours_each_neuron_by_its_value(make):
    design = xor64()
    trainer, data = trained(design)
    w, _, _ = make(design)
    params = trainer.network.state_dict()
    w.set_weights(params)
    x = data.x_val[4]
    w.show_sample(x)
    colours = w.sample_colours()
    cols = plain_forward(params, x[None])
    classes = [(c.red(), c.green(), c.blue()) for c in map(class_color, range(2))]
    for i, values in enumerate(cols):
        v = values[0]
        for k in range(len(v)):
            want = neuron_rgb(v[k], k, len(v), i == 3, column_scale(v), classes)
            got = colours[(i, k)]
            assert (got.red(), got.green(), got.blue()) == tuple(want.tolist()), (i, k)
    # The painted neuron has that colour (the sample replaces the heatmaps).
    image = w.render_image(SIZE)
    layout = w.layout_at(SIZE.width(), SIZE.height())
    c = layout.columns[1]
    got = pixel(image, c.x, c.ys[0])
    want = colours[(1, 0)]
    assert np.abs(np.array(got) - [want.red(), want.green(), want.blue()]).max() <= 3
    # New weights recolour the same sample; a sample of the wrong size shows nothing.
    w.set_weights({k: v * 0.5 for k, v in params.items()})
    assert w.sample_colours() != colours
    w.show_sample(x[:1])
    assert w.sample_colours() == {}
    w.show_sample(None)
    assert w.sample_colours() == {} and w.neurons.sample is None


@pytest.mark.slow
def test_a_live_run_delivers_the_maps_to_the_diagram(shown_window, qtbot, monkeypatch):
    window = shown_window
    diagram = window.diagram
    received = []
    original = diagram.set_neuron_maps

    def spy(weights, maps):
        received.append(maps)
        original(weights, maps)

    monkeypatch.setattr(diagram, "set_neuron_maps", spy)
    window.open_example("xor.json")
    d = window.document.design
    window.document.set_design(dataclasses.replace(
        d, training=dataclasses.replace(d.training, epochs=40)), "Epochs")
    with qtbot.waitSignal(window.training.controller.run_finished, timeout=30000):
        window.training.train()
    assert any(m is not None for m in received)
    maps = next(m for m in received if m is not None)
    assert set(maps.columns) == {INPUT, "layers.0", "layers.2", "layers.4"}
    assert maps.columns["layers.0"].values.shape == (8, maps.resolution, maps.resolution)
    diagram.grab()
