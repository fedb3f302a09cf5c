"""The NumPy export: a standalone model.py and weights.npz for every design, that pass the
project's ruff, need only NumPy, run from anywhere, and reproduce our network's output
and every layer's in a subprocess; and verification that fails plainly, not with a
traceback, when the weights or the script are wrong."""

from __future__ import annotations

import ast
import errno
import runpy
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.design.spec import (
    ActivationSpec,
    DenseSpec,
    Design,
    FlattenSpec,
    MaxPool2DSpec,
    NetworkSpec,
    ResidualSpec,
)
from core.engine.activations import ACTIVATIONS
from core.export import numpy_export, numpy_script
from core.export.formats import EXPORT_FORMATS
from core.export.source import ExportError, source_of
from core.export.verify import layer_outputs, verification_inputs
from tests.core.export.designs import sources

ROOT = Path(__file__).resolve().parents[3]
SOURCES = sources()
SAMPLES = 64


def _inputs(source, samples: int = SAMPLES, seed: int = 1) -> np.ndarray:
    return verification_inputs(source.network(), None, samples=samples, seed=seed)


def _ruff(path: Path) -> subprocess.CompletedProcess:
    """The project's ruff, with the project's settings, on ``path``."""
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                           "--config", str(ROOT / "pyproject.toml"), str(path)],
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, list[Path]]:
    """Every design of ``sources()`` exported once, each into its own folder."""
    root = tmp_path_factory.mktemp("numpy-exports")
    return {name: numpy_export.write(source, root / f"design{i}" / "export")
            for i, (name, source) in enumerate(SOURCES.items())}


def test_the_numpy_format_is_this_module():
    assert EXPORT_FORMATS["numpy"].module == numpy_export.__name__


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_design_exports_and_verifies_layer_by_layer(name, exported):
    source, paths = SOURCES[name], exported[name]
    assert [p.name for p in paths] == ["model.py", "weights.npz"]
    x = _inputs(source)
    result = EXPORT_FORMATS["numpy"].verify(source, paths, x)
    assert result.ok, result.summary() + "".join(
        f"\n  {d.name}: {d.max_abs:.3g}" for d in result.layers if not d.ok)
    assert result.samples == SAMPLES and not result.problem
    assert [d.name for d in result.layers] == list(layer_outputs(source.network(), x))


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_script_passes_ruff_and_imports_only_numpy(name, exported):
    script = exported[name][0]
    done = _ruff(script)
    assert done.returncode == 0, done.stdout + done.stderr
    modules = set()
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module.split(".")[0])
    assert modules <= {"numpy", "sys", "pathlib"}


@pytest.mark.parametrize("name", list(SOURCES))
def test_weights_npz_holds_plain_float32_arrays_by_our_names(name, exported):
    source, weights = SOURCES[name], exported[name][1]
    with zipfile.ZipFile(weights) as z:  # every member a plain .npy: no object arrays
        assert all(n.endswith(".npy") for n in z.namelist())
    with np.load(weights, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(source.weights)
        for key in npz.files:
            assert npz[key].dtype == np.float32 and npz[key].dtype != object
            np.testing.assert_array_equal(npz[key], source.weights[key].astype(np.float32))


@pytest.mark.parametrize("name", ["xor.json", "image residual blocks with a 1x1 projection"])
def test_the_script_runs_from_another_folder_on_a_npy_file(name, exported, tmp_path):
    """As a user would run it: ``python path/to/model.py inputs.npy out.npy`` from
    elsewhere, in isolated mode (no PYTHONPATH: it cannot lean on our code)."""
    source, script = SOURCES[name], exported[name][0]
    x = _inputs(source, samples=10)
    np.save(tmp_path / "inputs.npy", x)
    run = [sys.executable, "-I", str(script), "inputs.npy"]
    done = subprocess.run([*run, "predictions.npy"], cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    ours = source.network().predict(x)
    theirs = np.load(tmp_path / "predictions.npy")
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-5)
    printed = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=True)
    rows = np.loadtxt(printed.stdout.splitlines(), ndmin=2)
    np.testing.assert_allclose(rows, ours, rtol=1e-4, atol=1e-5)  # %.6g: 6 digits
    usage = subprocess.run(run[:-1], cwd=tmp_path, capture_output=True, text=True,
                           check=False)
    assert usage.returncode != 0 and "usage: python model.py" in usage.stderr


def test_images_may_be_given_as_rows_or_nchw(exported):
    name = "conv same, batch norm, max pool, flatten"
    source = SOURCES[name]
    predict = runpy.run_path(str(exported[name][0]), run_name="exported")["predict"]
    x = _inputs(source, samples=5)
    images = x.reshape(5, *source.design.network.input_shape)
    np.testing.assert_array_equal(predict(x), predict(images))
    np.testing.assert_allclose(predict(images), source.network().predict(x),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(predict(x).sum(axis=1), 1.0, rtol=1e-5)  # probabilities


@pytest.mark.parametrize("key", ["layers.1.running_var", "layers.0.bias"])
def test_a_tampered_weight_fails_verification_from_its_layer_on(key, tmp_path):
    source = SOURCES["conv same, batch norm, max pool, flatten"]
    paths = numpy_export.write(source, tmp_path / "export")
    with np.load(paths[1]) as npz:
        weights = {k: npz[k] for k in npz.files}
    weights[key] = weights[key] * np.float32(1.01)
    np.savez(paths[1], **weights)
    result = numpy_export.verify(source, paths, _inputs(source))
    assert result.ok is False and "FAILED" in result.summary()
    layer = int(key.split(".")[1])
    assert [d.ok for d in result.layers][:layer] == [True] * layer
    assert not result.layers[layer].ok


def _break(script: Path, line: str) -> None:
    """Put ``line`` just before ``predict`` is defined."""
    text = script.read_text(encoding="utf-8")
    script.write_text(text.replace("\ndef predict", f"\n{line}\n\n\ndef predict"),
                      encoding="utf-8")


@pytest.mark.parametrize("frozen", [False, True], ids=["subprocess", "in-process (frozen)"])
def test_a_failing_script_gives_a_failed_verification_with_its_error(frozen, tmp_path,
                                                                     monkeypatch):
    if frozen:
        monkeypatch.setattr(sys, "frozen", True, raising=False)
    source = SOURCES["xor.json"]
    paths = numpy_export.write(source, tmp_path / "export")
    assert numpy_export.verify(source, paths, _inputs(source)).ok  # either way, first
    text = paths[0].read_text(encoding="utf-8")
    _break(paths[0], 'raise RuntimeError("broken on purpose")')
    result = numpy_export.verify(source, paths, _inputs(source))
    assert result.ok is False
    assert "RuntimeError: broken on purpose" in result.problem.splitlines()[0]
    assert result.summary().startswith("NumPy script: FAILED verification: model.py")
    paths[0].write_text(text, encoding="utf-8")
    _break(paths[0], 'sys.exit("gone")')  # in-process, this must not end the app
    assert "gone" in numpy_export.verify(source, paths, _inputs(source)).problem


def test_a_script_that_hangs_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(numpy_export, "TIMEOUT_S", 1.0)
    source = SOURCES["xor.json"]
    paths = numpy_export.write(source, tmp_path / "export")
    _break(paths[0], "import time\ntime.sleep(60)")
    result = numpy_export.verify(source, paths, _inputs(source))
    assert result.ok is False and "did not finish within 1 s" in result.problem


def test_a_script_missing_a_layer_output_fails_that_layer(tmp_path):
    source = SOURCES["xor.json"]
    paths = numpy_export.write(source, tmp_path / "export")
    text = paths[0].read_text(encoding="utf-8")
    paths[0].write_text(text.replace('h = outputs["layers.3"] = ', "h = "), encoding="utf-8")
    result = numpy_export.verify(source, paths, _inputs(source))
    assert result.output.ok and result.ok is False
    assert [d.name for d in result.layers if not d.ok] == ["layers.3"]


def test_every_activation_has_numpy_code():
    assert set(numpy_script.ACTIVATION_CODE) == set(ACTIVATIONS)


def test_a_small_design_reads_in_about_fifty_lines(exported):
    text = exported["xor.json"][0].read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 60
    assert "def conv2d" not in text and "sliding_window_view" not in text  # unused helpers
    assert text.count('h = outputs["layers.') == 6  # one line per layer


def test_deep_nesting_and_an_odd_name_still_give_clean_code(tmp_path):
    """Residual blocks nested to the limit after a dozen layers (names too long for one
    line, one skip per depth) in a design whose name has quotes, a backslash and a line
    break."""
    block = (DenseSpec(3), ActivationSpec("relu"))
    for _ in range(8):
        block = (DenseSpec(3), ResidualSpec(block), ActivationSpec("gelu"))
    layers = (*[DenseSpec(3), ActivationSpec("relu")] * 6, *block, DenseSpec(2))
    design = Design(NetworkSpec(3, layers), name='a """quoted"\\ name\nhere')
    source = source_of(design, None, allow_initial=True)
    paths = numpy_export.write(source, tmp_path / "export")
    text = paths[0].read_text(encoding="utf-8")
    assert "INITIAL weights" in text and "skip8 = h" in text and "h = dense(\n" in text
    done = _ruff(paths[0])
    assert done.returncode == 0, done.stdout
    assert numpy_export.verify(source, paths, _inputs(source)).ok


def test_a_layer_the_script_cannot_express_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delitem(numpy_script.ACTIVATION_CODE, "gelu")
    with pytest.raises(ExportError, match=r"layers\.11: .*GELU"):
        numpy_export.write(SOURCES["dense, every hidden activation"], tmp_path / "export")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_leaves_nothing(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(ExportError, match="disk is full"):
        numpy_export.write(SOURCES["xor.json"], tmp_path / "export")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_holding_other_files_is_never_replaced(tmp_path):
    """The export replaces its folder whole, so only a new, empty or earlier NumPy export
    folder is taken; a folder of the user's files is refused untouched."""
    source = SOURCES["xor.json"]
    numpy_export.write(source, tmp_path / "again")
    (tmp_path / "again" / "__pycache__").mkdir()  # as "import model" leaves it
    assert numpy_export.write(source, tmp_path / "again")[0].exists()  # an earlier export
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("years of work")
    with pytest.raises(ExportError, match=r"already holds other files \(thesis\.tex\)"):
        numpy_export.write(source, tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "years of work"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is a file, not a folder"):
        numpy_export.write(source, tmp_path / "file")


def test_a_projection_with_unequal_strides_verifies(tmp_path):
    """A block pooling a 3x4 image to 1x2 projects its input with stride (3, 2)."""
    design = Design(NetworkSpec(24, (ResidualSpec((MaxPool2DSpec(),), projection=True),
                                     FlattenSpec(), DenseSpec(2)), input_shape=(2, 3, 4)))
    weights = {k: np.random.default_rng(3).normal(size=v.shape).astype(np.float32)
               for k, v in source_of(design, None, allow_initial=True).weights.items()}
    source = source_of(design, weights)
    paths = numpy_export.write(source, tmp_path / "export")
    assert "h[:, :, ::3, ::2]" in paths[0].read_text(encoding="utf-8")
    result = numpy_export.verify(source, paths, _inputs(source))
    assert result.ok, result.summary()
