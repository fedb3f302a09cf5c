"""The shipped example designs: each loads, validates, builds and trains as advertised."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np
import pytest

import main
from core import build_network
from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.resources import resource_path
from core.training.trainer import Trainer

EXAMPLES = sorted(resource_path("examples").glob("*.json"))


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_examples_are_all_there():
    assert {p.stem for p in EXAMPLES} >= {"xor", "spiral", "digits", "sine_regression",
                                         "deep_sigmoid"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_loads_validates_and_builds(path):
    design = load_design(path)
    assert design.name, "an example has a title for the window"
    assert design.validate() == []
    spec = DatasetSpec.from_dict(design.dataset)
    data = load_dataset(spec)
    assert design.validate(task=data.task) == []
    assert design.network.inputs == data.n_features
    net = build_network(design.network, seed=design.training.seed,
                        dtype=np.dtype(design.training.dtype))
    out = net.predict(data.x_val[:5])
    assert out.shape == (5, design.network.outputs) and np.all(np.isfinite(out))
    trainer = Trainer(design, data)  # the design fits its own dataset
    assert trainer.network.parameter_count == net.parameter_count


def test_digits_example_reaches_95_percent_validation_accuracy(capsys, tmp_path):
    """Acceptance test: the digits example, trained from the command line as shipped."""
    out = tmp_path / "digits"
    started = time.perf_counter()
    rc = main.main(["train", str(resource_path("examples", "digits.json")), "--out", str(out),
                    "--quiet"])
    elapsed = time.perf_counter() - started
    _, err = capsys.readouterr()
    assert rc == 0, err
    rows = read_rows(out / "metrics.csv")
    assert len(rows) == load_design(resource_path("examples", "digits.json")).training.epochs
    last = rows[-1]
    assert last["metric"] == "accuracy"
    assert float(last["val_metric"]) >= 0.95, last
    print(f"digits: val accuracy {float(last['val_metric']):.4f} in {elapsed:.2f} s")


def test_deep_sigmoid_example_shows_vanishing_gradients(capsys, tmp_path):
    out = tmp_path / "deep"
    rc = main.main(["train", str(resource_path("examples", "deep_sigmoid.json")),
                    "--epochs", "5", "--out", str(out), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    rows = read_rows(out / "steps.csv")
    columns = [c for c in rows[0] if c.startswith("grad_norm[")]
    assert len(columns) == 11  # ten hidden Dense layers and the output layer
    last_epoch = [r for r in rows if r["epoch"] == "5"]
    assert last_epoch
    median = [float(np.median([float(r[c]) for r in last_epoch])) for c in columns]
    assert median[0] * 100 <= median[-1], median
    # The gradient shrinks layer by layer on its way back to the input.
    assert np.all(np.diff(median) > 0), median
