"""``main.py export``: arguments, exit codes and what it prints, over a stand-in format
(``tests/core/export/fake_format``); the real formats run through it in their tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import main
from core.datasets import DatasetSpec
from core.design.spec import ActivationSpec, DenseSpec, Design, NetworkSpec
from core.export.source import source_of
from core.files.design_file import save_design
from core.files.project import Project, save_project
from tests.core.export import fake_format

DESIGN = Design(NetworkSpec(2, (DenseSpec(3), ActivationSpec("relu"), DenseSpec(2),
                                ActivationSpec("softmax"))),
                dataset=DatasetSpec.synthetic("circle").to_dict(), name="circle net")


def run(capsys, *args) -> tuple[int, str, str]:
    rc = main.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def fake(monkeypatch):
    fake_format.install(monkeypatch)
    return fake_format


def project(tmp_path, trained: bool = True):
    path = tmp_path / "net.bpsproj"
    weights = source_of(DESIGN, None, True).weights if trained else None
    save_project(Project(DESIGN, weights, [], np.zeros((0, 2)), [], None), path)
    return path


def test_a_trained_project_exports_verified_with_a_line_per_layer(fake, capsys, tmp_path):
    rc, out, err = run(capsys, "export", project(tmp_path), "--format", "fake", "--out",
                       tmp_path / "out")
    assert rc == 0, err
    assert f"wrote {tmp_path / 'out' / 'model.py'}" in out
    assert "verified on the first 100 validation inputs of circle" in out
    assert "fake: verified on 100 samples" in out
    for name in ("layers.0", "layers.1", "layers.2", "output"):
        assert f"  {name} " in out
    assert "initial" not in out


def test_the_default_target_is_beside_the_project(fake, capsys, tmp_path):
    rc, out, _ = run(capsys, "export", project(tmp_path), "--format", "fake")
    assert rc == 0
    assert (tmp_path / "net-fake" / "weights.npz").is_file()


def test_a_failed_verification_exits_1_and_says_failed(fake, capsys, tmp_path):
    fake.ERROR["value"] = 0.01
    rc, out, _ = run(capsys, "export", project(tmp_path), "--format", "fake", "--out",
                     tmp_path / "out")
    assert rc == 1
    assert "FAILED verification" in out and "<-- beyond 1e-05 + 0.0001·|value|" in out
    assert (tmp_path / "out" / "model.py").is_file()  # kept, marked failed


def test_no_trained_weights_needs_initial(fake, capsys, tmp_path):
    path = project(tmp_path, trained=False)
    rc, out, err = run(capsys, "export", path, "--format", "fake", "--out", tmp_path / "o")
    assert rc == 2 and out == ""
    assert err == ("error: the project has no trained weights; pass --initial to export the "
                   "initial weights\n")
    assert not (tmp_path / "o").exists()
    rc, out, _ = run(capsys, "export", path, "--format", "fake", "--out", tmp_path / "o",
                     "--initial")
    assert rc == 0 and "note: exporting the initial (untrained) weights" in out


def test_a_design_file_exports_its_initial_weights_when_asked(fake, capsys, tmp_path):
    path = tmp_path / "net.json"
    save_design(DESIGN, path)
    rc, _, err = run(capsys, "export", path, "--format", "fake")
    assert rc == 2 and "net.json is a design file and holds no trained weights; pass " \
                       "--initial" in err
    rc, out, _ = run(capsys, "export", path, "--format", "fake", "--initial")
    assert rc == 0 and (tmp_path / "net-fake" / "model.py").is_file()


def test_bad_input_is_one_line_and_exit_2(fake, capsys, tmp_path):
    path = project(tmp_path)
    rc, _, err = run(capsys, "export", path, "--format", "keras", "--out", tmp_path / "o")
    assert rc == 2 and "invalid choice: 'keras'" in err
    rc, _, err = run(capsys, "export", tmp_path / "missing.bpsproj", "--format", "fake")
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    rc, _, err = run(capsys, "export", path, "--format", "fake", "--out", tmp_path / "mine")
    assert rc == 2 and "already holds other files" in err
    assert "Traceback" not in err


def test_a_full_disk_is_exit_2_and_leaves_nothing(fake, capsys, tmp_path):
    fake.FULL["disk"] = True
    path = project(tmp_path)
    rc, _, err = run(capsys, "export", path, "--format", "fake", "--out", tmp_path / "out")
    assert rc == 2 and err == "error: cannot write out: the disk is full\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.bpsproj"]


def test_a_skipped_check_exits_0_and_says_not_verified(fake, capsys, tmp_path):
    fake.SKIP["reason"] = "torch is not installed"
    rc, out, _ = run(capsys, "export", project(tmp_path), "--format", "fake", "--out",
                     tmp_path / "o")
    assert rc == 0 and "fake: not verified (torch is not installed)" in out


@pytest.mark.parametrize("fmt", ["pytorch", "onnx", "numpy"])
def test_every_real_format_exports_a_project_verified(capsys, tmp_path, fmt):
    """The real formats end to end (their own tests cover every design)."""
    rc, out, err = run(capsys, "export", project(tmp_path), "--format", fmt)
    assert rc == 0, out + err
    assert "verified on the first 100 validation inputs of circle" in out
    assert f"{fmt}: verified on 100 samples" in out
    assert "  layers.0  Dense 3 " in out
    written = [line.removeprefix("wrote ") for line in out.splitlines()
               if line.startswith("wrote ")]
    assert written and all(Path(p).is_file() for p in written)
