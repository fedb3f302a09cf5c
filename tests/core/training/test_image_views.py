"""What the window's image pages read from a network: the first Conv2D's filters, and
one sample's feature maps through every image layer, checked against the network's own
forward pass and a convolution written out by hand."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.resources import resource_path
from core.training.build import build_network
from core.training.image_views import (
    INPUT,
    first_filters,
    is_image_network,
    sample_maps,
)
from core.training.trainer import Trainer
from tests.scripts.conv_digits import conv_digits_design


@pytest.fixture(scope="module")
def trained():
    """The conv digits net after one epoch (float64, so sums compare tightly)."""
    design = conv_digits_design(epochs=1, dtype="float64")
    data = load_dataset(DatasetSpec.from_dict(design.dataset))
    trainer = Trainer(design, data)
    for _ in trainer.run():
        pass
    return trainer.network, data


def correlate(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A 'same' 3x3 cross-correlation of x (C, H, W) by w (F, C, 3, 3), written out."""
    c, h, wd = x.shape
    xp = np.zeros((c, h + 2, wd + 2))
    xp[:, 1:-1, 1:-1] = x
    out = np.empty((w.shape[0], h, wd))
    for f in range(w.shape[0]):
        for i in range(h):
            for j in range(wd):
                out[f, i, j] = np.sum(xp[:, i:i + 3, j:j + 3] * w[f]) + b[f]
    return out


def test_the_first_filters_are_the_first_convolutions_weights(trained):
    net, _ = trained
    name, filters = first_filters(net)
    assert name == "layers.0"
    assert filters.shape == (8, 1, 3, 3)
    np.testing.assert_array_equal(filters, net.parameters()["layers.0.weight"])
    # A copy: the next training step must not change what a viewer holds.
    filters[...] = 0
    assert np.any(net.parameters()["layers.0.weight"] != 0)


def test_a_dense_network_has_no_filters_and_reads_no_images():
    d = load_design(resource_path("examples", "digits.json"))
    net = build_network(d.network, seed=0)
    assert first_filters(net) is None
    assert not is_image_network(net)
    with pytest.raises(ValueError, match="does not read images"):
        sample_maps(net, np.zeros(64))


def test_feature_maps_follow_every_image_layer_and_match_the_forward_pass(trained):
    net, data = trained
    x = data.x_val[3]
    maps = sample_maps(net, x)
    assert [(m.name, m.shape) for m in maps.layers] == [
        (INPUT, (1, 8, 8)), ("layers.0", (8, 8, 8)), ("layers.1", (8, 8, 8)),
        ("layers.2", (8, 4, 4)), ("layers.3", (16, 4, 4)), ("layers.4", (16, 4, 4))]
    by_name = {m.name: m.maps for m in maps.layers}
    np.testing.assert_array_equal(by_name[INPUT][0], x.reshape(8, 8))
    p = net.parameters()
    conv = correlate(x.reshape(1, 8, 8), p["layers.0.weight"], p["layers.0.bias"])
    np.testing.assert_allclose(by_name["layers.0"], conv, rtol=1e-10, atol=1e-12)
    # Each later layer from the one before it, as kept.
    np.testing.assert_array_equal(by_name["layers.1"], np.maximum(by_name["layers.0"], 0))
    pooled = by_name["layers.1"].reshape(8, 4, 2, 4, 2).max(axis=(2, 4))
    np.testing.assert_array_equal(by_name["layers.2"], pooled)
    conv2 = correlate(pooled, p["layers.3.weight"], p["layers.3.bias"])
    np.testing.assert_allclose(by_name["layers.3"], conv2, rtol=1e-10, atol=1e-12)
    # The output is the network's own evaluation-mode output for that row.
    np.testing.assert_allclose(maps.output, net.forward(x[None], training=False)[0],
                               rtol=1e-12)
    assert maps.output.shape == (10,) and abs(maps.output.sum() - 1) < 1e-9


def test_feature_maps_are_capped_and_copied(trained):
    net, data = trained
    maps = sample_maps(net, data.x_val[0], cap=4)
    assert [m.maps.shape[0] for m in maps.layers] == [1, 4, 4, 4, 4, 4]
    assert maps.layers[4].shape == (16, 4, 4)  # the full shape is still told
    full = sample_maps(net, data.x_val[0])
    again = sample_maps(net, data.x_val[1])  # the layers' buffers are reused
    assert not np.array_equal(full.layers[1].maps, again.layers[1].maps)
    np.testing.assert_array_equal(full.layers[1].maps[:4], maps.layers[1].maps)


def test_a_row_of_the_wrong_size_is_refused(trained):
    net, _ = trained
    with pytest.raises(ValueError, match="has 64 values, not 63"):
        sample_maps(net, np.zeros(63))


def test_float32_networks_give_float64_maps_equal_to_their_pass():
    design = conv_digits_design()
    design = replace(design, training=replace(design.training, dtype="float32"))
    net = build_network(design.network, seed=0, dtype=np.float32)
    x = np.linspace(-1, 1, 64)
    maps = sample_maps(net, x)
    assert all(m.maps.dtype == np.float64 for m in maps.layers)
    np.testing.assert_allclose(maps.output, net.forward(x[None].astype(np.float32),
                                                        training=False)[0], rtol=1e-6)
