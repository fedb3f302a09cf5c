"""The export pipeline (``core.export.run``): target checks, verification inputs, the
failed and the cancelled export, over a stand-in format (the real formats have their
own tests, which run every design through ``export_model`` as well)."""

from __future__ import annotations

import dataclasses
import errno
import os

import numpy as np
import pytest

from core.datasets import DatasetSpec, load_dataset
from core.design.spec import ActivationSpec, DenseSpec, Design, NetworkSpec
from core.export.formats import EXPORT_FORMATS
from core.export.run import (
    ExportCancelled,
    checked_target,
    data_inputs,
    dataset_inputs,
    default_target,
    export_format,
    export_model,
)
from core.export.source import ExportError, source_of
from tests.core.export import fake_format
from tests.core.export.designs import sources

CIRCLE = Design(NetworkSpec(2, (DenseSpec(4), ActivationSpec("tanh"), DenseSpec(2),
                                ActivationSpec("softmax"))),
                dataset=DatasetSpec.synthetic("circle").to_dict(), name="circle net")


@pytest.fixture
def fake(monkeypatch):
    fake_format.install(monkeypatch)
    return fake_format


@pytest.mark.parametrize("name", list(sources()))
def test_every_design_exports_and_verifies_through_the_pipeline(fake, tmp_path, name):
    source = sources()[name]
    stages = []
    result = export_model(source, "fake", tmp_path / "out",
                          progress=lambda f, w: stages.append(f))
    assert result.ok is True
    assert [p.name for p in result.paths] == ["model.py", "weights.npz"]
    assert all(p.is_file() for p in result.paths)
    assert "seeded random inputs" in result.inputs
    assert len(result.verification.layers) == len(source.network().layers)
    assert stages == sorted(stages) and stages[-1] == 1.0


def test_a_failed_verification_keeps_the_files_and_says_failed(fake, tmp_path):
    fake.ERROR["value"] = 1e-3
    source = source_of(CIRCLE, None, allow_initial=True)
    result = export_model(source, "fake", tmp_path / "out")
    assert result.ok is False
    assert "FAILED" in result.verification.summary()
    assert all(p.is_file() for p in result.paths)
    assert not result.trained


def test_a_skipped_check_is_neither_verified_nor_failed(fake, tmp_path):
    fake.SKIP["reason"] = "torch is not installed"
    result = export_model(source_of(CIRCLE, None, True), "fake", tmp_path / "out")
    assert result.ok is None
    assert "not verified (torch is not installed)" in result.verification.summary()


def test_cancelling_before_writing_writes_nothing(fake, tmp_path):
    with pytest.raises(ExportCancelled, match="nothing was written"):
        export_model(source_of(CIRCLE, None, True), "fake", tmp_path / "out",
                     cancelled=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_cancelling_after_writing_skips_verification(fake, tmp_path):
    calls = iter([False, True])
    result = export_model(source_of(CIRCLE, None, True), "fake", tmp_path / "out",
                          cancelled=lambda: next(calls))
    assert result.ok is None and "cancelled" in result.verification.skipped
    assert all(p.is_file() for p in result.paths)


def test_the_validation_inputs_of_the_dataset_are_used(fake, tmp_path):
    x, words = dataset_inputs(CIRCLE, tmp_path)
    spec = DatasetSpec.from_dict(CIRCLE.dataset)
    np.testing.assert_array_equal(x, load_dataset(spec).x_val)
    result = export_model(source_of(CIRCLE, None, True), "fake", tmp_path / "o", x,
                          x_words=words)
    assert result.verification.samples == min(256, len(x))
    assert result.inputs.startswith(f"the first {min(256, len(x))} validation inputs of")


def test_inputs_that_do_not_fit_the_design_are_not_used():
    design = dataclasses.replace(CIRCLE, network=NetworkSpec(3, (DenseSpec(2),)))
    x, words = dataset_inputs(design, None)
    assert x is None and "has 2 inputs and the design 3" in words
    x, words = dataset_inputs(dataclasses.replace(CIRCLE, dataset=None), None)
    assert x is None and words == "the design names no dataset"
    dataset = load_dataset(DatasetSpec.synthetic("circle", val_fraction=0.0))
    x, words = data_inputs(dataset, CIRCLE)
    assert len(x) == dataset.n_train and "no validation part" in words


def test_a_missing_csv_falls_back_to_seeded_inputs_with_the_reason(tmp_path):
    design = dataclasses.replace(CIRCLE, dataset=DatasetSpec.csv("gone.csv").to_dict())
    x, words = dataset_inputs(design, tmp_path)
    assert x is None and "could not be" in words and "gone.csv" in words


def test_unknown_format_and_wrong_targets_are_refused(fake, tmp_path):
    with pytest.raises(ExportError, match="unknown export format 'keras'; choose one of"):
        export_format("keras")
    onnx = EXPORT_FORMATS["onnx"]
    assert checked_target(onnx, tmp_path / "net") == tmp_path / "net.onnx"
    assert checked_target(onnx, tmp_path / "net.ONNX") == tmp_path / "net.ONNX"
    with pytest.raises(ExportError, match="is a folder"):
        checked_target(onnx, tmp_path)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ExportError, match="is a file; give a folder"):
        checked_target(fake.FAKE, tmp_path / "file.txt")
    with pytest.raises(ExportError, match="already holds other files"):
        checked_target(fake.FAKE, tmp_path)  # a folder of the user's own files
    assert (tmp_path / "file.txt").read_text() == "x"


def test_an_earlier_export_is_replaced(fake, tmp_path):
    source = source_of(CIRCLE, None, True)
    export_model(source, "fake", tmp_path / "out")
    (tmp_path / "out" / "weights.npz").write_bytes(b"stale")
    result = export_model(source, "fake", tmp_path / "out")
    assert result.ok is True
    assert sorted(os.listdir(tmp_path / "out")) == ["model.py", "weights.npz"]


def test_a_read_only_file_system_fails_plainly(fake, tmp_path, monkeypatch):
    # As root (CI containers) chmod does not stop writes: a read-only mount does.
    def read_only(*_a, **_k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("core.export.output.tempfile.mkdtemp", read_only)
    with pytest.raises(ExportError, match=f"cannot write to {tmp_path}: the folder is read-only"):
        export_model(source_of(CIRCLE, None, True), "fake", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_fails_plainly_and_leaves_nothing(fake, tmp_path):
    fake.FULL["disk"] = True
    with pytest.raises(ExportError, match="the disk is full"):
        export_model(source_of(CIRCLE, None, True), "fake", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_default_targets_sit_beside_the_project(tmp_path):
    project = tmp_path / "My Net.bpsproj"
    assert default_target(EXPORT_FORMATS["onnx"], project, "x") == tmp_path / "My Net.onnx"
    assert default_target(EXPORT_FORMATS["pytorch"], project, "x") == \
        tmp_path / "My Net-pytorch"
    assert default_target(EXPORT_FORMATS["numpy"], None, "circle net/2").name == \
        "circle-net2-numpy"
