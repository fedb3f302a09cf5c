"""Every neuron's output over the input plane (the diagram's heatmaps) and for one sample:
the values are the network's own outputs on the grid, recomputed here by plain NumPy
from the weights, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from core import ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig
from core.datasets import DatasetSpec, load_dataset
from core.design.spec import BatchNormSpec, DropoutSpec, ResidualSpec
from core.records.snapshots import RunEnd
from core.training.model_views import GRID_RESOLUTION, grid_views, model_views, surface_grid
from core.training.neuron_maps import (
    INPUT,
    MAP_STRIDE,
    network_with,
    sample_activations,
    sampled_neurons,
)
from core.training.trainer import Trainer


def trained(net: NetworkSpec, data, loss="binary_cross_entropy", steps=40) -> Trainer:
    """A float64 trainer of ``net`` after ``steps`` steps (so the weights are not the
    initial ones)."""
    design = Design(net, TrainConfig(loss=loss, optimizer="adam", learning_rate=0.02,
                                     epochs=50, batch_size=16, dtype="float64"))
    trainer = Trainer(design, data)
    for i, snap in enumerate(trainer.run()):
        if i >= steps or isinstance(snap, RunEnd):
            break
    return trainer


def grid_inputs(data, maps) -> np.ndarray:
    """The network's inputs at the maps' grid points, (ny * nx, inputs), row-major."""
    r = maps.resolution
    xs = np.linspace(*maps.x_range, r)
    ys = np.linspace(*maps.y_range, r)
    gx, gy = np.meshgrid(xs, ys)
    return data.transform(np.column_stack([gx.ravel(), gy.ravel()]))


def as_maps(values: np.ndarray, r: int) -> np.ndarray:
    """(points, units) values as (units, r, r) maps."""
    return values.T.reshape(values.shape[1], r, r)


@pytest.fixture(scope="module")
def circle():
    return load_dataset(DatasetSpec.synthetic("circle", samples=300, noise=0.1, seed=1,
                                              features=("x1^2",)))


def test_every_column_is_the_networks_output_on_the_grid(circle):
    net = NetworkSpec(3, (DenseSpec(8), ActivationSpec("tanh"), DenseSpec(5),
                          ActivationSpec("relu"), DenseSpec(1), ActivationSpec("sigmoid")))
    trainer = trained(net, circle)
    surface, maps = grid_views(trainer.network, circle, trainer.stepper.logits)
    assert maps is not None and set(maps.columns) == {INPUT, "layers.0", "layers.2",
                                                      "layers.4"}
    r = maps.resolution
    assert r == (GRID_RESOLUTION - 1) // MAP_STRIDE + 1
    assert (maps.x_range, maps.y_range) == (surface.x_range, surface.y_range)
    p = trainer.network.parameters()
    x = grid_inputs(circle, maps)
    h1 = np.tanh(x @ p["layers.0.weight"] + p["layers.0.bias"])
    h2 = np.maximum(h1 @ p["layers.2.weight"] + p["layers.2.bias"], 0.0)
    out = 1.0 / (1.0 + np.exp(-(h2 @ p["layers.4.weight"] + p["layers.4.bias"])))
    for name, expected in ((INPUT, x), ("layers.0", h1), ("layers.2", h2),
                           ("layers.4", out)):
        col = maps.columns[name]
        assert col.neurons == tuple(range(expected.shape[1])), name
        assert col.values.shape == (expected.shape[1], r, r)
        np.testing.assert_allclose(col.values, as_maps(expected, r), rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    assert maps.columns["layers.4"].probability and not maps.columns["layers.2"].probability
    # The output column is the decision surface, from the same pass.
    np.testing.assert_allclose(maps.columns["layers.4"].values[0],
                               surface.values[::MAP_STRIDE, ::MAP_STRIDE], atol=1e-9)
    # A hidden map is not constant: the test would not notice a wrong grid otherwise.
    assert np.ptp(maps.columns["layers.0"].values[0]) > 0.05
    # The engine's own forward pass agrees at the grid points.
    np.testing.assert_allclose(trainer.network.forward(x, training=False)[:, 0],
                               maps.columns["layers.4"].values[0].ravel(), rtol=1e-12)


def test_a_residual_block_and_eval_mode_layers(circle):
    """Batch norm uses its running statistics, dropout is off, and the last column of
    a residual block is the block's output (skip added)."""
    net = NetworkSpec(3, (DenseSpec(6), BatchNormSpec(), ActivationSpec("tanh"),
                          DropoutSpec(0.5),
                          ResidualSpec((DenseSpec(6), ActivationSpec("relu"))),
                          DenseSpec(2), ActivationSpec("softmax")))
    trainer = trained(net, circle, loss="softmax_cross_entropy")
    _, maps = grid_views(trainer.network, circle, trainer.stepper.logits)
    p = trainer.network.state_dict()
    x = grid_inputs(circle, maps)
    z = x @ p["layers.0.weight"] + p["layers.0.bias"]
    bn = ((z - p["layers.1.running_mean"]) / np.sqrt(p["layers.1.running_var"] + 1e-5)
          * p["layers.1.weight"] + p["layers.1.bias"])
    h = np.tanh(bn)
    block = np.maximum(h @ p["layers.4.layers.0.weight"] + p["layers.4.layers.0.bias"], 0) + h
    logits = block @ p["layers.5.weight"] + p["layers.5.bias"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    soft = e / e.sum(axis=1, keepdims=True)
    r = maps.resolution
    for name, expected in (("layers.0", h), ("layers.4.layers.0", block), ("layers.5", soft)):
        np.testing.assert_allclose(maps.columns[name].values, as_maps(expected, r),
                                   rtol=1e-7, atol=1e-9, err_msg=name)


def test_wide_columns_keep_the_neurons_the_diagram_draws(circle):
    net = NetworkSpec(3, (DenseSpec(32), ActivationSpec("tanh"), DenseSpec(1),
                          ActivationSpec("sigmoid")))
    trainer = trained(net, circle, steps=5)
    _, maps = grid_views(trainer.network, circle, trainer.stepper.logits)
    col = maps.columns["layers.0"]
    assert col.units == 32 and col.neurons == sampled_neurons(32)
    assert col.neurons == tuple(range(6)) + tuple(range(26, 32))
    assert col.values.shape == (12, maps.resolution, maps.resolution)
    p = trainer.network.parameters()
    h = np.tanh(grid_inputs(circle, maps) @ p["layers.0.weight"] + p["layers.0.bias"])
    np.testing.assert_allclose(col.map_of(29), h[:, 29].reshape(maps.resolution, -1),
                               rtol=1e-9, atol=1e-12)
    assert col.map_of(10) is None


def test_only_two_dimensional_data_has_maps():
    data = load_dataset(DatasetSpec.synthetic("sine", samples=100, seed=0))
    trainer = trained(NetworkSpec(1, (DenseSpec(4), ActivationSpec("tanh"), DenseSpec(1))),
                      data, loss="mse", steps=2)
    assert grid_views(trainer.network, data, False) == (None, None)
    assert model_views(trainer, data)["neurons"] is None


def test_model_views_carry_the_maps_and_the_weights_with_buffers(circle):
    net = NetworkSpec(3, (DenseSpec(4), BatchNormSpec(), ActivationSpec("tanh"),
                          DenseSpec(1), ActivationSpec("sigmoid")))
    trainer = trained(net, circle, steps=3)
    views = model_views(trainer, circle)
    assert views["neurons"] is not None and "layers.1.running_mean" in views["weights"]
    np.testing.assert_array_equal(views["surface"].values,
                                  surface_grid(trainer.network, circle,
                                               trainer.stepper.logits).values)


def test_a_network_from_saved_weights_gives_the_same_maps_and_samples(circle):
    net = NetworkSpec(3, (DenseSpec(5), BatchNormSpec(), ActivationSpec("tanh"),
                          DenseSpec(1), ActivationSpec("sigmoid")))
    trainer = trained(net, circle)
    copy = network_with(net, trainer.network.state_dict(), seed=99, dtype=np.float64)
    _, a = grid_views(trainer.network, circle, False)
    _, b = grid_views(copy, circle, False)
    for name in a.columns:
        np.testing.assert_array_equal(a.columns[name].values, b.columns[name].values)
    # One sample: the same as the grid computation for that one row.
    x = circle.x_val[3]
    acts = sample_activations(copy, x)
    p = trainer.network.state_dict()
    z = x @ p["layers.0.weight"] + p["layers.0.bias"]
    h = np.tanh((z - p["layers.1.running_mean"]) / np.sqrt(p["layers.1.running_var"] + 1e-5)
                * p["layers.1.weight"] + p["layers.1.bias"])
    np.testing.assert_allclose(acts["layers.0"], h, rtol=1e-9)
    np.testing.assert_allclose(acts["layers.3"],
                               trainer.network.forward(x[None], training=False)[0], rtol=1e-12)
    np.testing.assert_array_equal(acts[INPUT], x)
    with pytest.raises(ValueError, match="3 values, not 2"):
        sample_activations(copy, x[:2])
    # Without weights: the seed's initial network.
    fresh = network_with(net, None, seed=trainer.config.seed, dtype=np.float64)
    initial = Trainer(Design(net, TrainConfig(dtype="float64")), circle).network
    np.testing.assert_array_equal(fresh.flat_params, initial.flat_params)


def test_one_sample_through_a_conv_network_keeps_flat_columns():
    """The gallery's chosen image in the diagram: the input column stays the flat input,
    image layers' (C, H, W) outputs are no columns, and the Dense columns are the
    network's own values for that sample."""
    from core.training.build import build_network
    from core.training.image_views import sample_maps
    from tests.scripts.conv_digits import conv_digits_design

    net = build_network(conv_digits_design().network, seed=0, dtype=np.float64)
    x = np.linspace(-1.0, 2.0, 64)
    values = sample_activations(net, x)
    np.testing.assert_array_equal(values["input"], x)
    assert all(v.ndim == 1 for v in values.values())
    assert values["layers.6"].shape == (10,)  # the output column: after the softmax
    np.testing.assert_allclose(values["layers.6"], sample_maps(net, x).output, rtol=1e-12)
    assert values["layers.5"].shape == (16,)  # the global pool: a column of its own
