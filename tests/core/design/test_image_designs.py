"""Image layers in designs: shapes, the problems the check names, fixes, files and build."""

from __future__ import annotations

import numpy as np
import pytest

from core.design.check import DataShape, check, layer_rows
from core.design.fixes import apply_fix, fix_label
from core.design.limits import state_shapes
from core.design.shapes import ADD_PROJECTION, INSERT_FLATTEN, USE_DATA_SHAPE
from core.design.spec import (
    ActivationSpec,
    AvgPool2DSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    FlattenSpec,
    GlobalAvgPoolSpec,
    MaxPool2DSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.errors import DesignError
from core.training.build import build_network

DIGITS = (1, 8, 8)
DIGITS_DATA = DataShape("classification", 64, 10, 1797, image_shape=DIGITS)


def conv_net(*layers, shape=DIGITS) -> NetworkSpec:
    return NetworkSpec(int(np.prod(shape)), tuple(layers), input_shape=shape)


def softmax_design(net: NetworkSpec) -> Design:
    return Design(net, TrainConfig(loss="softmax_cross_entropy"))


SMALL = conv_net(Conv2DSpec(16), ActivationSpec("relu"), MaxPool2DSpec(),
                 Conv2DSpec(32), ActivationSpec("relu"), GlobalAvgPoolSpec(),
                 DenseSpec(10), ActivationSpec("softmax"))


def only_problem(net: NetworkSpec):
    problems = net.validate()
    assert len(problems) == 1, problems
    return problems[0]


def test_shapes_and_parameters_follow_pytorch():
    assert SMALL.layer_shapes() == [(16, 8, 8), (16, 8, 8), (16, 4, 4), (32, 4, 4),
                                    (32, 4, 4), (32,), (10,), (10,)]
    assert SMALL.parameter_count() == (16 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 10 + 10)
    lenet = conv_net(Conv2DSpec(8, padding="valid"), MaxPool2DSpec(),
                     Conv2DSpec(16, padding="valid"), MaxPool2DSpec(), FlattenSpec(),
                     DenseSpec(10), shape=(1, 28, 28))
    assert lenet.layer_shapes()[:5] == [(8, 26, 26), (8, 13, 13), (16, 11, 11), (16, 5, 5),
                                        (400,)]
    strided = conv_net(Conv2DSpec(4, kernel=3, stride=2), AvgPool2DSpec(3, 1),
                       FlattenSpec(), DenseSpec(2), shape=(3, 7, 7))
    assert strided.layer_shapes()[:2] == [(4, 4, 4), (4, 2, 2)]  # same: ceil(7 / 2)
    assert SMALL.validate() == []


def test_check_rows_carry_shapes():
    rows = layer_rows(softmax_design(SMALL))
    assert [r.out_shape for r in rows][:3] == [(16, 8, 8), (16, 8, 8), (16, 4, 4)]
    assert rows[0].in_shape == DIGITS and rows[0].parameters == 160
    assert rows[5].outputs == 32 and rows[5].inputs == 32 * 16


def test_a_kernel_larger_than_its_input_is_named():
    problem = only_problem(conv_net(Conv2DSpec(4, kernel=9, padding="valid"), FlattenSpec(),
                                    DenseSpec(2)))
    assert (problem.layer, problem.field) == ((0,), "kernel")
    assert "kernel 9×9 is larger than its 8×8 input" in problem.message


def test_pooling_that_leaves_a_zero_sized_map_is_named():
    net = conv_net(Conv2DSpec(4, padding="valid", kernel=5), MaxPool2DSpec(),
                   MaxPool2DSpec(), FlattenSpec(), DenseSpec(2))  # 4×4 -> 2×2 -> 1×1
    assert net.validate() == []
    net = conv_net(*net.layers[:3], MaxPool2DSpec(), FlattenSpec(), DenseSpec(2))
    problem = only_problem(net)
    assert (problem.layer, problem.field) == ((3,), "size")
    assert "zero-sized map" in problem.message and "1×1 input" in problem.message


def test_dense_on_an_image_offers_a_flatten_that_cures_it():
    net = conv_net(Conv2DSpec(4), DenseSpec(10), ActivationSpec("softmax"))
    problem = only_problem(net)
    assert problem.layer == (1,) and problem.fix == INSERT_FLATTEN
    assert "Dense needs features" in problem.message and "Flatten" in problem.message
    assert fix_label(problem) == "Insert Flatten"
    fixed = apply_fix(softmax_design(net), problem)
    assert isinstance(fixed.network.layers[1], FlattenSpec)
    assert fixed.network.validate() == []


def test_softmax_on_an_image_is_refused():
    problem = only_problem(conv_net(Conv2DSpec(4), ActivationSpec("softmax")))
    assert (problem.layer, problem.field, problem.fix) == ((1,), "function", INSERT_FLATTEN)
    assert "Softmax" in problem.message


def test_a_network_ending_in_an_image_is_refused():
    problem = only_problem(conv_net(Conv2DSpec(4)))
    assert problem.layer == (0,) and "ends with an 8×8 image with 4 channels" in problem.message


def test_residual_shape_change_needs_a_projection_and_the_fix_adds_it():
    block = ResidualSpec((Conv2DSpec(8, stride=2), ActivationSpec("relu")))
    net = conv_net(Conv2DSpec(4), block, GlobalAvgPoolSpec(), DenseSpec(10))
    problem = only_problem(net)
    assert problem.layer == (1,) and problem.fix == ADD_PROJECTION
    assert "outputs a 4×4 image with 8 channels but its input is an 8×8 image" in problem.message
    fixed = apply_fix(Design(net), problem).network
    assert fixed.layers[1].projection and fixed.validate() == []
    # A 1×1 convolution with stride 2, no bias: 8 × 4 weights.
    params, _ = state_shapes(fixed)
    assert params["layers.1.projection.weight"] == (8, 4, 1, 1)
    assert fixed.parameter_count() == (4 * 9 + 4) + (8 * 4 * 9 + 8) + 32 + (8 * 10 + 10)


def test_residual_that_flattens_cannot_be_projected():
    block = ResidualSpec((FlattenSpec(),), projection=True)
    problem = only_problem(conv_net(block, DenseSpec(3)))
    assert problem.layer == (0,) and "keep Flatten and GlobalAvgPool outside" in problem.message


def test_image_layers_on_features_say_so():
    problem = only_problem(NetworkSpec(4, (Conv2DSpec(2), FlattenSpec(), DenseSpec(2))))
    assert problem.layer == (0,) and "needs an image" in problem.message


def test_a_dense_network_reads_image_data_as_features():
    mlp = conv_net(DenseSpec(32), ActivationSpec("relu"), DenseSpec(10),
                   ActivationSpec("softmax"))
    assert mlp.in_shape == (64,) and mlp.validate() == []
    assert check(softmax_design(mlp), DIGITS_DATA) == []
    net = build_network(mlp)
    assert net.input_shape == () and net.forward(np.zeros((2, 64))).shape == (2, 10)


def test_the_check_compares_the_input_image_with_the_dataset():
    flat_conv = Design(NetworkSpec(64, SMALL.layers), TrainConfig(loss="softmax_cross_entropy"))
    problems = check(flat_conv, DIGITS_DATA)
    fixes = [p for p in problems if p.fix == USE_DATA_SHAPE]
    assert len(fixes) == 1 and "an 8×8 image with 1 channel" in fixes[0].message
    fixed = apply_fix(flat_conv, fixes[0], DIGITS)
    assert check(fixed, DIGITS_DATA) == []
    tabular = DataShape("classification", 64, 10)
    assert any("not images" in p.message for p in check(softmax_design(SMALL), tabular))


def test_image_designs_round_trip_through_their_file_form():
    design = softmax_design(SMALL)
    d = design.to_dict()
    assert d["network"]["input_shape"] == [1, 8, 8]
    assert Design.from_dict(d) == design
    assert "input_shape" not in Design(NetworkSpec(2, (DenseSpec(1),))).to_dict()["network"]


@pytest.mark.parametrize("bad", [[1, 8], [0, 8, 8], [1, 8, "8"], "1x8x8", [1, 8, True]])
def test_bad_input_shapes_are_refused_with_their_place(bad):
    d = softmax_design(SMALL).to_dict()
    d["network"]["input_shape"] = bad
    with pytest.raises(DesignError) as info:
        Design.from_dict(d)
    assert [p.path for p in info.value.problems] == ["network.input_shape"]


def test_an_input_shape_that_disagrees_with_inputs_is_named():
    problem = only_problem(NetworkSpec(60, SMALL.layers, input_shape=DIGITS))
    assert problem.path == "input_shape" and "64 values" in problem.message


def test_bad_settings_of_image_layers_are_named():
    d = softmax_design(SMALL).to_dict()
    d["network"]["layers"][0]["padding"] = "full"
    d["network"]["layers"][2]["stride"] = 0
    with pytest.raises(DesignError) as info:
        Design.from_dict(d)
    assert sorted(p.path for p in info.value.problems) == [
        "network.layers[0].padding", "network.layers[2].stride"]


def test_build_matches_the_spec_shapes_and_state_shapes():
    specs = [
        SMALL,
        conv_net(Conv2DSpec(4, bias=False), BatchNormSpec(), DropoutSpec(0.2),
                 ResidualSpec((Conv2DSpec(6, stride=2), BatchNormSpec()), projection=True),
                 AvgPool2DSpec(), FlattenSpec(), DenseSpec(3), shape=(3, 9, 9)),
    ]
    for spec in specs:
        net = build_network(spec, seed=3)
        params, buffers = state_shapes(spec)
        assert params == {k: v.shape for k, v in net.parameters().items()}
        assert list(params) == list(net.parameters())
        assert buffers == {k: v.shape for k, v in net.buffers().items()}
        assert net.parameter_count == spec.parameter_count()
        x = np.random.default_rng(0).normal(size=(5, spec.inputs))
        assert net.forward(x).shape == (5, spec.outputs)
        g = net.backward(np.ones((5, spec.outputs)), input_grad=True)
        assert g.shape == (5, spec.inputs)  # the input gradient is flat, like the data


def test_conv_initialiser_uses_the_convolution_fans():
    net = build_network(conv_net(Conv2DSpec(64, kernel=5, init="he_normal"), FlattenSpec(),
                                 DenseSpec(2)), seed=0)
    w = net.parameters()["layers.0.weight"]
    assert w.shape == (64, 1, 5, 5)
    # He normal: std sqrt(2 / fan_in) with fan_in = C·kh·kw = 25 (1,600 draws: ±10 %).
    assert 0.9 < float(w.std()) / np.sqrt(2 / 25) < 1.1
    assert np.all(net.parameters()["layers.0.bias"] == 0)
