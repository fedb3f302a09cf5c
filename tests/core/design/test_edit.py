"""Pure design edits: every operation the builder window offers, headless."""

from __future__ import annotations

import pytest

from core import ActivationSpec, DenseSpec, DropoutSpec, NetworkSpec, ResidualSpec
from core.design.edit import (
    all_paths,
    duplicate_layer,
    input_features,
    insert_layer,
    layer_at,
    move_layer,
    remove_layer,
    replace_layer,
    runtime_name,
)

A, B, C = DenseSpec(4), ActivationSpec("relu"), DenseSpec(2)
R = ResidualSpec((DenseSpec(4), ActivationSpec("tanh")))


def net(*layers):
    return NetworkSpec(3, tuple(layers))


def kinds(n: NetworkSpec) -> list:
    return [layer_at(n, p) for p in all_paths(n)]


@pytest.mark.parametrize("i", [0, 1, 2])
def test_insert_at_start_middle_end(i):
    n = insert_layer(net(A, C), (i,), B)
    assert n.layers[i] == B and len(n.layers) == 3


def test_insert_into_residual_block_and_nested_paths():
    n = insert_layer(net(A, R, C), (1, 2), DropoutSpec(0.1))
    assert n.layers[1].layers[2] == DropoutSpec(0.1)
    assert all_paths(n) == [(0,), (1,), (1, 0), (1, 1), (1, 2), (2,)]
    assert runtime_name((1, 2)) == "layers.1.layers.2"
    assert input_features(n, (1, 2)) == 4
    assert input_features(n, (0,)) == 3


def test_edits_leave_the_original_untouched():
    original = net(A, R, C)
    for edited in (remove_layer(original, (1, 0)), replace_layer(original, (0,), B),
                   duplicate_layer(original, (1,))):
        assert edited != original
    assert original == net(A, R, C)


def test_remove_replace_duplicate():
    assert remove_layer(net(A, B, C), (1,)).layers == (A, C)
    assert replace_layer(net(A, B, C), (2,), DenseSpec(9)).layers[2] == DenseSpec(9)
    assert duplicate_layer(net(A, B), (0,)).layers == (A, A, B)
    with pytest.raises(IndexError):
        remove_layer(net(A), (3,))
    with pytest.raises(ValueError, match="not a residual block"):
        insert_layer(net(A), (0, 0), B)


@pytest.mark.parametrize(("src", "dst", "expect", "new"), [
    ((0,), (3,), [B, C, A], (2,)),
    ((2,), (0,), [C, A, B], (0,)),
    ((1,), (1,), [A, B, C], (1,)),
    ((1,), (2,), [A, B, C], (1,)),
])
def test_move_uses_positions_before_the_move(src, dst, expect, new):
    moved, path = move_layer(net(A, B, C), src, dst)
    assert list(moved.layers) == expect and path == new


def test_move_into_and_out_of_a_block():
    n = net(A, B, R, C)
    into, path = move_layer(n, (1,), (2, 1))
    assert path == (1, 1) and into.layers[1].layers[1] == B and len(into.layers) == 3
    out, path = move_layer(into, (1, 1), (3,))
    assert out == n.__class__(3, (A, R, C, B)) and path == (3,)
    with pytest.raises(ValueError, match="into itself"):
        move_layer(n, (2,), (2, 0))
