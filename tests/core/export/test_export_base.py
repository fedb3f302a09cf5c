"""The export base: sources, the comparison rule, and writing without partial files."""

from __future__ import annotations

import numpy as np
import pytest

from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    Design,
    FlattenSpec,
    NetworkSpec,
)
from core.export.output import write_staged
from core.export.source import ExportError, source_of
from core.export.verify import ATOL, RTOL, compare, layer_outputs, verification_inputs

DESIGN = Design(NetworkSpec(16, (Conv2DSpec(2), BatchNormSpec(), ActivationSpec("relu"),
                                 FlattenSpec(), DenseSpec(3)), input_shape=(1, 4, 4)))


def test_an_untrained_design_exports_initial_weights_only_when_asked():
    with pytest.raises(ExportError, match="no trained weights"):
        source_of(DESIGN, None)
    source = source_of(DESIGN, None, allow_initial=True)
    assert not source.trained and "layers.1.running_var" in source.weights
    trained = source_of(DESIGN, source.weights)
    assert trained.trained
    x = verification_inputs(trained.network(), None, samples=5)
    np.testing.assert_array_equal(trained.network().predict(x), source.network().predict(x))


def test_layer_outputs_end_with_the_models_prediction():
    net = source_of(DESIGN, None, allow_initial=True).network()
    x = verification_inputs(net, None, samples=7)
    outs = layer_outputs(net, x)
    assert list(outs) == [f"layers.{i}" for i in range(5)]
    assert outs["layers.0"].shape == (7, 2, 4, 4)
    np.testing.assert_array_equal(outs["layers.4"], net.predict(x))


def test_compare_applies_atol_plus_rtol():
    ours = np.array([[1.0, 100.0]])
    assert compare("output", ours, ours + [[ATOL * 0.9, 100 * RTOL * 0.9]]).ok
    assert not compare("output", ours, ours + [[ATOL * 1.1 + RTOL, 0]]).ok
    assert not compare("output", ours, ours[:, :1]).ok  # a shape mismatch
    assert not compare("output", ours, np.array([[np.nan, 100.0]])).ok


def test_a_failed_write_leaves_nothing(tmp_path):
    def fill(folder):
        (folder / "model.py").write_text("x = 1\n")
        raise OSError(28, "No space left on device")

    with pytest.raises(ExportError, match="disk is full"):
        write_staged(tmp_path / "out", fill, folder=True)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_replaced_only_when_complete(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")

    def fill(folder):
        (folder / "model.py").write_text("x = 1\n")
        return [folder / "model.py"]

    assert write_staged(target, fill, folder=True) == [target / "model.py"]
    assert sorted(p.name for p in target.iterdir()) == ["model.py"]
    assert (target.stat().st_mode & 0o777, (target / "model.py").stat().st_mode & 0o777) == (
        0o755, 0o644)  # readable by others, as any saved file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_read_only_folder_is_named(tmp_path, monkeypatch):
    """As the OS answers in a read-only folder (tests run as root in CI, where chmod does
    not stop writes, so the refusal is made by the call itself)."""
    import errno
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError, match="read-only"):
        write_staged(tmp_path / "model.onnx", lambda p: [p], folder=False)
    assert list(tmp_path.iterdir()) == []
