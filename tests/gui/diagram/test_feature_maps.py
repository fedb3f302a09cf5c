"""Image layers in the diagram (issue 14): Conv2D and pooling draw stacks of feature maps
with "C @ H×W" beneath, Flatten and GlobalAvgPool columns of neurons; dense networks
are drawn as before."""

from __future__ import annotations

import pytest

from gui.diagram.layout import place
from gui.diagram.structure import MAX_MAPS, Badge, Column, Maps, Structure, shown_indices


def conv_structure() -> Structure:
    """What ``describe`` makes of input (1, 8, 8) → conv 8 same → ReLU → maxpool 2 →
    flatten → dense 10 → softmax, written out by hand (no core needed)."""
    return Structure(
        (Column(None, "Input", 64, (), maps=Maps(1, 8, 8)),
         Column((0,), "Conv2D 8", 512, (), 0, maps=Maps(8, 8, 8)),
         Column((2,), "MaxPool 2", 128, (), maps=Maps(8, 4, 4)),
         Column((3,), "Flatten", 128, shown_indices(128)),
         Column((4,), "Dense 10", 10, tuple(range(10)), 1, "layers.4.weight")),
        (Badge((1,), 1, "activation", "ReLU", 0, "ReLU"),
         Badge((5,), 4, "activation", "Softmax", 0, "smax")))


def overlaps(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_maps_caption_and_cap():
    assert Maps(16, 13, 13).caption == "16 @ 13×13"
    assert Maps(3, 8, 8).drawn == 3
    assert Maps(64, 4, 4).drawn == MAX_MAPS
    col = Column((0,), "Conv2D 16@3×3", 16 * 13 * 13, (), maps=Maps(16, 13, 13),
                 short="Conv2D")
    assert col.hidden == 0 and col.size_text == "16@13×13" and col.short_title == "Conv2D"
    assert Column((1,), "Dense 10", 10, tuple(range(10))).short_title == "10"


@pytest.mark.parametrize("width, height", [(700, 400), (420, 260), (1100, 520)])
def test_stacks_are_placed_inside_their_columns(width, height):
    s = conv_structure()
    layout = place(s, width, height)
    conv, pool = layout.columns[1].maps, layout.columns[2].maps
    assert layout.columns[0].maps is not None and layout.columns[3].maps is None
    assert len(layout.columns[0].maps.squares) == 1
    assert len(conv.squares) == MAX_MAPS and len(pool.squares) == MAX_MAPS
    # A 4×4 map is drawn half as large as an 8×8 one (unless both hit the minimum).
    conv_side, pool_side = conv.squares[-1][2], pool.squares[-1][2]
    assert pool_side == pytest.approx(max(conv_side / 2, 10.0))
    for i in (0, 1, 2):
        place_ = layout.columns[i]
        for x, y, w, h in place_.maps.squares:
            assert x >= 0 and x + w <= width and y >= 0 and y + h <= height
            assert place_.rect[0] <= x and x + w <= place_.rect[0] + place_.rect[2]
        # The caption lies under the front map, and the column's foot under the caption.
        front = place_.maps.squares[-1]
        assert place_.maps.caption[1] >= front[1] + front[3]
        assert place_.foot == place_.maps.caption[1] + place_.maps.caption[3]
    # Neighbouring stacks never overlap.
    for a, b in zip(layout.columns[:3], layout.columns[1:3], strict=False):
        for ra in a.maps.squares:
            for rb in b.maps.squares:
                assert not overlaps(ra, rb)


def test_badges_go_under_the_caption_and_bands_join_the_stacks():
    s = conv_structure()
    layout = place(s, 700, 400)
    relu = layout.badges[0]
    assert relu is not None and relu[1] > layout.columns[1].foot
    # No lines between maps (nothing one neuron to one neuron), a band instead; the
    # Flatten → Dense connections are drawn one by one as today.
    for block in layout.edges[:3]:
        assert len(block.lines) == 0 and block.band is not None
    dense = layout.edges[3]
    assert len(dense.lines) == len(s.columns[3].shown) * 10


def test_weight_shapes_only_for_dense_columns():
    assert conv_structure().weight_shapes() == {"layers.4.weight": (128, 10)}


def test_describe_draws_image_layers_as_stacks(conv_design):
    from gui.diagram.structure import describe

    s = describe(conv_design.network)
    assert [c.title for c in s.columns] == ["Input", "Conv2D 8@3×3", "MaxPool 2×2",
                                            "Flatten", "Dense 10"]
    assert [c.maps for c in s.columns] == [Maps(1, 8, 8), Maps(8, 8, 8), Maps(8, 4, 4),
                                           None, None]
    assert [c.path for c in s.columns] == [None, (0,), (2,), (3,), (4,)]
    # Parameter-owning layers get series colours in order; pooling and Flatten none.
    assert [c.series for c in s.columns] == [None, 0, None, None, 1]
    assert s.columns[3].units == 128 and s.columns[3].hidden == 128 - len(s.columns[3].shown)
    assert [(b.path, b.column) for b in s.badges] == [((1,), 1), ((5,), 4)]
    assert s.weight_shapes() == {"layers.4.weight": (128, 10)}
    assert s.columns[1].maps.caption == "8 @ 8×8"
    assert [c.short_title for c in s.columns] == ["Input", "Conv2D", "MaxPool", "128", "10"]


def test_global_avgpool_is_a_column_of_one_neuron_per_channel(conv_design):
    from core.design.spec import GlobalAvgPoolSpec
    from gui.diagram.structure import describe

    net = conv_design.network
    net = type(net)(inputs=64, input_shape=(1, 8, 8),
                    layers=net.layers[:3] + (GlobalAvgPoolSpec(),) + net.layers[4:])
    s = describe(net)
    gap = s.columns[3]
    assert gap.maps is None and gap.units == 8 and gap.shown == tuple(range(8))
    assert s.weight_shapes() == {"layers.4.weight": (8, 10)}


def test_the_widget_draws_a_conv_net_and_its_dense_weights(make, conv_design):
    import numpy as np

    w, doc, sel = make(conv_design)
    s = w.structure
    assert s is not None and s.columns[1].maps == Maps(8, 8, 8)
    layout = w.layout_at(w.width(), w.height())
    assert len(layout.columns[1].maps.squares) == MAX_MAPS
    w.set_weights({"layers.4.weight": np.ones((128, 10)), "layers.0.weight": np.ones(
        (8, 1, 3, 3))})
    assert w.has_weights  # the Dense layer's connections take the weights
    assert "8@8×8" in w._network_info(s)
    # Clicking a stack selects its layer; its tooltip says what it is.
    x, y, width, height = layout.columns[1].maps.squares[-1]
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    QTest.mouseClick(w, Qt.MouseButton.LeftButton, pos=QPoint(int(x + width / 2),
                                                               int(y + height / 2)))
    assert sel.path == (0,)
    tip = w._tooltip(("column", 1))
    assert "8 feature maps of 8×8" in tip and "80 parameters" in tip
    w.grab()


def test_a_layer_that_cannot_take_its_input_is_reported(make, conv_design):
    import dataclasses

    net = conv_design.network
    broken = dataclasses.replace(net, layers=net.layers[:3] + net.layers[4:])  # no Flatten
    w, _, sel = make(dataclasses.replace(conv_design, network=broken))
    s = w.structure
    # The layers before it are drawn; the Dense layer on the image gets the last slot.
    assert [c.path for c in s.columns] == [None, (0,), (2,)]
    assert s.stop is not None and s.stop.path == (3,) and "Flatten" in s.stop.why
    layout = w.layout_at(w.width(), w.height())
    x, y, width, height = layout.stop
    assert x > layout.columns[-1].x and x + width <= w.width()
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    QTest.mouseClick(w, Qt.MouseButton.LeftButton, pos=QPoint(int(x + width / 2),
                                                               int(y + height / 2)))
    assert sel.path == (3,)
    assert "cannot take its input" in w._tooltip(("stop", 0))
    w.grab()


def test_a_conv_that_keeps_the_shape_is_a_stack_and_batchnorm_a_badge():
    from core.design.spec import (
        ActivationSpec,
        BatchNormSpec,
        Conv2DSpec,
        NetworkSpec,
        ResidualSpec,
    )
    from gui.diagram.structure import describe

    block = ResidualSpec(layers=(Conv2DSpec(filters=8), BatchNormSpec(), ActivationSpec("relu"),
                                 Conv2DSpec(filters=16, stride=2)), projection=True)
    net = NetworkSpec(inputs=64, input_shape=(1, 8, 8), layers=(Conv2DSpec(filters=8), block))
    s = describe(net)
    assert [(c.path, c.maps) for c in s.columns] == [
        (None, Maps(1, 8, 8)), ((0,), Maps(8, 8, 8)), ((1, 0), Maps(8, 8, 8)),
        ((1, 3), Maps(16, 4, 4))]
    assert [(b.kind, b.column) for b in s.badges] == [("batchnorm", 2), ("activation", 2)]
    # The block's skip goes from its input column to its output, through a projection.
    assert [(b.first, b.last, b.projection, b.widths_ok) for b in s.blocks] == [
        (1, 3, True, True)]
    # Colours follow the parameter groups: conv, the block's projection, its children.
    assert [c.series for c in s.columns] == [None, 0, 2, 4]


def test_one_samples_colours_on_a_conv_net(make, conv_design, qtbot):
    # The gallery's chosen image colours the diagram: the network views the flat row as
    # an image at its input, as it does in training; the Dense columns get colours.
    import numpy as np

    w, _, _ = make(conv_design)
    qtbot.waitUntil(lambda: w._dataset() is not None, timeout=5000)
    w.show_sample(w._dataset().x_val[0])
    colours = w.sample_colours()
    assert {i for i, _ in colours} == {3, 4}  # Flatten's neurons are not a Dense column
    assert len([k for k in colours if k[0] == 4]) == 10
    w.grab()
    assert np.isfinite(w._dataset().x_val[0]).all()
