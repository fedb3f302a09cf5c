"""The misclassified validation samples: the same list a plain forward pass gives, most
confidently wrong first, capped, for every output layout; none for regression."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from core import ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig
from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.records.snapshots import EpochSnapshot
from core.resources import resource_path
from core.training.misclassified import MAX_SHOWN, class_probabilities, misclassified
from core.training.trainer import Trainer, TrainingControl


def brute_force(probabilities: np.ndarray, labels: np.ndarray) -> list[tuple]:
    """(index, true, predicted, probability) of every wrong row, one row at a time,
    sorted by probability (highest first), then index."""
    rows = []
    for i in range(labels.shape[0]):
        p = probabilities[i]
        pred = int(np.argmax(p))
        if pred != int(labels[i]):
            rows.append((i, int(labels[i]), pred, float(p[pred])))
    return sorted(rows, key=lambda r: (-r[3], r[0]))


def as_rows(wrong) -> list[tuple]:
    return [(int(i), int(t), int(p), float(q)) for i, t, p, q in
            zip(wrong.index, wrong.true, wrong.predicted, wrong.probability, strict=True)]


def assert_same(got: list[tuple], expected: list[tuple], rtol: float = 1e-9) -> None:
    """Same samples and classes in the same order, probabilities within ``rtol``."""
    assert [r[:3] for r in got] == [r[:3] for r in expected]
    np.testing.assert_allclose([r[3] for r in got], [r[3] for r in expected], rtol=rtol)


@pytest.fixture(scope="module")
def digits_run():
    """Digits trained for one epoch (many samples still wrong), with its epoch
    snapshots."""
    d = load_design(resource_path("examples", "digits.json"))
    d = replace(d, training=replace(d.training, epochs=1, learning_rate=3e-4))
    data = load_dataset(DatasetSpec.from_dict(d.dataset))
    trainer = Trainer(d, data)
    epochs = [s for s in trainer.run(TrainingControl()) if isinstance(s, EpochSnapshot)]
    return trainer, data, epochs


def test_the_list_is_a_plain_forward_pass_argmax_sorted_and_capped(digits_run):
    trainer, data, epochs = digits_run
    # What the training process sends: from the outputs the epoch was scored with.
    assert trainer.val_outputs is not None
    wrong = trainer.misclassified(trainer.val_outputs)
    # Plain forward pass with the softmax layer applied (not the fused-logits path).
    probs = trainer.network.forward(data.x_val.astype(trainer.network.dtype), training=False)
    expected = brute_force(probs.astype(np.float64), data.y_val)
    assert len(expected) > MAX_SHOWN  # the cap is exercised
    assert wrong.total == len(expected)
    assert len(wrong) == MAX_SHOWN
    # float32 through two paths (fused logits here, the softmax layer there): the same
    # samples with the same classes, probabilities equal to rounding, so only samples
    # whose probabilities tie to rounding may swap places.
    by_index = {r[0]: r for r in expected}
    got = as_rows(wrong)
    for row in got:
        assert row[:3] == by_index[row[0]][:3]
        assert row[3] == pytest.approx(by_index[row[0]][3], rel=1e-4)
    np.testing.assert_allclose([r[3] for r in got], [r[3] for r in expected[:MAX_SHOWN]],
                               rtol=1e-4)
    boundary = expected[MAX_SHOWN - 1][3]
    clear = {r[0] for r in expected[:MAX_SHOWN] if abs(r[3] - boundary) > 1e-4}
    assert clear <= {r[0] for r in got}
    assert np.all(np.diff(wrong.probability) <= 0)  # most confidently wrong first
    # The epoch's confusion matrix counts the same samples off its diagonal, and a
    # fresh pass over the same weights gives the same list.
    confusion = epochs[-1].val_confusion
    assert wrong.total == confusion.sum() - np.trace(confusion)
    assert as_rows(trainer.misclassified()) == as_rows(wrong)
    trainer.reinitialise()  # other weights: the epoch's outputs are void
    assert trainer.val_outputs is None


def test_the_cap_keeps_the_most_confident():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 4)) * 3
    labels = rng.integers(0, 4, 200)
    full = misclassified(logits, labels, logits=True, cap=1000)
    top = misclassified(logits, labels, logits=True, cap=7)
    assert len(top) == 7 and top.total == full.total > 7
    assert as_rows(top) == as_rows(full)[:7]
    assert_same(as_rows(full), brute_force(class_probabilities(logits, True), labels))
    assert len(misclassified(logits, labels, logits=True, cap=0)) == 0


@pytest.mark.parametrize("logits", [True, False])
def test_a_single_output_gives_the_probability_of_the_predicted_class(logits):
    out = np.array([[2.0], [-3.0], [0.9], [0.2]]) if logits else \
        np.array([[0.9], [0.05], [0.7], [0.3]])
    labels = np.array([0, 1, 1, 1])
    wrong = misclassified(out, labels, logits)
    # Row 0 predicted 1, row 1 predicted 0 (wrong); rows 2 and 3 depend on the layout.
    p = class_probabilities(out, logits)
    expected = brute_force(p, labels)
    assert_same(as_rows(wrong), expected)
    assert {r[0] for r in expected} >= {0, 1}
    assert p[0, 1] > 0.5 and p[1, 0] > 0.5


def test_non_finite_outputs_come_last_and_other_outputs_are_shares():
    out = np.array([[np.nan, 1.0, 0.0], [0.1, 0.7, 0.2], [-1.0, -2.0, -3.0]])
    labels = np.array([2, 0, 1])
    wrong = misclassified(out, labels, logits=False)
    assert list(wrong.index) == [1, 2, 0]
    assert wrong.probability[0] == pytest.approx(0.7)
    assert wrong.probability[1] == pytest.approx(1 / 3)  # no positive score: uniform
    assert np.isnan(wrong.probability[2])


def small_data(task: str, n: int = 200) -> SimpleNamespace:
    """XOR-like classes (two, one 0/1 column) or a linear regression, 80/20 split."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (n, 2))
    y = ((X[:, 0] * X[:, 1]) > 0).astype(np.int64) if task == "classification" else \
        X @ np.array([[1.5], [-2.0]])
    k = int(n * 0.8)
    return SimpleNamespace(task=task, x_train=X[:k], y_train=y[:k], x_val=X[k:],
                           y_val=y[k:], n_classes=2 if task == "classification" else 0)


def small_design(task: str) -> Design:
    head = (DenseSpec(1), ActivationSpec("sigmoid")) if task == "classification" else \
        (DenseSpec(1),)
    loss = "binary_cross_entropy" if task == "classification" else "mse"
    return Design(NetworkSpec(2, (DenseSpec(8), ActivationSpec("tanh"), *head)),
                  TrainConfig(loss=loss, learning_rate=0.1, batch_size=16, epochs=1))


def test_binary_runs_have_a_list_and_regressions_none():
    data = small_data("classification")
    trainer = Trainer(small_design("classification"), data)
    list(trainer.run(TrainingControl()))
    wrong = trainer.misclassified()
    assert wrong is not None
    out = trainer.network.forward(data.x_val.astype(trainer.network.dtype), training=False)
    p1 = out[:, 0].astype(np.float64)
    expected = brute_force(np.column_stack([1 - p1, p1]), data.y_val)
    assert [r[:3] for r in as_rows(wrong)] == [r[:3] for r in expected]
    reg = Trainer(small_design("regression"), small_data("regression"))
    list(reg.run(TrainingControl()))
    assert reg.val_outputs is not None and reg.misclassified(reg.val_outputs) is None
