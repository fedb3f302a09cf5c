"""The headless command line: ``datasets``, ``check``, ``gradcheck`` and ``train``.

Commands run in-process through ``main.main`` (the console-script entry point); one run
goes through a real interpreter to show that no Qt module is imported.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from core import build_network
from core.datasets import DATASETS, DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.files.project import load_project
from core.files.safetensors import load_safetensors
from core.resources import resource_path
from core.training.targets import accuracy

ROOT = Path(__file__).resolve().parents[3]
XOR = str(resource_path("examples", "xor.json"))
SINE = str(resource_path("examples", "sine_regression.json"))


def run(capsys, *args: str) -> tuple[int, str, str]:
    rc = main.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def write_design(path: Path, base: str = XOR, **training) -> Path:
    d = json.loads(Path(base).read_text())
    d["training"].update(training)
    path.write_text(json.dumps(d))
    return path


def one_line_error(err: str) -> str:
    """The ``error:`` line of stderr; it must be the only one and the last."""
    lines = err.strip().splitlines()
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    return errors[0]


# ------------------------------------------------------------------------ datasets


def test_datasets_lists_every_built_in_name(capsys):
    rc, out, err = run(capsys, "datasets")
    assert rc == 0 and err == ""
    listed = [line.split()[0] for line in out.splitlines()[1:]]
    assert listed == list(DATASETS)
    assert {"circle", "xor", "spiral", "sine", "digits", "iris", "diabetes"} <= set(listed)
    for line in out.splitlines()[1:]:
        name, kind, task = line.split()[:3]
        assert kind == DATASETS[name].kind and task == DATASETS[name].task


# --------------------------------------------------------------------------- check


def test_check_prints_every_layer_shape(capsys):
    rc, out, err = run(capsys, "check", XOR)
    assert rc == 0 and err == ""
    design = load_design(XOR)
    net = build_network(design.network)
    assert f"2 inputs -> 1 outputs, {net.parameter_count} parameters" in out
    shapes = re.findall(r"layers\[(\d+)\].*?(\d+) -> (\d+)", out)
    assert shapes == [("0", "2", "8"), ("1", "8", "8"), ("2", "8", "8"), ("3", "8", "8"),
                      ("4", "8", "1"), ("5", "1", "1")]


def test_check_lists_the_same_rows_as_the_network_check(capsys, tmp_path):
    # One shape listing: the command prints core.design.check.layer_rows, residual
    # children after their block, located as problems are.
    from dataclasses import replace

    from core import ActivationSpec, DenseSpec, ResidualSpec
    from core.design.check import layer_rows
    from core.errors import layer_location
    from core.files.design_file import save_design

    design = load_design(XOR)
    block = ResidualSpec(layers=(DenseSpec(8), ActivationSpec("tanh")))
    layers = design.network.layers
    design = replace(design, network=replace(design.network,
                                             layers=(*layers[:2], block, *layers[2:])))
    path = tmp_path / "residual.json"
    save_design(design, path)
    rc, out, err = run(capsys, "check", path)
    assert rc == 0 and err == ""
    listed = [line.split()[0] for line in out.splitlines()[1:]]
    rows = layer_rows(design)
    assert listed == [layer_location(row.path) for row in rows]
    assert "layers[2].layers[1]" in listed
    for line, row in zip(out.splitlines()[1:], rows, strict=True):
        assert f"{row.inputs} -> {row.outputs}" in " ".join(line.split())


def test_check_prints_each_image_layers_shape(capsys):
    example = resource_path("examples", "conv_digits.json")
    rc, out, err = run(capsys, "check", example)
    assert rc == 0 and err == ""
    design = load_design(example)
    lines = out.splitlines()
    assert lines[0] == (f"conv_digits.json: 64 inputs as images (1, 8, 8) -> 10 outputs, "
                        f"{build_network(design.network).parameter_count:,} parameters")
    # Per sample: (channels, height, width) for images, a count for features.
    shape = r"(\([\d, ]+\)|\d+)"
    shapes = [re.search(shape + " -> " + shape + r"\s+[\d,]+ params$", line).groups()
              for line in lines[1:]]
    assert shapes[0] == ("(1, 8, 8)", "(16, 8, 8)")  # Conv2D 16@3x3, same padding
    assert shapes[3] == ("(16, 8, 8)", "(16, 4, 4)")  # MaxPool 2
    assert ("(32, 4, 4)", "512") in shapes  # Flatten
    assert shapes[-2:] == [("512", "10"), ("10", "10")]  # Dense 10, softmax
    assert len(shapes) == len(design.network.layers)


def test_check_names_the_layer_a_shape_problem_is_in(capsys, tmp_path):
    d = json.loads(resource_path("examples", "conv_digits.json").read_text())
    layers = d["network"]["layers"]
    flatten = next(i for i, layer in enumerate(layers) if layer["kind"] == "flatten")
    del layers[flatten]  # Dense 10 now gets the (32, 4, 4) maps
    path = tmp_path / "no_flatten.json"
    path.write_text(json.dumps(d))
    rc, out, err = run(capsys, "check", path)
    assert rc == 2
    assert "outputs unknown" in out.splitlines()[0]
    before = next(line for line in out.splitlines() if f"layers[{flatten - 1}] " in line)
    assert "(32, 4, 4) -> (32, 4, 4)" in before  # the rows up to the problem have shapes
    dense_row = next(line for line in out.splitlines() if "Dense 10" in line)
    assert " ? -> ? " in " ".join(dense_row.split()) + " "
    problem = next(line for line in err.splitlines() if line.startswith("problem:"))
    assert problem.startswith(f"problem: network.layers[{flatten}] (Dense 10): ")
    assert "Flatten" in problem
    # A kernel larger than its input: the field and the layer are named.
    d["network"]["layers"] = [{"kind": "conv2d", "filters": 4, "kernel": 9,
                               "padding": "valid"},
                              {"kind": "flatten"}, {"kind": "dense", "units": 10},
                              {"kind": "activation", "function": "softmax"}]
    path.write_text(json.dumps(d))
    rc, _, err = run(capsys, "check", path)
    assert rc == 2
    assert "problem: network.layers[0].kernel (Conv2D 4@9×9): " in err


def test_check_on_a_bad_design_names_the_field(capsys, tmp_path):
    d = json.loads(Path(XOR).read_text())
    d["network"]["layers"][2]["units"] = -3
    d["training"]["optimizer"] = "magic"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    rc, out, err = run(capsys, "check", bad)
    assert rc == 2 and out == ""
    assert err.startswith("error: bad.json is not a valid design")
    assert "network.layers[2].units" in err and "-3" in err
    assert "training.optimizer" in err and "magic" in err


def test_check_on_a_design_that_parses_but_does_not_fit_together(capsys, tmp_path):
    # Each field is valid, but softmax cross-entropy needs a softmax output layer.
    bad = write_design(tmp_path / "mismatch.json", loss="softmax_cross_entropy")
    rc, out, err = run(capsys, "check", bad)
    assert rc == 2
    assert "layers[0]" in out  # the shapes are still printed
    assert "problem: training.loss" in err


def test_check_on_corrupt_json_names_line_and_column(capsys, tmp_path):
    bad = tmp_path / "corrupt.json"
    bad.write_text('{"format": \n  oops}')
    rc, out, err = run(capsys, "check", bad)
    assert rc == 2
    assert one_line_error(err) == ("error: corrupt.json: not valid JSON: Expecting value at "
                                   "line 2, column 3")


# ----------------------------------------------------------------------- gradcheck


def test_gradcheck_on_xor_prints_every_parameter(capsys):
    rc, out, err = run(capsys, "gradcheck", XOR)
    assert rc == 0 and err == ""
    params = build_network(load_design(XOR).network).parameters()
    for name, p in params.items():
        m = re.search(rf"^{re.escape(name)}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)$",
                      out, re.M)
        assert m, (name, out)
        assert int(m.group(1)) == p.size and int(m.group(2)) == min(p.size, 50)
        assert int(m.group(3)) == 0  # tanh has no kinks
        assert 0 <= float(m.group(4)) < 1e-11 and 0 <= float(m.group(5)) < 1e-5
    assert out.strip().splitlines()[-1].startswith("OK: largest relative error")


def test_gradcheck_fails_with_exit_1_above_both_tolerances(capsys):
    rc, out, err = run(capsys, "gradcheck", XOR, "--tolerance", "1e-300", "--atol", "1e-300")
    assert rc == 1
    assert "<-- above both tolerances" in out and "FAILED" in out.strip().splitlines()[-1]
    # Either tolerance alone lets a parameter pass.
    assert run(capsys, "gradcheck", XOR, "--tolerance", "1e-300")[0] == 0


# --------------------------------------------------------------------------- train


@pytest.fixture(scope="module")
def xor_run(tmp_path_factory) -> tuple[Path, str]:
    """One 3-epoch xor run shared by the output-file tests."""
    out = tmp_path_factory.mktemp("xor") / "run"
    proc_out = _capture(["train", XOR, "--epochs", "3", "--out", str(out)])
    return out, proc_out


def _capture(args: list[str]) -> str:
    import contextlib
    import io

    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        rc = main.main(args)
    assert rc == 0, err.getvalue()
    assert err.getvalue() == ""
    return buf.getvalue()


def test_train_writes_every_output_file(xor_run):
    out, stdout = xor_run
    assert sorted(os.listdir(out)) == ["design.json", "metrics.csv", "project.bpsproj",
                                      "steps.csv", "weights.safetensors"]
    assert len(re.findall(r"^epoch\s+\d+/3", stdout, re.M)) == 3
    assert "Finished 3 epochs" in stdout


def test_metrics_csv_has_a_header_and_one_row_per_epoch(xor_run):
    out, _ = xor_run
    header, rows = read_csv(out / "metrics.csv")
    assert header == ["epoch", "step", "train_loss", "val_loss", "train_metric", "val_metric",
                      "metric", "learning_rate", "elapsed_s"]
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert all(r["metric"] == "accuracy" for r in rows)
    # 320 training rows, batch 10: 32 steps per epoch.
    assert [int(r["step"]) for r in rows] == [32, 64, 96]
    losses = [float(r["train_loss"]) for r in rows]
    assert losses[-1] < losses[0]  # xor learns something in 3 epochs
    assert all(0.0 <= float(r["val_metric"]) <= 1.0 for r in rows)


def test_steps_csv_has_one_row_per_step_with_per_layer_grad_norms(xor_run):
    out, _ = xor_run
    header, rows = read_csv(out / "steps.csv")
    names = build_network(load_design(XOR).network).group_names
    assert names == ["layers.0", "layers.2", "layers.4"]
    assert header == ["step", "epoch", "loss", "penalty", "learning_rate", "grad_norm",
                      *(f"grad_norm[{n}]" for n in names),
                      *(f"update_ratio[{n}]" for n in names)]
    assert [int(r["step"]) for r in rows] == list(range(1, 97))
    assert [int(r["epoch"]) for r in rows] == [e for e in (1, 2, 3) for _ in range(32)]
    for r in rows:
        per_layer = np.array([float(r[f"grad_norm[{n}]"]) for n in names])
        assert np.all(per_layer > 0)
        # The total norm is the norm of the per-layer norms.
        assert float(r["grad_norm"]) == pytest.approx(np.sqrt(np.sum(per_layer ** 2)),
                                                      rel=1e-5)


def test_saved_project_and_weights_reproduce_the_trained_network(xor_run):
    out, _ = xor_run
    design = load_design(out / "design.json")
    assert design.training.epochs == 3
    assert design.dataset == {**json.loads(Path(XOR).read_text())["dataset"],
                              "features": []}
    project = load_project(out / "project.bpsproj")
    assert project.design == design
    assert [row["epoch"] for row in project.history] == [1, 2, 3]
    assert project.steps.shape == (96, 2)
    np.testing.assert_array_equal(project.steps[:, 0], np.arange(1, 97))

    weights, meta = load_safetensors(out / "weights.safetensors")
    assert meta["format"] == "backprop-studio-weights"
    net = build_network(design.network, seed=123, dtype=np.dtype(design.training.dtype))
    net.set_parameters(weights)
    for name, arr in project.weights.items():
        np.testing.assert_array_equal(weights[name], arr, err_msg=name)
    # The weights give exactly the validation accuracy the run reported.
    data = load_dataset(DatasetSpec.from_dict(design.dataset))
    predictions = net.predict(data.x_val.astype(np.float32))
    _, rows = read_csv(out / "metrics.csv")
    assert accuracy(predictions, data.y_val, logits=False) == float(rows[-1]["val_metric"])


def test_same_seed_gives_bit_identical_losses(capsys, tmp_path, xor_run):
    first, _ = xor_run
    rc, _, _ = run(capsys, "train", XOR, "--epochs", "3", "--out", tmp_path / "again")
    assert rc == 0
    assert (tmp_path / "again" / "steps.csv").read_bytes() == \
        (first / "steps.csv").read_bytes()
    rc, _, _ = run(capsys, "train", XOR, "--epochs", "3", "--seed", "7", "--quiet",
                   "--out", tmp_path / "other")
    assert rc == 0
    _, a = read_csv(first / "steps.csv")
    _, b = read_csv(tmp_path / "other" / "steps.csv")
    assert [r["loss"] for r in a] != [r["loss"] for r in b]


def small_csv(path: Path, bad_cell: bool = False) -> Path:
    rng = np.random.default_rng(0)
    lines = ["x1,label,x2"]
    for _ in range(60):
        a, b = rng.uniform(-1, 1, 2)
        lines.append(f"{a:.3f},{'yes' if a * b > 0 else 'no'},{b:.3f}")
    if bad_cell:
        lines[3] = "0.5,yes,abc"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_on_a_csv_file_with_a_target_column(capsys, tmp_path):
    data = small_csv(tmp_path / "points.csv")
    out = tmp_path / "run"
    rc, stdout, err = run(capsys, "train", XOR, "--csv", data, "--target", "label",
                          "--epochs", "2", "--out", out)
    assert rc == 0, err
    assert "Finished 2 epochs" in stdout
    # The detected task is named, with the command line's way to choose another.
    assert "task detected as classification from the target column (--task overrides)" \
        in err
    design = load_design(out / "design.json")
    assert design.dataset["kind"] == "csv" and design.dataset["target"] == "label"
    _, rows = read_csv(out / "metrics.csv")
    assert len(rows) == 2
    # 48 training rows in batches of 10: 5 steps per epoch.
    assert rows[-1]["step"] == "10"


def test_csv_path_on_the_command_line_is_relative_to_the_working_folder(
        capsys, tmp_path, monkeypatch):
    small_csv(tmp_path / "points.csv")
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, "train", XOR, "--csv", "points.csv", "--target", "label",
                     "--epochs", "1", "--quiet", "--out", "run")
    assert rc == 0, err
    spec = load_design(tmp_path / "run" / "design.json").dataset
    # Saved so that the design in the output folder finds the file again.
    assert Path(spec["path"]) == tmp_path / "points.csv"


@pytest.mark.parametrize("case,args,words", [
    ("missing design", ["train", "{tmp}/nope.json"], ["nope.json: no such file"]),
    ("corrupt design", ["train", "{tmp}/corrupt.json"], ["corrupt.json: not valid JSON"]),
    ("unknown dataset", ["train", XOR, "--dataset", "teapot"],
     ["unknown dataset 'teapot'", "circle"]),
    ("target without csv", ["train", XOR, "--target", "label"],
     ["--target only applies with --csv"]),
    ("bad csv cell", ["train", XOR, "--csv", "{tmp}/bad.csv", "--target", "label"],
     ['bad.csv, line 4, column 3 "x2": "abc" is not a number']),
    ("missing csv", ["train", XOR, "--csv", "{tmp}/none.csv"], ["none.csv"]),
    ("unknown target", ["train", XOR, "--csv", "{tmp}/bad.csv", "--target", "colour"],
     ['no column named "colour"', '"label"']),
    ("too few outputs", ["train", XOR, "--dataset", "digits"],
     ["10 classes", "1 output", "last Dense layer's units to 10"]),
    ("classification loss on regression", ["train", XOR, "--dataset", "sine"],
     ["training.loss", "does not fit a regression dataset"]),
    ("bad epochs", ["train", XOR, "--epochs", "0"], ["training.epochs", "got 0"]),
])
def test_bad_input_exits_2_with_a_one_line_reason(capsys, tmp_path, case, args, words):
    (tmp_path / "corrupt.json").write_text('{"format": "backprop-studio-design", ')
    small_csv(tmp_path / "bad.csv", bad_cell=True)
    out = tmp_path / "out"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args] + ["--out", str(out)]
    rc, stdout, err = run(capsys, *argv)
    assert rc == 2, (case, err)
    line = one_line_error(err)
    for word in words:
        assert word in line, (case, line)
    assert "Traceback" not in err
    assert not out.exists()  # nothing is written for bad input


def test_argument_errors_exit_2(capsys):
    rc, _, err = run(capsys, "train", XOR, "--dataset", "xor", "--csv", "a.csv")
    assert rc == 2 and "not allowed with argument" in err
    rc, _, err = run(capsys, "train", XOR, "--epochs", "many")
    assert rc == 2 and "invalid int value" in err


def test_divergence_exits_3_with_the_message(capsys, tmp_path):
    design = write_design(tmp_path / "hot.json", SINE, optimizer="sgd", learning_rate=1000.0,
                          epochs=5)
    out = tmp_path / "run"
    rc, _, err = run(capsys, "train", design, "--out", out, "--quiet")
    assert rc == 3
    line = one_line_error(err)
    assert "Training diverged at step" in line and "learning rate 1000" in line
    assert "Try a lower learning rate" in line
    assert "RuntimeWarning" not in err  # the expected overflow is not shown as a warning
    # The weights are saved at their last finite values and load again.
    project = load_project(out / "project.bpsproj")
    assert all(np.all(np.isfinite(w)) for w in project.weights.values())
    _, rows = read_csv(out / "steps.csv")
    assert rows and all(np.isfinite(float(r["loss"])) for r in rows)
    assert len(rows) == project.steps.shape[0]


def test_interrupt_saves_what_there_is_and_exits_130(capsys, tmp_path, monkeypatch):
    from core.cli import train as training_cli

    real_run = training_cli.Trainer.run

    def interrupted_run(self, control=None):
        for i, snap in enumerate(real_run(self, control)):
            if i == 40:
                raise KeyboardInterrupt
            yield snap

    monkeypatch.setattr(training_cli.Trainer, "run", interrupted_run)
    out = tmp_path / "run"
    rc, _, err = run(capsys, "train", XOR, "--out", out, "--quiet")
    assert rc == 130
    assert "interrupted" in err
    project = load_project(out / "project.bpsproj")
    assert project.weights is not None and len(project.history) == 1
    _, rows = read_csv(out / "steps.csv")
    assert len(rows) == 39  # 32 steps, 1 epoch snapshot, 7 steps


def test_real_process_trains_without_importing_qt(tmp_path):
    out = tmp_path / "run"
    code = ("import sys, main; "
            f"rc = main.main(['train', {XOR!r}, '--epochs', '2', '--out', {str(out)!r}]); "
            "assert 'PySide6' not in sys.modules, 'PySide6 imported'; "
            "assert 'gui' not in sys.modules, 'gui imported'; "
            "sys.exit(rc)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "Finished 2 epochs" in proc.stdout
    assert load_project(out / "project.bpsproj").steps.shape == (64, 2)


def test_real_script_exit_code_for_bad_input(tmp_path):
    proc = subprocess.run([sys.executable, "main.py", "train", str(tmp_path / "nope.json")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {tmp_path / 'nope.json'}: no such file"


def test_design_with_a_relative_csv_path_trains_and_records_where_the_file_is(
        capsys, tmp_path, monkeypatch):
    folder = tmp_path / "experiment"
    folder.mkdir()
    small_csv(folder / "points.csv")
    d = json.loads(Path(XOR).read_text())
    d["dataset"] = {"kind": "csv", "path": "points.csv", "target": "label", "task": "auto",
                    "seed": 0, "val_fraction": 0.2}
    (folder / "design.json").write_text(json.dumps(d))
    monkeypatch.chdir(tmp_path)  # not the design's folder
    rc, _, err = run(capsys, "train", "experiment/design.json", "--epochs", "1", "--quiet",
                     "--out", "run")
    assert rc == 0, err
    saved = load_design(tmp_path / "run" / "design.json")
    assert Path(saved.dataset["path"]) == folder / "points.csv"
    # The written design trains again from its own folder, on the same data.
    rc, _, err = run(capsys, "train", "run/design.json", "--quiet", "--out", "run2")
    assert rc == 0, err
    assert (tmp_path / "run2" / "steps.csv").read_bytes() == \
        (tmp_path / "run" / "steps.csv").read_bytes()


def test_resume_continues_a_saved_project_with_the_uninterrupted_steps(capsys, tmp_path,
                                                                       xor_run):
    first, _ = xor_run  # 3 epochs of 32 steps
    rc, out, err = run(capsys, "train", first / "project.bpsproj", "--resume", "--quiet",
                       "--out", tmp_path / "more")
    assert rc == 0, err
    rc, _, err = run(capsys, "train", XOR, "--epochs", "6", "--quiet",
                     "--out", tmp_path / "whole")
    assert rc == 0, err
    _, more = read_csv(tmp_path / "more" / "steps.csv")
    _, whole = read_csv(tmp_path / "whole" / "steps.csv")
    assert [int(r["step"]) for r in more] == list(range(97, 193))
    np.testing.assert_allclose([float(r["loss"]) for r in more],
                               [float(r["loss"]) for r in whole[96:]], rtol=1e-5)
    project = load_project(tmp_path / "more" / "project.bpsproj")
    assert project.train_state.step == 192 and project.train_state.epoch == 6
    assert [r["epoch"] for r in project.history] == [1, 2, 3, 4, 5, 6]


def test_resume_needs_a_project_with_weights(capsys, tmp_path):
    rc, _, err = run(capsys, "train", XOR, "--resume", "--out", tmp_path / "x")
    assert rc == 2 and "--resume continues the run saved in a project file" in err
    from core.files.project import Project, save_project

    save_project(Project(load_design(XOR)), tmp_path / "empty.bpsproj")
    rc, _, err = run(capsys, "train", tmp_path / "empty.bpsproj", "--resume",
                     "--out", tmp_path / "y")
    assert rc == 2 and "holds no trained weights" in err


def test_regression_with_validation_share_0_trains_and_says_so(capsys, tmp_path):
    # Before: exit 1 with a traceback ("cannot reshape array of size 0", core/training/targets.py).
    d = json.loads(Path(SINE).read_text())
    d["dataset"]["val_fraction"] = 0.0
    d["training"]["epochs"] = 3
    (tmp_path / "noval.json").write_text(json.dumps(d))
    rc, out, err = run(capsys, "train", tmp_path / "noval.json", "--out", tmp_path / "run")
    assert rc == 0 and err == ""
    assert "val loss" not in out
    assert "no validation set (validation share 0)" in out.strip().splitlines()[-1]
    _, rows = read_csv(tmp_path / "run" / "metrics.csv")
    assert len(rows) == 3 and all(r["val_loss"] == "nan" for r in rows)
    assert all(np.isfinite(float(r["train_metric"])) for r in rows)


def test_the_project_holds_the_run_record_as_the_window_saves_it(capsys, tmp_path, xor_run):
    from core.files.saved_run import saved_run

    first, _ = xor_run  # 3 epochs of 32 steps
    project = load_project(first / "project.bpsproj")
    (run,) = project.runs
    assert run.name == "Run 1" and run.ended == "finished" and run.steps == 96
    assert project.train_state.run_id == run.id
    assert run.grad_curves.shape == (96, 1 + len(run.layer_names))
    saved = saved_run(project)  # what the window shows when it reopens the project
    assert saved.record.id == run.id and saved.grad_curves.shape[0] == 96
    rc, _, err = run_cli_resume(capsys, first, tmp_path / "more")
    assert rc == 0, err
    more = load_project(tmp_path / "more" / "project.bpsproj")
    assert [r.name for r in more.runs] == ["Run 1", "Run 2"]
    assert more.runs[1].note == "Continued from Run 1 at step 96."
    assert more.runs[1].loss_curve[0, 0] == 1 and more.runs[1].steps == 192


def run_cli_resume(capsys, first, out):
    return run(capsys, "train", first / "project.bpsproj", "--resume", "--quiet", "--out", out)
