"""The shipped example designs: each loads, validates, builds and trains as advertised."""

from __future__ import annotations

import csv
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import main
from core import build_network
from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.records.snapshots import StepSnapshot
from core.resources import resource_path
from core.training.trainer import Trainer

EXAMPLES = sorted(resource_path("examples").glob("*.json"))
# Datasets fetched on request (cannot be loaded offline, so not in tests): their examples
# are tested on stand-ins the tests make.
DOWNLOADED = {"mnist", "fashion_mnist"}
OFFLINE = [p for p in EXAMPLES if load_design(p).dataset.get("name") not in DOWNLOADED]


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_examples_are_all_there():
    assert {p.stem for p in EXAMPLES} >= {"xor", "spiral", "digits", "sine_regression",
                                         "deep_sigmoid", "conv_digits", "lenet_mnist"}
    assert {p.stem for p in EXAMPLES} - {p.stem for p in OFFLINE} == {"lenet_mnist"}


@pytest.mark.parametrize("path", OFFLINE, ids=lambda p: p.stem)
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


def test_conv_digits_example_reaches_98_5_percent_validation_accuracy(capsys, tmp_path):
    """Acceptance test: the conv net on the 8×8 digit images, trained from the command
    line as shipped. Measured: 0.9916 (356 of 359) after its 15 epochs, in 5.7-6.8 s of
    training on a 2-core machine shared with other work; training seeds 0-7 all end at
    354-357 of 359 (>= 0.986)."""
    example = resource_path("examples", "conv_digits.json")
    design = load_design(example)
    assert design.network.input_shape == (1, 8, 8)
    out = tmp_path / "conv_digits"
    rc = main.main(["train", str(example), "--out", str(out), "--quiet"])
    _, err = capsys.readouterr()
    assert rc == 0, err
    rows = read_rows(out / "metrics.csv")
    assert len(rows) == design.training.epochs == 15
    assert float(rows[-1]["val_metric"]) >= 0.985, rows[-1]
    # More accurate than the dense digits example (0.981), which has fewer layers but
    # no shared weights.
    print(f"conv digits: val accuracy {float(rows[-1]['val_metric']):.4f} in "
          f"{float(rows[-1]['elapsed_s']):.1f} s")


def mnist_stand_in(n: int = 640, seed: int = 0):
    """A 28×28 ten-class stand-in for MNIST (which the tests cannot download): each class
    is a bright stroke of its own slant and place, shifted by up to 3 pixels, on noise."""
    from core.datasets.dataset import build_dataset

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    images = rng.normal(0.0, 0.3, (n, 28, 28))
    for i, label in enumerate(y):
        dy, dx = rng.integers(-3, 4, 2)
        for t in range(12):
            r = 8 + t + dy
            c = 4 + 2 * label + (t * (label % 3)) // 4 + dx
            images[i, r % 28, c % 28] += 2.0
    return build_dataset(name="mnist stand-in", task="classification",
                         x_raw=images.reshape(n, 784), y=y,
                         raw_feature_names=[f"pixel {k}" for k in range(784)],
                         target_names=("digit",), class_names=tuple("0123456789"),
                         seed=seed)


def test_lenet_mnist_example_has_lenet_shapes_and_learns_a_28x28_stand_in():
    """MNIST is downloaded on request and this machine has no internet: the LeNet-style
    example is checked on a synthetic 28×28 stand-in (its shapes, and that a few steps
    lower the loss). Its accuracy on real MNIST was not measured here."""
    design = load_design(resource_path("examples", "lenet_mnist.json"))
    assert design.dataset["name"] == "mnist"
    net = design.network
    assert net.input_shape == (1, 28, 28) and net.inputs == 784
    # conv 8@3×3, ReLU, maxpool 2, conv 16@3×3, ReLU, maxpool 2, Flatten, Dense 10 (the
    # issue's benchmark (e), plus the softmax the loss needs).
    assert net.layer_shapes() == [(8, 26, 26), (8, 26, 26), (8, 13, 13), (16, 11, 11),
                                  (16, 11, 11), (16, 5, 5), (400,), (10,), (10,)]
    assert net.parameter_count() == 80 + 1168 + 4010
    assert design.training.batch_size == 64
    data = mnist_stand_in()
    design = replace(design, training=replace(design.training, epochs=3))
    trainer = Trainer(design, data)
    losses = [s.loss for s in trainer.run() if isinstance(s, StepSnapshot)]
    assert len(losses) == 3 * 8  # 512 training rows in batches of 64
    assert np.all(np.isfinite(losses))
    # Measured (stand-in and training seeds 0-2): median loss of the first 5 steps
    # 2.97-3.08, of the last 5 steps 1.42-1.54.
    assert np.median(losses[-5:]) < 0.7 * np.median(losses[:5]), losses
